"""Accumulators: the sums a window's query folds bucket rows into, and their results.

An accumulator is a list: the numeric slots of a group row (``buckets.G_*``), then the latency
histogram counts, error types, cost and unpriced calls per model. Rows are added when a window
grows and taken out again when a rolling window's start moves past them, so every operation
here has its inverse. The three dicts are made when first needed: a per-user window of a
million users holds a million accumulators, and per-user rows never fill two of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from claude_top.core.histogram import LatencyHistogram, merge_into
from claude_top.core.stats import GroupStats
from claude_top.engine import store as B
from claude_top.engine.store import Key, Row

A_HIST, A_ERRT, A_COST, A_UNPRICED, A_UNPRICED_MODELS = 13, 14, 15, 16, 17
"""Slots after the numeric ones: histogram, error types, cost, unpriced calls per model."""
COST_UNITS = 10**9
"""Costs are summed as whole nano-dollars (a row's cost rounded once, ``window_cache``). Prices
per million tokens make many totals land exactly on a half of the last digit shown, where a
float sum's rounding depends on the order rows were added; integers add up the same in any
order (a read resumed from a state, two processes' halves, a rolling window's take-outs)."""


if B.G_NUMERIC != 13:  # pragma: no cover - a developer's mistake, caught at import
    raise AssertionError("acc_group adds slots 0..12 one by one: revisit it")


def new_acc() -> list[Any]:
    return [0] * B.G_NUMERIC + [None, None, 0, 0, None]


def _unpriced(a: list[Any], model: str, calls: int) -> None:
    a[A_UNPRICED] += calls
    um = a[A_UNPRICED_MODELS]
    if um is None:
        um = a[A_UNPRICED_MODELS] = {}
    um[model] = um.get(model, 0) + calls


def acc_group(a: list[Any], row: Row, cost: int, model: str) -> None:
    # The numeric slots, unrolled (half the cost of a loop): a window may fold a million rows.
    a[0] += row[0]
    a[1] += row[1]
    a[2] += row[2]
    a[3] += row[3]
    a[4] += row[4]
    a[5] += row[5]
    a[6] += row[6]
    a[7] += row[7]
    a[8] += row[8]
    a[9] += row[9]
    a[10] += row[10]
    a[11] += row[11]
    a[12] += row[12]
    h = a[A_HIST]
    if h is None:
        a[A_HIST] = dict(row[B.G_HIST])
    else:
        merge_into(h, row[B.G_HIST])
    if row[B.G_ERRTYPES]:
        e = a[A_ERRT]
        if e is None:
            a[A_ERRT] = dict(row[B.G_ERRTYPES])
        else:
            merge_into(e, row[B.G_ERRTYPES])
    if cost < 0:
        _unpriced(a, model, row[B.G_CALLS])
    else:
        a[A_COST] += cost


def acc_counts(a: list[Any], row: Row, cost: int, model: str) -> None:
    """``acc_group`` but the latency histogram: the totals that read only counters (costs,
    429s, calls without a user), where merging every row's histogram was most of the fold."""
    a[0] += row[0]
    a[1] += row[1]
    a[2] += row[2]
    a[3] += row[3]
    a[4] += row[4]
    a[5] += row[5]
    a[6] += row[6]
    a[7] += row[7]
    a[8] += row[8]
    a[9] += row[9]
    a[10] += row[10]
    a[11] += row[11]
    a[12] += row[12]
    if row[B.G_ERRTYPES]:
        e = a[A_ERRT]
        if e is None:
            a[A_ERRT] = dict(row[B.G_ERRTYPES])
        else:
            merge_into(e, row[B.G_ERRTYPES])
    if cost < 0:
        _unpriced(a, model, row[B.G_CALLS])
    else:
        a[A_COST] += cost


USER_TO_GROUP = (
    (B.U_CALLS, B.G_CALLS),
    (B.U_ERRORS, B.G_ERRORS),
    (B.U_429, B.G_429),
    (B.U_IN, B.G_IN),
    (B.U_OUT, B.G_OUT),
    (B.U_CR, B.G_CR),
    (B.U_CW5, B.G_CW5),
    (B.U_CW1, B.G_CW1),
)


def acc_user(a: list[Any], row: Row, cost: int, model: str) -> None:
    # ``USER_TO_GROUP``, unrolled: a million users' window folds a million rows.
    a[B.G_CALLS] += row[B.U_CALLS]
    a[B.G_ERRORS] += row[B.U_ERRORS]
    a[B.G_429] += row[B.U_429]
    a[B.G_IN] += row[B.U_IN]
    a[B.G_OUT] += row[B.U_OUT]
    a[B.G_CR] += row[B.U_CR]
    a[B.G_CW5] += row[B.U_CW5]
    a[B.G_CW1] += row[B.U_CW1]
    if cost < 0:
        _unpriced(a, model, row[B.U_CALLS])
    else:
        a[A_COST] += cost


if USER_TO_GROUP != ((0, 0), (1, 1), (2, 2), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8)) or (
    B.U_COST != 8 or len(B.new_user_row()) != 9
):  # pragma: no cover - a developer's mistake, caught at import
    raise AssertionError("fold_user_rows unpacks a user row and adds it slot by slot: revisit it")


