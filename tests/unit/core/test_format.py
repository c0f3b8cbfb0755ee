"""The formatters the views share: each checked on the values the screens and tables show."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from claude_top.core import format as fmt


def test_percent_places_and_unit() -> None:
    assert fmt.percent(5.25) == "5.2%"
    assert fmt.percent(5.256, 2) == "5.26%"
    assert fmt.percent(87.4, 0) == "87%"
    assert fmt.percent(12.0, unit=False) == "12.0"
    assert fmt.percent(None) == fmt.DASH


def test_share_of_a_whole() -> None:
    assert fmt.share(0.42) == "42%"
    assert fmt.share(1.0) == "100%"
    assert fmt.share(None) == fmt.DASH


def test_rate_and_grouped() -> None:
    assert fmt.rate(1234.56) == "1,234.6"
    assert fmt.grouped(1213) == "1,213"
    assert fmt.grouped(1234.5) == "1,234"  # round half to even, as format() does
    assert fmt.grouped(10**20 + 1) == "100,000,000,000,000,000,001"  # ints stay exact


@given(st.integers(min_value=0, max_value=10**15))
def test_grouped_is_the_same_for_an_int_and_its_float(n: int) -> None:
    assert fmt.grouped(n) == fmt.grouped(float(n))


def test_instants_for_machines_and_files() -> None:
    ts = 1_763_647_407.9  # 2025-11-20 14:03:27.9 UTC
    assert fmt.iso(ts) == "2025-11-20T14:03:27Z"
    assert fmt.iso(None) is None
    assert fmt.file_stamp(ts) == "20251120T140327Z"
