"""The headless core must stay importable without Textual or Rich (checked in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "claude_top.core.record",
    "claude_top.core.clock",
    "claude_top.ingest.reader",
    "claude_top.engine.pricing",
    "claude_top.core.histogram",
    "claude_top.engine.store",
    "claude_top.engine.engine",
    "claude_top.engine.headroom",
    "claude_top.core.windows",
    "claude_top.core.stats",
    "claude_top.config.load",
    "claude_top.views.summary",
    "claude_top.sources.paths",
    "claude_top.core.text",
    "claude_top.commands.main",
    "claude_top.engine.accumulators",
    "claude_top.engine.users_today",
    "claude_top.engine.merge",
]
OPTIONAL = [
    "claude_top.rules.alerts",
    "claude_top.commands.check",
    "claude_top.sources.follow",
    "claude_top.views.live.dashboard",
    "claude_top.demo",
]


def test_core_imports_neither_textual_nor_rich() -> None:
    code = (
        "import importlib, importlib.util, sys\n"
        f"for m in {CORE!r}: importlib.import_module(m)\n"
        f"for m in {OPTIONAL!r}:\n"
        "    if importlib.util.find_spec(m): importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
