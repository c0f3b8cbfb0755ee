"""Following log files by name, like ``tail -F``, on one thread of its own.

Why a component of its own: the UI must never block on disk, and rotation, truncation, missing
files and partial lines are subtle enough to deserve one owner with its own tests.

Design, after GNU tail, Vector and Fluent Bit (see /work/shared/reference/tailing.md):

* One daemon thread does everything: history first (rotated files oldest first, then each live
  file from ``since``), then following. The sink is always called on that thread, with batches.
* File-system events are wake-ups only. watchfiles watches the *parent directories* (watching the
  file itself goes silent after a rename) in a helper thread that only sets an Event; what
  happened is decided here from stat/fstat and a fingerprint of the first bytes. A poll every
  ``poll_interval`` covers missed events (NFS, WSL, inotify limits), so a miss costs one interval.
* A rotated-away or deleted file keeps being drained through its open handle for
  ``rotate_wait`` seconds, so lines written just after the rename are not lost (tail -F loses them).
* Lines are bytes; decoding and parsing are the reader's job.
"""

from __future__ import annotations

import contextlib
import glob
import os
import queue
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from claude_top.core.errors import InputError
from claude_top.sources.batches import MAX_LINE_BYTES, Batch, LineFramer
from claude_top.sources.fingerprint import Fingerprint, TsOf, count_newlines, seek_since, tail_start
from claude_top.sources.paths import is_gzip, is_rotated_name, open_bytes, rotation_order

