"""The block path: the common lines of a block decoded and counted in one pass.

Most lines of a log are alike: a successful call with no rate-limit header, in the native
format, older than the headroom tracker's last minutes. For those, the per-line path builds a
record tuple (``ingest.fast.decode_batch``) that ``accumulate`` then takes apart again, testing
for errors, headers, bounds and the headroom tracker on each. Here such a line goes from its
``ingest.fast.Common`` struct straight into its row, with nothing tested that its shape
already rules out; every other line of the block takes the per-line path, each with its own
verdict (a bad line does not spoil its neighbours).

Which lines are common is decided per minute, before anything of that minute is counted: a
minute the headroom tracker still looks at, one a ``--since``/``--until`` bound cuts, or one of
today's running per-user totals sends its lines the per-line way. The block's other lines are
decoded after its common ones are counted and before their records are (so the reader counts
its verdicts in line order, as the per-line path does); counts commute, and nothing whose order
matters (the error and 429 lists, the headroom tracker) ever comes from a common line.

An engine without group rows (``track_groups``: a one-shot ``summary --by user``) counts a
common line into its user row alone; one asked about the whole read only (``whole_read``: a
one-shot ``summary``) into its UTC day's row.

``tests/property/test_differential.py`` compares the whole engine state this gives against the
reference reader's, on arbitrary blocks of mixed lines.
"""

from __future__ import annotations

from math import inf
from sys import intern
from typing import TYPE_CHECKING, Any

from claude_top.core.histogram import (
    BUCKET_TABLE,
    BUCKET_TABLE_LIMIT,
    HIGHEST_MS,
    LOWEST_MS,
    bucket_of,
    clamp,
)
from claude_top.engine import store as B
from claude_top.engine.accumulate import COARSE, MINUTE
from claude_top.engine.headroom import HORIZON_S
from claude_top.ingest import fast

if TYPE_CHECKING:
    from claude_top.engine.accumulate import Aggregates


