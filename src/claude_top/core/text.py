"""Making text from the log safe to show.

Feature names, user ids, models and error strings come from whoever wrote the log. Before they
reach a terminal (or Rich markup, which the TUI escapes separately) control characters and escape
sequences are made visible, so a line such as ``\\x1b]0;pwned\\x07`` shows as text and changes
nothing on screen, and long values are cut with an ellipsis so they cannot break a layout.

Plain-text tables (``summary``, ``prices``) align by terminal cells, not characters: a CJK
character or an emoji takes two cells, a combining mark none (``cell_width``, ``fit``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    c = m.group(0)
    o = ord(c)
    if o < 0x20:
        return "^" + chr(o + 0x40)  # caret notation, as cat -v shows it: ESC -> ^[
    if o == 0x7F:
        return "^?"
    return f"\\u{o:04x}"


def safe_text(s: str, max_len: int | None = None) -> str:
    """Control characters made visible, then cut to ``max_len`` characters with an ellipsis."""
    out = _CONTROL.sub(_visible, s)
    if max_len is not None and len(out) > max_len:
        out = out[: max(0, max_len - 1)] + "…"
    return out


@lru_cache(maxsize=4096)
def _char_cells(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return 2
    return 1


def cell_width(s: str) -> int:
    """The terminal cells ``s`` takes: East Asian Wide and Fullwidth 2, combining marks 0.

    For text already made safe (``safe_text``): control characters are not measured.
    """
    if s.isascii():
        return len(s)
    return sum(_char_cells(c) for c in s)


def fit(s: str, width: int, *, right: bool = False) -> str:
    """``s`` padded with spaces to ``width`` cells (on the left if ``right``), or cut to
    ``width`` cells with an ellipsis when it is wider."""
    cells = cell_width(s)
    if cells > width:
        out, used = [], 0
        for c in s:
            w = _char_cells(c)
            if used + w > width - 1:
                break
            out.append(c)
            used += w
        s, cells = "".join(out) + "…", used + 1
    pad = " " * (width - cells)
    return pad + s if right else s + pad