CHUNK = 256 << 10
PROGRESS_EVERY = 0.1
ROTATED_SHOWN_S = 2.0
"""How long a source shows state "rotated" before going back to "following"."""
READ_BUDGET = 64 << 20
"""Most bytes read from one file per pass, so one flooding file cannot starve the others."""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What the UI shows per input, so a stalled or missing file is visible, not silent.

    ``state``: "reading-history" | "following" | "waiting" (file missing) | "rotated" (just
    reopened or restarted; shown for ~2 s) | "error" (retried every poll) | "done".
    ``offset`` is bytes consumed of the current file (complete lines only), ``size`` its size.
    """

    path: str
    state: str
    message: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Progress:
    """Throughput for a progress bar while history loads (and a running total afterwards).

    ``bytes`` and ``total_bytes`` are on-disk bytes (compressed for gzip), so bytes/total_bytes
    is a fair fraction for an ETA; ``lines`` counts lines handed to the sink.
    """

    lines: int
    bytes: int
    elapsed_s: float
    history_done: bool
    total_bytes: int | None


@dataclass(slots=True)
class _Retired:
    """A rotated-away or deleted file still drained through its handle until ``deadline``."""

    fh: BinaryIO
    stream: LineFramer
    deadline: float


@dataclass(slots=True)
class _Live:
    """One followed name and whatever file currently answers to it."""

    path: str
    fh: BinaryIO | None = None
    stream: LineFramer | None = None
    ident: tuple[int, int] | None = None
    fp: Fingerprint | None = None
    reopened: bool = False  # opened at least once: a later open is a reopen
    changed_at: float = 0.0
    retired: list[_Retired] = field(default_factory=list)


class Follower:
    """Reads history, then follows files by name; hands complete lines to ``sink`` in batches.

    Construction resolves the specs and raises ``InputError`` for what can never work (a directory,
    a glob matching nothing; in one-shot mode also missing or unreadable files). Everything that can
    heal later (a file not created yet, a permission fixed, a directory recreated) becomes a status
    and is retried every poll.
    """

    def __init__(
        self,
        specs: list[str],
        sink: Callable[[Batch], None],
        *,
        since: float | None = None,
        ts_of: TsOf | None = None,
        poll_interval: float = 1.0,
        use_watcher: bool = True,
        max_line_bytes: int = MAX_LINE_BYTES,
        on_overlong: Callable[[str, int, int], None] | None = None,
        on_status: Callable[[SourceStatus], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        follow: bool = True,
        rotate_wait: float = 5.0,
    ) -> None:
        self._sink = sink
        self._since = since
        self._ts_of = ts_of
        self._poll = poll_interval
        self._use_watcher = use_watcher
        self._max_line = max_line_bytes
        self._on_overlong = on_overlong
        self._on_status = on_status
        self._on_progress = on_progress
        self._follow = follow
        self._rotate_wait = max(rotate_wait, 2 * poll_interval)
        self._lock = threading.Lock()
        self._status: dict[str, SourceStatus] = {}
        self._history: list[str] = []
        self._live: list[_Live] = []
        self._stdin = False
        self._resolve(specs)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._history_done = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()
        self._lines = 0
        self._bytes = 0
        self._total: int | None = None
        self._last_progress = (-1.0, -1, False)
        self._stdin_q: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=16)
        self._stdin_stream: LineFramer | None = None
        self._watch_stop: threading.Event | None = None
        self._watch_thread: threading.Thread | None = None
        self._watch_dirs: dict[str, tuple[int, int]] = {}
        self._watch_retry_at = 0.0
        self.error: BaseException | None = None
        """An unexpected exception that ended the follower thread (e.g. raised by ``sink``)."""

    # --- public API --------------------------------------------------------------------------

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="claude-top-follow", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_history(self, timeout: float | None = None) -> bool:
        return self._history_done.wait(timeout)

    @property
    def statuses(self) -> list[SourceStatus]:
        with self._lock:
            return list(self._status.values())

    # --- resolving specs ---------------------------------------------------------------------

    def _resolve(self, specs: list[str]) -> None:
        seen: set[str] = set()
        for spec in specs:
            if spec == "-":
                if not self._stdin:
                    self._stdin = True
                    state = "following" if self._follow else "reading-history"
                    self._status["-"] = SourceStatus("-", state, "", 0, 0)
                continue
            if glob.has_magic(spec):
                paths = sorted(glob.glob(spec), key=rotation_order)
                if not paths:
                    raise InputError(f"{spec}: no file matches this pattern")
            else:
                paths = [spec]
            for path in paths:
                key = os.path.abspath(path)
                if key in seen:
                    continue
                seen.add(key)
                self._add_path(path)
        self._history.sort(key=rotation_order)

    def _add_path(self, path: str) -> None:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, not a log file")
        exists = os.path.exists(path)
        readable = exists and os.access(path, os.R_OK)
        if not self._follow and not exists:
            raise InputError(f"{path}: no such file")
        if not self._follow and not readable:
            raise InputError(f"{path}: permission denied")
        if readable and (is_rotated_name(path) or _safe_is_gzip(path)):
            self._history.append(path)
            self._status[path] = SourceStatus(path, "reading-history", "", 0, _size(path))
            return
        self._live.append(_Live(path))
        if not exists:
            self._status[path] = SourceStatus(
                path, "waiting", "waiting for the file to appear", 0, 0
            )
        elif not readable:
            self._status[path] = SourceStatus(path, "error", "permission denied", 0, 0)
        else:
            self._status[path] = SourceStatus(path, "reading-history", "", 0, _size(path))

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            if self._stdin:
                threading.Thread(
                    target=self._stdin_pump, name="claude-top-stdin", daemon=True
                ).start()
                self._stdin_stream = LineFramer("-", self._max_line)
            self._total = self._open_live_history() + sum(_size(p) for p in self._history)
            for path in self._history:
                if self._stop.is_set():
                    return
                self._read_history_file(path)
            for lv in self._live:
                if lv.fh is not None and not self._stop.is_set():
                    self._pump(lv, history=True)
                    if self._follow:
                        self._set(lv.path, "following", "")
                    else:
                        self._finish_live(lv)
            if not self._follow:
                while self._stdin_stream is not None and not self._stop.is_set():
                    self._drain_stdin(block=True)
            self._history_done.set()
            self._progress(force=True)
            if self._follow:
                self._follow_loop()
        except BaseException as e:
            self.error = e
            with self._lock:
                paths = list(self._status)
            for path in paths:
                self._set(path, "error", f"follower stopped: {e!r}")
        finally:
            self._history_done.set()
            self._stop_watcher()
            for lv in self._live:
                self._close_live(lv)

    def _follow_loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            self._drain_stdin(block=False)
            for lv in self._live:
                self._check(lv, now)
            self._sync_watcher(now)
            self._progress()
            if not self._live and self._stdin_stream is None:
                return
            self._wake.wait(self._poll)
            self._wake.clear()

    # --- history -----------------------------------------------------------------------------

    def _open_live_history(self) -> int:
        """Open each live file and seek to ``since``; returns the history bytes ahead of us."""
        total = 0
        for lv in self._live:
            try:
                self._open(lv)
                assert lv.fh is not None
                st = os.fstat(lv.fh.fileno())
                # A buffered twin of the same open file (shared offset) for readline-based seeking.
                with open(os.dup(lv.fh.fileno()), "rb") as bf:
                    offset = self._since_offset(bf, st)
                    lineno = count_newlines(bf, offset) + 1 if offset else 1
                lv.fh.seek(offset)
            except FileNotFoundError:
                continue  # "waiting"; the follow loop picks it up when it appears
            except OSError as e:
                if lv.fh is None:
                    self._set(lv.path, "error", e.strerror or str(e))
                continue  # the follow loop retries it
            lv.stream = LineFramer(lv.path, self._max_line, lineno, offset)
            total += max(0, st.st_size - offset)
        return total

    def _since_offset(self, bf: BinaryIO, st: os.stat_result) -> int:
        """Where history starts in a plain file: 0, or the first line at/after ``since``."""
        if self._since is None:
            return 0
        if st.st_mtime < self._since:  # last written before since: all of it is older
            return tail_start(bf, st.st_size)
        if self._ts_of is None:
            return 0
        found = seek_since(bf, st.st_size, self._since, self._ts_of)
        return 0 if found is None else found

    def _read_history_file(self, path: str) -> None:
        """Read a finished rotated file once, start to end (its last line needs no newline)."""
        self._set(path, "reading-history", "")
        try:
            st = os.stat(path)
            if self._since is not None and st.st_mtime < self._since:
                self._bytes += st.st_size
                self._set(path, "done", "older than --since, skipped")
                return
            gz = is_gzip(path)
            f = open_bytes(path)
        except OSError as e:
            self._set(path, "error", e.strerror or str(e))
            return
        raw: BinaryIO = getattr(f, "fileobj", None) or f  # compressed position, for progress
        stream = LineFramer(path, self._max_line)
        drop_old = self._since is not None and self._ts_of is not None
        try:
            if not gz and drop_old:
                offset = self._since_offset(f, st)
                if offset:
                    stream = LineFramer(path, self._max_line, count_newlines(f, offset) + 1, offset)
                f.seek(offset)
                drop_old = False
            done = raw.tell()
            while not self._stop.is_set():
                data = f.read(CHUNK)
                if not data:
                    stream.finish()
                else:
                    stream.feed(data)
                if drop_old:
                    drop_old = self._drop_older(stream)
                if stream.full or not data:
                    self._deliver(stream)
                where = raw.tell()
                self._bytes += where - done
                done = where
                self._set(path, "reading-history", "", offset=stream.pos, size=st.st_size)
                self._progress()
                if not data:
                    break
            self._set(path, "done", "")
        except (OSError, EOFError, ValueError) as e:  # gzip.BadGzipFile is an OSError
            self._deliver(stream)
            self._set(path, "error", f"read failed: {e}")
        finally:
            f.close()

    def _drop_older(self, stream: LineFramer) -> bool:
        """Skip a compressed file's leading lines older than ``since`` (no seeking in gzip)."""
        assert self._since is not None and self._ts_of is not None
        since, ts_of = self._since, self._ts_of
        return stream.drop_lines(lambda line: (_call_ts(ts_of, line) or -1.0) >= since)

    # --- following ---------------------------------------------------------------------------

    def _check(self, lv: _Live, now: float) -> None:
        """Decide from stat/fstat what happened to a name since the last look, then read."""
        for r in list(lv.retired):
            self._pump_retired(lv, r, final=now >= r.deadline)
        try:
            st = os.stat(lv.path)
        except (FileNotFoundError, NotADirectoryError):
            if lv.fh is not None:
                self._pump(lv)
                self._retire(lv, now)
            parent = os.path.dirname(lv.path) or "."
            if not os.path.isdir(parent):
                self._set(lv.path, "error", f"directory {parent} is missing; retrying", size=0)
            elif lv.reopened:
                self._set(lv.path, "waiting", "file removed; waiting for it to reappear", size=0)
            else:
                self._set(lv.path, "waiting", "waiting for the file to appear", size=0)
            return
        except OSError as e:
            self._set(lv.path, "error", e.strerror or str(e))
            return
        if stat.S_ISDIR(st.st_mode):
            self._set(lv.path, "error", "is a directory, not a log file")
            return
        message = ""
        was_open = lv.reopened
        if lv.fh is not None and (st.st_dev, st.st_ino) != lv.ident:
            self._pump(lv)  # rename rotation: finish the old file first, then the new from 0
            self._retire(lv, now)
            message = "rotated; reading the new file from the start"
        elif lv.fh is None and self._status_of(lv.path).state == "waiting":
            message = "appeared; following new file"
        if lv.fh is None:
            try:
                self._open(lv)
            except OSError as e:
                self._set(lv.path, "error", e.strerror or str(e))
                return
            lv.changed_at = now
            self._set(lv.path, "rotated" if was_open and message else "following", message)
        elif lv.stream is not None and st.st_size < lv.stream.read_pos:
            self._restart(lv, now, "truncated, restarting at 0")
        if not self._pump(lv):
            return
        cur = self._status_of(lv.path)
        if cur.state not in ("following", "rotated") or (
            cur.message and now - lv.changed_at > ROTATED_SHOWN_S
        ):
            self._set(lv.path, "following", "")

    def _status_of(self, path: str) -> SourceStatus:
        with self._lock:
            return self._status[path]

    def _open(self, lv: _Live) -> None:
        fh = open(lv.path, "rb", buffering=0)  # noqa: SIM115 - lives across calls
        fst = os.fstat(fh.fileno())  # identity of what we opened, not of an earlier stat
        lv.fh = fh
        lv.ident = (fst.st_dev, fst.st_ino)
        lv.fp = Fingerprint.of(fh)
        lv.stream = LineFramer(lv.path, self._max_line)
        lv.reopened = True

    def _restart(self, lv: _Live, now: float, message: str) -> None:
        """Same handle, new content (copytruncate, or rewritten in place): read again from 0."""
        assert lv.fh is not None
        lv.fh.seek(0)
        lv.stream = LineFramer(lv.path, self._max_line)
        lv.fp = Fingerprint.of(lv.fh)
        lv.changed_at = now
        self._set(lv.path, "rotated", message, offset=0, size=0)

    def _retire(self, lv: _Live, now: float) -> None:
        if lv.fh is not None and lv.stream is not None:
            lv.retired.append(_Retired(lv.fh, lv.stream, now + self._rotate_wait))
        lv.fh = lv.stream = lv.fp = lv.ident = None

    def _pump(self, lv: _Live, history: bool = False) -> bool:
        """Read everything new in the current handle; verify it is the same file; hand it over.

        Returns False if reading failed (the status then says why). History is read to its
        end in one go, so "history done" means what it says; later passes share the budget."""
        budget: float = float("inf") if history else READ_BUDGET
        while lv.fh is not None and lv.stream is not None and not self._stop.is_set():
            try:
                data = lv.fh.read(CHUNK) if budget > 0 else b""
            except OSError as e:
                self._set(lv.path, "error", f"read failed: {e.strerror or e}")
                return False
            if data:
                self._bytes += len(data)
                budget -= len(data)
                lv.stream.feed(data)
                if not lv.stream.full:
                    continue
            if lv.fp is not None and not lv.fp.matches(lv.fh):
                # Rewritten in place after our last look: what we just read may be the middle
                # of new content. Drop it and start over; the fingerprint says it is a new file.
                self._restart(lv, time.monotonic(), "content replaced, restarting at 0")
                continue
            self._deliver(lv.stream)
            st = self._status_of(lv.path)
            self._set(
                lv.path,
                st.state,
                st.message,
                offset=lv.stream.pos,
                size=max(st.size, lv.stream.read_pos),
            )
            if history:
                self._progress()
            if not data:
                if budget <= 0:
                    self._wake.set()  # more to read: come back right after the other files
                return True
        return True

    def _pump_retired(self, lv: _Live, r: _Retired, final: bool) -> None:
        try:
            while data := r.fh.read(CHUNK):
                self._bytes += len(data)
                r.stream.feed(data)
                if r.stream.full:
                    self._deliver(r.stream)
        except OSError:
            final = True
        self._deliver(r.stream)
        if final:  # an unfinished last line of a rotated-away file is dropped, like Vector does
            r.fh.close()
            lv.retired.remove(r)

    def _finish_live(self, lv: _Live) -> None:
        assert lv.stream is not None
        lv.stream.finish()
        self._deliver(lv.stream)
        self._set(lv.path, "done", "", offset=lv.stream.pos)
        self._close_live(lv)

    def _close_live(self, lv: _Live) -> None:
        for r in lv.retired:
            r.fh.close()
        lv.retired.clear()
        if lv.fh is not None:
            lv.fh.close()
        lv.fh = lv.stream = lv.fp = lv.ident = None

    def _deliver(self, stream: LineFramer) -> None:
        for item in stream.take():
            if isinstance(item, Batch):
                if item.lines:
                    self._lines += len(item.lines)
                    self._sink(item)
            elif self._on_overlong is not None:
                self._on_overlong(item.source, item.lineno, item.length)

    # --- stdin -------------------------------------------------------------------------------

    def _stdin_pump(self) -> None:
        """Blocking reads of stdin, off the follower thread so files are served meanwhile.

        ``read1`` returns whatever the pipe has, so ``kubectl logs -f | claude-top -`` lines
        arrive as they are written instead of waiting for a full buffer.
        """
        try:
            f = open_bytes("-")
            read1 = getattr(f, "read1", f.read)
            while True:
                data: bytes = read1(CHUNK)
                self._put_stdin(data)
                if not data:
                    return
        except BaseException as e:
            self._put_stdin(e)

    def _put_stdin(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._stdin_q.put(item, timeout=0.2)
            except queue.Full:
                continue
            self._wake.set()
            return

    def _drain_stdin(self, block: bool) -> None:
        stream = self._stdin_stream
        if stream is None:
            return
        while True:
            try:
                item = self._stdin_q.get(timeout=0.2) if block else self._stdin_q.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                self._deliver(stream)
                self._set("-", "error", f"stdin: {item}")
                self._stdin_stream = None
                return
            self._bytes += len(item)
            if not item:
                stream.finish()
                self._deliver(stream)
                self._set("-", "done", "end of input", offset=stream.pos, size=stream.pos)
                self._stdin_stream = None
                return
            stream.feed(item)
            if stream.full:
                self._deliver(stream)
            if block:
                break
        self._deliver(stream)
        self._set("-", self._status_of("-").state, "", offset=stream.pos, size=stream.pos)

    # --- wake-ups ----------------------------------------------------------------------------

    def _sync_watcher(self, now: float) -> None:
        """Watch the parent directories that exist; restart the watch when one was recreated
        (a watch on a deleted directory stays silent forever)."""
        if not self._use_watcher:
            return
        want: dict[str, tuple[int, int]] = {}
        for lv in self._live:
            d = os.path.abspath(os.path.dirname(lv.path) or ".")
            with contextlib.suppress(OSError):
                st = os.stat(d)
                want[d] = (st.st_dev, st.st_ino)
        alive = self._watch_thread is not None and self._watch_thread.is_alive()
        if want == self._watch_dirs and (alive or now < self._watch_retry_at):
            return
        self._stop_watcher()
        self._watch_dirs = want
        self._watch_retry_at = now + 5.0
        if want:
            self._watch_stop = threading.Event()
            self._watch_thread = threading.Thread(
                target=_watch,
                args=(list(want), self._watch_stop, self._wake),
                name="claude-top-watch",
                daemon=True,
            )
            self._watch_thread.start()

    def _stop_watcher(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
        self._watch_stop = self._watch_thread = None

    # --- reporting ---------------------------------------------------------------------------

    def _set(
        self,
        path: str,
        state: str,
        message: str,
        *,
        offset: int | None = None,
        size: int | None = None,
    ) -> None:
        with self._lock:
            old = self._status[path]
            new = SourceStatus(
                path,
                state,
                message,
                old.offset if offset is None else offset,
                old.size if size is None else size,
            )
            self._status[path] = new
        if self._on_status is not None and (old.state, old.message) != (state, message):
            self._on_status(new)

    def _progress(self, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        done = self._history_done.is_set()
        last_t, last_lines, last_done = self._last_progress
        if not force and (
            now - last_t < PROGRESS_EVERY or (last_lines, last_done) == (self._lines, done)
        ):
            return
        self._last_progress = (now, self._lines, done)
        self._on_progress(Progress(self._lines, self._bytes, now - self._t0, done, self._total))


def _watch(dirs: list[str], stop: threading.Event, wake: threading.Event) -> None:
    """Turn directory events into wake-ups; nothing else (events are unordered and lossy)."""
    try:
        import watchfiles

        for _changes in watchfiles.watch(
            *dirs,
            watch_filter=None,
            debounce=50,
            step=50,
            stop_event=stop,
            recursive=False,
            raise_interrupt=False,
            ignore_permission_denied=True,
        ):
            wake.set()
    except Exception:
        return


def _call_ts(ts_of: TsOf, line: bytes) -> float | None:
    try:
        return ts_of(line)
    except Exception:
        return None


def _safe_is_gzip(path: str) -> bool:
    try:
        return is_gzip(path)
    except OSError:
        return False


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
