"""Making text from the log safe to show.

Feature names, user ids, models and error strings come from whoever wrote the log. Before they
reach a terminal (or Rich markup, which the TUI escapes separately) control characters and escape
sequences are made visible, so a line such as ``\\x1b]0;pwned\\x07`` shows as text and changes
nothing on screen, and long values are cut with an ellipsis so they cannot break a layout.
"""

from __future__ import annotations

import re

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
