"""One followed name and whatever file currently answers to it: rotation, truncation, removal.

The subtle part of ``tail -F`` lives here, in one class per name, so the loop above it stays a
loop. Each look decides from stat/fstat and a fingerprint of the first bytes what happened:

* a new inode under the name: the old file is drained, then kept open ("retired") for
  ``rotate_wait`` seconds, since lines written just after a rename would otherwise be lost
  (GNU tail loses them); the new file is read from its start;
* the same inode, smaller than what we read, or a changed first 256 bytes: copytruncate or a
  rewrite in place, read again from 0;
* no file: "waiting", retried every poll; a missing directory is an error that heals.

A file can also be created and rotated away between two looks (rotation every 50 ms, or a
burst while the poll sleeps). Its lines are not lost: on each rotation the numbered siblings
(``app.log.1`` .. ``app.log.9``) written since we started and never read are read from their
start and drained like any rotated-away file.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import BinaryIO

from claude_top.sources.batches import READ_CHUNK, LineFramer
from claude_top.sources.fingerprint import HEAD_BYTES, Fingerprint, TsOf, pread
from claude_top.sources.follow.history import start_of
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.resume import Position, Positions

ROTATED_SHOWN_S = 2.0
"""How long a source shows state "rotated" before going back to "following"."""
READ_BUDGET = 64 << 20
"""Most bytes read from one file per pass, so one flooding file cannot starve the others."""
SIBLINGS = 9
"""How many numbered rotated files (``.1`` .. ``.9``) are searched for files we never saw."""
REMEMBERED = 256
"""How many files opened under a name are remembered, to tell a missed one from a read one."""


@dataclass(slots=True)
class _Retired:
    """A rotated-away or deleted file still drained through its handle until ``deadline``."""

    fh: BinaryIO
    framer: LineFramer
    fp: Fingerprint
    deadline: float


class LiveFile:
    """Reads one name's current file as it grows, and notices when the name changes hands."""

    def __init__(
        self,
        path: str,
        out: Outlet,
        *,
        max_line: int,
        rotate_wait: float,
        stop: threading.Event,
        wake: threading.Event,
        resume: Positions | None = None,
    ) -> None:
        self.path = path
        self._resume = resume
        self._finished: Position | None = None
        """Where a one-shot read (``finish``) ended."""
        self._out = out
        self._max_line = max_line
        self._rotate_wait = rotate_wait
        self._stop = stop
        self._wake = wake
        self.fh: BinaryIO | None = None
        self.framer: LineFramer | None = None
        self.ident: tuple[int, int] | None = None
        self.fp: Fingerprint | None = None
        self.reopened = False  # opened at least once: a later open is a reopen
        self.changed_at = 0.0
        self.retired: list[_Retired] = []
        self._heads: deque[Fingerprint] = deque(maxlen=REMEMBERED)
        """The first bytes of the files read under this name. Content, not the inode, tells a
        file we read from a new one: a deleted file's inode is handed to the next new file at
        once, and a copytruncate copy has a new inode but lines we already read."""
        self._started = time.time()

    # --- history -----------------------------------------------------------------------------

    def open_history(self, since: float | None, ts_of: TsOf | None) -> int:
        """Open the file at ``since``; returns the history bytes ahead (0 if it cannot open)."""
        try:
            self._open()
            assert self.fh is not None
            offset, lineno, size, late = start_of(
                self.fh, self.path, since, ts_of, self._max_line, self._resume
            )
        except FileNotFoundError:
            return 0  # "waiting"; the follow loop picks it up when it appears
        except OSError as e:
            if self.fh is None:
                self._out.set(self.path, "error", e.strerror or str(e))
            return 0  # the follow loop retries it
        self._out.deliver_batches(late)
        self.framer = LineFramer(self.path, self._max_line, lineno, offset)
        return max(0, size - offset)

    def finish(self) -> None:
        """One-shot mode: the file is finished; its last line counts without a newline."""
        assert self.framer is not None
        self.framer.finish()
        self._out.deliver(self.framer)
        self._out.set(self.path, "done", "", offset=self.framer.pos)
        if self.fp is not None and self.fp.head:
            self._finished = Position(self.path, self.fp.head, self.framer.pos, self.framer.lineno)
        self.close()

    def positions(self) -> list[Position]:
        """How far each file held under this name has been handed over (framed lines delivered
        first, so a state committing these positions holds exactly those lines)."""
        out: list[Position] = [self._finished] if self._finished is not None else []
        held = [(r.framer, r.fp) for r in self.retired]
        if self.framer is not None and self.fp is not None:
            held.append((self.framer, self.fp))
        for framer, fp in held:
            self._out.deliver(framer)
            if fp.head:
                out.append(Position(framer.source, fp.head, framer.pos, framer.lineno))
        return out

    def held(self) -> set[tuple[int, int]]:
        """(device, inode) of every file this name holds open, current and rotated away."""
        out = {(st.st_dev, st.st_ino) for st in (os.fstat(r.fh.fileno()) for r in self.retired)}
        if self.ident is not None:
            out.add(self.ident)
        return out

    def close(self) -> None:
        for r in self.retired:
            r.fh.close()
        self.retired.clear()
        if self.fh is not None:
            self.fh.close()
        self.fh = self.framer = self.fp = self.ident = None

    # --- following ---------------------------------------------------------------------------

    def check(self, now: float) -> None:
        """Decide from stat/fstat what happened to the name since the last look, then read."""
        out = self._out
        for r in list(self.retired):
            self._pump_retired(r, final=now >= r.deadline)
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            self._gone(now)
            return
        except OSError as e:
            out.set(self.path, "error", e.strerror or str(e))
            return
        if stat.S_ISDIR(st.st_mode):
            out.set(self.path, "error", "is a directory, not a log file")
            return
        message = ""
        was_open = self.reopened
        if self.fh is not None and (st.st_dev, st.st_ino) != self.ident:
            self.pump()  # rename rotation: finish the old file first, then the new from 0
            self._retire(now)
            message = "rotated; reading the new file from the start"
        elif self.fh is None and out.status_of(self.path).state == "waiting":
            message = "appeared; following new file"
        if self.fh is None:
            if was_open:
                self._adopt_missed(now)
            try:
                self._open()
            except OSError as e:
                out.set(self.path, "error", e.strerror or str(e))
                return
            self.changed_at = now
            out.set(self.path, "rotated" if was_open and message else "following", message)
        elif self.framer is not None and st.st_size < self.framer.read_pos:
            self._restart(now, "truncated, restarting at 0")
        if not self.pump():
            return
        cur = out.status_of(self.path)
        if cur.state not in ("following", "rotated") or (
            cur.message and now - self.changed_at > ROTATED_SHOWN_S
        ):
            out.set(self.path, "following", "")

    def _gone(self, now: float) -> None:
        if self.fh is not None:
            self.pump()
            self._retire(now)
        parent = os.path.dirname(self.path) or "."
        if not os.path.isdir(parent):
            self._out.set(self.path, "error", f"directory {parent} is missing; retrying", size=0)
        elif self.reopened:
            self._out.set(self.path, "waiting", "file removed; waiting for it to reappear", size=0)
        else:
            self._out.set(self.path, "waiting", "waiting for the file to appear", size=0)

    def _adopt_missed(self, now: float) -> None:
        """Read the rotated siblings that lived and were rotated away between two looks."""
        for n in range(SIBLINGS, 0, -1):  # oldest first
            sibling = f"{self.path}.{n}"
            try:
                fh = open(sibling, "rb", buffering=0)  # noqa: SIM115 - retired below
            except OSError:
                continue
            fst = os.fstat(fh.fileno())
            if fst.st_mtime < self._started or self._read_before(fh):
                fh.close()
                continue
            fp = self._remember(fh)
            framer = LineFramer(sibling, self._max_line)
            self.retired.append(_Retired(fh, framer, fp, now + self._rotate_wait))

    def _read_before(self, fh: BinaryIO) -> bool:
        head = pread(fh, HEAD_BYTES, 0)
        return any(fp.head and head.startswith(fp.head) for fp in self._heads)

    def _remember(self, fh: BinaryIO) -> Fingerprint:
        fp = Fingerprint.of(fh)
        self._heads.append(fp)
        return fp

    def _open(self) -> None:
        fh = open(self.path, "rb", buffering=0)  # noqa: SIM115 - lives across calls
        fst = os.fstat(fh.fileno())  # identity of what we opened, not of an earlier stat
        self.fh = fh
        self.ident = (fst.st_dev, fst.st_ino)
        self.fp = self._remember(fh)
        self.framer = LineFramer(self.path, self._max_line)
        self.reopened = True

    def _restart(self, now: float, message: str) -> None:
        """Same handle, new content (copytruncate, or rewritten in place): read again from 0."""
        assert self.fh is not None
        self.fh.seek(0)
        self.framer = LineFramer(self.path, self._max_line)
        self.fp = self._remember(self.fh)
        self.changed_at = now
        self._out.set(self.path, "rotated", message, offset=0, size=0)

    def _retire(self, now: float) -> None:
        if self.fh is not None and self.framer is not None and self.fp is not None:
            self.retired.append(_Retired(self.fh, self.framer, self.fp, now + self._rotate_wait))
        self.fh = self.framer = self.fp = self.ident = None

    def pump(self, history: bool = False) -> bool:
        """Read everything new in the current handle; verify it is the same file; hand it over.

        Returns False if reading failed (the status then says why). History is read to its
        end in one go, so "history done" means what it says; later passes share the budget."""
        out = self._out
        budget: float = float("inf") if history else READ_BUDGET
        while self.fh is not None and self.framer is not None and not self._stop.is_set():
            try:
                data = self.fh.read(READ_CHUNK) if budget > 0 else b""
            except OSError as e:
                out.set(self.path, "error", f"read failed: {e.strerror or e}")
                return False
            if data:
                out.bytes += len(data)
                budget -= len(data)
                self.framer.feed(data)
                if not self.framer.full:
                    continue
            if self.fp is not None and not self.fp.matches(self.fh):
                # Rewritten in place after our last look: what we just read may be the middle
                # of new content. Drop it and start over; the fingerprint says it is a new file.
                self._restart(time.monotonic(), "content replaced, restarting at 0")
                continue
            out.deliver(self.framer)
            st = out.status_of(self.path)
            out.set(
                self.path,
                st.state,
                st.message,
                offset=self.framer.pos,
                size=max(st.size, self.framer.read_pos),
            )
            if history:
                out.progress()
            if not data:
                if budget <= 0:
                    self._wake.set()  # more to read: come back right after the other files
                return True
        return True

    def _pump_retired(self, r: _Retired, final: bool) -> None:
        try:
            while data := r.fh.read(READ_CHUNK):
                self._out.bytes += len(data)
                r.framer.feed(data)
                if r.framer.full:
                    self._out.deliver(r.framer)
            r.fp.matches(r.fh)  # extend the remembered first bytes of what we read
        except OSError:
            final = True
        self._out.deliver(r.framer)
        if final:  # an unfinished last line of a rotated-away file is dropped, like Vector does
            r.fh.close()
            self.retired.remove(r)
