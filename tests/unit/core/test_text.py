"""Text made safe for a terminal, and measured in the cells it takes there."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from claude_top.core.text import cell_width, fit, safe_text


def test_wide_characters_take_two_cells_and_combining_marks_none() -> None:
    assert cell_width("abc") == 3
    assert cell_width("検索") == 4  # East Asian Wide
    assert cell_width("ＡＢ") == 4  # Fullwidth
    assert cell_width("🤖🔥") == 4
    assert cell_width("e\u0301") == 1  # e + combining acute
    assert cell_width("") == 0


def test_fit_pads_and_cuts_by_cells() -> None:
    assert fit("検索", 6) == "検索  "
    assert fit("検索", 6, right=True) == "  検索"
    assert fit("検索エージェント", 5) == "検索…"
    assert fit("検索エージェント", 6) == "検索… "  # a wide character is never half-shown
    assert fit("abcdef", 4) == "abc…"


@given(st.text(max_size=40), st.integers(min_value=1, max_value=50), st.booleans())
def test_fit_always_takes_exactly_the_width_asked(s: str, width: int, right: bool) -> None:
    shown = safe_text(s)
    assert cell_width(fit(shown, width, right=right)) == width
