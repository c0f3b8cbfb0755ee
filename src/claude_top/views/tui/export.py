"""Files the app writes on request: the current view as JSON (``e``), named so none is
overwritten."""

from __future__ import annotations

from pathlib import Path

from claude_top.core import jsondoc
from claude_top.core.format import file_stamp
from claude_top.views.live.dashboard import Dashboard, export_json


def free_path(p: Path) -> Path:
    """``p``, or the first ``name-N.ext`` beside it that does not exist yet."""
    if not p.exists():
        return p
    for i in range(1, 1000):
        q = p.with_name(f"{p.stem}-{i}{p.suffix}")
        if not q.exists():
            return q
    return p


def view_path(directory: Path, at: float, suffix: str) -> Path:
    """A fresh ``claude-top-<UTC time>.<suffix>`` in ``directory``."""
    return free_path(directory / f"claude-top-{file_stamp(at)}{suffix}")


def export_view(d: Dashboard, directory: Path) -> Path:
    """Write the view as indented JSON; returns where (OSError if it cannot).

    Written beside its name and renamed into place, so whoever watches the directory never
    reads half an export.
    """
    path = view_path(directory, d.now, ".json")
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_bytes(jsondoc.dumps(export_json(d), indent=True))
        part.replace(path)
    except OSError:
        part.unlink(missing_ok=True)
        raise
    return path
