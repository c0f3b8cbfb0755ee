"""A state file into an engine: its buckets, users, line health, events, read positions and the
rate-limit tracker's last minutes (``state.rates``).

The engine's tiered stores (its side stores' too: ``state.side``) are filled exactly as they
stood when the state was written: group rows in the tier of their width, with their latency
histograms decoded from HDR, and per-user day rows in the day tier. User days before ``user_days_from`` are summed by SQLite into the
one archive bucket the engine keeps for them (that sum is what the engine would hold), so a
warm start builds one Python row per user and key, not one per user, key and day.
Anything unexpected in the file (a width the engine does not have, a broken histogram, a value
of the wrong type) is a ``StateError``: the caller sets the file aside and rebuilds.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from sys import intern
from typing import Any

import orjson
from msgspec import Struct

from claude_top.core.record import Record
from claude_top.engine import store as B
from claude_top.engine.accumulate import ERRORS_KEPT_PER_FEATURE
from claude_top.engine.engine import Engine
from claude_top.sources.resume import Position
from claude_top.state import rates, side
from claude_top.state.db import StateError
from claude_top.state.hdr import Codec, HdrError
from claude_top.state.schema import CALL_COUNTERS, LATENCY, USER_COUNTERS

Key = tuple[Any, ...]
_N_CALL = len(CALL_COUNTERS)
if (_N_CALL, B.G_HIST, B.G_ERRTYPES, B.G_COST) != (B.G_NUMERIC, 13, 14, 15) or len(
    B.new_group_row()
) != 16:  # pragma: no cover - a developer's mistake, caught at import
    raise AssertionError("group_rows builds a group row slot by slot: revisit it")
_N_USER = len(USER_COUNTERS)


def _calls_query(hists_from: float | None, costs: bool = False) -> str:
    cols = ", ".join(f"c.{n}" for n in CALL_COUNTERS)
    since = "" if hists_from is None else f"AND c.start >= {int(hists_from)} "
    cost = ", c.cost" if costs else ""
    return (
        f"SELECT c.start, c.width, c.feature, c.model, c.variant, {cols}, c.errors_by_type, h.hdr"
        f"{cost} "
        "FROM calls c LEFT JOIN histograms h ON h.start = c.start AND h.width = c.width "
        "AND h.feature = c.feature AND h.model = c.model AND h.variant = c.variant "
        f"AND h.kind = '{LATENCY}' {since}"
    )


def group_rows(
    conn: sqlite3.Connection,
    codec: Codec,
    where: str,
    args: tuple[Any, ...],
    hists_from: float | None = None,
    costs: bool = False,
) -> Iterator[tuple[int, int, Key, B.Row]]:
    """(width, start, key, engine row) of the ``calls`` rows ``where`` selects; latency
    histograms of buckets before ``hists_from`` are left empty (decoding is most of a load).
    With ``costs`` (the file's costs are at the engine's prices), each row keeps the cost the
    file holds for it, which is the one the folds would compute (``window_cache.row_units``),
    so the first folds price no row."""
    decode, loads = codec.decode, orjson.loads
    end, cost_i = 5 + _N_CALL, 7 + _N_CALL
    for r in conn.execute(f"{_calls_query(hists_from, costs)} WHERE {where}", args):
        types, hdr = r[end], r[end + 1]
        cost = r[cost_i] if costs else None
        # The row of ``store.new_group_row``, built in one go (a load builds ~30,000).
        row = [
            *r[5:end],
            {} if hdr is None else decode(hdr),
            loads(types) if types else None,
            cost if type(cost) is int else None,
        ]
        yield r[1], r[0], (intern(r[2]), intern(r[3]), r[4]), row


def loaded(horizon: Horizon, fine_width: int, prefix: str = "") -> tuple[str, tuple[int, ...]]:
    """The SQL condition (and its arguments) of the bucket rows a horizon loads: from
    ``groups_from`` on, and the fine tier's before ``fine_before``."""
    frm = -(2**62) if horizon.groups_from is None else int(horizon.groups_from)
    if horizon.fine_before is None:
        return f"{prefix}start >= ?", (frm,)
    cond = f"({prefix}start >= ? OR ({prefix}width = ? AND {prefix}start < ?))"
    return cond, (frm, fine_width, int(horizon.fine_before))


