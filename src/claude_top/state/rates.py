"""The rate-limit tracker's last minutes in the state file: ``headroom`` rows and two meta keys.

The tracker (``engine.headroom``) counts the last ``KEEP_S`` seconds one second at a time, and
a process that resumes from a state reads only the lines written since: without these rows a
warm ``check`` run more often than the ``headroom`` rule's window (or the TUI's panel just
after a restart) would count only the lines of this run, and fire later than a read of the
whole log. So each commit writes the seconds whose counts moved (with the positions, in the
same transaction) and drops those the clock has left behind; a load puts back the seconds
still within ``KEEP_S`` of the clock, and the newest limits and remaining values the
responses' headers carried.

The counts depend on how models map to classes and on whether cache reads count toward ITPM:
the file names the layout they were counted with (``meta.headroom_layout``); a tracker with
another layout loads none of them (it counts from its own lines on, as before there was a
state) and its first commit writes its own whole. The tracker's 429 bursts are kept beside the
seconds, under the same layout, in the same commits (``state.bursts``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
from msgspec import Struct

from claude_top.engine.headroom import FUTURE_S, KEEP_S, Headroom
from claude_top.state import bursts
from claude_top.state.db import StateError

LAYOUT_KEY = "headroom_layout"
HEADERS_KEY = "headroom_headers"
KINDS = frozenset(("class", "user", "feature", "model"))
_SELECT = (
    "SELECT second, kind, class, name, requests, itpm_tokens, otpm_tokens FROM headroom "
    "WHERE second >= ?"
)
_INSERT = "INSERT OR REPLACE INTO headroom VALUES (?, ?, ?, ?, ?, ?, ?)"
_TYPES = (int, str, str, str, int, int, int)


def layout(h: Headroom) -> str:
    """What the stored counts depend on besides the calls (``meta.headroom_layout``)."""
    c = h.config
    return orjson.dumps([c.itpm_counts_cache_reads, [list(p) for p in c.classes]]).decode()


def load(conn: sqlite3.Connection, h: Headroom, meta: dict[str, str], now: float) -> bool:
    """The file's seconds and header values into a tracker fed nothing yet; True when the
    file holds rows the tracker did not take (another layout, or seconds ahead of the
    clock), which the first commit then replaces with the tracker's own."""
    if meta.get(LAYOUT_KEY) != layout(h):
        return True
    rows = conn.execute(_SELECT, (int(now) - KEEP_S,)).fetchall()
    for r in rows:
        if tuple(map(type, r)) != _TYPES or r[1] not in KINDS:
            raise StateError("a headroom row that is not a second's counts")
    h.restore(rows, _headers(meta.get(HEADERS_KEY, "[]")), now)
    bursts.load(conn, h)
    return any(r[0] > now + FUTURE_S for r in rows)


def _headers(text: str) -> list[tuple[str, str, str, float, int]]:
    v = orjson.loads(text)
    ok = isinstance(v, list) and all(
        isinstance(x, list)
        and len(x) == 5
        and all(type(s) is str for s in x[:3])
        and x[2] in ("limit", "remaining")
        and type(x[3]) in (int, float)
        and type(x[4]) is int
        for x in v
    )
    if not ok:
        raise StateError("rate-limit header values that are not limits")
    return [(x[0], x[1], x[2], float(x[3]), x[4]) for x in v]


class Taken(Struct, frozen=True):
    """One commit's share of the tracker, taken under the engine's lock."""

    cutoff: int
    """Seconds before this are dropped from the file."""
    changed: list[int]
    rows: list[tuple[Any, ...]]
    counts: dict[int, int]
    whole: bool
    """The file's rows are replaced, not updated."""
    meta: dict[str, str]
    bursts: bursts.Taken


class RateWriter:
    """Writes the seconds whose call counts moved since the last commit."""

    def __init__(self, h: Headroom) -> None:
        self.h = h
        self._saved: dict[int, int] = {}
        self._whole = True
        self.bursts = bursts.BurstWriter(h)

    def adopt(self, whole: bool) -> None:
        """What the tracker holds now is in the file (just loaded), unless ``whole``."""
        self._saved = {} if whole else self.h.second_calls()
        self._whole = whole
        self.bursts.adopt(whole)

    def take(self, now: float) -> Taken:
        h = self.h
        counts = h.second_calls()
        cutoff = int(now) - KEEP_S
        saved, whole = self._saved, self._whole
        changed = [s for s, n in counts.items() if s >= cutoff and (whole or saved.get(s) != n)]
        rows = [(s, *r) for s in changed for r in h.second_rows(s)]
        meta = {
            LAYOUT_KEY: layout(h),
            HEADERS_KEY: orjson.dumps(h.header_values()).decode(),
        }
        return Taken(cutoff, changed, rows, counts, whole, meta, self.bursts.take())

    def write(self, conn: sqlite3.Connection, t: Taken) -> int:
        """In the commit's transaction; returns the rows written."""
        if t.whole:
            conn.execute("DELETE FROM headroom")
        else:
            conn.execute("DELETE FROM headroom WHERE second < ?", (t.cutoff,))
            conn.executemany("DELETE FROM headroom WHERE second = ?", [(s,) for s in t.changed])
        conn.executemany(_INSERT, t.rows)
        return len(t.rows) + self.bursts.write(conn, t.bursts)

    def done(self, t: Taken) -> None:
        """The commit of ``t`` went through."""
        self._saved = t.counts
        self._whole = False
        self.bursts.done(t.bursts)

    def prune(self, conn: sqlite3.Connection, before: float) -> None:
        """The hourly prune (``save.Writer``): bursts older than the retention."""
        self.bursts.prune(conn, before)
