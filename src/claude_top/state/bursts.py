"""The rate-limit tracker's 429 bursts in the state file: the ``bursts`` table, beside ``rates``.

A burst outlives the tracker's seconds on purpose (``engine.headroom.bursts``): who drove the
minute before a 429 is known only while that minute is in the tracker, so a process that
resumes from a state and reads only the new lines would show none of the bursts before them,
and would open a new burst for a 429 that a read of the whole log counts into the open one.
So the state keeps what the tracker's ``BurstLog`` holds: the newest ``BURSTS_KEPT`` bursts in
order (``seq`` 0, 1, ... oldest first), which of them is the open one of its class (``open``),
and an open burst that newer ones of other classes pushed out of the kept (negative ``seq``),
which a later 429 of its class still extends.

At most a hundred rows and a few more: a commit that finds a burst opened or extended since
the last one (told by the bursts' identities: a ``Burst`` is frozen and replaced when it
grows) rewrites the table whole, in the commit's transaction, as ``rates`` writes the seconds
(``RateWriter`` calls this module). Bursts name a model class and their drivers count ITPM
tokens, so they are loaded only with the seconds, when ``meta.headroom_layout`` is the
tracker's, and replaced whole by the first commit otherwise. The hourly prune drops bursts
whose newest 429 is older than the retention, as the buckets are.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec
from msgspec import Struct

from claude_top.engine.headroom import Burst, Headroom, Share
from claude_top.state.db import StateError

_SELECT = (
    "SELECT seq, class, start, last_429, count, features, users, drivers, partial, open "
    "FROM bursts ORDER BY seq"
)
_INSERT = "INSERT INTO bursts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_NULLABLE = (str, type(None))
_TYPES: tuple[type | tuple[type, ...], ...] = (
    int, str, float, float, int, str, _NULLABLE, _NULLABLE, int, int
)  # fmt: skip
_features = msgspec.json.Decoder(tuple[tuple[str, int], ...])
_shares = msgspec.json.Decoder(tuple[Share, ...] | None)
_encode = msgspec.json.encode


def load(conn: sqlite3.Connection, h: Headroom) -> None:
    """The file's bursts into a tracker that holds none yet (``rates.load``, same layout)."""
    kept: list[Burst] = []
    opened: dict[str, Burst] = {}
    try:
        for r in conn.execute(_SELECT).fetchall():
            if not all(isinstance(v, t) for v, t in zip(r, _TYPES, strict=True)):
                raise StateError("a burst row that is not a 429 burst")
            seq, cls, start, last, count, feats, users, drivers, partial, is_open = r
            b = Burst(
                cls,
                start,
                last,
                count,
                _features.decode(feats),
                None if users is None else _shares.decode(users),
                None if drivers is None else _shares.decode(drivers),
                bool(partial),
            )
            if seq >= 0:
                kept.append(b)
            if is_open:
                if cls in opened:
                    raise StateError("two open bursts of one model class")
                opened[cls] = b
            elif seq < 0:
                raise StateError("a burst row neither kept nor open")
    except msgspec.DecodeError as e:
        raise StateError(f"a burst row that is not a 429 burst ({e})") from None
    h.burst_log.restore(kept, opened)


class Taken(Struct, frozen=True):
    """The bursts as one commit found them (under the engine's lock)."""

    kept: list[Burst]
    opened: dict[str, Burst]
    write: bool
    """They moved since the last commit (or the file's are another layout's): rewrite."""


def _rows(t: Taken, before: float) -> list[tuple[Any, ...]]:
    seqs = {id(b): i for i, b in enumerate(t.kept)}
    is_open = {id(b) for b in t.opened.values()}
    out: list[tuple[Any, ...]] = []
    evicted = -1
    for b in [*t.kept, *(b for b in t.opened.values() if id(b) not in seqs)]:
        if b.end < before:
            continue
        seq = seqs.get(id(b))
        if seq is None:
            seq, evicted = evicted, evicted - 1
        out.append(
            (
                seq,
                b.model_class,
                b.start,
                b.end,
                b.count,
                _encode(b.features).decode(),
                None if b.users is None else _encode(b.users).decode(),
                None if b.drivers is None else _encode(b.drivers).decode(),
                int(b.partial),
                int(id(b) in is_open),
            )
        )
    return out


class BurstWriter:
    """Rewrites the ``bursts`` table when the tracker's bursts moved since the last commit."""

    def __init__(self, h: Headroom) -> None:
        self.h = h
        self._saved: Taken | None = None
        """What the file holds, as the bursts' objects (None: replace whatever it holds)."""
        self._pruned_before = float("-inf")

    def adopt(self, whole: bool) -> None:
        """What the tracker holds now is in the file (just loaded), unless ``whole``."""
        self._saved = None if whole else self._now(False)

    def _now(self, write: bool) -> Taken:
        log = self.h.burst_log
        return Taken(list(log.kept), log.opened(), write)

    def take(self) -> Taken:
        t = self._now(True)
        s = self._saved
        same = (
            s is not None
            and len(s.kept) == len(t.kept)
            and all(a is b for a, b in zip(s.kept, t.kept, strict=True))
            and s.opened.keys() == t.opened.keys()
            and all(s.opened[c] is b for c, b in t.opened.items())
        )
        return Taken(t.kept, t.opened, not same)

    def write(self, conn: sqlite3.Connection, t: Taken) -> int:
        """In the commit's transaction; returns the rows written."""
        if not t.write:
            return 0
        rows = _rows(t, self._pruned_before)
        conn.execute("DELETE FROM bursts")
        conn.executemany(_INSERT, rows)
        return len(rows)

    def done(self, t: Taken) -> None:
        """The commit of ``t`` went through."""
        self._saved = t

    def prune(self, conn: sqlite3.Connection, before: float) -> None:
        """Drop bursts whose newest 429 is before ``before`` (the retention), here and in every
        rewrite from now on."""
        self._pruned_before = max(self._pruned_before, before)
        conn.execute("DELETE FROM bursts WHERE last_429 < ?", (before,))
