"""Price table and cost rules, each checked against a hand-worked example.

Rates are USD per million tokens (MTok), so every cost below is sum(tokens x rate) / 1e6; the
arithmetic is spelled out in comments so a reader can check it against the published prices
(src/claude_top/data/prices.toml).
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_top.engine.pricing import ModelPrice, PriceConfigError, PriceTable, Rates

DAY = datetime.date(2026, 11, 1)
TABLE = PriceTable.builtin()


def price(model: str, day: datetime.date = DAY, table: PriceTable = TABLE) -> ModelPrice:
    p = table.lookup(model, day)
    assert p is not None, model
    return p


# --- the built-in table ------------------------------------------------------------------------


def test_builtin_has_collected_date_and_batch_discount() -> None:
    assert TABLE.collected.startswith("2026-11-")
    datetime.date.fromisoformat(TABLE.collected)
    assert all(p.batch_discount == 0.5 for p in TABLE.rows())


@pytest.mark.parametrize(
    ("family", "rates"),
    [
        # family: input, 5m write, 1h write, cache read, output — every row of prices.md
        ("claude-fable-5-1", (10, 12.50, 20, 0.25, 50)),
        ("claude-mythos-5-1", (10, 12.50, 20, 0.25, 50)),
        ("claude-fable-5", (10, 12.50, 20, 1.00, 50)),
        ("claude-mythos-5", (10, 12.50, 20, 1.00, 50)),
        ("claude-opus-5-5", (4, 5, 8, 0.20, 20)),
        ("claude-opus-5", (5, 6.25, 10, 0.50, 25)),
        ("claude-opus-4-8", (5, 6.25, 10, 0.50, 25)),
        ("claude-opus-4-7", (5, 6.25, 10, 0.50, 25)),
        ("claude-opus-4-6", (5, 6.25, 10, 0.50, 25)),
        ("claude-opus-4-5", (5, 6.25, 10, 0.50, 25)),
        ("claude-opus-4-1", (15, 18.75, 30, 1.50, 75)),
        ("claude-opus-4", (15, 18.75, 30, 1.50, 75)),
        ("claude-opus-4-0", (15, 18.75, 30, 1.50, 75)),
        ("claude-3-opus", (15, 18.75, 30, 1.50, 75)),
        ("claude-sonnet-5-5", (2, 2.50, 4, 0.10, 10)),
        ("claude-sonnet-5", (2, 2.50, 4, 0.20, 10)),
        ("claude-sonnet-4-6", (3, 3.75, 6, 0.30, 15)),
        ("claude-sonnet-4-5", (3, 3.75, 6, 0.30, 15)),
        ("claude-sonnet-4", (3, 3.75, 6, 0.30, 15)),
        ("claude-sonnet-4-0", (3, 3.75, 6, 0.30, 15)),
        ("claude-3-7-sonnet", (3, 3.75, 6, 0.30, 15)),
        ("claude-3-5-sonnet", (3, 3.75, 6, 0.30, 15)),
        ("claude-haiku-5-5", (0.10, 0.125, 0.20, 0.01, 0.50)),
        ("claude-haiku-4-5", (1, 1.25, 2, 0.10, 5)),
        ("claude-3-5-haiku", (0.80, 1, 1.60, 0.08, 4)),
        ("claude-3-haiku", (0.25, 0.30, 0.50, 0.03, 1.25)),
    ],
)
def test_every_published_row_is_in_the_table(
    family: str, rates: tuple[float, float, float, float, float]
) -> None:
    assert price(family).rates == Rates(*rates)


def test_tiers_only_where_published() -> None:
    tiered = {p.family: p.tier_threshold for p in TABLE.rows() if p.tier_threshold is not None}
    assert tiered == {
        "claude-sonnet-4-5": 200_000,
        "claude-sonnet-4": 200_000,
        "claude-haiku-5-5": 100_000,
    }
    # Sonnet 4 tier: 6 in / 22.50 out; cache at 1.25x / 2x / 0.1x of 6 = 7.50 / 12 / 0.60.
    assert price("claude-sonnet-4").tier_rates == Rates(6, 7.50, 12, 0.60, 22.50)
    assert price("claude-haiku-5-5").tier_rates == Rates(0.50, 0.625, 1.00, 0.05, 2.50)


def test_module_imports_neither_textual_nor_rich() -> None:
    code = (
        "import sys, claude_top.engine.pricing as p; p.PriceTable.builtin().format_table();"
        "assert not {'textual', 'rich'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- cost rules --------------------------------------------------------------------------------


def test_plain_cost() -> None:
    # sonnet-4-6: 1,000 in x $3 + 500 out x $15 = 3,000 + 7,500 = 10,500 / 1e6 = $0.0105
    assert price("claude-sonnet-4-6").cost(1_000, 0, 0, 0, 500) == pytest.approx(0.0105)


def test_every_category_once() -> None:
    # sonnet-4-6, 2,000 in / 100,000 read / 10,000 5m / 4,000 1h / 1,000 out:
    #   2,000 x 3 = 6,000;  100,000 x 0.30 = 30,000;  10,000 x 3.75 = 37,500;
    #   4,000 x 6 = 24,000;  1,000 x 15 = 15,000  -> 112,500 / 1e6 = $0.1125
    assert price("claude-sonnet-4-6").cost(2_000, 100_000, 10_000, 4_000, 1_000) == pytest.approx(
        0.1125
    )


def test_1h_writes_billed_at_1h_rate_not_5m() -> None:
    # sonnet-4-6: 10,000 5m x 3.75 = 37,500;  20,000 1h x 6 = 120,000  -> 157,500 = $0.1575
    # (the known bug, 1h at the 5m rate, would give 30,000 x 3.75 = 112,500 = $0.1125)
    cost = price("claude-sonnet-4-6").cost(0, 0, 10_000, 20_000, 0)
    assert cost == pytest.approx(0.1575)
    assert cost != pytest.approx(0.1125)


def test_cache_reads_not_billed_again_as_input() -> None:
    # haiku-4-5: input_tokens is uncached only. 100 in x $1 = 100; 50,000 read x 0.10 = 5,000
    #   -> 5,100 / 1e6 = $0.0051  (billing reads also as input would add 50,000 x 1 -> $0.0551)
    assert price("claude-haiku-4-5").cost(100, 50_000, 0, 0, 0) == pytest.approx(0.0051)


def test_sonnet_4_5_tier_exactly_at_threshold_is_base() -> None:
    # prompt = 150,000 in + 50,000 read = 200,000: not ABOVE 200K -> tier 0
    assert TABLE.tier_of("claude-sonnet-4-5", 150_000 + 50_000) == 0
    # 150,000 x 3 = 450,000;  50,000 x 0.30 = 15,000;  1,000 out x 15 = 15,000 -> $0.48
    assert price("claude-sonnet-4-5").cost(150_000, 50_000, 0, 0, 1_000, tier=0) == pytest.approx(
        0.48
    )


def test_sonnet_4_5_tier_just_above_threshold_bills_whole_request() -> None:
    # prompt = 150,001 + 50,000 = 200,001 > 200K -> tier 1 for EVERY token, not just the excess:
    #   150,001 x 6 = 900,006;  50,000 x 0.60 = 30,000;  1,000 x 22.50 = 22,500
    #   -> 952,506 / 1e6 = $0.952506
    assert TABLE.tier_of("claude-sonnet-4-5", 150_001 + 50_000) == 1
    assert price("claude-sonnet-4-5").cost(150_001, 50_000, 0, 0, 1_000, tier=1) == pytest.approx(
        0.952506
    )


def test_tier_prompt_counts_cache_writes() -> None:
    # sonnet-4 (dated id): prompt = 100,000 in + 50,000 read + 40,000 5m + 10,001 1h = 200,001
    model = "claude-sonnet-4-20250514"
    assert TABLE.tier_of(model, 100_000 + 50_000 + 40_000 + 10_001) == 1
    # tier rates: 100,000 x 6 = 600,000;  50,000 x 0.60 = 30,000;  40,000 x 7.50 = 300,000;
    #   10,001 x 12 = 120,012  -> 1,050,012 / 1e6 = $1.050012
    assert price(model).cost(100_000, 50_000, 40_000, 10_001, 0, tier=1) == pytest.approx(1.050012)


def test_haiku_5_5_tier() -> None:
    p = price("claude-haiku-5-5")
    assert TABLE.tier_of("claude-haiku-5-5", 100_000) == 0
    # 100,000 x 0.10 + 2,000 x 0.50 = 10,000 + 1,000 = 11,000 -> $0.011
    assert p.cost(100_000, 0, 0, 0, 2_000, tier=0) == pytest.approx(0.011)
    assert TABLE.tier_of("claude-haiku-5-5", 100_001) == 1
    # 100,001 x 0.50 + 2,000 x 2.50 = 50,000.5 + 5,000 = 55,000.5 -> $0.0550005
    assert p.cost(100_001, 0, 0, 0, 2_000, tier=1) == pytest.approx(0.0550005)


def test_untiered_models() -> None:
    assert TABLE.tier_threshold("claude-sonnet-4-6") is None
    assert TABLE.tier_threshold("unknown-model") is None
    assert TABLE.tier_of("claude-sonnet-4-6", 10_000_000) == 0
    # tier=1 on an entry without tier rates falls back to base rates: 1M in x 3 = $3
    assert price("claude-sonnet-4-6").cost(1_000_000, 0, 0, 0, 0, tier=1) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        price("claude-sonnet-4-6").cost(1, 0, 0, 0, 0, tier=2)


def test_effective_date_change_sonnet_5_5() -> None:
    # 1,000 in x 2 = 2,000; 1,000,000 read x 0.20 (before 10-07) = 200,000 -> $0.202
    #                                  x 0.10 (from 10-07)  = 100,000 -> $0.102
    before = price("claude-sonnet-5-5", datetime.date(2026, 10, 6))
    after = price("claude-sonnet-5-5", datetime.date(2026, 10, 7))
    assert before.effective is None
    assert after.effective == datetime.date(2026, 10, 7)
    assert before.cost(1_000, 1_000_000, 0, 0, 0) == pytest.approx(0.202)
    assert after.cost(1_000, 1_000_000, 0, 0, 0) == pytest.approx(0.102)
    # a datetime (a date subclass that can't be compared to a date) is accepted too
    late = TABLE.lookup("claude-sonnet-5-5", datetime.datetime(2026, 10, 7, 0, 0, 1))
    assert late is after


def test_batch_halves_every_category() -> None:
    # opus-4-5: 10,000 in x 5 = 50,000;  20,000 read x 0.50 = 10,000;  4,000 5m x 6.25 = 25,000;
    #   2,000 1h x 10 = 20,000;  1,000 out x 25 = 25,000  -> 130,000 = $0.13; batch x 0.5 = $0.065
    p = price("claude-opus-4-5")
    assert p.cost(10_000, 20_000, 4_000, 2_000, 1_000) == pytest.approx(0.13)
    assert p.cost(10_000, 20_000, 4_000, 2_000, 1_000, batch=True) == pytest.approx(0.065)


# --- family matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic.claude-haiku-5-5", "claude-haiku-5-5"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("global.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"),
        ("claude-opus-4@20250514", "claude-opus-4"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-0", "claude-opus-4"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-3-haiku-20240307", "claude-3-haiku"),
        ("Claude-Sonnet-4-5", "claude-sonnet-4-5"),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
    ],
)
def test_family_of_dated_and_cloud_ids(model: str, family: str) -> None:
    assert TABLE.family_of(model) == family


def test_opus_4_1_vs_4_vs_4_5() -> None:
    assert TABLE.family_of("claude-opus-4-1") == "claude-opus-4-1"
    assert TABLE.family_of("claude-opus-4-1-20250805") == "claude-opus-4-1"
    assert TABLE.family_of("claude-opus-4") == "claude-opus-4"
    assert TABLE.family_of("claude-opus-4-5") == "claude-opus-4-5"
    assert TABLE.family_of("claude-opus-4-5-20251101") == "claude-opus-4-5"
    # 1M input tokens: opus-4-5 is $5, not opus-4's $15
    assert price("claude-opus-4-5-20251101").cost(1_000_000, 0, 0, 0, 0) == pytest.approx(5.0)
    assert price("claude-opus-4-1").cost(1_000_000, 0, 0, 0, 0) == pytest.approx(15.0)
    # an unknown newer minor version must not fall back to the older family's price
    assert TABLE.family_of("claude-opus-4-9") is None
    assert TABLE.family_of("claude-sonnet-5-1") is None


@pytest.mark.parametrize(
    "model", ["gpt-4o", "", "claude", "claude-sonnet", "claude-opus-45", "my-custom-model"]
)
def test_unknown_model_is_none_never_zero(model: str) -> None:
    assert TABLE.family_of(model) is None
    assert TABLE.lookup(model, DAY) is None


@given(st.text())
def test_family_of_never_raises(model: str) -> None:
    found = TABLE.family_of(model)
    assert found is None or found in {p.family for p in TABLE.rows()}


def test_lookup_is_cached() -> None:
    table = PriceTable.builtin()
    assert table.lookup("claude-sonnet-4-6", DAY) is table.lookup("claude-sonnet-4-6", DAY)


# --- overrides ---------------------------------------------------------------------------------


def test_override_new_model_with_default_cache_rates() -> None:
    table = TABLE.with_overrides({"my-custom-model": {"input": 1, "output": 2}})
    p = price("my-custom-model-v2", table=table)
    # defaults: 5m write 1.25 x 1 = 1.25;  1h write 2 x 1 = 2;  read 0.1 x 1 = 0.10
    assert p.rates == Rates(1, 1.25, 2, 0.10, 2)
    # 1,000 of each: 1,000 x (1 + 0.10 + 1.25 + 2 + 2) = 6,350 -> $0.00635
    assert p.cost(1_000, 1_000, 1_000, 1_000, 1_000) == pytest.approx(0.00635)
    assert table.is_override(p)
    assert TABLE.lookup("my-custom-model", DAY) is None  # the original table is unchanged


def test_undated_override_replaces_all_dates() -> None:
    table = TABLE.with_overrides(
        {"claude-sonnet-5-5": {"input": 1, "output": 5, "cache_read": 0.05}}
    )
    for day in (datetime.date(2020, 1, 1), datetime.date(2026, 10, 7)):
        assert price("claude-sonnet-5-5", day, table).rates.cache_read == 0.05
    assert [p.family for p in table.rows()].count("claude-sonnet-5-5") == 1


def test_dated_override_applies_from_its_date() -> None:
    config = tomllib.loads(
        "[prices.claude-sonnet-4-6]\ninput = 4\noutput = 20\neffective = 2026-12-01\n"
    )
    table = TABLE.with_overrides(config["prices"])
    assert price("claude-sonnet-4-6", datetime.date(2026, 11, 30), table).rates.input == 3
    assert price("claude-sonnet-4-6", datetime.date(2026, 12, 1), table).rates.input == 4
    # quoted date works too
    table2 = TABLE.with_overrides(
        {"claude-sonnet-4-6": {"input": 4, "output": 20, "effective": "2026-12-01"}}
    )
    assert price("claude-sonnet-4-6", datetime.date(2026, 12, 1), table2).rates.input == 4


def test_dated_override_replaces_later_builtin_entries() -> None:
    # sonnet-5-5 override from 2026-09-01 drops the built-in 2026-10-07 entry
    table = TABLE.with_overrides(
        {
            "claude-sonnet-5-5": {
                "input": 2,
                "output": 10,
                "cache_read": 0.15,
                "effective": "2026-09-01",
            }
        }
    )
    assert price("claude-sonnet-5-5", datetime.date(2026, 8, 31), table).rates.cache_read == 0.20
    assert price("claude-sonnet-5-5", datetime.date(2026, 11, 1), table).rates.cache_read == 0.15


def test_override_with_tier() -> None:
    table = TABLE.with_overrides(
        {
            "big-model": {
                "input": 1,
                "output": 4,
                "tier_threshold": 1_000,
                "tier_input": 2,
                "tier_output": 8,
            }
        }
    )
    assert table.tier_of("big-model", 1_001) == 1
    p = price("big-model", table=table)
    # tier: 1,001 in x 2 = 2,002;  100 out x 8 = 800  -> 2,802 / 1e6
    assert p.cost(1_001, 0, 0, 0, 100, tier=1) == pytest.approx(0.002802)
    # tier cache read default 0.1 x 2 = 0.2
    assert p.tier_rates is not None and p.tier_rates.cache_read == pytest.approx(0.2)


def test_override_of_alias_targets_family() -> None:
    table = TABLE.with_overrides({"claude-opus-4-0": {"input": 1, "output": 2}})
    assert price("claude-opus-4@20250514", table=table).rates.input == 1
    assert price("claude-opus-4-1", table=table).rates.input == 15


def test_format_table_marks_overrides() -> None:
    text = TABLE.with_overrides({"my-model": {"input": 1, "output": 2}}).format_table()
    assert f"collected {TABLE.collected}" in text
    assert "my-model *" in text
    assert "claude-sonnet-4-6 *" not in text
    assert "> 200,000: 6.00 / 22.50" in text
    assert "0.125" in text  # haiku-5-5 5m write not rounded away


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"my-model": {"input": -1, "output": 2}}, "prices.my-model.input: must be a non-negative"),
        (
            {"my-model": {"input": "3", "output": 2}},
            "prices.my-model.input: must be a non-negative",
        ),
        ({"my-model": {"input": True, "output": 2}}, "prices.my-model.input: must be a non-negati"),
        ({"my-model": {"input": float("nan"), "output": 2}}, "prices.my-model.input: must be"),
        (
            {"my-model": {"input": 1, "output": 2, "cache_read": -0.1}},
            "prices.my-model.cache_read:",
        ),
        ({"my-model": {"inptu": 1, "output": 2}}, "prices.my-model.inptu: unknown key"),
        ({"my-model": {"output": 2}}, "prices.my-model.input: required"),
        ({"my-model": {"input": 1}}, "prices.my-model.output: required"),
        (
            {"my-model": {"input": 1, "output": 2, "effective": "soon"}},
            "prices.my-model.effective:",
        ),
        (
            {"my-model": {"input": 1, "output": 2, "tier_input": 2}},
            "prices.my-model.tier_threshold",
        ),
        (
            {
                "my-model": {
                    "input": 1,
                    "output": 2,
                    "tier_threshold": -5,
                    "tier_input": 2,
                    "tier_output": 3,
                }
            },
            "prices.my-model.tier_threshold: must be a positive integer",
        ),
        ({"my-model": 3}, "prices.my-model: must be a table"),
    ],
)
def test_override_errors_name_the_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PriceConfigError, match=re.escape(message)) as info:
        TABLE.with_overrides(overrides)
    assert isinstance(info.value, ValueError)


def test_the_table_says_when_it_is_stale_by_the_clock() -> None:
    from datetime import UTC, datetime

    from claude_top.engine.pricing.table import STALE_DAYS

    collected = datetime.fromisoformat(TABLE.collected).replace(tzinfo=UTC).timestamp()
    fresh = collected + STALE_DAYS * 86400
    assert TABLE.staleness(fresh) is None
    assert "collected" in TABLE.format_table(fresh).splitlines()[0]
    stale = TABLE.format_table(fresh + 86400)
    assert f"collected {STALE_DAYS + 1} days ago (more than {STALE_DAYS})" in stale
    assert "stale" not in TABLE.format_table()  # no clock, no claim
