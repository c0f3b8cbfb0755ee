"""The ``e`` key's export: the current frame as a JSON-ready dict, with ISO times added."""

from __future__ import annotations

from typing import Any

import msgspec

from claude_top.core.format import iso
from claude_top.views.live.rows import Dashboard


def export_json(d: Dashboard) -> dict[str, Any]:
    """The current view as a JSON-ready dict (the ``e`` key writes it to a file). The frame
    mixes dataclasses (the view-model's rows) with the engine's ``msgspec`` structs (alerts,
    headroom, windows): ``to_builtins`` turns both into plain dicts and lists."""
    doc: dict[str, Any] = msgspec.to_builtins(d)
    doc["features"] = [{**f, "spark": [round(x, 3) for x in f["spark"]]} for f in doc["features"]]
    doc["window"] = {
        "name": d.window_name,
        "start": iso(d.window_start),
        "end": iso(d.window_end),
        "tz": d.tz,
    }
    doc["now_iso"] = iso(d.now)
    doc["schema"] = 1
    return doc