def fold_user_rows(
    rows: Iterable[tuple[Key, Row]],
    accs: dict[str, list[Any]],
    total: list[Any],
    name_i: int,
    model_i: int,
    price: Callable[[Key, Row], int],
) -> None:
    """``acc_user`` of every row into its group's accumulator (named by ``key[name_i]``) and
    into ``total``, inlined: the total's sums kept in locals and added once. ``price`` gives
    the cost of a row whose kept cost is None (and keeps it in the row).

    A per-user window folds a row per (user, feature, model) and day, a hundred thousand for
    a week of 5,000 users: two calls of ``acc_user`` per row were most of the query's time.
    Integer sums, so the same numbers in any order.
    """
    calls = errors = limited = inp = out = cr = cw5 = cw1 = cost_sum = 0
    get = accs.get
    for key, row in rows:
        c, e, r, i, o, x, y, z, cost = row
        if cost is None:
            cost = price(key, row)
        name = key[name_i]
        a = get(name)
        if a is None:
            a = accs[name] = new_acc()
        a[0] += c
        a[1] += e
        a[2] += r
        a[4] += i
        a[5] += o
        a[6] += x
        a[7] += y
        a[8] += z
        calls += c
        errors += e
        limited += r
        inp += i
        out += o
        cr += x
        cw5 += y
        cw1 += z
        if cost < 0:
            _unpriced(a, key[model_i], c)
            _unpriced(total, key[model_i], c)
        else:
            a[A_COST] += cost
            cost_sum += cost
    total[0] += calls
    total[1] += errors
    total[2] += limited
    total[4] += inp
    total[5] += out
    total[6] += cr
    total[7] += cw5
    total[8] += cw1
    total[A_COST] += cost_sum


def unacc_group(a: list[Any], row: Row, cost: int, model: str) -> None:
    """Take a row back out of an accumulator (a rolling window's start moved past it)."""
    for i in range(B.G_NUMERIC):
        a[i] -= row[i]
    subtract(a[A_HIST], row[B.G_HIST])
    if row[B.G_ERRTYPES]:
        subtract(a[A_ERRT], row[B.G_ERRTYPES])
    if cost < 0:
        a[A_UNPRICED] -= row[B.G_CALLS]
        subtract(a[A_UNPRICED_MODELS], {model: row[B.G_CALLS]})
    else:
        a[A_COST] -= cost


def unacc_counts(a: list[Any], row: Row, cost: int, model: str) -> None:
    """``unacc_group`` but the latency histogram (``acc_counts``)."""
    for i in range(B.G_NUMERIC):
        a[i] -= row[i]
    if row[B.G_ERRTYPES]:
        subtract(a[A_ERRT], row[B.G_ERRTYPES])
    if cost < 0:
        a[A_UNPRICED] -= row[B.G_CALLS]
        subtract(a[A_UNPRICED_MODELS], {model: row[B.G_CALLS]})
    else:
        a[A_COST] -= cost


def unacc_user(a: list[Any], row: Row, cost: int, model: str) -> None:
    for u, g in USER_TO_GROUP:
        a[g] -= row[u]
    if cost < 0:
        a[A_UNPRICED] -= row[B.U_CALLS]
        subtract(a[A_UNPRICED_MODELS], {model: row[B.U_CALLS]})
    else:
        a[A_COST] -= cost


def subtract(acc: dict[Any, int], other: dict[Any, int]) -> None:
    for k, v in other.items():
        n = acc.get(k, 0) - v
        if n:
            acc[k] = n
        else:
            acc.pop(k, None)


