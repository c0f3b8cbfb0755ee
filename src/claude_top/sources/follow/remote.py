"""An ``ssh://`` file followed through dropped connections and rotation, every line once.

Each connection runs ``remote_script`` and reads one segment (one remote file from one offset).
This side keeps what makes a resume exact: the file's inode and the checksum of its first bytes,
the byte offset of the last *complete* line delivered (an unfinished line is dropped with its
connection and read again whole), the line number, and the inodes of files finished. So:

* a dropped connection (ssh exits 255, or the remote script fails) is the source's "error"
  status, named with ssh's own last words, which the ``source`` rule raises at once; it is
  retried after 1 s, then 2, 4 ... up to ``BACKOFF_MAX_S``, and resumes at the offset;
* a rotation seen while connected ends the segment (after draining the old file for the
  rotate wait) and the next connection reads the new file from 0, at once; a rotation while
  disconnected is found on reconnect: the rest of the old file (``NAME.1`` .. ``NAME.9``) first,
  then any sibling written and rotated away meanwhile, then the new file;
* history respects ``--since`` as far as it can without parsing remotely: a file last written
  before it is started at its end, and in the others the lines before the first one at or
  after ``since`` are dropped here (counted nowhere, as a binary-searched local file's are not).

What cannot be recovered is said, not hidden: a file deleted (or compressed) before its rest was
read loses that rest, and a copytruncate that refills the file past our offset between two
looks cannot be told from growth (rename rotation has neither problem).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from claude_top.core.text import safe_text
from claude_top.sources.batches import LineFramer
from claude_top.sources.fingerprint import TsOf
from claude_top.sources.follow.history import late_lines
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.follow.process import ChildProcess
from claude_top.sources.follow.remote_script import (
    EXIT_DONE,
    EXIT_DRAINED,
    EXIT_MISSING,
    EXIT_RACE,
    EXIT_ROTATED,
    EXIT_TRUNCATED,
    EXIT_UNREADABLE,
    MAGIC,
    REMOTE_COMMAND,
    Segment,
    parse_header,
    script,
)
from claude_top.sources.gunzip import Gunzip
from claude_top.sources.remote import SshSource, ssh_argv

BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 30.0
DONE_KEPT = 256
ONESHOT_TRIES = 3
"""Not following, a file whose reads fail this many times in a row is given up (an error)."""
HEADER_MAX = 64 << 10
"""Bytes read before the header (what rc files print) before the answer is given up on."""


class Backoff:
    """Seconds to wait before the next attempt: doubling from 1 s to 30 s, reset on success."""

    def __init__(self) -> None:
        self.delay = BACKOFF_MIN_S

    def next(self) -> float:
        delay = self.delay
        self.delay = min(BACKOFF_MAX_S, self.delay * 2)
        return delay

    def reset(self) -> None:
        self.delay = BACKOFF_MIN_S


class RemoteFile:
    """One remote file name, read over ssh segment by segment (see the module docstring)."""

    def __init__(
        self,
        src: SshSource,
        path: str,
        out: Outlet,
        *,
        max_line: int,
        since: float | None,
        ts_of: TsOf | None,
        follow: bool,
        poll: float,
        rotate_wait: float,
        wake: threading.Event,
    ) -> None:
        self.src = src
        self.path = path
        self.name = src.at(path)
        self._out = out
        self._max_line = max_line
        self._since = since
        self._ts_of = ts_of
        self.follow = follow
        self._poll = poll
        self._rotate_wait = rotate_wait
        self._wake = wake
        # what a resume needs
        self.inode: str | None = None
        self.offset = 0
        self.lineno = 1
        self._fplen = 0
        self._fp = "0"
        self._done: deque[str] = deque(maxlen=DONE_KEPT)
        self._started: int | None = None
        self._first = True
        # the connection in progress
        self._conn: ChildProcess | None = None
        self._head = b""
        self._segment: Segment | None = None
        self._framer: LineFramer | None = None
        self._gunzip: Gunzip | None = None
        self._skip_lines = 0
        self._keep = None if since is None or ts_of is None else late_lines(since, ts_of)
        self._dropping = False
        self._received = 0
        self._bad = ""
        """Why this side ended the connection (a malformed answer), for the message."""
        self._backoff = Backoff()
        self._next_at = 0.0
        self.finished = False
        """Not following and read to its end (or given up on): nothing more will come."""
        self.history_done = False
        """The first connection's bytes up to the size it saw are delivered, or it failed."""
        self.failures = 0

    # --- the loop's entry points -------------------------------------------------------------

    def check(self, now: float) -> None:
        """Take what arrived; end a finished segment; connect when it is time."""
        if self.finished:
            return
        if self._conn is None:
            if now >= self._next_at:
                self._connect()
            return
        ended = False
        for item in self._conn.take():
            if item is None:
                ended = True
            else:
                self._feed(item)
        if self._framer is not None:
            self._out.deliver(self._framer)
            self._report()
        if ended:
            self._end(now)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.kill()
            self._conn = None

    # --- one connection ----------------------------------------------------------------------

    def _connect(self) -> None:
        text = script(
            self.path,
            inode=self.inode,
            offset=self.offset,
            fplen=self._fplen,
            fp=self._fp,
            done=self._done,
            started=self._started,
            since=self._since,
            first=self._first,
            follow=self.follow,
            poll=self._poll,
            wait=self._rotate_wait,
        )
        self._head, self._segment, self._framer, self._gunzip = b"", None, None, None
        self._bad = ""
        self._received = 0
        try:
            self._conn = ChildProcess(ssh_argv(self.src, REMOTE_COMMAND), text, self._wake)
        except OSError as e:
            self._fail(time.monotonic(), f"cannot run ssh: {e.strerror or e}")

    def _feed(self, data: bytes) -> None:
        if self._segment is None:
            self._head += data
            while self._segment is None:
                line, nl, rest = self._head.partition(b"\n")
                if not nl:
                    if len(self._head) > HEADER_MAX:
                        self._bad = "the remote side sent no claude-top header"
                        assert self._conn is not None
                        self._conn.kill()
                    return
                self._head = rest
                if not line.startswith(MAGIC):
                    continue  # something the remote login shell's rc files printed first
                try:
                    segment = parse_header(line)
                except ValueError as e:
                    self._bad = safe_text(str(e), 120)
                    assert self._conn is not None
                    self._conn.kill()
                    return
                if segment is None:  # no file yet: nothing to read as history
                    self.history_done = True
                    self._out.set(self.name, "waiting", "waiting for the file to appear")
                    continue
                self._begin(segment)
            data, self._head = self._head, b""
            if not data:
                return
        self._data(data)

    def _begin(self, seg: Segment) -> None:
        """A header arrived: the connection works; set up the framer for this segment."""
        self._segment = seg
        self._backoff.reset()
        self.failures = 0
        if self._started is None:
            self._started = seg.started
        if seg.mode in ("drain", "missed"):
            name = self.src.at(f"{self.path}.{seg.sibling}")
            lineno = self.lineno if seg.mode == "drain" else 1
            self._framer = LineFramer(name, self._max_line, lineno, seg.start)
            self._out.set(self.name, "rotated", f"reading rotated file {self.path}.{seg.sibling}")
            return
        if seg.mode == "resume":
            self._framer = LineFramer(self.name, self._max_line, self.lineno, seg.start)
        else:
            if self.inode is not None:
                self._done.append(self.inode)
            self.inode = seg.inode
            self.lineno = 1
            self._framer = LineFramer(self.name, self._max_line, 1, seg.start)
        self.inode, self.offset = seg.inode, seg.start
        self._fplen, self._fp = seg.fplen, seg.fp
        if seg.mode != "resume":  # a resumed segment goes on dropping where the last stopped
            self._dropping = self._first and self._keep is not None and seg.mode == "new"
        state = "reading-history" if self._first else "following"
        message = {"new": "" if self._first else "reading a new file from the start"}.get(
            seg.mode, ""
        )
        if seg.mode == "truncated":
            message = "truncated, restarting at 0"
        self._out.set(self.name, state if not message else "rotated", message, size=seg.size)
        if self._first and seg.size <= seg.start:
            self._history_read()

    def _data(self, data: bytes) -> None:
        framer = self._framer
        assert framer is not None and self._segment is not None
        self._out.bytes += len(data)
        self._received += len(data)
        if (
            not self.follow
            and self._gunzip is None
            and framer.pos == 0
            and self._received == len(data)
        ):
            self._gunzip = Gunzip.if_compressed(data)
        if self._gunzip is not None:
            data = self._gunzip.feed(data)
        framer.feed(data)
        if self._skip_lines:
            self._skip_lines = _skip(framer, self._skip_lines)
        if self._dropping and self._keep is not None:
            self._dropping = framer.drop_lines(self._keep)
        seg = self._segment
        if self._first and not self.history_done and self._received >= seg.size - seg.start:
            self._history_read()

    def _history_read(self) -> None:
        self.history_done = True
        if self.follow:
            self._out.set(self.name, "following", "")

    def _report(self) -> None:
        framer, seg = self._framer, self._segment
        if framer is None or seg is None or seg.mode in ("drain", "missed"):
            return
        self.offset, self.lineno = framer.pos, framer.lineno
        st = self._out.status_of(self.name)
        self._out.set(
            self.name,
            st.state,
            st.message,
            offset=framer.pos,
            size=max(st.size, framer.read_pos),
        )

    def _end(self, now: float) -> None:
        """The connection's output ended: decide from its exit status what comes next."""
        conn, seg = self._conn, self._segment
        assert conn is not None
        rc = conn.returncode()
        why = conn.last_error()
        conn.kill()
        self._conn = None
        framer = self._framer
        if rc == EXIT_DONE and seg is not None and not self.follow:
            assert framer is not None
            if self._gunzip is not None:
                framer.feed(self._gunzip.flush())
            framer.finish()
            self._out.deliver(framer)
            self._report()
            self.finished = self.history_done = True
            self._out.set(self.name, "done", "", offset=framer.pos)
            return
        if seg is not None:
            self._first = False
        if rc == EXIT_ROTATED and seg is not None:
            self._retire_current()
            self._out.set(self.name, "rotated", "rotated; reading the new file from the start")
            self._next_at = now
        elif rc == EXIT_DRAINED and seg is not None:
            if seg.mode == "drain":
                self._retire_current()
            else:
                self._done.append(seg.inode)
            self._next_at = now
        elif rc == EXIT_TRUNCATED and seg is not None:
            self.offset, self._fplen, self._fp = 0, 0, "0"
            self._out.set(self.name, "rotated", "truncated, restarting at 0", offset=0, size=0)
            self._next_at = now
        elif rc == EXIT_RACE:
            self._next_at = now
        elif rc == EXIT_UNREADABLE:
            self._fail(now, why or "permission denied")
        elif rc == EXIT_MISSING and not self.follow:
            self.failures = ONESHOT_TRIES  # it will not appear by retrying a one-shot read
            self._fail(now, "no such file")
        elif self._bad:
            self._fail(now, self._bad)
        else:
            where = "connection lost" if seg is not None else "cannot connect"
            self._fail(now, f"{where} (ssh exit {rc}{': ' + why if why else ''})")
        self._wake.set()

    def _retire_current(self) -> None:
        if self.inode is not None:
            self._done.append(self.inode)
        self.inode, self.offset, self.lineno, self._fplen, self._fp = None, 0, 1, 0, "0"

    def _fail(self, now: float, message: str) -> None:
        self.failures += 1
        self.history_done = True  # following: the history it could read is in
        if self._gunzip is not None:  # a compressed file restarts from 0: skip what was read
            self.offset, self._skip_lines, self.lineno = 0, self.lineno - 1, 1
        delay = self._backoff.next()
        self._next_at = now + delay
        if not self.follow and self.failures >= ONESHOT_TRIES:
            self.finished = True
            self._out.set(self.name, "error", message)
            return
        self._out.set(self.name, "error", f"{message}; reconnecting in {delay:g}s")


def _skip(framer: LineFramer, n: int) -> int:
    """Drop up to ``n`` gathered lines (already delivered by an earlier connection)."""
    k = min(n, len(framer.lines))
    del framer.lines[:k]
    framer.first += k
    return n - k
