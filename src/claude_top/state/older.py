"""The older group buckets of a one-shot ``check``, summed by SQLite from the state file.

A cron ``check`` from a state needs a week of buckets for its cost baseline and a day for its
24-hour rules, but per key and span, never per bucket: building a Python row for each of the
~28,000 rows of a week was most of a warm check. So it loads only the newest buckets (the p95
rules' histograms, the streamed calls) and answers spans before them here, one ``GROUP BY``
per span (``engine.store.Older``), with each row's cost as the writer stored it; a span's whole
hours come from sums per hour kept in the file (``hour_sums``: summed here once, dropped by
the writer when it writes a row of that hour), so a day costs SQLite 24 rows per key, not
1,440.

Valid only where the file holds the truth: after this process committed everything it read
(it is the one writer, so nothing changed since), and with the file's costs at the engine's
price table (``schema.PRICES_KEY``; the writer prices every row again when the table changed).
``Session.older`` checks both; anything else answers from memory after a full load.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from typing import Any

import orjson

from claude_top.engine import store as B
from claude_top.state.db import StateError
from claude_top.state.schema import CALL_COUNTERS

_N = len(CALL_COUNTERS)
HOUR = 3600
_CALL_SUMS = (
    ", ".join(f"sum({c})" for c in CALL_COUNTERS)
    + ", sum(CASE WHEN cost >= 0 THEN cost ELSE 0 END), "
    "sum(CASE WHEN cost < 0 THEN calls ELSE 0 END), sum(cost IS NULL), "
    "group_concat(errors_by_type, ',')"
)
"""A key's counters, priced cost and unpriced calls (a model priced from a date on has both in
one span), rows without a cost, and its error types as one JSON list's items."""
_HOUR_SUMS = (
    ", ".join(f"sum({c})" for c in CALL_COUNTERS)
    + ", sum(cost), sum(unpriced), sum(missing), group_concat(error_types, ',')"
)
_SUMS = {
    "calls": f"SELECT feature, model, variant, {_CALL_SUMS} FROM calls "
    "WHERE start >= ? AND start < ? GROUP BY feature, model, variant",
    "hours": f"SELECT feature, model, variant, {_HOUR_SUMS} FROM hour_sums "
    "WHERE hour >= ? AND hour < ? GROUP BY feature, model, variant",
}
_COSTS = {
    "calls": "SELECT feature, {model}, sum(calls), sum(CASE WHEN cost >= 0 THEN cost ELSE 0 END), "
    "sum(cost IS NULL) FROM calls WHERE start >= ? AND start < ? GROUP BY feature{by}",
    "hours": "SELECT feature, {model}, sum(calls), sum(cost), sum(missing) FROM hour_sums "
    "WHERE hour >= ? AND hour < ? GROUP BY feature{by}",
}
"""Calls and priced cost per feature (and model, for a filter): all the cost baseline reads,
a few times cheaper for SQLite than every counter (``Older.costs``)."""
_FILL = (
    f"INSERT INTO hour_sums SELECT start - start % {HOUR}, feature, model, variant, "
    f"{_CALL_SUMS} FROM calls WHERE start >= ? AND start < ? GROUP BY 1, 2, 3, 4"
)


