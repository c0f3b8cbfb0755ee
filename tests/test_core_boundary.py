"""The headless core must stay importable without Textual or Rich (checked in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "claude_top.record",
    "claude_top.clock",
    "claude_top.reader",
    "claude_top.prices",
    "claude_top.histogram",
    "claude_top.buckets",
    "claude_top.engine",
    "claude_top.headroom",
    "claude_top.windows",
    "claude_top.snapshot",
    "claude_top.config",
    "claude_top.report",
    "claude_top.sources",
    "claude_top.text",
    "claude_top.cli",
    "claude_top.accumulators",
    "claude_top.usertotals",
    "claude_top.parallel",
]
OPTIONAL = [
    "claude_top.alerts",
    "claude_top.check",
    "claude_top.follow",
    "claude_top.dashboard",
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
