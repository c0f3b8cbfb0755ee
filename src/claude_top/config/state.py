"""The live view's remembered choices: theme, window, sort and users-by, across runs.

Apart from the config file on purpose: the config is what the user wrote and ``claude-top
config`` prints; this is what the app last saw the user pick (``$XDG_STATE_HOME/claude-top/
ui.json``, a few bytes of JSON rewritten whole on each change). A broken or foreign file is not
a reason to stop: ``load_ui_state`` returns what it could use and one line saying what it
ignored. Values are type-checked here; whether a theme or window still exists is for the view to
decide (an unknown one is simply not applied).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import orjson

from claude_top.core import jsondoc
from claude_top.core.text import safe_text

STATE_MAX_BYTES = 64 << 10
TYPES: dict[str, type] = {
    "theme": str,
    "window": str,
    "sort": str,
    "sort_desc": bool,
    "users_by": str,
}
"""Every key the file may hold, with its type; others are ignored."""


def state_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "claude-top" / "ui.json"


def load_ui_state(path: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """(the usable choices, None or one line about what was ignored); a missing file is {}."""
    p = path or state_path()
    try:
        with open(p, "rb") as f:
            raw = f.read(STATE_MAX_BYTES + 1)
    except FileNotFoundError:
        return {}, None
    except OSError as e:
        return {}, f"{safe_text(str(p))}: ignored, cannot read it: {e.strerror or e}"
    if len(raw) > STATE_MAX_BYTES:
        return {}, f"{safe_text(str(p))}: ignored, over {STATE_MAX_BYTES // 1024} KiB"
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        return {}, f"{safe_text(str(p))}: ignored, not valid JSON ({e})"
    if not isinstance(doc, dict):
        return {}, f"{safe_text(str(p))}: ignored, not a JSON object"
    good = {k: v for k, v in doc.items() if k in TYPES and type(v) is TYPES[k]}
    bad = sorted(k for k in doc if k in TYPES and k not in good)
    note = None
    if bad:
        note = f"{safe_text(str(p))}: ignored {', '.join(bad)} (wrong type)"
    return good, note


def save_ui_state(values: dict[str, Any], path: Path | None = None) -> Path:
    """Write the choices (known keys only) atomically; returns the path (OSError if it cannot)."""
    p = path or state_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = {k: v for k, v in values.items() if k in TYPES and type(v) is TYPES[k]}
    part = p.with_name(f".{p.name}.{os.getpid()}.part")
    try:
        part.write_bytes(jsondoc.dumps(doc, indent=True) + b"\n")
        part.replace(p)
    except OSError:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return p
