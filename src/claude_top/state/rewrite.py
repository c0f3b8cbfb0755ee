"""What a commit rewrites whole rather than by difference: the line health, the events and the
read positions. Each is small (a few counts, at most a few thousand events, one row per file),
so writing it all is cheaper than tracking what changed; ``state.save`` calls these inside its
one transaction. And once per change of price table, every ``calls`` row's cost; and for a
command that left the events in the file, the new ones added to them.
"""

from __future__ import annotations

import sqlite3
import time

import orjson

from claude_top.core.record import Record
from claude_top.core.stats import LineStats
from claude_top.engine.accumulate import ERRORS_KEPT_PER_FEATURE, EVENTS_KEPT
from claude_top.engine.pricing import PriceTable
from claude_top.engine.window_cache import GROUPS_BY_FEATURE, row_units
from claude_top.sources.fingerprint import Fingerprint
from claude_top.sources.resume import Position
from claude_top.state.schema import CALL_COUNTERS

_ALL_CALLS = f"SELECT start, width, feature, model, variant, {', '.join(CALL_COUNTERS)} FROM calls"
_REPRICE = (
    "UPDATE calls SET cost = ? "
    "WHERE start = ? AND width = ? AND feature = ? AND model = ? AND variant = ?"
)


def forget_hours(
    conn: sqlite3.Connection, starts: set[int] | None, before: int | None = None
) -> None:
    """The hour sums (``schema.HOURS_DDL``) of the hours holding buckets ``starts``, or of
    every hour from before ``before`` (None, None: all): their rows changed."""
    if starts is None:
        where, args = ("", ()) if before is None else (" WHERE hour < ?", (before,))
        conn.execute(f"DELETE FROM hours{where}", args)
        conn.execute(f"DELETE FROM hour_sums{where}", args)
        return
    hours = [(h,) for h in {s - s % 3600 for s in starts}]
    conn.executemany("DELETE FROM hours WHERE hour = ?", hours)
    conn.executemany("DELETE FROM hour_sums WHERE hour = ?", hours)


def costs(conn: sqlite3.Connection, prices: PriceTable) -> None:
    """Every ``calls`` row's cost at ``prices``: the file's were computed with another table
    (a changed ``[prices]``, a new price list, or none: an upgraded file). Rows written after
    it in the same commit are priced as they are written."""
    n = len(CALL_COUNTERS)
    out = []
    for r in conn.execute(_ALL_CALLS).fetchall():
        key = (r[2], r[3], r[4])
        out.append((row_units(prices, GROUPS_BY_FEATURE, r[0], key, list(r[5 : 5 + n])), *r[:5]))
    conn.executemany(_REPRICE, out)
    forget_hours(conn, None)


def line_health(conn: sqlite3.Connection, lines: LineStats) -> None:
    """The line counts and the latest rejected lines."""
    conn.execute("DELETE FROM line_health")
    rows = [
        ("records", lines.records),
        ("foreign", lines.foreign),
        ("rejected", lines.rejected),
    ]
    rows += [(f"rejected:{r}", n) for r, n in lines.by_reason.items()]
    conn.executemany("INSERT INTO line_health (what, n) VALUES (?, ?)", rows)
    conn.execute("DELETE FROM rejected_examples")
    conn.executemany(
        "INSERT INTO rejected_examples (seq, source, lineno, reason, line) VALUES (?, ?, ?, ?, ?)",
        [(i, *ex) for i, ex in enumerate(lines.examples)],
    )


def events(
    conn: sqlite3.Connection, limited: list[Record], errors: dict[str, list[Record]]
) -> None:
    """The recent 429s and each feature's recent errors, as JSON records."""
    conn.execute("DELETE FROM events")
    rows = [("429", i, orjson.dumps(list(r)).decode()) for i, r in enumerate(limited)]
    for feature, recs in errors.items():
        rows += [
            (f"error:{feature}", i, orjson.dumps(list(r)).decode()) for i, r in enumerate(recs)
        ]
    conn.executemany("INSERT INTO events (kind, seq, record) VALUES (?, ?, ?)", rows)


def add_events(
    conn: sqlite3.Connection,
    limited: list[Record],
    errors: dict[str, list[Record]],
    written: dict[str, Record],
) -> dict[str, Record]:
    """The events that came after ``written`` (per kind, the last one already in the file),
    added to the file's, which keeps the newest as the engine's queues would: for a command
    that did not load them (``Horizon.events``). Returns the new last ones per kind."""
    last: dict[str, Record] = {}
    kinds = [("429", limited, EVENTS_KEPT)]
    kinds += [(f"error:{f}", recs, ERRORS_KEPT_PER_FEATURE) for f, recs in errors.items()]
    for kind, recs, keep in kinds:
        if not recs:
            continue
        last[kind] = recs[-1]
        new, prev = recs, written.get(kind)
        for i in range(len(recs) - 1, -1, -1):
            if recs[i] is prev:
                new = recs[i + 1 :]
                break
        if not new:
            continue
        q = "SELECT coalesce(max(seq), -1) FROM events WHERE kind = ?"
        top = conn.execute(q, (kind,)).fetchone()[0] + len(new)
        rows = [(kind, top - j, orjson.dumps(list(r)).decode()) for j, r in enumerate(new[::-1])]
        conn.executemany("INSERT INTO events (kind, seq, record) VALUES (?, ?, ?)", rows)
        conn.execute("DELETE FROM events WHERE kind = ? AND seq <= ?", (kind, top - keep))
    return last


def positions(conn: sqlite3.Connection, positions: list[Position]) -> None:
    """How far each file's lines are counted, one row per file."""
    now = time.time()
    for p in positions:
        if not p.head:
            continue
        # A young file's earlier, shorter start names the same file: one row per file.
        conn.execute(
            "DELETE FROM sources WHERE path = ? AND head <> ? "
            "AND substr(?, 1, length(head)) = head",
            (p.path, p.head, p.head),
        )
        conn.execute(
            "INSERT OR REPLACE INTO sources (head, digest, path, offset, lineno, seen) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (p.head, Fingerprint(p.head).digest, p.path, p.offset, p.lineno, now),
        )
