"""Knowing which file we hold and where to start reading it, without parsing it.

Two questions the follower asks of a file, kept apart from the follow loop because they are pure
file arithmetic and easy to test alone:

* "Is this still the file I was reading?"  An inode number is not enough: after copytruncate the
  inode stays while the content is replaced, and a deleted file's inode can be handed to a new one.
  Like Vector (checksum of the first line) and GoAccess (a snippet of the first bytes) we remember
  the file's first 256 bytes; if they change, it is a different file whatever its inode says.
* "Where does ``--since`` begin?"  A log is normally time-ordered, so a binary search over byte
  offsets finds the first line at or after ``since`` with ~20 calls of the timestamp extractor
  instead of parsing gigabytes of older lines. Line numbers must stay true to the file, so the
  skipped part is still scanned, but only for newline bytes (C speed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import pairwise
from typing import BinaryIO

from msgspec import Struct

from claude_top.core.digest import blake2b_hex

HEAD_BYTES = 256
"""How much of a file's start identifies it (GoAccess/Vector use a similar snippet)."""

_SCAN_WINDOW = 4096
"""Stop bisecting when the bracket is this small and scan it line by line: a few dozen lines."""

_PROBE_LINES = 64
"""A probe reads at most this many lines looking for one that carries a timestamp (tracebacks
and other loggers' lines in the same file have none)."""

_COUNT_CHUNK = 1 << 20

TsOf = Callable[[bytes], float | None]


def pread(fh: BinaryIO, n: int, offset: int) -> bytes:
    """Read without moving the handle's position, so checks never disturb the follow offset."""
    if hasattr(os, "pread"):
        return os.pread(fh.fileno(), n, offset)
    here = fh.tell()  # pragma: no cover - Windows has no pread
    try:
        fh.seek(offset)
        return fh.read(n)
    finally:
        fh.seek(here)


class Fingerprint(Struct):
    """The first bytes of a file as we first saw them; grows up to ``HEAD_BYTES`` as the file does.

    A young file may hold fewer than 256 bytes; we then compare what we have and extend the
    snippet later, once the earlier part has been confirmed unchanged.
    """

    head: bytes

    @classmethod
    def of(cls, fh: BinaryIO) -> Fingerprint:
        return cls(pread(fh, HEAD_BYTES, 0))

    def matches(self, fh: BinaryIO) -> bool:
        """True if the open file still starts with the bytes we remembered (and extend them)."""
        now = pread(fh, HEAD_BYTES, 0)
        if now[: len(self.head)] != self.head:
            return False
        if len(now) > len(self.head):
            self.head = now
        return True

    @property
    def digest(self) -> str:
        """A short stable id of the file's start, for logs and for persisting offsets."""
        return blake2b_hex(self.head, 8)


def _ts(ts_of: TsOf, line: bytes) -> float | None:
    """The extractor belongs to the caller; a failure in it must not stop following."""
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    try:
        return ts_of(line)
    except Exception:
        return None


def _probe(fh: BinaryIO, pos: int, ts_of: TsOf) -> tuple[int, float] | None:
    """The first timestamped complete line starting at or after ``pos``: (its offset, its time)."""
    if pos == 0:
        fh.seek(0)
        start = 0
    else:
        fh.seek(pos - 1)  # one byte back: if ``pos`` is itself a line start we keep that line
        skipped = fh.readline()
        if not skipped.endswith(b"\n"):
            return None
        start = pos - 1 + len(skipped)
    for _ in range(_PROBE_LINES):
        line = fh.readline()
        if not line.endswith(b"\n"):
            return None
        ts = _ts(ts_of, line)
        if ts is not None:
            return start, ts
        start += len(line)
    return None


def seek_since(fh: BinaryIO, size: int, since: float, ts_of: TsOf) -> int | None:
    """Byte offset of the first line with time >= ``since`` in a time-ordered file.

    Returns None when the file does not look time-ordered at the probe points (or carries no
    timestamps near its start); the caller then reads from 0, which is slower but never wrong.
    ``fh`` should be buffered (we use readline) and is left at an arbitrary position.
    """
    first = _probe(fh, 0, ts_of)
    if first is None:
        return None
    if first[1] >= since:
        return 0
    probes = [first]
    lo, hi = first[0], size
    while hi - lo > _SCAN_WINDOW:
        mid = (lo + hi) // 2
        p = _probe(fh, mid, ts_of)
        if p is not None:
            probes.append(p)
        if p is None or p[0] >= hi:
            # No timestamp between mid and hi: the answer is after lo either way, and the final
            # scan from lo is not bounded by hi, so narrowing here only costs scan time.
            hi = mid
        elif p[1] < since:
            lo = p[0]
        else:
            hi = p[0]
    probes.sort()
    if any(b[1] < a[1] for a, b in pairwise(probes)):
        return None
    fh.seek(lo)
    pos = lo
    for line in iter(fh.readline, b""):
        if not line.endswith(b"\n"):
            break  # a partial last line is not ours to judge yet
        ts = _ts(ts_of, line)
        if ts is not None and ts >= since:
            return pos
        pos += len(line)
    return pos


def tail_start(fh: BinaryIO, size: int) -> int:
    """Offset just after the last newline: where reading resumes when all history is skipped."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        fh.seek(start)
        block = fh.read(end - start)
        i = block.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        end = start
    return 0


def count_newlines(fh: BinaryIO, end: int) -> int:
    """Lines before ``end``: keeps line numbers true after a seek, at memory-scan speed."""
    fh.seek(0)
    n = 0
    left = end
    while left > 0:
        chunk = fh.read(min(_COUNT_CHUNK, left))
        if not chunk:
            break
        n += chunk.count(b"\n")
        left -= len(chunk)
    return n
