"""One frame is one version of the data, even while another thread ingests as fast as it can.

The dashboard reads the engine under one hold of its lock: every engine call made for a frame
sees the same ``version``, and the frame's totals equal the sum of its rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from make_fixture import END

from claude_top.engine.engine import Engine
from claude_top.views.live.dashboard import build_dashboard
from loggen import line

READS = ("query", "total", "series", "top_users", "events_429", "cost_between")


def _record_versions(e: Engine, seen: list[int]) -> None:
    """Wrap the engine's read methods so each call notes the version it read."""
    for name in READS:
        original: Callable[..., Any] = getattr(e, name)

        def wrapped(*a: Any, _f: Callable[..., Any] = original, **kw: Any) -> Any:
            seen.append(e.version)
            return _f(*a, **kw)

        setattr(e, name, wrapped)


def test_frames_are_consistent_while_ingest_hammers(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    stop = threading.Event()

    def hammer() -> None:
        i = 0
        while not stop.is_set():
            e.ingest_lines([line(END - 300 + (i % 240), feature=f"f{i % 7}") for _ in range(20)])
            i += 1

    writer = threading.Thread(target=hammer, daemon=True)
    writer.start()
    try:
        for _ in range(25):
            seen: list[int] = []
            _record_versions(e, seen)
            d = build_dashboard(e, None, now=END, window_name="all")
            for name in READS:  # unwrap for the next frame
                delattr(e, name)
            assert seen and set(seen) == {d.version}
            assert sum(r.calls for r in d.features) == d.kpis.calls
            assert d.lines.records >= d.kpis.calls
    finally:
        stop.set()
        writer.join()
