"""The older group buckets of a one-shot ``check``, summed by SQLite from the state file.

A cron ``check`` from a state needs a week of buckets for its cost baseline and a day for its
24-hour rules, but per key and span, never per bucket: building a Python row for each of the
~28,000 rows of a week was most of a warm check. So it loads only the newest buckets (the p95
rules' histograms, the streamed calls) and answers spans before them here, one ``GROUP BY``
per span (``engine.store.Older``), with each row's cost as the writer stored it.

Valid only where the file holds the truth: after this process committed everything it read
(it is the one writer, so nothing changed since), and with the file's costs at the engine's
price table (``schema.PRICES_KEY``; the writer prices every row again when the table changed).
``Session.older`` checks both; anything else answers from memory after a full load.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import orjson

from claude_top.engine import store as B
from claude_top.state.db import StateError
from claude_top.state.schema import CALL_COUNTERS

_N = len(CALL_COUNTERS)
_SUMS = (
    "SELECT feature, model, variant, "
    + ", ".join(f"sum({c})" for c in CALL_COUNTERS)
    + ", sum(CASE WHEN cost >= 0 THEN cost ELSE 0 END), "
    "sum(CASE WHEN cost < 0 THEN calls ELSE 0 END), sum(cost IS NULL), "
    "group_concat(errors_by_type, ',') "
    "FROM calls WHERE start >= ? AND start < ? GROUP BY feature, model, variant"
)
"""Each key's counters, priced cost and unpriced calls (a model priced from a date on has
both in one span), and its error types as one JSON list's items."""
_COSTS = (
    "SELECT feature, {model}, sum(calls), sum(CASE WHEN cost >= 0 THEN cost ELSE 0 END), "
    "sum(cost IS NULL) FROM calls WHERE start >= ? AND start < ? GROUP BY feature{by}"
)
"""Calls and priced cost per feature (and model, for a filter): all the cost baseline reads,
a few times cheaper for SQLite than every counter (``Older.costs``)."""
_FAR = 2**62


def _bound(t: float) -> float | int:
    return max(-_FAR, min(_FAR, t)) if t in (float("inf"), float("-inf")) else t


class FileRows:
    """``engine.store.Older`` over a state file's ``calls`` table. Its methods raise
    ``StateError`` on a row without a cost or with a value of the wrong type (the caller
    answers from the logs instead)."""

    def __init__(self, conn: sqlite3.Connection, before: float) -> None:
        self.conn = conn
        self._before = before

    @property
    def before(self) -> float:
        return self._before

    def _span(self, start: float, end: float) -> tuple[float | int, float | int]:
        return _bound(start), _bound(min(end, self._before))

    def rows(self, start: float, end: float) -> Iterator[tuple[B.Key, B.Row]]:
        out = []
        for r in self._query(_SUMS, self._span(start, end)):
            names = type(r[0]) is str and type(r[1]) is str and type(r[2]) is int
            nums = r[3 : 3 + _N]
            cost, unpriced, missing, errors = r[3 + _N :]
            if missing or not names or not all(type(x) is int for x in (*nums, cost, unpriced)):
                raise StateError("a calls row without a cost or a whole number")
            key = (r[0], r[1], r[2])
            row = B.new_group_row()
            row[: B.G_NUMERIC] = nums
            row[B.G_CALLS] -= unpriced
            row[B.G_COST] = cost if row[B.G_CALLS] or not unpriced else -1
            if errors is not None:
                row[B.G_ERRTYPES] = _error_types(errors)
            out.append((key, row))
            if unpriced and row[B.G_COST] >= 0:  # its unpriced calls apart, as a fold adds them
                rest = B.new_group_row()
                rest[B.G_CALLS], rest[B.G_COST] = unpriced, -1
                out.append((key, rest))
            elif unpriced:
                row[B.G_CALLS] += unpriced
        return iter(out)

    def costs(
        self, start: float, end: float, by_model: bool
    ) -> Iterator[tuple[str, str, int, int]]:
        q = _COSTS.format(model="model" if by_model else "''", by=", model" if by_model else "")
        out = []
        for feature, model, calls, cost, missing in self._query(q, self._span(start, end)):
            if missing or type(feature) is not str or type(calls) is not int:
                raise StateError("a calls row without a cost or a whole number")
            if type(cost) is not int:
                raise StateError("a cost that is not a whole number")
            out.append((feature, model, calls, cost))
        return iter(out)

    def _query(self, q: str, args: tuple[float | int, float | int]) -> list[Any]:
        try:
            return self.conn.execute(q, args).fetchall()
        except sqlite3.Error as e:
            raise StateError(f"cannot be read ({e})") from None


def _error_types(text: str) -> dict[str, int]:
    """The error types of a key's rows merged (``group_concat`` of their JSON objects)."""
    try:
        parts = orjson.loads(f"[{text}]")
    except orjson.JSONDecodeError:
        raise StateError("error types that are not JSON") from None
    out: dict[str, int] = {}
    for part in parts:
        if not isinstance(part, dict):
            raise StateError("error types that are not counts")
        for k, n in part.items():
            if type(n) is not int:
                raise StateError("an error count that is not a whole number")
            out[k] = out.get(k, 0) + n
    return out
