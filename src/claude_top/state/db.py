"""Opening a state file: one writer at a time, and a file that is not ours never trusted.

The file is SQLite in WAL mode: readers never block the writer, and a commit is atomic, so a
process killed at any moment leaves the last committed state (positions and counts together).
One process writes: it holds an exclusive ``flock`` on ``<file>.lock`` for as long as it runs. A
second process on the same file does not wait and does not write: it reads the last committed
state, reads the logs from those positions on, and says once that it is not saving.

A file that cannot be used -- not SQLite, damaged, another program's database, a newer schema, a
state written for another time zone -- is reported in one line, moved aside to
``<file>.unusable`` (never deleted: it may be someone's data) and the state rebuilt from the
logs. A problem found later, while loading or writing, is a ``StateError`` for the caller to
report the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable
from typing import IO

from msgspec import Struct

from claude_top.state.schema import APPLICATION_ID, DDL, MIGRATIONS, SCHEMA

__all__ = ["APPLICATION_ID", "SCHEMA", "Handle", "Say", "StateError", "open_state"]

BUSY_TIMEOUT_S = 5.0
Say = Callable[[str], None]


class StateError(Exception):
    """A state file that cannot be used; the text is one line for the user."""


class Handle(Struct):
    """An open state database; ``writable`` is False when another process holds the lock."""

    path: str
    conn: sqlite3.Connection
    writable: bool
    lock: IO[bytes] | None
    created: bool
    """Fresh (nothing to load)."""

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        if self.lock is not None:
            self.lock.close()  # releases the flock
            self.lock = None


def _take_lock(path: str) -> tuple[IO[bytes] | None, str]:
    """The writer's lock, or (None, who holds it)."""
    # Read-write, not append: the pid is written over the last holder's, then the file cut at
    # its end. Emptying it first costs up to a few milliseconds on ext4 (a file truncated to
    # nothing waits on the journal), at every start of a cron ``check``.
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    f = os.fdopen(fd, "r+b")  # held for the process's life
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read(40).decode("ascii", "replace").strip()
        f.close()
        return None, holder
    f.seek(0)
    f.write(f"{os.getpid()}\n".encode())
    f.truncate()
    f.flush()
    return f, ""


def _connect(path: str) -> sqlite3.Connection:
    # Autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE) by the writer.
    # Used from the follower thread after being opened on the main one.
    return sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )


def _problem(conn: sqlite3.Connection, tz: str, writable: bool, say: Say, path: str) -> str | None:
    """Why an existing file cannot be used as our state, or None (an empty file is fine; an
    older schema is upgraded by the writer, ``_upgrade``)."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id == 0 and version == 0 and tables == 0:
        return None
    if app_id != APPLICATION_ID:
        return "not a claude-top state (another program's SQLite database)"
    if version > SCHEMA:
        return f"written by a newer claude-top (schema {version}; this one reads {SCHEMA})"
    row = conn.execute("SELECT value FROM meta WHERE key = 'tz'").fetchone()
    if row is not None and row[0] != tz:
        return f"kept in time zone {row[0]}, not {tz} (days would not line up)"
    if version < SCHEMA:
        if not writable or any(v not in MIGRATIONS for v in range(version, SCHEMA)):
            return f"an older schema ({version}; this one reads {SCHEMA})"
        _upgrade(conn, version)
        lacking = " and ".join(m for v in range(version, SCHEMA) if (m := MIGRATIONS[v][1]))
        tail = f"; {lacking} of the lines read before count from now on" if lacking else ""
        say(f"state {path}: upgraded from schema {version} to {SCHEMA}{tail}")
    return None


def _upgrade(conn: sqlite3.Connection, version: int) -> None:
    """Schema ``version`` to ``SCHEMA`` in one transaction (all or nothing on a crash)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for v in range(version, SCHEMA):
            for stmt in MIGRATIONS[v][0].split(";"):
                if stmt.strip():
                    conn.execute(stmt)
        conn.execute(f"PRAGMA user_version = {SCHEMA}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _init(conn: sqlite3.Connection, tz: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    for stmt in DDL.split(";"):
        if stmt.strip():
            conn.execute(stmt)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA}")
    conn.execute("INSERT INTO meta VALUES ('tz', ?)", (tz,))
    conn.execute("COMMIT")


def _set_aside(path: str) -> str:
    aside = path + ".unusable"
    os.replace(path, aside)
    for tail in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(path + tail, aside + tail)
    return aside


def open_state(path: str, tz: str, say: Say) -> Handle | None:
    """The state at ``path`` (created if missing), or None when it cannot be had at all.

    ``say`` gets one line per problem: a file set aside, another process writing, a directory
    that cannot be created. Never raises for what is in the file."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        lock, holder = _take_lock(path)
    except OSError as e:
        say(f"state {path}: {e.strerror or e}; reading the logs without a state")
        return None
    writable = lock is not None
    if not writable:
        who = f" (pid {holder})" if holder.isdigit() else ""
        say(f"state {path}: another claude-top{who} is writing it; reading it, not saving")
    for attempt in (1, 2):
        existed = os.path.exists(path) and os.path.getsize(path) > 0
        conn: sqlite3.Connection | None = None
        try:
            conn = _connect(path)
            why = _problem(conn, tz, writable, say, path) if existed else None
            if why is None:
                if writable:
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.execute("PRAGMA synchronous = NORMAL")
                fresh = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
                if fresh and writable:
                    _init(conn, tz)
                elif fresh:
                    conn.close()
                    return None
                return Handle(path, conn, writable, lock, fresh)
        except sqlite3.Error as e:
            why = f"not a readable state ({e})"
        if conn is not None:
            conn.close()
        if not writable or attempt == 2:
            say(f"state {path}: {why}; reading the logs without a state")
            if lock is not None:
                lock.close()
            return None
        try:
            aside = _set_aside(path)
        except OSError as e:
            say(f"state {path}: {why}, and it cannot be moved aside ({e.strerror or e})")
            if lock is not None:
                lock.close()
            return None
        say(f"state {path}: {why}; moved to {aside}, rebuilding from the logs")
    return None  # pragma: no cover - the loop returns
