"""Reading one big log on two cores: halves aggregated in two processes, then merged.

Parsing and counting a call costs a few microseconds of CPython per line, so a one-shot read of
a large file is CPU-bound on one core while the machine has more. A plain (not gzip) file above
``MIN_BYTES`` is split at a line boundary; a forked worker aggregates the second part into its
own copy of the (still empty) engine while this process reads the first, and the worker's
buckets are merged in. Counts, histograms and costs add up exactly; the line numbers of the
worker's rejected lines are shifted by the lines of the first part.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from claude_top.engine.engine import Engine
from claude_top.sources.paths import GZIP_MAGIC, Batch

MIN_BYTES = 64 << 20
CHUNK = 1 << 20

_engine: Engine | None = None
"""The engine the worker inherits through fork (empty when it is forked)."""


def can_split(path: str, min_bytes: int = MIN_BYTES) -> bool:
    if path == "-" or (os.cpu_count() or 1) < 2:
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        with open(path, "rb") as f:
            if f.read(2) == GZIP_MAGIC:
                return False
        return os.path.getsize(path) >= min_bytes
    except OSError:
        return False


def split_point(path: str) -> int:
    """The start of the first line at or after the middle of the file."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(size // 2)
        f.readline()
        return f.tell()


def range_batches(path: str, start: int, end: int, first_lineno: int = 1) -> Iterator[Batch]:
    """Complete lines of bytes [start, end), in batches of about ``CHUNK``."""
    lineno = first_lineno
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        rest = b""
        while left > 0:
            data = f.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0 and left > 0:
                rest = data
                continue
            lines = data[:cut].splitlines(keepends=True) if cut else []
            rest = data[cut:]
            if lines:
                yield Batch(path, lineno, lines)
                lineno += len(lines)
        if rest:
            yield Batch(path, lineno, [rest])


def _work(path: str, start: int, end: int) -> dict[str, Any]:
    engine = _engine
    assert engine is not None
    for batch in range_batches(path, start, end):
        engine.ingest(batch)
    engine.compact()
    return engine.export_state()


def read_split(engine: Engine, path: str) -> None:
    """Aggregate ``path`` into ``engine`` using this process and one forked worker."""
    global _engine
    mid = split_point(path)
    _engine = engine
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        future = pool.submit(_work, path, mid, os.path.getsize(path))
        lines = 0
        for batch in range_batches(path, 0, mid):
            engine.ingest(batch)
            lines += len(batch.lines)
        state = future.result()
    _engine = None
    engine.absorb_state(state, lineno_offset=lines)
