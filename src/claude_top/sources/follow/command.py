"""A ``cmd://`` source: a command's standard output read as a log, restarted when it ends.

What resume means here, exactly (a command's output has no offset to come back to):

* every line one run prints is counted once, like stdin's;
* while following, a run that ends is restarted after 1 s, then 2, 4 ... up to 30 s (reset once a
  run has printed something). A run that exits non-zero, or cannot be started, is the source's
  "error" status (the ``source`` rule fires at once); one that exits 0 is "waiting" (it fires
  after the rule's grace), named with the command's last line on stderr;
* a restarted command often replays some of what it printed before (``kubectl logs -f
  --since=1m``, ``journalctl -f -n 100``). The last ``REMEMBERED`` lines of earlier runs are
  remembered (by hash), and the restarted run's lines are dropped while they are among them;
  the first line that is not ends the replay and every line after it counts. So a replay that
  starts within those lines counts nothing twice and loses nothing; a command that replays
  from further back (``kubectl logs -f`` alone replays the whole log) counts the older part
  again. Give such a command a bound (``--since``, ``--tail``) that keeps the replay short;
* not following (``summary``, ``check``), the command runs once to its end; a non-zero exit
  after its lines are read makes the read fail ("could not check").
"""

from __future__ import annotations

import threading
from collections import Counter, deque

from claude_top.sources.batches import Batch, LineFramer, batches_only
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.follow.process import ChildProcess
from claude_top.sources.follow.remote import Backoff
from claude_top.sources.remote import CmdSource

REMEMBERED = 10_000
"""Lines of earlier runs remembered to recognize a restarted command's replay."""


class _Recent:
    """The hashes of the last ``REMEMBERED`` lines delivered, with their multiplicity."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._order: deque[int] = deque()
        self._count: Counter[int] = Counter()
        self._size = size

    def add(self, lines: list[bytes]) -> None:
        order, count = self._order, self._count
        for line in lines[-self._size :]:
            h = hash(line)
            order.append(h)
            count[h] += 1
        while len(order) > self._size:
            old = order.popleft()
            count[old] -= 1
            if not count[old]:
                del count[old]

    def __contains__(self, line: bytes) -> bool:
        return hash(line) in self._count


class CommandSource:
    """One ``cmd://`` source (see the module docstring)."""

    def __init__(
        self,
        src: CmdSource,
        out: Outlet,
        *,
        max_line: int,
        follow: bool,
        wake: threading.Event,
    ) -> None:
        self.src = src
        self.name = src.name
        self._out = out
        self._max_line = max_line
        self.follow = follow
        self._wake = wake
        self._conn: ChildProcess | None = None
        self._framer: LineFramer | None = None
        self._lineno = 1
        self._recent = _Recent()
        self._replay = False
        self._printed = False
        self._backoff = Backoff()
        self._next_at = 0.0
        self.finished = False
        self.history_done = False
        self.error: str | None = None
        """Not following: why the command's read failed (its exit status and last words)."""

    def check(self, now: float) -> None:
        if self.finished:
            return
        if self._conn is None:
            if now >= self._next_at:
                self._start(now)
            return
        framer = self._framer
        assert framer is not None
        ended = False
        for item in self._conn.take():
            if item is None:
                ended = True
                break
            self._out.bytes += len(item)
            framer.feed(item)
            if not self._printed:
                self._printed = True
                self._backoff.reset()
                self._out.set(self.name, "following" if self.follow else "reading-history", "")
            if framer.full:
                self._deliver()
        if ended:
            framer.finish()
        self._deliver()
        if ended:
            self._end(now)

    def _start(self, now: float) -> None:
        self._framer = LineFramer(self.name, self._max_line, self._lineno)
        self._printed = False
        try:
            self._conn = ChildProcess(list(self.src.argv), None, self._wake)
        except OSError as e:
            self._fail(now, f"cannot run {self.src.argv[0]}: {e.strerror or e}", 127)

    def _deliver(self) -> None:
        framer = self._framer
        assert framer is not None
        items = framer.take()
        self._lineno = framer.lineno
        batches = batches_only(iter(items), self._out.overlong)
        self._out.deliver_batches(self._fresh(b) for b in batches)
        self._out.set(
            self.name,
            self._out.status_of(self.name).state,
            self._out.status_of(self.name).message,
            offset=framer.pos,
            size=framer.pos,
        )

    def _fresh(self, batch: Batch) -> Batch:
        """The batch without a restarted run's replay of lines already counted."""
        lines = batch.lines
        first = batch.first_lineno
        if self._replay:
            i = 0
            while i < len(lines) and lines[i] in self._recent:
                i += 1
            if i < len(lines):
                self._replay = False
            lines, first = lines[i:], first + i
        self._recent.add(lines)
        return Batch(batch.source, first, lines)

    def _end(self, now: float) -> None:
        conn = self._conn
        assert conn is not None
        rc = conn.returncode()
        why = conn.last_error()
        conn.kill()
        self._conn = None
        said = f"command exited with status {rc}" + (f": {why}" if why else "")
        if not self.follow:
            self.finished = self.history_done = True
            if rc != 0:
                self.error = said
                self._out.set(self.name, "error", said)
            else:
                self._out.set(self.name, "done", "end of output")
            return
        self._fail(now, said, rc)

    def _fail(self, now: float, said: str, rc: int) -> None:
        self.history_done = True
        if not self.follow:
            self.finished = True
            self.error = said
            self._out.set(self.name, "error", said)
            return
        self._replay = True
        delay = self._backoff.next()
        self._next_at = now + delay
        state = "waiting" if rc == 0 else "error"
        self._out.set(self.name, state, f"{said}; restarting in {delay:g}s")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.kill()
            self._conn = None
