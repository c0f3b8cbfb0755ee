"""Running per-user totals of one day: the "top users today" panel without re-merging rows.

Per-user rows are kept per (user, feature, model) and per day; ranking thousands of users by
merging them at every refresh costs more than the rest of a refresh. These totals are kept per
user by ingest itself, cost included (each call at its model's rate), once a view asks for them.
"""

from __future__ import annotations

from typing import Any

from claude_top.core.stats import GroupStats
from claude_top.core.timeutil import utc_date
from claude_top.engine import store as B
from claude_top.engine.pricing import PriceTable
from claude_top.engine.store import Row

R_CALLS, R_ERRORS, R_429, R_IN, R_OUT, R_CR, R_CW5, R_CW1, R_TOKENS, R_COST, R_UNPRICED = range(11)


class RunningDay:
    """Per-user totals of one local day, kept current by ingest (see ``Engine.top_users``)."""

    __slots__ = ("end", "prices", "rates", "start", "unpriced_models", "users")

    def __init__(self, start: int, end: int, prices: PriceTable) -> None:
        self.start = start
        self.end = end
        self.prices = prices
        self.users: dict[str, list[Any]] = {}
        self.rates: dict[tuple[str, int], tuple[float, ...] | None] = {}
        self.unpriced_models: set[str] = set()

    def _rates(self, model: str, variant: int) -> tuple[float, ...] | None:
        key = (model, variant)
        if key not in self.rates:
            price = self.prices.lookup(model, utc_date(self.start))
            if price is None:
                self.rates[key] = None
            else:
                tier, batch = variant >> 1, bool(variant & 1)
                unit = [0, 0, 0, 0, 0]
                per = []
                for i in range(5):
                    unit[i] = 1
                    per.append(price.cost(*unit, tier=tier, batch=batch))
                    unit[i] = 0
                self.rates[key] = tuple(per)
        return self.rates[key]

    def add(
        self,
        user: str,
        model: str,
        variant: int,
        inp: int,
        out: int,
        cr: int,
        cw5: int,
        cw1: int,
        error: bool,
        status: int | None,
    ) -> None:
        u = self.users.get(user)
        if u is None:
            u = self.users[user] = [0] * 11
            u[R_COST] = 0.0
        u[R_CALLS] += 1
        if error:
            u[R_ERRORS] += 1
            if status == 429:
                u[R_429] += 1
        u[R_IN] += inp
        u[R_OUT] += out
        u[R_CR] += cr
        u[R_CW5] += cw5
        u[R_CW1] += cw1
        u[R_TOKENS] += inp + out + cr + cw5 + cw1
        r = self._rates(model, variant)
        if r is None:
            u[R_UNPRICED] += 1
            self.unpriced_models.add(model)
        else:
            u[R_COST] += inp * r[0] + cr * r[1] + cw5 * r[2] + cw1 * r[3] + out * r[4]

    def add_row(self, user: str, row: Row, cost: float | None, model: str) -> None:
        u = self.users.get(user)
        if u is None:
            u = self.users[user] = [0] * 11
            u[R_COST] = 0.0
        u[R_CALLS] += row[B.U_CALLS]
        u[R_ERRORS] += row[B.U_ERRORS]
        u[R_429] += row[B.U_429]
        for r_i, u_i in (
            (R_IN, B.U_IN),
            (R_OUT, B.U_OUT),
            (R_CR, B.U_CR),
            (R_CW5, B.U_CW5),
            (R_CW1, B.U_CW1),
        ):
            u[r_i] += row[u_i]
            u[R_TOKENS] += row[u_i]
        if cost is None:
            u[R_UNPRICED] += row[B.U_CALLS]
            self.unpriced_models.add(model)
        else:
            u[R_COST] += cost


def running_stats(user: str, u: list[Any]) -> GroupStats:
    return GroupStats(
        name=user,
        calls=u[R_CALLS],
        errors=u[R_ERRORS],
        rate_limited=u[R_429],
        input_tokens=u[R_IN],
        output_tokens=u[R_OUT],
        cache_read_tokens=u[R_CR],
        cache_write_5m_tokens=u[R_CW5],
        cache_write_1h_tokens=u[R_CW1],
        cost_usd=u[R_COST],
        unpriced_calls=u[R_UNPRICED],
    )
