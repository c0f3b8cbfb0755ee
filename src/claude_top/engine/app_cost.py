"""The app's own cost beside ours: where a line carries ``cost_usd`` (LiteLLM's
``response_cost``), both are summed over exactly those calls, so a wrong price table or a wrong
app shows as a difference (``summary --by model``).

Kept in a tiered store of its own (the group rows' tiers and compaction), keyed by (feature,
model, price variant) with the calls' token sums, so our cost of those very calls is computed
at query time at the prices in force on each bucket's date, as every other cost is. The app's
amounts are summed as whole nano-dollars (``accumulators.COST_UNITS``), each call's rounded
once, and so is our cost, each row's (as window costs are): float sums depend on the order they
are added in, and a restart from a state, a rotated
file read in another order or a split read must give the same total as one cold read.
"""

from __future__ import annotations

from msgspec import Struct

from claude_top.core.timeutil import utc_date
from claude_top.engine.accumulators import COST_UNITS
from claude_top.engine.pricing import PriceTable
from claude_top.engine.store import Bucket, Row, TieredStore

A_CALLS, A_USD, A_IN, A_OUT, A_CR, A_CW5, A_CW1 = range(7)


def new_row() -> Row:
    return [0, 0, 0, 0, 0, 0, 0]


def merge_row(acc: Row, row: Row) -> None:
    for i in range(7):
        acc[i] += row[i]


def add(
    bucket: Bucket, key: tuple[str, str, int], usd: float,
    inp: int, out: int, cr: int, cw5: int, cw1: int,
) -> None:  # fmt: skip
    row = bucket.get(key)
    if row is None:
        row = bucket[key] = new_row()
    row[A_CALLS] += 1
    row[A_USD] += round(usd * COST_UNITS)
    row[A_IN] += inp
    row[A_OUT] += out
    row[A_CR] += cr
    row[A_CW5] += cw5
    row[A_CW1] += cw1


class AppCost(Struct):
    """Calls that logged their own cost: the app's sum and ours over the same calls."""

    calls: int = 0
    app_nano: int = 0
    """The app's cost in nano-dollars (``app_usd`` in dollars)."""
    our_nano: int = 0
    """Our cost of the same calls in nano-dollars, each row's rounded (as window costs are)."""
    unpriced_calls: int = 0
    """Of them, calls we have no price for (their app cost is not compared)."""
    unpriced_app_nano: int = 0

    @property
    def app_usd(self) -> float:
        return self.app_nano / COST_UNITS

    @property
    def our_usd(self) -> float:
        return self.our_nano / COST_UNITS

    @property
    def unpriced_app_usd(self) -> float:
        return self.unpriced_app_nano / COST_UNITS

    @property
    def difference_usd(self) -> float:
        """Ours less the app's, over the calls both price."""
        return (self.our_nano - (self.app_nano - self.unpriced_app_nano)) / COST_UNITS


def query(
    store: TieredStore, prices: PriceTable, start: float | None, end: float | None, by: str
) -> tuple[AppCost, dict[str, AppCost]]:
    """The total and each model's (``by="model"``) or feature's app cost against ours."""
    index = 1 if by == "model" else 0
    total = AppCost()
    groups: dict[str, AppCost] = {}
    for bstart, bucket in store.buckets_in(start, end):
        day = utc_date(bstart)
        for key, row in bucket.items():
            feature_or_model, model, variant = key[index], key[1], key[2]
            price = prices.lookup(model, day)
            ours = None
            if price is not None:
                ours = round(COST_UNITS * price.cost(
                    row[A_IN], row[A_CR], row[A_CW5], row[A_CW1], row[A_OUT],
                    tier=(variant >> 1) & 1, batch=bool(variant & 1),
                ))  # fmt: skip
            g = groups.get(feature_or_model)
            if g is None:
                g = groups[feature_or_model] = AppCost()
            for acc in (g, total):
                acc.calls += row[A_CALLS]
                acc.app_nano += row[A_USD]
                if ours is None:
                    acc.unpriced_calls += row[A_CALLS]
                    acc.unpriced_app_nano += row[A_USD]
                else:
                    acc.our_nano += ours
    return total, groups
