"""The engine's side stores in the state: streamed calls (TTFT, output rate), the app's own
cost, and server tool use.

Each is a tiered store of its own beside the group rows (``engine.streaming``,
``engine.app_cost``, ``engine.server_tools``), with the group rows' tiers and compaction, and
rows that only calls with a ``ttft_ms``, a ``cost_usd`` or server tool requests create. They are saved the way group rows are (``state.save``): a
row whose call count moved is written whole, a bucket the engine moved to a coarser tier is
deleted and its destination rewritten, a bucket left in the file by a command's horizon is
merged in from the file before the engine's own rows for it are written. What differs between
them is said once, in a ``Side``: the table, its columns, and how a row goes to SQL and back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from sys import intern
from typing import Any

from msgspec import Struct

from claude_top.engine import app_cost, server_tools, streaming
from claude_top.engine import store as B
from claude_top.engine.engine import Engine
from claude_top.state.changes import changed_buckets
from claude_top.state.db import StateError
from claude_top.state.hdr import Codec
from claude_top.state.schema import (
    APP_COST_INTS,
    APP_COST_KEYS,
    APP_COST_VALUES,
    REALS,
    STREAM_INTS,
    STREAM_KEYS,
    STREAM_VALUES,
    TOOL_KEYS,
    TOOL_VALUES,
)

Key = tuple[Any, ...]
BucketId = tuple[int, int]
"""(width, start)."""


class Side(Struct, frozen=True):
    """One side store's table: ``keys`` after (start, width), then ``values``."""

    table: str
    attr: str
    """The store's attribute on the engine's ``Aggregates``."""
    keys: tuple[str, ...]
    values: tuple[str, ...]
    ints: tuple[str, ...]
    """Columns that must hold whole numbers (the rest of ``values`` are numbers or blobs)."""
    count: int
    """The row slot counting calls: an unchanged count is an unchanged row."""
    copy: Callable[[B.Row], B.Row]
    """A copy of a row that later ingest does not change (taken under the engine's lock)."""
    to_sql: Callable[[B.Row, Codec], tuple[Any, ...]]
    from_sql: Callable[[tuple[Any, ...], Codec], B.Row]

    def store(self, engine: Engine) -> B.TieredStore:
        store: B.TieredStore = getattr(engine.agg, self.attr)
        return store


def _hdr(h: dict[int, int], codec: Codec) -> bytes | None:
    return codec.encode(h) if h else None


def _unhdr(blob: bytes | None, codec: Codec) -> dict[int, int]:
    return codec.decode(blob) if blob is not None else {}


def _stream_copy(r: B.Row) -> B.Row:
    return [r[0], dict(r[1]), dict(r[2]), r[3]]


def _stream_to_sql(r: B.Row, codec: Codec) -> tuple[Any, ...]:
    return (
        r[streaming.S_STREAMS],
        r[streaming.S_TPS_CALLS],
        _hdr(r[streaming.S_TTFT], codec),
        _hdr(r[streaming.S_TPS], codec),
    )


def _stream_from_sql(v: tuple[Any, ...], codec: Codec) -> B.Row:
    row = streaming.new_stream_row()
    row[streaming.S_STREAMS] = v[0]
    row[streaming.S_TPS_CALLS] = v[1]
    row[streaming.S_TTFT] = _unhdr(v[2], codec)
    row[streaming.S_TPS] = _unhdr(v[3], codec)
    return row


def _as_tuple(r: B.Row, codec: Codec) -> tuple[Any, ...]:
    return tuple(r)


def _as_row(v: tuple[Any, ...], codec: Codec) -> B.Row:
    return list(v)


STREAMS = Side(
    table="streams",
    attr="streams",
    keys=STREAM_KEYS,
    values=STREAM_VALUES,
    ints=STREAM_INTS,
    count=streaming.S_STREAMS,
    copy=_stream_copy,
    to_sql=_stream_to_sql,
    from_sql=_stream_from_sql,
)
APP_COSTS = Side(
    table="app_costs",
    attr="app_costs",
    keys=APP_COST_KEYS,
    values=APP_COST_VALUES,
    ints=APP_COST_INTS,
    count=app_cost.A_CALLS,
    copy=list,
    to_sql=_as_tuple,
    from_sql=_as_row,
)
SERVER_TOOLS = Side(
    table="server_tools",
    attr="tools",
    keys=TOOL_KEYS,
    values=TOOL_VALUES,
    ints=TOOL_VALUES,
    count=server_tools.T_CALLS,
    copy=list,
    to_sql=_as_tuple,
    from_sql=_as_row,
)
SIDES = (STREAMS, APP_COSTS, SERVER_TOOLS)


def _kind(column: str) -> str:
    return "REAL" if column in REALS else "BLOB"


def rows(
    conn: sqlite3.Connection, side: Side, codec: Codec, where: str, args: tuple[Any, ...]
) -> Iterator[tuple[int, int, Key, B.Row]]:
    """(width, start, key, engine row) of the rows ``where`` selects."""
    cols = ", ".join(("start", "width", *side.keys, *side.values))
    nk = len(side.keys)
    from_sql = side.from_sql
    for r in conn.execute(f"SELECT {cols} FROM {side.table} WHERE {where}", args):
        key = tuple(intern(x) if type(x) is str else x for x in r[2 : 2 + nk])
        yield r[1], r[0], key, from_sql(r[2 + nk :], codec)


