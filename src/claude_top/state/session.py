"""One command's use of a state: open it, load it into the engine, read what is new, commit.

The commands call this module and nothing below it: ``open_session`` finds the file (by default
one per source spec under ``$XDG_STATE_HOME/claude-top/``), takes the writer's lock, loads it
into a fresh engine and hands back the positions to resume from; ``read_new`` is the one-shot
read of ``summary`` and ``check``; ``settle`` is the follower's hook for the TUI (commits at
most every ``COMMIT_EVERY_S``). Whatever goes wrong with the state is one line through ``say``
and never stops the command: a state that cannot be loaded is set aside and rebuilt, one that
cannot be written is given up for the rest of the run.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable

from msgspec.structs import replace

from claude_top.core import gcpause
from claude_top.core.digest import blake2b_hex
from claude_top.core.stats import LineStats
from claude_top.engine.engine import Engine
from claude_top.sources.paths import expand
from claude_top.sources.resume import Position, Positions, ResumedRead
from claude_top.state import side
from claude_top.state.db import Handle, Say, StateError, open_state
from claude_top.state.later import LaterLoad
from claude_top.state.load import Horizon, load_all, newest_call
from claude_top.state.older import FileRows
from claude_top.state.save import Writer

DEFAULT_RETENTION_DAYS = 35.0
COMMIT_EVERY_S = 5.0
"""How often a live session commits: at most this much reading is redone after a crash."""
_NAME_CHARS = r"[^A-Za-z0-9._-]+"
"""Replaced in a default file name (compiled on first use: ``--state FILE`` needs none)."""


def state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "claude-top")


def state_name(specs: list[str]) -> str:
    """A file name for a source spec: readable, safe (no ``/``, no dot files, no control
    characters, bounded length) and unique (a hash of the exact absolute spec)."""
    parts = ["-" if s == "-" else os.path.abspath(s) for s in specs]
    digest = blake2b_hex("\0".join(parts).encode("utf-8", "surrogateescape"), 4)
    readable = re.sub(_NAME_CHARS, "_", "+".join(p.strip("/") or "stdin" for p in parts))
    readable = readable.strip("._-")[-60:].lstrip("._-") or "logs"
    return f"{readable}-{digest}.db"


def default_path(specs: list[str]) -> str:
    return os.path.join(state_dir(), state_name(specs))


class Session:
    """An open state bound to one engine."""

    def __init__(self, handle: Handle, engine: Engine, retention_days: float, say: Say) -> None:
        self.handle = handle
        self.engine = engine
        self.say = say
        self.positions = Positions()
        self.loaded_rows = 0
        self.retention_days = retention_days
        self.writer: Writer | None = None
        self.later: LaterLoad | None = None
        """What is still to add after the first screen (``Horizon.later``): ``start_later``."""
        self.older_before: float | None = None
        """Group buckets before this were not loaded, to be summed from the file once the
        read is committed (``Horizon.older_before``, ``older``)."""
        if handle.writable:
            self.writer = Writer(handle.conn, engine, retention_days)
        self._last_commit = time.monotonic()

    @property
    def path(self) -> str:
        return self.handle.path

    def load(self, horizon: Horizon) -> None:
        """The state into the (empty) engine; on a bad state, say so and start from nothing."""
        unloaded: set[tuple[int, int]] = set()
        side_unloaded: dict[str, set[tuple[int, int]]] = {}
        rates_whole = True
        if horizon.later and (self.handle.created or not self.handle.writable):
            # nothing to add, or another process writing: its later commits would not be in a
            # snapshot taken now (and no writer of ours reads histograms back), so all now
            horizon = replace(horizon, later=False, hists_from=None)
        if horizon.older_before is not None:
            if self._costs_current() and not self.handle.created:
                horizon = replace(
                    horizon,
                    groups_from=horizon.older_before,
                    events=False,
                    fine_before=horizon.fine_before if self._minutes_move() else None,
                )
                self.older_before = horizon.older_before
            else:  # costs at another price table, or not ours to write: load what it needs
                horizon = replace(horizon, older_before=None, fine_before=None)
        if self._costs_current():
            horizon = replace(horizon, costs=True)
        if not self.handle.created:
            try:
                if horizon.hists_for is not None:
                    horizon = replace(
                        horizon, hists_from=horizon.hists_for(newest_call(self.handle.conn))
                    )
                if horizon.user_days_kept and horizon.user_days_from is not None:
                    horizon = self._kept_days(horizon)
                if horizon.later:
                    self.later = _later(self.path, horizon)
                loaded = load_all(self.handle.conn, self.engine, horizon)
                self.positions = Positions(loaded.positions)
                self.loaded_rows = loaded.rows
                unloaded = loaded.unloaded
                side_unloaded = loaded.side_unloaded
                rates_whole = loaded.rates_whole
            except (StateError, sqlite3.Error) as e:
                if self.later is not None:
                    self.later.stop()
                    self.later = None
                _clear(self.engine)
                self.older_before = None
                self._rebuild(str(e))
        if self.writer is not None:
            self.writer.adopt()
            self.writer.rates.adopt(rates_whole)
            self.writer.unloaded = unloaded
            for sw in self.writer.sides:
                sw.unloaded = side_unloaded.get(sw.side.table, set())
            self.writer.hists_from = horizon.hists_from
            self.writer.events_loaded = horizon.events or self.handle.created
            self.engine.before_compact = self.writer.before_compact

    def _costs_current(self) -> bool:
        """Whether this process writes the file and its costs are at the engine's prices."""
        w = self.writer
        return w is not None and w.priced_at == self.engine.prices.digest()

    def _minutes_move(self) -> bool:
        """Whether the compaction after this read will move the file's oldest minutes up a
        tier (then they are loaded, ``Horizon.fine_before``; else they stay in the file)."""
        store = self.engine.agg.groups
        q = "SELECT min(start), CAST(value AS REAL) FROM calls, meta "
        q += "WHERE width = ? AND key = 'newest_ts'"
        oldest, newest = self.handle.conn.execute(q, (store.tiers[0].width,)).fetchone()
        if oldest is None:
            return False
        ref = self.engine.clock.now()  # as ``Engine.compact`` takes it, before the new lines
        return store.moves(oldest, ref if newest is None else min(ref, newest))

    def older(self) -> FileRows | None:
        """The file's sums of the buckets not loaded (``Horizon.older_before``), once what was
        read is committed; None if they cannot be trusted (nothing committed, the state given
        up): then the caller must answer from the logs."""
        w = self.writer
        if self.older_before is None or w is None or not w.commits or not self._costs_current():
            return None
        return FileRows(self.handle.conn, self.older_before)

    def fill_hours(self, before: float) -> None:
        """Sum the file's whole hours before ``before`` (``state.older``) once what was read
        is committed, for the next ``check`` (this one read them from the logs or loaded
        them)."""
        w = self.writer
        if w is None or not w.commits or not self._costs_current():
            return
        try:
            FileRows(self.handle.conn, before).fill_all()
        except StateError as e:
            self.say(f"state {self.path}: {e}")

    def _rebuild(self, why: str) -> None:
        """Set the unreadable file aside and start a fresh one (the logs are read again)."""
        h = self.handle
        h.close()
        aside = h.path + ".unusable"
        try:
            os.replace(h.path, aside)
            for tail in ("-wal", "-shm"):
                if os.path.exists(h.path + tail):
                    os.replace(h.path + tail, aside + tail)
        except OSError:
            pass
        self.say(f"state {h.path}: {why}; moved to {aside}, rebuilding from the logs")
        fresh = open_state(h.path, self._tz(), self.say)
        if fresh is None:
            self.writer = None
            return
        self.handle = fresh
        self.positions = Positions()
        self.writer = None
        if fresh.writable:
            self.writer = Writer(fresh.conn, self.engine, self.retention_days)

    def _tz(self) -> str:
        return str(self.engine.tz)

    def commit(self, positions: list[Position]) -> None:
        """Write what changed with ``positions``; a failure gives the state up for this run."""
        if self.writer is None:
            return
        try:
            self.writer.commit(positions)
        except StateError as e:
            self.say(f"state {self.path}: {e}; no longer saving it")
            self.engine.before_compact = None
            self.writer = None
        self._last_commit = time.monotonic()

    def _kept_days(self, horizon: Horizon) -> Horizon:
        """``horizon`` with its earliest day rows from the day tier's ``kept_from`` at the ref
        the engine compacts against once the state is in (the state's newest call or now)."""
        ref = self.engine.compaction_ref(newest_call(self.handle.conn))
        kept = self.engine.agg.users.kept_from(ref)
        if horizon.later and horizon.user_days_later_from is not None:
            return replace(horizon, user_days_later_from=kept)
        return replace(horizon, user_days_from=kept)

    def settle(self, positions: list[Position], now: bool) -> None:
        """The follower's hook: commit now, or when ``COMMIT_EVERY_S`` has passed."""
        if now or time.monotonic() - self._last_commit >= COMMIT_EVERY_S:
            self.commit(positions)

    def start_later(self, wait: Callable[[float], bool] | None = None) -> None:
        """Add what the load left for later from a thread, once ``wait(timeout)`` is true."""
        if self.later is not None:
            self.later.start(self.engine, self.writer, self.say, wait)

    def close(self) -> None:
        if self.later is not None:
            self.later.stop()
        self.engine.before_compact = None
        self.handle.close()


