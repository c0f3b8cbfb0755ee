"""The newest event time in a set of logs, read from their ends without parsing them.

``claude-top last-month.log`` with the default ``--since 8d`` would read nothing at all: every
event is older than the start. The live view asks this module for the newest event first and,
when the whole log is older than ``--since``, anchors the span at that event instead (the header
then says REPLAY). Only plain files are looked at: a pipe's bytes belong to its one reader, and
a gzip file is a finished rotation, older than its plain successor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from claude_top.sources.paths import GZIP_MAGIC, is_regular

TAIL_BYTES = 256 << 10
"""How far back from the end to look for a line with a timestamp."""


def newest_event(
    paths: Iterable[str], ts_of: Callable[[bytes], float | None], tail: int = TAIL_BYTES
) -> float | None:
    """The latest timestamp among the last lines of the plain files in ``paths`` (None: none)."""
    best: float | None = None
    for path in paths:
        t = _last_time(path, ts_of, tail)
        if t is not None and (best is None or t > best):
            best = t
    return best


def _last_time(path: str, ts_of: Callable[[bytes], float | None], tail: int) -> float | None:
    if path == "-" or not is_regular(path):
        return None
    try:
        with open(path, "rb") as f:
            if f.read(2) == GZIP_MAGIC:
                return None
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - tail))
            chunk = f.read(tail)
    except OSError:
        return None
    lines = chunk.split(b"\n")
    if size > tail:
        lines = lines[1:]  # the first piece is cut
    for raw in reversed(lines):  # the last call record of the file
        if not raw.strip():
            continue
        try:
            t = ts_of(raw)
        except Exception:  # a line is data; whatever it holds, the answer is "not this one"
            t = None
        if t is not None:
            return t
    return None
