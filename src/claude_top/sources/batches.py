"""Bytes in, numbered lines out: the one line framer every reader of a log goes through.

One-shot reads, the two-core split reader and the follower once framed lines three ways and
disagreed: one broke lines on a bare ``\\r``, one kept a line over 1 MiB that another rejected,
and one needed the whole of a 1 GiB line in memory. Here, for all of them:

* a line ends at ``\\n`` only; one ``\\r`` just before it is stripped (CRLF logs), any other
  ``\\r`` is part of the line;
* a line longer than ``MAX_LINE_BYTES`` (counting a trailing ``\\r``, not the ``\\n``) is not
  kept: it is reported as an ``Overlong`` with its number and length, and the reader counts it
  rejected. While such a line is being skipped only its length is kept, so no more than the
  limit plus one read chunk is ever held for an unfinished line;
* the last line of a finished input counts even without a newline (``finish``); a live file's
  unfinished line waits for its writer.

Lines stay ``bytes``: decoding is the reader's job, so invalid UTF-8 becomes a counted rejection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from msgspec import Struct

MAX_LINE_BYTES = 1 << 20
"""The longest line kept, in every mode (the follower, one-shot and split reads)."""
READ_CHUNK = 256 << 10
BATCH_BYTES = 1 << 20
BATCH_LINES = 10_000


class Batch(Struct, frozen=True):
    """Consecutive complete lines of one source, without their ``\\n`` (or ``\\r\\n``)."""

    source: str
    first_lineno: int
    lines: list[bytes]


class Overlong(Struct, frozen=True):
    """A line longer than the limit, skipped: where it was and how long it was."""

    source: str
    lineno: int
    length: int


Item = Batch | Overlong
OnOverlong = Callable[[str, int, int], None]
"""``(source, line number, length)``: what a reader does with a skipped over-long line."""


def _strip_cr(lines: list[bytes]) -> list[bytes]:
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]


class LineFramer:
    """Feed it bytes in any chunks; ``take`` returns numbered batches and over-long reports.

    Items come out in input order. ``pos`` counts bytes consumed through the last complete (or
    skipped) line, ``read_pos`` adds what is held back, so a follower knows where its handle is.
    """

    def __init__(
        self, source: str, max_line: int = MAX_LINE_BYTES, lineno: int = 1, pos: int = 0
    ) -> None:
        self.source = source
        self.max_line = max_line
        self.lineno = lineno  # number of the next line to complete
        self.pos = pos
        self.pending = b""  # an unfinished line, never longer than max_line
        self.skip: int | None = None  # length so far of an over-long line being skipped
        self.first = lineno  # number of the first line in ``lines``
        self.lines: list[bytes] = []
        self.nbytes = 0
        self.ready: list[Item] = []

    @property
    def read_pos(self) -> int:
        return self.pos + len(self.pending) + (self.skip or 0)

    @property
    def full(self) -> bool:
        return self.nbytes >= BATCH_BYTES or len(self.lines) >= BATCH_LINES

    def feed(self, data: bytes) -> None:
        # The unfinished line joins the chunk's first part, not the chunk: copying a whole
        # chunk to prepend a few bytes cost 1% of a one-shot read.
        pending, self.pending = self.pending, b""
        parts = data.split(b"\n")
        if pending:
            parts[0] = pending + parts[0]
        size = len(pending) + len(data)
        rest = parts.pop()
        start = 0
        if self.skip is not None:
            if not parts:
                self.skip += len(rest)
                return
            start = len(parts[0]) + 1
            self._overlong(self.skip + start - 1)
            del parts[0]
        if parts:
            if size > self.max_line and max(map(len, parts)) > self.max_line:
                for part in parts:
                    if len(part) > self.max_line:
                        self._overlong(len(part))
                    else:
                        self._add(_strip_cr([part]), len(part) + 1)
            else:
                lines = _strip_cr(parts) if b"\r" in data or b"\r" in pending else parts
                self._add(lines, size - len(rest) - start)
        if len(rest) > self.max_line:
            self.skip = len(rest)
        else:
            self.pending = rest

    def _add(self, parts: list[bytes], nbytes: int) -> None:
        self.lines.extend(parts)
        self.lineno += len(parts)
        self.pos += nbytes
        self.nbytes += nbytes

    def _overlong(self, length: int) -> None:
        self.close_batch()
        self.ready.append(Overlong(self.source, self.lineno, length))
        self.lineno += 1
        self.pos += length + 1
        self.skip = None
        self.first = self.lineno

    def finish(self) -> None:
        """End of a finished input: its last line counts even without a newline."""
        if self.skip is not None:
            self._overlong(self.skip)
            self.pos -= 1
        elif self.pending:
            pending, self.pending = self.pending, b""
            self._add(_strip_cr([pending]), len(pending))
        self.close_batch()

    def drop_lines(self, keep_from: Callable[[bytes], bool]) -> bool:
        """Drop the gathered lines before the first one ``keep_from`` accepts.

        True if all were dropped (the caller keeps dropping with the next chunk): how a
        compressed file, which cannot be seeked, skips its lines older than ``--since``.
        """
        for i, line in enumerate(self.lines):
            if keep_from(line):
                del self.lines[:i]
                self.first += i
                return False
        self.first += len(self.lines)
        self.lines.clear()
        return True

    def close_batch(self) -> None:
        lines = self.lines
        for i in range(0, len(lines), BATCH_LINES):
            self.ready.append(Batch(self.source, self.first + i, lines[i : i + BATCH_LINES]))
        self.lines = []
        self.nbytes = 0
        self.first = self.lineno

    def take(self) -> list[Item]:
        self.close_batch()
        items, self.ready = self.ready, []
        return items


def frame(
    f: BinaryIO,
    source: str,
    *,
    max_line: int = MAX_LINE_BYTES,
    limit: int | None = None,
    framer: LineFramer | None = None,
) -> Iterator[Item]:
    """Read ``f`` to its end (or ``limit`` bytes) as a finished input, in batches of ~1 MiB."""
    framer = framer or LineFramer(source, max_line)
    left = float("inf") if limit is None else limit
    while left > 0:
        data = f.read(int(min(READ_CHUNK, left)))
        if not data:
            break
        left -= len(data)
        framer.feed(data)
        if framer.full or framer.ready:
            yield from framer.take()
    framer.finish()
    yield from framer.take()


def batches_only(items: Iterator[Item], on_overlong: OnOverlong) -> Iterator[Batch]:
    """The batches of ``items``; each over-long line goes to ``on_overlong`` in its turn."""
    for item in items:
        if isinstance(item, Batch):
            if item.lines:
                yield item
        else:
            on_overlong(item.source, item.lineno, item.length)