def group_stats(
    name: str, a: list[Any] | None, b: list[Any] | None, with_latency: bool = True
) -> GroupStats:
    """One group's numbers from its cached accumulator, its tail accumulator, or both.

    Both histograms are shared, not copied: a cached merge's is copied on write when the cache
    changes after this snapshot is taken, possibly on another thread
    (``window_cache._add_groups``), and a tail's is never changed once built. The two merge
    only if a percentile is asked for.
    """
    if a is None or b is None:
        one = a if a is not None else b
        assert one is not None
        nums = one[: B.G_NUMERIC]
        hist = one[A_HIST] or {}
        hists = [hist]
        errt = dict(one[A_ERRT] or {})
        cost, unpriced, models = one[A_COST], one[A_UNPRICED], one[A_UNPRICED_MODELS] or {}
    else:
        nums = [x + y for x, y in zip(a[: B.G_NUMERIC], b[: B.G_NUMERIC], strict=True)]
        hists = [a[A_HIST] or {}, b[A_HIST] or {}]
        errt = dict(a[A_ERRT] or {})
        merge_into(errt, b[A_ERRT] or {})
        cost = a[A_COST] + b[A_COST]
        unpriced = a[A_UNPRICED] + b[A_UNPRICED]
        models = (a[A_UNPRICED_MODELS] or {}).keys() | (b[A_UNPRICED_MODELS] or {}).keys()
    return GroupStats(
        name=name,
        calls=nums[B.G_CALLS],
        errors=nums[B.G_ERRORS],
        rate_limited=nums[B.G_429],
        overloaded=nums[B.G_529],
        errors_by_type=errt,
        input_tokens=nums[B.G_IN],
        output_tokens=nums[B.G_OUT],
        cache_read_tokens=nums[B.G_CR],
        cache_write_5m_tokens=nums[B.G_CW5],
        cache_write_1h_tokens=nums[B.G_CW1],
        latency_sum_ms=nums[B.G_LATSUM],
        latency_clamped=nums[B.G_CLAMPED],
        max_tokens_stops=nums[B.G_MAXTOK],
        no_user_calls=nums[B.G_NOUSER],
        cost_usd=cost / COST_UNITS,
        unpriced_calls=unpriced,
        unpriced_models=tuple(sorted(m for m in models if m)),
        latency=LatencyHistogram(parts=hists) if with_latency else None,
    )


def add_groups(accs: dict[str, list[Any]], total: list[Any], part: dict[str, list[Any]]) -> None:
    """Add a fold's new groups (``part``, not used after) to a cached merge's groups and total.

    A cached merge's histograms are copied on write, never changed in place (here and in
    ``window_cache.WindowCache._slide``), so ``group_stats`` hands them out as they are: a
    query's snapshot used to copy every group's (9 MiB over 500 features), whether or not the
    cache changed after it."""
    th = total[A_HIST]
    total_h = None if th is None else dict(th)
    for name, acc in part.items():
        add_acc(total, acc)
        h = acc[A_HIST]
        if h:
            if total_h is None:
                total_h = dict(h)
            else:
                merge_into(total_h, h)
        mine = accs.get(name)
        if mine is None:
            accs[name] = acc
            continue
        add_acc(mine, acc)
        if h:
            mh = mine[A_HIST]
            if mh:
                mh = dict(mh)
                merge_into(mh, h)
                mine[A_HIST] = mh
            else:
                mine[A_HIST] = h
    total[A_HIST] = total_h


def add_acc(total: list[Any], acc: list[Any]) -> None:
    """Add one group's accumulator to another's, all but the latency histogram (a tail's total
    in ``window_cache``, ``add_groups``)."""
    for i in range(B.G_NUMERIC):
        total[i] += acc[i]
    if acc[A_ERRT]:
        if total[A_ERRT] is None:
            total[A_ERRT] = {}
        merge_into(total[A_ERRT], acc[A_ERRT])
    total[A_COST] += acc[A_COST]
    total[A_UNPRICED] += acc[A_UNPRICED]
    if acc[A_UNPRICED_MODELS]:
        if total[A_UNPRICED_MODELS] is None:
            total[A_UNPRICED_MODELS] = {}
        merge_into(total[A_UNPRICED_MODELS], acc[A_UNPRICED_MODELS])
