"""Reading one big log on two cores: halves aggregated in two processes, then merged.

Parsing and counting a call costs a few microseconds of CPython per line, so a one-shot read of
a large file is CPU-bound on one core while the machine has more. A plain (not gzip) file above
``MIN_BYTES`` is split at a line boundary; a forked worker aggregates the second part into its
own copy of the (still empty) engine while this process reads the first, and the worker's
buckets come back through a pipe, pickled, to be merged in. Counts, histograms and costs add up
exactly; the line numbers of the worker's rejected lines are shifted by the lines of the first
part.

The worker is a bare ``os.fork`` and a pipe, not ``multiprocessing`` or a process pool: one
child, one result, and the pool's import, manager thread and queue cost 60-90 ms of a read that
takes about a second. The child leaves through ``os._exit`` (no atexit handlers, no flushing of
buffers it shares with its parent); a child that dies is a failed read naming the signal, never
a silently smaller count.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Iterator
from typing import Any

from claude_top.core.errors import InputError
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

PARENT_SHARE = 0.51
"""The part of the file this process reads. After its part it still has to take in the
worker's pickled state and merge it, so it reads slightly more than half: swept from 0.49 to
0.53 over the 1M-line benchmark log, 0.51 gave the shortest wall time (1.03 s against 1.06 s at
0.50)."""

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
    return hasattr(os, "fork")


def split_point(path: str, share: float = 0.5) -> int:
    """The start of the first line at or after ``share`` of the file (read in chunks: the line
    across that point may be far longer than memory should hold)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        pos = int(size * share)
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


def _child(out: int, path: str, start: int, end: int, max_line: int) -> None:
    """The forked worker: its part's state, or the exception that stopped it, down the pipe."""
    try:
        try:
            reply: tuple[str, Any] = ("state", _work(path, start, end, max_line))
        except BaseException as e:  # every failure goes back to the parent
            reply = ("error", e)
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # an exception that will not pickle
            data = pickle.dumps(("error", InputError(f"{path}: {type(e).__name__}: {e}")))
        with os.fdopen(out, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)


def _died(path: str, status: int) -> InputError:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        why = f"was killed by signal {sig} ({name})"
    else:
        why = f"exited with status {os.waitstatus_to_exitcode(status)} without a result"
    return InputError(f"{path}: the process reading its second half {why}")


def read_split(engine: Engine, path: str, *, max_line: int = MAX_LINE_BYTES) -> None:
    """Aggregate ``path`` into ``engine`` using this process and one forked worker."""
    global _engine
    mid = split_point(path, PARENT_SHARE)
    end = os.path.getsize(path)
    _engine = engine
    rfd, wfd = os.pipe()
    try:
        pid = os.fork()
    except BaseException:
        os.close(rfd)
        os.close(wfd)
        _engine = None
        raise
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(rfd)
        _child(wfd, path, mid, end, max_line)
    os.close(wfd)
    reaped = False
    try:
        items, framer = range_items(path, 0, mid, max_line=max_line)
        _feed(engine, items)
        with os.fdopen(rfd, "rb") as pipe:
            rfd = -1
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        reaped = True
    finally:
        _engine = None
        if rfd >= 0:
            os.close(rfd)
        if not reaped:  # this process failed first: the worker's half is of no use
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
    if not data:
        raise _died(path, status)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    engine.absorb_state(value, lineno_offset=framer.lineno - 1)
