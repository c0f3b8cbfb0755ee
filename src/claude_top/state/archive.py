"""The users' archive sums of a state, read after the start rather than before it.

A warm start of the TUI spends most of its load summing the ``users`` table's older days into
the engine's one archive bucket (about 150,000 day rows into 50,000 sums on the benchmark's
8-day log), which only the "all" window's per-user numbers read. So the TUI loads everything
else, draws, reaches "following", and then adds these sums from a thread of their own.

The sums must be those of the state as it was loaded, not as it is later: the session's writer
adds late calls for old days to ``users`` while it runs, and those calls are in the engine's
day buckets already. A second connection opens its read transaction during the load (the
process holds the writer's lock, so nothing commits in between) and WAL keeps that snapshot
for it, whatever the writer commits afterwards.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable

from claude_top.engine.engine import Engine
from claude_top.state.db import Say, StateError
from claude_top.state.load import archive_rows, fill_archive


class LaterArchive:
    """A snapshot of one state's ``users`` before a day, summed into an engine later."""

    def __init__(self, path: str, before: int) -> None:
        self.before = before
        self.rows = 0
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("BEGIN")
        self._conn.execute("SELECT count(*) FROM meta").fetchone()  # the snapshot starts here

    def start(self, engine: Engine, say: Say, wait: Callable[[float], bool] | None = None) -> None:
        """Sum and add the archive from a thread, once ``wait(timeout)`` is true (the follower's
        ``wait_history``: drawing and reading the new lines come first)."""

        def run() -> None:
            try:
                while wait is not None and not wait(0.2):
                    if self._stop.is_set():
                        return  # stopped before the history was read: nothing to add
                self.rows = fill_archive(engine, archive_rows(self._conn, self.before))
            except (sqlite3.Error, StateError, ValueError, TypeError) as e:
                say(f"state: the users' archive cannot be read ({e}); per-user numbers of the "
                    "'all' window lack the days it holds")  # fmt: skip
            finally:
                self._close()
                self.done.set()

        self._thread = threading.Thread(target=run, name="claude-top-state-archive", daemon=True)
        self._thread.start()

    def run_now(self, engine: Engine) -> None:
        """The same, in this thread (tests, and a caller with nothing to draw first)."""
        try:
            self.rows = fill_archive(engine, archive_rows(self._conn, self.before))
        finally:
            self._close()
            self.done.set()

    def _close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Wait for the thread (it reads one query's rows); close the snapshot if it never ran."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            self._close()