def load(
    conn: sqlite3.Connection,
    engine: Engine,
    side: Side,
    codec: Codec,
    loaded: tuple[str, tuple[int, ...]],
) -> tuple[int, set[BucketId]]:
    """The rows of the buckets ``loaded`` selects (``state.load.loaded``: its SQL condition
    and arguments) into the engine's store; (rows, buckets left)."""
    store = side.store(engine)
    tiers = {t.width: t for t in store.tiers}
    n = 0
    where, args = loaded
    for width, start, key, row in rows(conn, side, codec, where, args):
        tier = tiers.get(width)
        if tier is None:
            raise StateError(
                f"a {side.table} bucket {width} s wide, which this version does not keep"
            )
        bucket = tier.buckets.get(start)
        if bucket is None:
            bucket = tier.buckets[start] = {}
        bucket[key] = row
        n += 1
    _check_types(conn, side, where, args)
    left = conn.execute(f"SELECT DISTINCT width, start FROM {side.table} WHERE NOT {where}", args)
    return n, {(int(w), int(s)) for w, s in left}


def _check_types(conn: sqlite3.Connection, side: Side, where: str, args: tuple[int, ...]) -> None:
    ints = ("start", "width", *(k for k in side.keys if k == "variant"), *side.ints)
    texts = tuple(k for k in side.keys if k != "variant")
    nums = tuple(v for v in side.values if _kind(v) == "REAL")
    cond = " OR ".join(
        [f"typeof({c}) <> 'integer'" for c in ints]
        + [f"typeof({c}) <> 'text'" for c in texts]
        + [f"typeof({c}) NOT IN ('real', 'integer')" for c in nums]
    )
    q = f"SELECT count(*) FROM {side.table} WHERE {where} AND ({cond})"
    bad = conn.execute(q, args).fetchone()[0]
    if bad:
        raise StateError(f"{bad} rows of {side.table} hold a value of the wrong type")


class SideWriter:
    """What changed in one side store since the last capture, and writing it."""

    def __init__(self, side: Side, engine: Engine, conn: sqlite3.Connection, codec: Codec) -> None:
        self.side = side
        self.store = side.store(engine)
        self.conn = conn
        self.codec = codec
        self.known: dict[BucketId, tuple[B.Bucket, dict[Key, int]]] = {}
        self.mark = (-1, -1)
        self.pending: dict[BucketId, dict[Key, B.Row]] = {}
        self.dropped: set[BucketId] = set()
        self.unloaded: set[BucketId] = set()
        """Buckets in the file but not in memory (before the command's horizon)."""
        cols = ", ".join(("start", "width", *side.keys, *side.values))
        marks = ", ".join("?" * (2 + len(side.keys) + len(side.values)))
        self._insert = f"INSERT OR REPLACE INTO {side.table} ({cols}) VALUES ({marks})"

    def adopt(self) -> None:
        """What the store holds now is what the file holds (call under the engine's lock)."""
        count = self.side.count
        for tier in self.store.tiers:
            for start, bucket in tier.buckets.items():
                self.known[(tier.width, start)] = (bucket, {k: r[count] for k, r in bucket.items()})
        self.mark = (self.store.version, self.store.seq)

    def capture(self) -> None:
        """Copy the rows that changed (under the engine's lock; no SQL but a bucket's fetch)."""
        store = self.store
        count, copy = self.side.count, self.side.copy
        walk = changed_buckets(store, self.mark, self.known, self.unloaded, self._drop, self._fetch)
        for k, bucket, calls in walk:
            out = None
            for key, row in bucket.items():
                n = row[count]
                if calls.get(key) != n:
                    calls[key] = n
                    if out is None:
                        out = self.pending.setdefault(k, {})
                    out[key] = copy(row)
        self.mark = (store.version, store.seq)

    def _drop(self, k: BucketId) -> None:
        self.pending.pop(k, None)
        self.dropped.add(k)

    def _fetch(self, k: BucketId, bucket: B.Bucket) -> None:
        """Merge the file's rows of a bucket not loaded into the engine's new one."""
        self.unloaded.discard(k)
        width, start = k
        merge = self.store.merge_row
        where = "start = ? AND width = ?"
        for _w, _s, key, row in rows(self.conn, self.side, self.codec, where, (start, width)):
            mine = bucket.get(key)
            if mine is None:
                bucket[key] = row
            else:
                merge(mine, row)

    def take(self) -> tuple[set[BucketId], dict[BucketId, dict[Key, B.Row]]]:
        """The captured changes, handed to ``write`` (kept back by ``restore`` if it fails)."""
        taken = self.dropped, self.pending
        self.dropped, self.pending = set(), {}
        return taken

    def restore(self, taken: tuple[set[BucketId], dict[BucketId, dict[Key, B.Row]]]) -> None:
        """Changes ``write`` did not commit, under those captured since (which are newer)."""
        dropped, pending = taken
        for k, got in pending.items():
            if k in self.dropped:
                continue  # moved since: its rows now are all in ``self.pending``
            newer = self.pending.setdefault(k, {})
            for key, row in got.items():
                newer.setdefault(key, row)
        self.dropped |= dropped

    def write(self, taken: tuple[set[BucketId], dict[BucketId, dict[Key, B.Row]]]) -> int:
        """The changes into the open transaction; returns the rows written."""
        conn, table, to_sql, codec = self.conn, self.side.table, self.side.to_sql, self.codec
        dropped, pending = taken
        for width, start in dropped:
            conn.execute(f"DELETE FROM {table} WHERE start = ? AND width = ?", (start, width))
        out = [
            (start, width, *key, *to_sql(row, codec))
            for (width, start), got in pending.items()
            for key, row in got.items()
        ]
        conn.executemany(self._insert, out)
        return len(out)

    def prune(self, cutoff: int) -> None:
        self.conn.execute(f"DELETE FROM {self.side.table} WHERE start < ? AND width > 0", (cutoff,))
