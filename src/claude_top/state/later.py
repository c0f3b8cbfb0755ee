"""What a warm start of the TUI (or ``serve``) reads after its first screen rather than before.

Two parts of a state are most of a warm load and are not on the first screen: the users'
archive sums (about 150,000 older day rows summed into 50,000 on the benchmark's 8-day log;
only the "all" window's per-user numbers read them) and the latency histograms of the buckets
before today and the last 25 hours (decoding HDR is most of loading a row, and the first
screen's older numbers are costs, which need no histogram; until these are added, a p95 over
the "all" window or an older date counts only the newer buckets'). So the TUI loads the rest,
draws, reaches "following", and then a thread adds these.

They must be the state as it was loaded, not as it is later: the session's writer commits late
calls for old days while it runs, and those calls are in the engine already. A second
connection opens its read transaction during the load (the process holds the writer's lock, so
nothing commits in between) and WAL keeps that snapshot for it, whatever the writer commits
afterwards. A histogram the writer read from the file meanwhile (it does, before it writes a row
whose histogram it lacks: ``Writer.hist_done``) is not added twice.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from claude_top.engine import store as B
from claude_top.engine.engine import Engine
from claude_top.state.db import Say, StateError
from claude_top.state.hdr import Codec
from claude_top.state.load import archive_rows, day_rows, fill_archive, fill_rows
from claude_top.state.save import Writer
from claude_top.state.schema import LATENCY

Key = tuple[Any, ...]


class LaterLoad:
    """A snapshot of one state, for the parts a warm start adds after its first screen."""

    def __init__(
        self,
        path: str,
        users_before: int | None,
        hists: tuple[int, int] | None,
        days: tuple[int, int] | None = None,
    ) -> None:
        self.users_before = users_before
        """User days before this are summed into the archive (None: not deferred)."""
        self.days = days
        """Day rows of the days in [from, before), added as day rows (None: not deferred)."""
        self.day_rows = 0
        self.hists = hists
        """Latency histograms of buckets starting in [from, before) (None: not deferred)."""
        self.rows = 0
        self.histograms = 0
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("BEGIN")
        self._conn.execute("SELECT count(*) FROM meta").fetchone()  # the snapshot starts here

    def start(
        self,
        engine: Engine,
        writer: Writer | None,
        say: Say,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        """Add them from a thread, once ``wait(timeout)`` is true (the follower's
        ``wait_history``: drawing and reading the new lines come first)."""

        def run() -> None:
            try:
                while wait is not None and not wait(0.2):
                    if self._stop.is_set():
                        return  # stopped before the history was read: nothing to add
                self._add(engine, writer)
            except (sqlite3.Error, StateError, ValueError, TypeError) as e:
                say(f"state: its older rows cannot be read ({e}); the 'all' window's per-user "
                    "numbers and older p95s lack them")  # fmt: skip
            finally:
                self._close()
                self.done.set()

        self._thread = threading.Thread(target=run, name="claude-top-state-later", daemon=True)
        self._thread.start()

    def run_now(self, engine: Engine, writer: Writer | None) -> None:
        """The same, in this thread (tests)."""
        try:
            self._add(engine, writer)
        finally:
            self._close()
            self.done.set()

    def _add(self, engine: Engine, writer: Writer | None) -> None:
        if self.hists is not None and writer is not None:
            self.histograms = self._add_histograms(engine, writer, *self.hists)
        if self.days is not None:
            self.day_rows = self._add_days(engine, writer, *self.days)
        if self.users_before is not None:
            self.rows = fill_archive(engine, archive_rows(self._conn, self.users_before))

    def _add_days(self, engine: Engine, writer: Writer | None, frm: int, before: int) -> int:
        """Build the rows without the engine's lock, then add them to its day tier under it,
        telling the writer they are in the file (``Writer.loaded_days``)."""
        got: dict[int, B.Bucket] = {}
        n = fill_rows(got, day_rows(self._conn, frm, before))
        store = engine.agg.users
        day_tier = store.tiers[0]
        with engine.lock:
            for day, rows in got.items():
                bucket = day_tier.buckets.get(day)
                if bucket is None:
                    bucket = day_tier.buckets[day] = {}
                if writer is not None:
                    writer.loaded_days(day, bucket, rows)
                store.merge_bucket(bucket, rows)
                store.note(day)
            store.flush()
            store.version += 1  # merged windows start over
            engine.agg.running = None  # today's running sums are built again if asked
            engine.version += 1
        return n

    def _add_histograms(self, engine: Engine, writer: Writer, frm: int, before: int) -> int:
        """Decode without the engine's lock, then merge each bucket's histograms into its rows
        under it, unless the writer has read them itself."""
        codec = Codec()
        got: dict[tuple[int, int], list[tuple[Key, dict[int, int]]]] = {}
        q = (
            "SELECT start, width, feature, model, variant, hdr FROM histograms "
            "WHERE kind = ? AND start >= ? AND start < ?"
        )
        for start, width, feature, model, variant, hdr in self._conn.execute(
            q, (LATENCY, frm, before)
        ):
            got.setdefault((width, start), []).append(
                ((feature, model, variant), codec.decode(hdr))
            )
        tiers = {t.width: t for t in engine.agg.groups.tiers}
        n = 0
        with engine.lock:
            for k, rows in got.items():
                tier = tiers.get(k[0])
                bucket = tier.buckets.get(k[1]) if tier is not None else None
                if k in writer.hist_done or bucket is None:
                    continue  # read by the writer already (a moved bucket was, before it moved)
                for key, h in rows:
                    row = bucket.get(key)
                    if row is not None:
                        B.add_hist(row, h)
                        n += 1
                writer.hist_done.add(k)
            engine.agg.groups.version += 1  # merged windows start over
            engine.version += 1
        return n

    def _close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Wait for the thread (a few queries); close the snapshot if it never ran."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            self._close()