def _later(path: str, horizon: Horizon) -> LaterLoad:
    users = None if horizon.user_days_from is None else int(horizon.user_days_from)
    days = None
    if users is not None and horizon.user_days_later_from is not None:
        days = (int(horizon.user_days_later_from), users)
        users = days[0]  # the archive sums the days before those
    hists = None
    if horizon.hists_from is not None:
        frm = -(2**62) if horizon.groups_from is None else int(horizon.groups_from)
        hists = (frm, int(horizon.hists_from))
    if not horizon.users:
        users = days = None
    return LaterLoad(path, users, hists, days)


def _clear(engine: Engine) -> None:
    """Forget a half-loaded state: the engine as it was built."""
    agg = engine.agg
    for store in (agg.groups, agg.users, *(sd.store(engine) for sd in side.SIDES)):
        for tier in store.tiers:
            tier.buckets.clear()
        store.version += 1
    agg.lines = LineStats()
    agg.newest_ts = agg.oldest_ts = None
    agg.out_of_window = 0
    agg.rate_limit_events.clear()
    agg.recent_errors.clear()
    agg.running = None
    engine.headroom.forget()


def open_session(
    path: str,
    engine: Engine,
    say: Say,
    *,
    retention_days: float = DEFAULT_RETENTION_DAYS,
    horizon: Horizon | None = None,
) -> Session | None:
    """Open and load the state at ``path`` into ``engine`` (which must be empty and unbounded:
    no ``since``/``until``, users tracked); None when no state can be used at all."""
    handle = open_state(path, str(engine.tz), say)
    if handle is None:
        return None
    session = Session(handle, engine, retention_days, say)
    session.load(horizon or Horizon())
    return session


def keep_user_days(engine: Engine) -> None:
    """Keep per-user rows by day however old (``summary --by user`` of any day from a state),
    instead of folding days older than two into one archive bucket."""
    engine.agg.users.tiers[0].keep = float("inf")


def read_new(engine: Engine, specs: list[str], session: Session) -> None:
    """The one-shot read with a state: each input from its known position to its end, then one
    commit of the counts with the positions."""
    paths = expand(specs)
    done: list[Position] = []
    with gcpause.loading():  # long-lived rows, no cycles
        for path in paths:
            reading = ResumedRead(path, session.positions, engine.count_overlong)
            for batch in reading.batches():
                engine.ingest(batch)
            if reading.position is not None:
                done.append(reading.position)
        engine.compact()
    session.commit(done)
    for p in done:  # a second read in this process goes on from here
        session.positions.add(p)