def load_groups(
    conn: sqlite3.Connection, engine: Engine, codec: Codec, horizon: Horizon
) -> tuple[int, set[tuple[int, int]]]:
    """The ``calls`` rows of buckets the horizon loads (``loaded``) into the group store;
    returns how many, and the (width, start) of the buckets left in the file."""
    tiers = {t.width: t for t in engine.agg.groups.tiers}
    fine = engine.agg.groups.tiers[0].width
    n = 0
    where, args = loaded(horizon, fine, "c.")
    rows = group_rows(conn, codec, where, args, horizon.hists_from, horizon.costs)
    for width, start, key, row in rows:
        tier = tiers.get(width)
        if tier is None:
            raise StateError(f"a bucket {width} s wide, which this version does not keep")
        bucket = tier.buckets.get(start)
        if bucket is None:
            bucket = tier.buckets[start] = {}
        bucket[key] = row
        n += 1
    where, args = loaded(horizon, fine)
    _check_types(conn, "calls", where, args)
    left = conn.execute(f"SELECT DISTINCT width, start FROM calls WHERE NOT {where}", args)
    return n, {(int(w), int(s)) for w, s in left}


def load_users(
    conn: sqlite3.Connection, engine: Engine, user_days_from: float | None, archive_too: bool = True
) -> int:
    """Day rows from ``user_days_from`` on into the day tier, earlier days summed into the
    archive bucket; returns the rows built. (Users are written as deltas, so a command that
    shows no user need not load them: ``Loaded.users`` False.)"""
    store = engine.agg.users
    day_tier = next(t for t in store.tiers if t.width == B.DAY)
    archive = next((t for t in store.tiers if t.width == B.ARCHIVE), None)
    cols = ", ".join(USER_COUNTERS)
    frm = -(2**62) if user_days_from is None else int(user_days_from)
    n = fill_rows(
        day_tier.buckets,
        conn.execute(
            f"SELECT day, user, feature, model, variant, {cols} FROM users WHERE day >= ?", (frm,)
        ),
    )
    if user_days_from is not None and archive is not None and archive_too:
        n += fill_rows(archive.buckets, archive_rows(conn, frm))
    return n


def archive_rows(conn: sqlite3.Connection, before: int) -> Iterable[Any]:
    """The day rows before ``before`` summed per key: the engine's archive bucket of them."""
    sums = ", ".join(f"sum({c})" for c in USER_COUNTERS)
    return conn.execute(
        f"SELECT 0, user, feature, model, variant, {sums} FROM users WHERE day < ? "
        "GROUP BY user, feature, model, variant",
        (before,),
    )


def day_rows(conn: sqlite3.Connection, frm: int, before: int) -> Iterable[Any]:
    """The day rows of the days in [frm, before), as ``load_users`` reads them."""
    cols = ", ".join(USER_COUNTERS)
    return conn.execute(
        f"SELECT day, user, feature, model, variant, {cols} FROM users WHERE day >= ? AND day < ?",
        (frm, before),
    )


def fill_archive(engine: Engine, rows: Iterable[Any]) -> int:
    """Add archive sums read apart (``Horizon.later``) to the engine's archive bucket,
    which may hold days compacted since the load: the sums are added, not set."""
    got: dict[int, B.Bucket] = {}
    n = fill_rows(got, rows)  # the rows are built without the engine's lock
    store = engine.agg.users
    archive = next(t for t in store.tiers if t.width == B.ARCHIVE)
    with engine.lock:
        for start, bucket in got.items():
            store.merge_bucket(archive.buckets.setdefault(start, {}), bucket)
        store.version += 1  # merged windows start over
        engine.version += 1
    return n


_USER_TYPES = (int, str, str, str, int) + (int,) * _N_USER
"""What a ``users`` row (or an archive sum of them) holds: SQLite's ``sum`` of anything but
whole numbers is a real, so one look at each row's types catches a damaged or foreign value
in the rows summed too, without a second scan of the table."""


def fill_rows(buckets: dict[int, B.Bucket], rows: Iterable[Any]) -> int:
    """User rows (day or archive sums) into ``buckets`` by day, their types checked."""
    tail = [None] * (len(B.new_user_row()) - B.U_NUMERIC)  # the slots past the counters
    expected = _USER_TYPES
    n = 0
    day = bucket = None
    for r in rows:
        if tuple(map(type, r)) != expected:
            raise StateError("a users row that holds a value that is not a whole number or a name")
        if r[0] != day:
            day = r[0]
            bucket = buckets.get(day)
            if bucket is None:
                bucket = buckets[day] = {}
        row = list(r[5:])
        row += tail
        bucket[(intern(r[1]), intern(r[2]), intern(r[3]), r[4])] = row  # type: ignore[index]
        n += 1
    return n