class FileRows:
    """``engine.store.Older`` over a state file's ``calls`` table: a span's whole UTC hours
    from the hour sums (``schema.HOURS_DDL``, summed here when missing), its ends from the
    rows. Its methods raise ``StateError`` on a row without a cost or with a value of the
    wrong type (the caller answers from the logs instead)."""

    def __init__(self, conn: sqlite3.Connection, before: float) -> None:
        self.conn = conn
        self._before = before
        self._first: float | None = None

    @property
    def before(self) -> float:
        return self._before

    def _parts(self, start: float, end: float) -> list[tuple[str, float, float]]:
        """(source, from, to): [start, end) cut at ``before``, its whole hours from the
        sums, the rest from the rows."""
        if self._first is None:
            first = self._one("SELECT min(start) FROM calls")
            self._first = float("inf") if first is None else float(first)
        lo, hi = max(start, self._first), min(end, self._before)
        if hi <= lo:
            return []
        h0, h1 = math.ceil(lo / HOUR) * HOUR, math.floor(hi / HOUR) * HOUR
        if h1 - h0 < 2 * HOUR:
            return [("calls", lo, hi)]
        self.fill(h0, h1)
        return [("calls", lo, h0), ("hours", h0, h1), ("calls", h1, hi)]

    def fill_all(self) -> None:
        """Sum every whole hour before ``before`` not summed yet."""
        first = self._one("SELECT min(start) FROM calls")
        if first is not None:
            self.fill(int(first) // HOUR * HOUR, int(self._before) // HOUR * HOUR)

    def fill(self, h0: int, h1: int) -> None:
        """Sum the hours in [h0, h1) that are not summed yet."""
        try:
            got = {h for (h,) in self.conn.execute(
                "SELECT hour FROM hours WHERE hour >= ? AND hour < ?", (h0, h1)
            )}  # fmt: skip
            missing = [h for h in range(int(h0), int(h1), HOUR) if h not in got]
            if not missing:
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for a, b in _runs(missing):
                    self.conn.execute(_FILL, (a, b))
                self.conn.executemany("INSERT INTO hours VALUES (?)", [(h,) for h in missing])
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise StateError(f"cannot be read ({e})") from None

    def rows(self, start: float, end: float) -> Iterator[tuple[B.Key, B.Row]]:
        out = []
        for source, lo, hi in self._parts(start, end):
            for r in self._query(_SUMS[source], (lo, hi)):
                names = type(r[0]) is str and type(r[1]) is str and type(r[2]) is int
                nums = r[3 : 3 + _N]
                cost, unpriced, missing, errors = r[3 + _N :]
                sums = (*nums, cost, unpriced)
                if missing or not names or not all(type(x) is int for x in sums):
                    raise StateError("a calls row without a cost or a whole number")
                key = (r[0], r[1], r[2])
                row = B.new_group_row()
                row[: B.G_NUMERIC] = nums
                row[B.G_CALLS] -= unpriced
                row[B.G_COST] = cost if row[B.G_CALLS] or not unpriced else -1
                if errors is not None:
                    row[B.G_ERRTYPES] = _error_types(errors)
                out.append((key, row))
                if unpriced and row[B.G_COST] >= 0:  # its unpriced calls apart, as folds add
                    rest = B.new_group_row()
                    rest[B.G_CALLS], rest[B.G_COST] = unpriced, -1
                    out.append((key, rest))
                elif unpriced:
                    row[B.G_CALLS] += unpriced
        return iter(out)

    def costs(
        self, start: float, end: float, by_model: bool
    ) -> Iterator[tuple[str, str, int, int]]:
        out = []
        for source, lo, hi in self._parts(start, end):
            q = _COSTS[source].format(
                model="model" if by_model else "''", by=", model" if by_model else ""
            )
            for feature, model, calls, cost, missing in self._query(q, (lo, hi)):
                if missing or type(feature) is not str or type(calls) is not int:
                    raise StateError("a calls row without a cost or a whole number")
                if type(cost) is not int:
                    raise StateError("a cost that is not a whole number")
                out.append((feature, model, calls, cost))
        return iter(out)

    def _one(self, q: str) -> Any:
        return self._query(q, ())[0][0]

    def _query(self, q: str, args: tuple[float, ...]) -> list[Any]:
        try:
            return self.conn.execute(q, args).fetchall()
        except sqlite3.Error as e:
            raise StateError(f"cannot be read ({e})") from None


def _runs(hours: list[int]) -> Iterator[tuple[int, int]]:
    """[from, to) of each run of consecutive hours."""
    start = prev = hours[0]
    for h in hours[1:]:
        if h != prev + HOUR:
            yield start, prev + HOUR
            start = h
        prev = h
    yield start, prev + HOUR


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
