"""The line framer: where lines end, what an over-long line becomes, and how much it holds."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from claude_top.sources.batches import READ_CHUNK, Batch, LineFramer, Overlong, frame


class _Endless(io.RawIOBase):
    """``size`` bytes of one line (no newline until the end), produced without storing them."""

    def __init__(self, size: int, framer: LineFramer) -> None:
        self.left = size
        self.framer = framer
        self.most_held = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        held = len(self.framer.pending)
        self.most_held = max(self.most_held, held)
        if self.left <= 0:
            return b""
        k = min(n, self.left)
        self.left -= k
        return b"x" * (k - 1) + (b"\n" if self.left == 0 else b"x")


def test_a_huge_line_is_skipped_holding_no_more_than_the_limit() -> None:
    size = 256 << 20
    framer = LineFramer("big", max_line=1 << 20)
    src = _Endless(size, framer)
    items = list(frame(src, "big", framer=framer))  # type: ignore[arg-type]
    assert items == [Overlong("big", 1, size - 1)]
    assert src.most_held <= (1 << 20) + READ_CHUNK
    assert framer.pos == size


def test_lines_end_at_lf_only_and_lose_one_cr() -> None:
    data = b"a\rb\r\nc\r\r\n\n\rd"
    items = list(frame(io.BytesIO(data), "s"))
    assert items == [Batch("s", 1, [b"a\rb", b"c\r", b"", b"\rd"])]


def test_an_overlong_last_line_without_newline_is_reported() -> None:
    items = list(frame(io.BytesIO(b"ok\n" + b"z" * 20), "s", max_line=10))
    assert items == [Batch("s", 1, [b"ok"]), Overlong("s", 2, 20)]


def _framed(chunks: list[bytes]) -> tuple[list[tuple[int, bytes | int]], int]:
    """Each line by number (an over-long one by its length), and the bytes consumed."""
    framer = LineFramer("s", max_line=8)
    out: list[tuple[int, bytes | int]] = []
    for chunk in [*chunks, None]:
        if chunk is None:
            framer.finish()
        else:
            framer.feed(chunk)
        for item in framer.take():
            if isinstance(item, Batch):
                out += enumerate(item.lines, item.first_lineno)
            else:
                out.append((item.lineno, item.length))
    return out, framer.pos


@given(st.lists(st.sampled_from([b"a", b"bc", b"\r", b"\n", b"\r\n", b"x" * 9])), st.data())
def test_where_the_chunks_end_changes_no_line(pieces: list[bytes], data: st.DataObject) -> None:
    """A chunk may end between a line's ``\\r`` and its ``\\n``, inside an over-long line, or
    just after one: the lines, their numbers and the position are those of one whole chunk."""
    whole = b"".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(whole)), max_size=6)))
    chunks = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
    assert _framed(chunks) == _framed([whole])