def _check_types(conn: sqlite3.Connection, table: str, where: str, args: tuple[Any, ...]) -> None:
    """Every counter a whole number and every name text, checked by SQLite in one scan (a
    foreign or damaged file may hold anything; a string among counters would fail a view)."""
    texts = ("feature", "model")
    ints = ("start", "width", "variant", *CALL_COUNTERS)
    cond = " OR ".join(
        [f"typeof({c}) <> 'integer'" for c in ints] + [f"typeof({c}) <> 'text'" for c in texts]
    )
    q = f"SELECT count(*) FROM {table} WHERE ({where}) AND ({cond})"
    bad = conn.execute(q, args).fetchone()[0]
    if bad:
        raise StateError(f"{bad} rows of {table} hold a value that is not a whole number or a name")


def load_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta"))


def newest_call(conn: sqlite3.Connection) -> float | None:
    """When the newest call the state holds was made (None: none, or not a time)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'newest_ts'").fetchone()
    try:
        return None if row is None else float(row[0])
    except (TypeError, ValueError):
        return None  # the load says what is wrong with the file


def load_lines(conn: sqlite3.Connection, engine: Engine) -> None:
    lines = engine.agg.lines
    for what, n in conn.execute("SELECT what, n FROM line_health"):
        if type(n) is not int or type(what) is not str:
            raise StateError("a line count that is not a whole number")
        if what == "records":
            lines.records = n
        elif what == "foreign":
            lines.foreign = n
        elif what == "rejected":
            lines.rejected = n
        elif what.startswith("rejected:"):
            lines.by_reason[what[len("rejected:") :]] = n
    q = "SELECT source, lineno, reason, line FROM rejected_examples ORDER BY seq"
    lines.examples.extend((str(s), int(n), str(r), str(t)) for s, n, r, t in conn.execute(q))


def load_events(conn: sqlite3.Connection, engine: Engine) -> None:
    agg = engine.agg
    rows = conn.execute("SELECT kind, record FROM events ORDER BY kind, seq")
    for kind, text in rows:
        rec = _record(orjson.loads(text))
        if kind == "429":
            agg.rate_limit_events.append(rec)
        elif kind.startswith("error:"):
            feature = kind[len("error:") :]
            q = agg.recent_errors.get(feature)
            if q is None:
                q = agg.recent_errors[feature] = deque(maxlen=ERRORS_KEPT_PER_FEATURE)
            q.append(rec)


_REQUIRED = len(Record._fields) - len(Record._field_defaults)


def _record(v: Any) -> Record:
    """A record from its JSON array, its types checked as the reader would have made them. An
    array shorter than a record now (written before ``Record`` gained optional slots) is the
    same record with those slots at their defaults."""
    ok = (
        isinstance(v, list)
        and _REQUIRED <= len(v) <= len(Record._fields)
        and type(v[0]) in (int, float)
        and all(type(x) is str for x in v[1:5])
        and all(type(x) is int for x in v[5:11])
        and all(x is None or type(x) is str for x in (v[11], v[12]))
        and (v[13] is None or type(v[13]) is int)
    )
    if not ok:
        raise StateError("an event that is not a call record")
    return Record(*v)


def load_positions(conn: sqlite3.Connection) -> list[Position]:
    rows = conn.execute("SELECT path, head, offset, lineno FROM sources")
    return [Position(str(p), bytes(h), int(o), int(n)) for p, h, o, n in rows]


class Horizon(Struct, frozen=True):
    """How much of a state a command needs in memory (None: all of it)."""

    groups_from: float | None = None
    """Buckets starting earlier stay in the file (loaded by the writer if they get new calls)."""
    users: bool = True
    user_days_from: float | None = None
    """Day rows from this day on; earlier ones summed into the archive bucket."""
    user_days_later_from: float | None = None
    """With ``later``: the day rows from this day up to ``user_days_from`` are added after the
    first screen, as day rows (the TUI's: yesterday's, which its first screen does not show),
    and the archive sums the days before this one."""
    user_days_kept: bool = False
    """Day rows are loaded by day (first, or with ``later`` from ``user_days_later_from``)
    back to the first day the users' day tier keeps at the engine's compaction ref, and only
    earlier ones summed into the archive: the live path's, so its per-user windows that start
    before yesterday hold a cold read's days (``TieredStore.kept_from``)."""
    hists_from: float | None = None
    """Latency histograms of earlier buckets stay in the file (``check``: only its p95 rule
    reads them, over minutes); the writer reads them back before it writes such a row."""
    hists_for: Callable[[float | None], float | None] | None = None
    """``hists_from`` as a function of the newest call the state holds (None: none), asked
    before the load: the TUI's first screen reads the histograms of its window back from now,
    or from that call when the log is old (a replay)."""
    costs: bool = False
    """Rows keep the costs the file holds (set by ``Session`` when they are at the engine's
    prices): no fold prices them again."""
    later: bool = False
    """The archive sums of user days before ``user_days_from`` and the histograms before
    ``hists_from`` are added after the first screen (``state.later``), not read back by the
    writer when needed (``check``)."""
    older_before: float | None = None
    """``check``: the group buckets before this may instead be summed from the file once the
    read is committed (``state.older``), when the file's costs are at the engine's prices and
    this process writes the file; then only those from it on are loaded (with the side
    stores'), and ``groups_from`` is what to load otherwise."""
    events: bool = True
    """The recent 429s and errors (``check`` reads neither: new ones are added to the file's)."""
    fine_before: float | None = None
    """Fine-tier (minute) buckets before this are loaded too, wherever ``groups_from`` is: the
    compaction at the end of the read may move them up a tier, which needs them in memory."""


