"""Reading one big log on two cores: halves aggregated in two processes, then merged.

Parsing and counting a call costs a few microseconds of CPython per line, so a one-shot read of
a large file is CPU-bound on one core while the machine has more. A plain (not gzip) file above
``MIN_BYTES`` is split at a line boundary; a forked worker aggregates the second part into its
own copy of the (still empty) engine while this process reads the first, and the worker's
buckets are merged in. Counts, histograms and costs add up exactly; the line numbers of the
worker's rejected lines are shifted by the lines of the first part.

``multiprocessing`` and the process pool are imported only once a file is big enough to split
(they took 90 ms of a small log's 0.3 s ``summary``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from claude_top.engine.engine import Engine
from claude_top.sources.batches import (
    MAX_LINE_BYTES,
    READ_CHUNK,
    Item,
    LineFramer,
    batches_only,
    frame,
)
from claude_top.sources.paths import GZIP_MAGIC, Batch, is_regular

MIN_BYTES = 64 << 20

_engine: Engine | None = None
"""The engine whose file is being split, as the worker inherits it through fork. It may hold
earlier files already (``summary app.log.1 app.log``): the worker counts its half into a blank
engine like it (``Engine.blank_like``), or the absorb would count those files twice."""


def can_split(path: str, min_bytes: int = MIN_BYTES) -> bool:
    if path == "-" or (os.cpu_count() or 1) < 2:
        return False
    if not is_regular(path):  # a pipe cannot be read twice, nor sniffed without losing bytes
        return False
    try:
        if os.path.getsize(path) < min_bytes:
            return False
        with open(path, "rb") as f:
            if f.read(2) == GZIP_MAGIC:
                return False
    except OSError:
        return False
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def split_point(path: str) -> int:
    """The start of the first line at or after the middle of the file (read in chunks: the line
    across the middle may be far longer than memory should hold)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        pos = size // 2
        f.seek(pos)
        while chunk := f.read(READ_CHUNK):
            i = chunk.find(b"\n")
            if i >= 0:
                return pos + i + 1
            pos += len(chunk)
        return size


def range_items(
    path: str, start: int, end: int, *, max_line: int = MAX_LINE_BYTES
) -> tuple[Iterator[Item], LineFramer]:
    """The framed lines of bytes [start, end), and the framer (it knows how many there were)."""
    framer = LineFramer(path, max_line)

    def items() -> Iterator[Item]:
        with open(path, "rb") as f:
            f.seek(start)
            yield from frame(f, path, limit=end - start, framer=framer)

    return items(), framer


def range_batches(
    path: str, start: int, end: int, *, max_line: int = MAX_LINE_BYTES
) -> Iterator[Batch]:
    """The batches of bytes [start, end) (over-long lines left out)."""
    items, _ = range_items(path, start, end, max_line=max_line)
    return (item for item in items if isinstance(item, Batch))


def _feed(engine: Engine, items: Iterator[Item]) -> None:
    for batch in batches_only(items, engine.count_overlong):
        engine.ingest(batch)


def _work(path: str, start: int, end: int, max_line: int) -> dict[str, Any]:
    assert _engine is not None
    engine = _engine.blank_like()
    _feed(engine, range_items(path, start, end, max_line=max_line)[0])
    engine.compact()
    return engine.export_state()


def read_split(engine: Engine, path: str, *, max_line: int = MAX_LINE_BYTES) -> None:
    """Aggregate ``path`` into ``engine`` using this process and one forked worker."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _engine
    mid = split_point(path)
    _engine = engine
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        future = pool.submit(_work, path, mid, os.path.getsize(path), max_line)
        items, framer = range_items(path, 0, mid, max_line=max_line)
        _feed(engine, items)
        state = future.result()
    _engine = None
    engine.absorb_state(state, lineno_offset=framer.lineno - 1)
