"""Where a file was read to before: positions known by content, and a one-shot read from there.

A state remembers, for each file it read, the file's first bytes (``fingerprint.HEAD_BYTES``),
the byte offset after the last complete line it counted and that line's number. A file is
recognised by its first bytes, not by its name or inode: after a rename rotation ``app.log.1``
is the file once read as ``app.log`` and resumes where it stopped; after copytruncate or a
replacement, ``app.log`` starts with other bytes and is a new file read from 0; a file shorter
than the offset was truncated and is new too. A young file (fewer than 256 bytes when last
read) matches a file that starts with what it had. Offsets of a gzip file count uncompressed
bytes, so ``app.log.1`` compressed into ``app.log.2.gz`` is still recognised and skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from msgspec import Struct

from claude_top.core.errors import InputError
from claude_top.sources.batches import MAX_LINE_BYTES, READ_CHUNK, Batch, LineFramer, OnOverlong
from claude_top.sources.batches import batches_only as _batches_only
from claude_top.sources.fingerprint import HEAD_BYTES
from claude_top.sources.paths import is_gunzipped, is_regular, is_rotated_name, open_bytes


class Position(Struct, frozen=True):
    """How far one file has been counted: ``offset`` bytes (complete lines), next line number."""

    path: str
    head: bytes
    offset: int
    lineno: int


class Positions:
    """Read positions from a state, found by a file's first bytes."""

    def __init__(self, known: Iterable[Position] = ()) -> None:
        self._by_head: dict[bytes, Position] = {p.head: p for p in known if p.head}

    def __len__(self) -> int:
        return len(self._by_head)

    def add(self, p: Position) -> None:
        """A file read further: its position replaces the one of its shorter, younger start."""
        for head, old in list(self._by_head.items()):
            if old.path == p.path and head != p.head and p.head.startswith(head):
                del self._by_head[head]
        if p.head:
            self._by_head[p.head] = p

    def find(self, head: bytes, size: int | None = None) -> Position | None:
        """The position of the file starting with ``head`` (``size``: its size, if known)."""
        if not head:
            return None
        found = self._by_head.get(head)
        if found is None and len(head) <= HEAD_BYTES:
            # A file read while young: its remembered start is a prefix of what it has now.
            young = [
                p for h, p in self._by_head.items() if len(h) < len(head) and head.startswith(h)
            ]
            found = max(young, key=lambda p: len(p.head), default=None)
        if found is not None and size is not None and size < found.offset:
            return None  # shorter than what we read: truncated, a new file
        return found


def head_of(f: BinaryIO) -> bytes:
    """The first ``HEAD_BYTES`` of an open input (uncompressed for gzip), handle left at 0."""
    head = f.read(HEAD_BYTES)
    f.seek(0)
    return head


def finished(path: str, gz: bool) -> bool:
    """A rotated or compressed file is finished: its last line counts without a newline. A live
    file's unfinished last line waits for its writer (the next run reads it whole)."""
    return gz or is_rotated_name(path)


class ResumedRead:
    """One input read once, from its known position on; ``position`` says where it ended.

    Pipes and standard input cannot be resumed: they are read whole and have no position.
    """

    def __init__(
        self,
        path: str,
        positions: Positions,
        on_overlong: OnOverlong,
        *,
        max_line: int = MAX_LINE_BYTES,
    ) -> None:
        self.path = path
        self._positions = positions
        self._on_overlong = on_overlong
        self._max_line = max_line
        self.position: Position | None = None
        self.resumed_at = 0
        """The offset reading started at (0: from the start)."""

    def batches(self) -> Iterator[Batch]:
        path = self.path
        try:
            f = open_bytes(path)
        except OSError as e:
            raise InputError(f"{path}: {e.strerror or e}") from e
        try:
            yield from self._read(f)
        except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
            raise InputError(f"{path}: read failed: {e}") from e
        finally:
            if f is not sys.stdin.buffer:
                f.close()

    def _read(self, f: BinaryIO) -> Iterator[Batch]:
        path = self.path
        seekable = path != "-" and is_regular(path)
        gz = is_gunzipped(f)
        framer = LineFramer(path, self._max_line)
        head = b""
        if seekable:
            head = head_of(f)
            size = None if gz else os.fstat(f.fileno()).st_size
            known = self._positions.find(head, size)
            if known is not None:
                f.seek(known.offset)
                framer = LineFramer(path, self._max_line, known.lineno, known.offset)
                self.resumed_at = known.offset
        while data := f.read(READ_CHUNK):
            framer.feed(data)
            if framer.full or framer.ready:
                yield from _batches_only(iter(framer.take()), self._on_overlong)
        if not seekable or finished(path, gz):
            framer.finish()
        yield from _batches_only(iter(framer.take()), self._on_overlong)
        if head:
            self.position = Position(path, head, framer.pos, framer.lineno)
