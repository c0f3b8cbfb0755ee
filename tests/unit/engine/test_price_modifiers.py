"""Modifiers of the bill: priced only at a multiplier a published page states, each checked
against a hand-worked cost (USD per million tokens; cost = sum(tokens x rate) / 1e6).

Priced: US-only inference (``inference_geo: "us"``) at 1.1x the standard rates on the families
that accept the parameter (Opus 4.6, Sonnet 4.6 and later). Unpriced and named: fast mode,
Priority Tier, and US-only on a family the page does not list. Server tools: priced per request
only where configured (no published price in the built-in table).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from claude_top.core.errors import PriceConfigError
from claude_top.core.schema import billed_model
from claude_top.engine.engine import Engine
from claude_top.engine.pricing import PriceTable

DAY = datetime.date(2026, 11, 27)
TABLE = PriceTable.builtin()


def test_us_only_is_a_tenth_above_every_standard_rate() -> None:
    # sonnet-4-6 x 1.1: in 3.30, 5m 4.125, 1h 6.60, read 0.33, out 16.50.
    # 10,000 in x 3.30 = 33,000; 20,000 read x 0.33 = 6,600; 4,000 5m x 4.125 = 16,500;
    # 2,000 1h x 6.60 = 13,200; 1,000 out x 16.50 = 16,500 -> 85,800 = $0.0858
    # (standard: $0.078, so exactly 1.1x).
    p = TABLE.lookup("claude-sonnet-4-6 (us-only)", DAY)
    assert p is not None
    assert p.family == "claude-sonnet-4-6 (us-only)"
    assert p.cost(10_000, 20_000, 4_000, 2_000, 1_000) == pytest.approx(0.0858)
    std = TABLE.lookup("claude-sonnet-4-6", DAY)
    assert std is not None and std.cost(10_000, 20_000, 4_000, 2_000, 1_000) == pytest.approx(0.078)


def test_us_only_keeps_the_tier_rule_of_its_family() -> None:
    # haiku-5-5 above 100K prompt tokens bills the whole request at 0.50 in / 2.50 out; x 1.1:
    # 0.55 / 2.75. 120,000 in x 0.55 = 66,000 + 1,000 out x 2.75 = 2,750 -> $0.06875.
    model = "claude-haiku-5-5-20261001 (us-only)"
    assert TABLE.tier_threshold(model) == 100_000
    p = TABLE.lookup(model, DAY)
    assert p is not None
    tier = TABLE.tier_of(model, 120_000)
    assert p.cost(120_000, 0, 0, 0, 1_000, tier=tier) == pytest.approx(0.06875)


@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-5-5 (fast)",  # the fast-mode multiplier is not shown on the page we read
        "claude-opus-5-5 (priority)",  # no published Priority Tier rate
        "claude-opus-5-5 (fast, us-only)",  # one modifier without a multiplier: all unpriced
        "claude-sonnet-4-5 (us-only)",  # a family the data-residency page does not list
        "claude-opus-5-5 (speed=turbo)",  # an unknown modifier
        "claude-nova-9 (us-only)",  # an unknown model
    ],
)
def test_a_modifier_without_a_published_multiplier_stays_unpriced(model: str) -> None:
    assert TABLE.lookup(model, DAY) is None


def test_a_users_entry_for_the_billed_model_wins_over_the_multiplier() -> None:
    table = TABLE.with_overrides({"claude-sonnet-4-6 (us-only)": {"input": 4, "output": 20}})
    p = table.lookup("claude-sonnet-4-6 (us-only)", DAY)
    assert p is not None and p.rates.input == 4
    fast = table.with_overrides({"claude-opus-5-5 (fast)": {"input": 8, "output": 40}})
    assert fast.lookup("claude-opus-5-5 (fast)", DAY) is not None


def test_the_table_says_which_modifiers_are_priced_and_from_where() -> None:
    text = TABLE.format_table()
    assert "(us-only): 1.1x, 13 families" in text
    assert "docs.aws.amazon.com/claude-platform" in text
    assert "web_search_requests: not priced" in text


def line(**extra: Any) -> str:
    import json

    return json.dumps(
        {
            "timestamp": "2026-11-27T10:00:00Z",
            "feature": "chat",
            "model": "claude-opus-5-5",
            "input_tokens": 100_000,
            "output_tokens": 10_000,
            "latency_ms": 900,
            **extra,
        }
    )


def test_the_engine_prices_us_only_calls_and_names_the_rest() -> None:
    # opus-5-5: 4 in, 20 out. Standard: 100,000 x 4 + 10,000 x 20 = 600,000 = $0.60.
    # US-only: x 1.1 = $0.66. Batch + US-only: x 0.5 = $0.33. Fast: unpriced.
    e = Engine()
    e.ingest_lines(
        [
            line(),
            line(inference_geo="us"),
            line(inference_geo="us", service_tier="batch"),
            line(speed="fast"),
            line(inference_geo="global", speed="standard"),
        ]
    )
    models = e.query(by="model").groups
    assert models["claude-opus-5-5"].cost_usd == pytest.approx(1.20)
    assert models["claude-opus-5-5 (us-only)"].cost_usd == pytest.approx(0.66 + 0.33)
    assert models["claude-opus-5-5 (fast)"].unpriced_calls == 1
    total = e.query().total
    assert total.cost_usd == pytest.approx(2.19)
    assert total.unpriced_models == ("claude-opus-5-5 (fast)",)


def test_billed_model_spells_the_modifiers() -> None:
    assert billed_model("m", {"inference_geo": "us", "speed": "fast"}) == "m (fast, us-only)"
    assert billed_model("m", {"web_search_requests": 3}) == "m"  # a server tool is no modifier


def test_tool_prices_are_per_thousand_and_checked() -> None:
    table = TABLE.with_overrides({"server_tools": {"web_search_requests": 10}})
    assert table.tool_price("web_search_requests", DAY) == pytest.approx(0.01)
    assert table.tool_price("web_fetch_requests", DAY) is None
    assert TABLE.tool_price("web_search_requests", DAY) is None
    with pytest.raises(PriceConfigError, match=r"server_tools\.web_search_requests"):
        TABLE.with_overrides({"server_tools": {"web_search_requests": -1}})
    with pytest.raises(PriceConfigError, match="server_tools: must be a table"):
        TABLE.with_overrides({"server_tools": 10})