def take_block(
    agg: Aggregates, lines: list[bytes], source: str, first_lineno: int, now: float
) -> None:
    """Count a block of raw lines of the native format (``first_lineno``: the first one's
    number), as ``accumulate(fast.decode_batch(lines, ...))`` would."""
    since, until, run = agg.since, agg.until, agg.running
    horizon = now - HORIZON_S
    gfine, ufine = agg.groups.fine, agg.users.fine
    gwidth, gsettled = agg.group_width, agg.groups.settled
    gkeys = agg.group_keys
    thresholds = agg.tier_thresholds
    track_users, track_groups = agg.track_users, agg.track_groups
    caching = agg.cache_costs  # without it no row ever holds a cost to forget
    decode = fast.decode_common
    minute_of = fast.common_minute
    secs, fractions, millis, micros = (
        fast.SECONDS_US, fast.FRACTIONS_US, fast.MILLIS_US, fast.MICROS_US)  # fmt: skip
    table, table_limit, lowest = BUCKET_TABLE, BUCKET_TABLE_LIMIT, LOWEST_MS
    new_group_row, new_user_row = agg.group_row, B.new_user_row
    g_calls, g_in, g_out, g_cr, g_cw5, g_cw1 = B.G_CALLS, B.G_IN, B.G_OUT, B.G_CR, B.G_CW5, B.G_CW1
    g_latsum, g_maxtok, g_hist, g_nouser, g_cost = (
        B.G_LATSUM, B.G_MAXTOK, B.G_HIST, B.G_NOUSER, B.G_COST)  # fmt: skip
    u_calls, u_in, u_out, u_cr, u_cw5, u_cw1 = B.U_CALLS, B.U_IN, B.U_OUT, B.U_CR, B.U_CW5, B.U_CW1
    u_cost = B.U_COST
    others: list[int] = []
    lo = hi = ""  # the minute of the last line: ``lo <= ts < hi`` means ``ts[:16] == lo``
    m = 0.0
    common = False  # whether the lines of that minute may be counted here
    newest = -inf  # microseconds: times of different shapes do not sort as strings
    oldest = inf
    minute = 0
    gbucket: B.Bucket | None = None  # made at the minute's first common line
    ubucket: B.Bucket = {}
    for i, line in enumerate(lines):
        try:
            c = decode(line if line[0] == 123 else line[line.find(b"{") :])
            ts = c.timestamp
            model = c.model
            thr = thresholds.get(model, -1)
            if thr is not None and thr == -1:
                thr = thresholds[model] = agg.prices.tier_threshold(model)
            if not lo <= ts < hi:
                lo = hi = ""
                m, end = minute_of(ts[:16])
                minute = int(m) // 1_000_000
                common = not (
                    minute + MINUTE > horizon
                    or (since is not None and minute < since)
                    or (until is not None and minute + MINUTE > until)
                    or (run is not None and minute < run.end and minute + MINUTE > run.start)
                )
                lo, hi = ts[:16], end
                gbucket = None
            if not common:
                raise LookupError
            us = fractions.get(ts[19:])
            if us is None:  # six digits, or a KeyError: a time of another shape
                us = millis[ts[19:23]] + micros[ts[23:]]
            us += m + secs[ts[16:19]]
        except Exception:  # not the common shape (or a bug here): the per-line path
            others.append(i)
            continue
        if gbucket is None:
            if track_groups:
                gq = minute - minute % gwidth  # the minute's own bucket, or its day's
                gbucket = gfine.get(gq)
                if gbucket is None:
                    gbucket = gfine[gq] = {}
                elif gq in gsettled:  # a late line, into a settled day (``whole_read``)
                    agg.groups.reopen(gq)
                agg.groups.note(gq)
            else:
                gbucket = {}  # only a sign that the minute's buckets are found
            day = agg.user_bucket_of(minute - minute % COARSE)
            ubucket = ufine.get(day)  # type: ignore[assignment]
            if ubucket is None:
                ubucket = ufine[day] = {}
            agg.users.note(day)
        if us > newest:
            newest = us
        if us < oldest:
            oldest = us
        inp, cr, cw5, cw1 = c.input_tokens, c.cached_tokens, c.cache_creation_tokens, (
            c.cache_creation_1h_tokens)  # fmt: skip
        variant = 2 if thr is not None and inp + cr + cw5 + cw1 > thr else 0
        out, user = c.output_tokens, c.user_id
        feature = c.feature
        if track_groups:
            key = (feature, model, variant)
            row = gbucket.get(key)
            if row is None:
                shared = gkeys.get(key)
                if shared is None:
                    shared = (intern(key[0]), intern(model), variant)
                    gkeys[shared] = shared
                key = shared
                row = gbucket[key] = new_group_row(key)
            lat = c.latency_ms
            row[g_calls] += 1
            row[g_in] += inp
            row[g_out] += out
            row[g_cr] += cr
            if cw5:  # cache writes are rare: most lines skip two list stores
                row[g_cw5] += cw5
            if cw1:
                row[g_cw1] += cw1
            row[g_latsum] += lat
            if c.stop_reason == "max_tokens":
                row[g_maxtok] += 1
            if lat < table_limit and lat >= lowest:
                hb = table[lat]
            elif LOWEST_MS <= lat <= HIGHEST_MS:
                hb = bucket_of(lat)
            else:
                row[B.G_CLAMPED] += 1
                hb = bucket_of(clamp(lat))
            h = row[g_hist]
            h[hb] = h.get(hb, 0) + 1
            if not user:
                row[g_nouser] += 1
            if caching:
                row[g_cost] = None
        if not track_users:
            continue
        ukey = (user, feature, model, variant)
        urow = ubucket.get(ukey)
        if urow is None:
            # Interned, as ``accumulate`` keys them: they may be this line's own strings.
            ukey = (intern(user), intern(feature), intern(model), variant)
            urow = ubucket[ukey] = new_user_row()
        urow[u_calls] += 1
        urow[u_in] += inp
        urow[u_out] += out
        urow[u_cr] += cr
        if cw5:
            urow[u_cw5] += cw5
        if cw1:
            urow[u_cw1] += cw1
        if caching:
            urow[u_cost] = None
    stats = agg.lines
    kept = len(lines) - len(others)
    stats.records += kept
    agg.since_compact += kept
    if kept:
        new, old = newest / 1e6, oldest / 1e6  # as ``ingest.fast.decode_batch`` computes
        if agg.newest_ts is None or new > agg.newest_ts:
            agg.newest_ts = new
        if agg.oldest_ts is None or old < agg.oldest_ts:
            agg.oldest_ts = old
    if others:
        records: list[Any] = []
        first = last = others[0]
        for i in [*others[1:], -1]:  # each run of consecutive lines in one call
            if i == last + 1:
                last = i
                continue
            records += fast.decode_batch(lines[first : last + 1], source, first_lineno + first,
                                         stats)  # fmt: skip
            first = last = i
        agg.accumulate(records, now)
