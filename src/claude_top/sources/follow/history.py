"""History: where reading starts for ``--since``, and rotated files read once, start to end.

Kept apart from following because it answers a different question ("what happened before I
started?") with different tools: a binary search by time in plain files, a line-by-line skip in
compressed ones (gzip cannot seek), and a read to the end that counts a last line without a
newline.

The binary search trusts the file to be in time order, which a merged or multi-writer log is
not. So the part it skips is still scanned (it is scanned anyway, to keep line numbers true):
a line there whose time is at or after ``since`` is delivered with its own number. The common
spelling, ``"timestamp":"2026-11-20T10:00:00.123+00:00"`` once in the line, is compared as text
(well under a microsecond a line); anything else goes to the caller's extractor.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from claude_top.sources.batches import READ_CHUNK, Batch, LineFramer, frame
from claude_top.sources.fingerprint import (
    HEAD_BYTES,
    TsOf,
    count_newlines,
    pread,
    seek_since,
    tail_start,
)
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.paths import is_gzip, open_bytes
from claude_top.sources.resume import Position, Positions, head_of


def since_offset(bf: BinaryIO, st: os.stat_result, since: float | None, ts_of: TsOf | None) -> int:
    """Where history starts in a plain file: 0, or the first line at/after ``since``."""
    if since is None:
        return 0
    if st.st_mtime < since:  # last written before since: all of it is older
        return tail_start(bf, st.st_size)
    if ts_of is None:
        return 0
    found = seek_since(bf, st.st_size, since, ts_of)
    return 0 if found is None else found


_TS_KEY = b'"timestamp"'
_UTC_ISO = re.compile(
    rb'"timestamp":\s*"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d{1,9})?(?:Z|\+00:00)"'
)


def _late_lines(since: float, ts_of: TsOf) -> Callable[[bytes], bool]:
    """A test of "this line's time is at or after ``since``", fast for the common spelling."""
    since_s = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()
    slow = _keep_from(since, ts_of)
    search = _UTC_ISO.search

    def late(line: bytes) -> bool:
        m = search(line)
        if m is None or line.count(_TS_KEY) != 1:
            return slow(line)
        second = m.group(1)
        if second != since_s:  # whole seconds apart: the text order is the time order
            return second > since_s
        return slow(line)

    return late


late_lines = _late_lines
"""The same test, for readers that drop a stream's lines before ``since`` (``remote``)."""


def late_in_skipped(
    f: BinaryIO, source: str, end: int, since: float, ts_of: TsOf, max_line: int
) -> tuple[list[Batch], int]:
    """The lines of [0, ``end``) at or after ``since``, and how many lines that part holds."""
    f.seek(0)
    late = _late_lines(since, ts_of)
    framer = LineFramer(source, max_line)
    found: list[Batch] = []
    for item in frame(f, source, limit=end, framer=framer):
        if isinstance(item, Batch):
            found.extend(_runs(item, late))
    return found, framer.lineno - 1


def _runs(batch: Batch, keep: Callable[[bytes], bool]) -> Iterator[Batch]:
    """The kept lines of ``batch``, as batches of consecutive lines with their own numbers."""
    run: list[bytes] = []
    first = 0
    for i, line in enumerate(batch.lines):
        if keep(line):
            if not run:
                first = batch.first_lineno + i
            run.append(line)
        elif run:
            yield Batch(batch.source, first, run)
            run = []
    if run:
        yield Batch(batch.source, first, run)


def start_of(
    fh: BinaryIO,
    source: str,
    since: float | None,
    ts_of: TsOf | None,
    max_line: int,
    resume: Positions | None = None,
) -> tuple[int, int, int, list[Batch]]:
    """(offset, line number, size, late lines before it) where a live file's history begins;
    ``fh`` is left at the offset. A file a state has read (``resume``) starts where it stopped."""
    st = os.fstat(fh.fileno())
    late: list[Batch] = []
    known = resume.find(pread(fh, HEAD_BYTES, 0), st.st_size) if resume else None
    if known is not None:
        fh.seek(known.offset)
        return known.offset, known.lineno, st.st_size, late
    # A buffered twin of the same open file (shared offset) for readline-based seeking.
    with open(os.dup(fh.fileno()), "rb") as bf:
        offset = since_offset(bf, st, since, ts_of)
        lineno = 1
        if offset and since is not None and ts_of is not None and st.st_mtime >= since:
            late, before = late_in_skipped(bf, source, offset, since, ts_of, max_line)
            lineno = before + 1
        elif offset:
            lineno = count_newlines(bf, offset) + 1
    fh.seek(offset)
    return offset, lineno, st.st_size, late


def _keep_from(since: float, ts_of: TsOf) -> Callable[[bytes], bool]:
    def keep(line: bytes) -> bool:
        try:
            ts = ts_of(line)
        except Exception:  # the extractor is the caller's; its failure must not stop reading
            return False
        return ts is not None and ts >= since

    return keep


def read_rotated(
    path: str,
    out: Outlet,
    *,
    since: float | None,
    ts_of: TsOf | None,
    max_line: int,
    stop: threading.Event,
    resume: Positions | None = None,
) -> Position | None:
    """Read a finished rotated file once, start to end (its last line needs no newline); with
    ``resume``, a file a state has read starts where it stopped. Returns where it ended."""
    out.set(path, "reading-history", "")
    try:
        st = os.stat(path)
        gz = is_gzip(path)
        f = open_bytes(path)
    except OSError as e:
        out.set(path, "error", e.strerror or str(e))
        return None
    try:
        head = head_of(f)
    except (OSError, EOFError) as e:
        f.close()
        out.set(path, "error", f"read failed: {e}")
        return None
    known = resume.find(head, None if gz else st.st_size) if resume else None
    if known is None and since is not None and st.st_mtime < since:
        f.close()
        out.bytes += st.st_size
        out.set(path, "done", "older than --since, skipped")
        return None
    raw: BinaryIO = getattr(f, "fileobj", None) or f  # compressed position, for progress
    framer = LineFramer(path, max_line)
    keep = _keep_from(since, ts_of) if since is not None and ts_of is not None else None
    try:
        if known is not None:
            f.seek(known.offset)  # gzip: decompressed and skipped
            framer = LineFramer(path, max_line, known.lineno, known.offset)
            keep = None
        if not gz and keep is not None:
            assert since is not None and ts_of is not None
            offset = since_offset(f, st, since, ts_of)
            if offset:
                late, before = late_in_skipped(f, path, offset, since, ts_of, max_line)
                out.deliver_batches(late)
                framer = LineFramer(path, max_line, before + 1, offset)
            f.seek(offset)
            keep = None
        done = raw.tell()
        while not stop.is_set():
            data = f.read(READ_CHUNK)
            if not data:
                framer.finish()
            else:
                framer.feed(data)
            if keep is not None and not framer.drop_lines(keep):
                keep = None
            if framer.full or not data:
                out.deliver(framer)
            where = raw.tell()
            out.bytes += where - done
            done = where
            out.set(path, "reading-history", "", offset=framer.pos, size=st.st_size)
            out.progress()
            if not data:
                break
        out.set(path, "done", "")
    except (OSError, EOFError, ValueError) as e:  # gzip.BadGzipFile is an OSError
        out.deliver(framer)
        out.set(path, "error", f"read failed: {e}")
    finally:
        f.close()
    out.deliver(framer)  # stopped early: what was framed is delivered, so the position is true
    return Position(path, head, framer.pos, framer.lineno) if head else None
