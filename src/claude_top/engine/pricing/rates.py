"""Rates and one model's prices: the arithmetic of one call's cost.

Billing rules encoded here (from the published pricing):

* every input token is billed in exactly one category (uncached input, cache read, 5m cache
  write, 1h cache write), never again as input;
* a prompt-length tier, when exceeded, bills the WHOLE request at the tier's rates;
* the Batch API discount applies to every category.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from itertools import repeat
from operator import add, mul, truediv
from typing import Final

from msgspec import Struct

MTOK: Final = 1_000_000.0

# Anthropic's cache multipliers of the input price, used when an override omits a cache rate.
WRITE_5M_FACTOR: Final = 1.25
WRITE_1H_FACTOR: Final = 2.0
READ_FACTOR: Final = 0.1


class Rates(Struct, frozen=True):
    """USD per million tokens, one rate per billing category."""

    input: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    output: float

    @classmethod
    def from_input(
        cls,
        input: float,
        output: float,
        *,
        cache_write_5m: float | None = None,
        cache_write_1h: float | None = None,
        cache_read: float | None = None,
    ) -> Rates:
        """Fill missing cache rates with the standard multipliers, as the pricing page does."""
        return cls(
            input=input,
            cache_write_5m=input * WRITE_5M_FACTOR if cache_write_5m is None else cache_write_5m,
            cache_write_1h=input * WRITE_1H_FACTOR if cache_write_1h is None else cache_write_1h,
            cache_read=input * READ_FACTOR if cache_read is None else cache_read,
            output=output,
        )


class ModelPrice(Struct, frozen=True):
    """The prices of one model family from one effective date on."""

    family: str
    effective: datetime.date | None
    """First day this entry applies; None = since the beginning."""
    rates: Rates
    tier_threshold: int | None
    """Prompt tokens above which the whole request uses ``tier_rates``."""
    tier_rates: Rates | None
    batch_discount: float
    """Fraction taken off for Batch API calls (0.5 = half price)."""

    def cost(
        self,
        input_tokens: int,
        cache_read: int,
        cache_write_5m: int,
        cache_write_1h: int,
        output_tokens: int,
        *,
        tier: int = 0,
        batch: bool = False,
    ) -> float:
        """USD for one call. ``input_tokens`` is the API's uncached input only.

        ``tier`` comes from ``PriceTable.tier_of`` (the engine computes it once per call). Tier 1
        on an entry without tier rates falls back to the base rates: the threshold is looked up
        per family, so an older dated entry may lack the tier a newer one has.
        """
        r = self.rates_for(tier)
        usd = (
            input_tokens * r.input
            + cache_read * r.cache_read
            + cache_write_5m * r.cache_write_5m
            + cache_write_1h * r.cache_write_1h
            + output_tokens * r.output
        ) / MTOK
        if batch:
            # Batch discount applies to every category (cache rates too): the Batch API docs
            # say "50% of standard prices"; prices.md only mentions input and output.
            usd *= 1.0 - self.batch_discount
        return usd

    def rates_for(self, tier: int) -> Rates:
        """The rates a call of ``tier`` (0 or 1) is billed at."""
        if tier == 1 and self.tier_rates is not None:
            return self.tier_rates
        if tier in (0, 1):
            return self.rates
        raise ValueError(f"tier must be 0 or 1, got {tier!r}")

    def costs(
        self,
        input_tokens: Iterable[int],
        cache_read: Iterable[int],
        cache_write_5m: Iterable[int],
        cache_write_1h: Iterable[int],
        output_tokens: Iterable[int],
        *,
        tier: int = 0,
        batch: bool = False,
    ) -> Iterator[float]:
        """``cost`` of many calls of one tier, given as columns (one value per call each).

        The same float operations in the same order as ``cost``, call by call, so the same
        costs to the last bit; done by ``map`` over the columns, without a Python call per
        call: a 500-feature week's query prices ~730,000 bucket rows.
        """
        r = self.rates_for(tier)
        usd: Iterator[float] = map(
            add, map(mul, input_tokens, repeat(r.input)), map(mul, cache_read, repeat(r.cache_read))
        )
        usd = map(add, usd, map(mul, cache_write_5m, repeat(r.cache_write_5m)))
        usd = map(add, usd, map(mul, cache_write_1h, repeat(r.cache_write_1h)))
        usd = map(add, usd, map(mul, output_tokens, repeat(r.output)))
        usd = map(truediv, usd, repeat(MTOK))
        if batch:
            usd = map(mul, usd, repeat(1.0 - self.batch_discount))
        return usd


class ToolPrice(Struct, frozen=True):
    """A server tool's price per request (``core.schema.SERVER_TOOLS``) from a date on."""

    tool: str
    """The request count it prices: ``web_search_requests`` or ``web_fetch_requests``."""
    effective: datetime.date | None
    usd_per_request: float
    source: str = ""
    """Where the price is published (a URL), or ``config`` for a user's own."""


class Modifier(Struct, frozen=True):
    """A published multiplier of a family's standard rates for calls billed under a modifier
    (``core.schema.billed_model``: ``us-only``), every category alike, from a date on."""

    name: str
    """As the billed model id spells it: ``claude-opus-5-5 (us-only)``."""
    multiplier: float
    families: tuple[str, ...]
    """The table families it applies to (a call of another family under it stays unpriced)."""
    effective: datetime.date | None
    source: str
    """The page that states it."""

    def scaled(self, price: ModelPrice, family: str) -> ModelPrice:
        """``price`` with every rate (its tier's too) times the multiplier, as ``family``."""
        m = self.multiplier

        def times(r: Rates) -> Rates:
            return Rates(r.input * m, r.cache_write_5m * m, r.cache_write_1h * m,
                         r.cache_read * m, r.output * m)  # fmt: skip

        tier = times(price.tier_rates) if price.tier_rates is not None else None
        return ModelPrice(family, price.effective, times(price.rates), price.tier_threshold,
                          tier, price.batch_discount)  # fmt: skip
