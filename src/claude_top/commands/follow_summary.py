"""``summary --follow``: the ``top -b`` of claude-top.

The follower thread feeds the engine; this loop prints the same document ``summary`` prints,
over everything read so far, every interval. Scripts read it as JSON lines, people as a table
redrawn in place, and tests use it to drive the follower from outside the process.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from claude_top.core.errors import InputError
from claude_top.engine.engine import Engine
from claude_top.ingest.reader import timestamp_of
from claude_top.sources.follow import Follower

CLEAR = "\x1b[H\x1b[2J"


def follow_summary(
    engine: Engine,
    specs: list[str],
    interval: float,
    emit: Callable[[], None],
    *,
    table: bool = False,
    poll_interval: float = 1.0,
    max_prints: int | None = None,
) -> int:
    """Follow ``specs`` and call ``emit`` every ``interval`` seconds until interrupted."""
    if interval <= 0:
        raise InputError("--interval must be positive")
    follower = Follower(
        specs,
        engine.ingest,
        since=engine.since,
        ts_of=timestamp_of,
        poll_interval=poll_interval,
        on_overlong=engine.count_overlong,
    )
    follower.start()
    redraw = table and sys.stdout.isatty()
    printed = 0
    try:
        follower.wait_history()
        next_at = time.monotonic()
        while max_prints is None or printed < max_prints:
            if redraw:
                sys.stdout.write(CLEAR)
            emit()
            printed += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    except KeyboardInterrupt:
        pass
    finally:
        follower.stop()
    return 0