class Loaded(Struct, frozen=True):
    positions: list[Position]
    rows: int
    unloaded: set[tuple[int, int]]
    side_unloaded: dict[str, set[tuple[int, int]]]
    """Per side table (``state.side``), its buckets left in the file."""
    rates_whole: bool = True
    """The file's ``headroom`` rows are not what the tracker took: the first commit replaces
    them (``state.rates``)."""


def load_all(conn: sqlite3.Connection, engine: Engine, horizon: Horizon) -> Loaded:
    """The state into ``engine`` (in one read transaction), as far as ``horizon`` says."""
    try:
        conn.execute("BEGIN")
        try:
            meta = load_meta(conn)
            codec = Codec()
            n, unloaded = load_groups(conn, engine, codec, horizon)
            side_unloaded = {}
            where = loaded(horizon, engine.agg.groups.tiers[0].width)
            for sd in side.SIDES:
                got, side_unloaded[sd.table] = side.load(conn, engine, sd, codec, where)
                n += got
            if horizon.users:
                n += load_users(conn, engine, horizon.user_days_from, archive_too=not horizon.later)
            load_lines(conn, engine)
            if horizon.events:
                load_events(conn, engine)
            positions = load_positions(conn)
            rates_whole = rates.load(conn, engine.headroom, meta, engine.clock.now())
        finally:
            conn.execute("COMMIT")
        agg = engine.agg
        for key, attr in (("newest_ts", "newest_ts"), ("oldest_ts", "oldest_ts")):
            if key in meta:
                setattr(agg, attr, float(meta[key]))
        agg.out_of_window += int(meta.get("out_of_window", "0"))
        formats = orjson.loads(meta.get("formats", "{}"))
        if not isinstance(formats, dict) or not all(
            type(k) is str and type(v) is str for k, v in formats.items()
        ):
            raise StateError("a format table that is not names")
        for source, name in formats.items():  # each source's format, as it was decided
            agg.lines.formats.setdefault(source, name)
        agg.lines.format_detected |= meta.get("format_detected") == "1"
    except (
        sqlite3.Error,
        HdrError,
        ValueError,
        TypeError,
        IndexError,
        orjson.JSONDecodeError,
    ) as e:
        raise StateError(f"cannot be read ({e})") from None
    for store in (agg.groups, agg.users, *(sd.store(engine) for sd in side.SIDES)):
        store.version += 1
        for tier in store.tiers:
            for start in tier.buckets:
                store.note(start)
        store.flush()
    return Loaded(positions, n, unloaded, side_unloaded, rates_whole)
