"""History: where reading starts for ``--since``, and rotated files read once, start to end.

Kept apart from following because it answers a different question ("what happened before I
started?") with different tools: a binary search by time in plain files, a line-by-line skip in
compressed ones (gzip cannot seek), and a read to the end that counts a last line without a
newline.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import BinaryIO

from claude_top.sources.batches import READ_CHUNK, LineFramer
from claude_top.sources.fingerprint import TsOf, count_newlines, seek_since, tail_start
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.paths import is_gzip, open_bytes


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


def start_of(fh: BinaryIO, since: float | None, ts_of: TsOf | None) -> tuple[int, int, int]:
    """(offset, line number, size) where a live file's history begins; ``fh`` is left there."""
    st = os.fstat(fh.fileno())
    # A buffered twin of the same open file (shared offset) for readline-based seeking.
    with open(os.dup(fh.fileno()), "rb") as bf:
        offset = since_offset(bf, st, since, ts_of)
        lineno = count_newlines(bf, offset) + 1 if offset else 1
    fh.seek(offset)
    return offset, lineno, st.st_size


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
) -> None:
    """Read a finished rotated file once, start to end (its last line needs no newline)."""
    out.set(path, "reading-history", "")
    try:
        st = os.stat(path)
        if since is not None and st.st_mtime < since:
            out.bytes += st.st_size
            out.set(path, "done", "older than --since, skipped")
            return
        gz = is_gzip(path)
        f = open_bytes(path)
    except OSError as e:
        out.set(path, "error", e.strerror or str(e))
        return
    raw: BinaryIO = getattr(f, "fileobj", None) or f  # compressed position, for progress
    framer = LineFramer(path, max_line)
    keep = _keep_from(since, ts_of) if since is not None and ts_of is not None else None
    try:
        if not gz and keep is not None:
            offset = since_offset(f, st, since, ts_of)
            if offset:
                framer = LineFramer(path, max_line, count_newlines(f, offset) + 1, offset)
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
