"""The follower: resolves what the user named, reads history, then follows, on one thread.

Why a component of its own: the UI must never block on disk. One daemon thread does everything,
history first (rotated files oldest first, then each live file from ``since``), then the follow
loop; the sink is always called on that thread, with batches. A poll every ``poll_interval``
covers missed file-system events, so a miss costs one interval.

The thread must never stop silently: an exception while reading one source (or in the sink,
``engine.ingest``) becomes that source's "error" status with the exception's text, and the
others go on being read. Only an error outside every guard ends the thread, and then every
source says so and ``error`` holds it. ``heartbeat`` lets a view tell a stuck thread from a
quiet log (``rules.sources``).
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from claude_top.core.errors import InputError
from claude_top.sources.batches import MAX_LINE_BYTES, Batch, OnOverlong
from claude_top.sources.fingerprint import TsOf
from claude_top.sources.follow.history import read_rotated
from claude_top.sources.follow.live_file import LiveFile
from claude_top.sources.follow.outlet import Outlet, Progress, SourceStatus, error_text
from claude_top.sources.follow.pipe import STDIN, PipeSource
from claude_top.sources.follow.remotes import Remotes
from claude_top.sources.follow.wakeup import DirWatcher
from claude_top.sources.paths import (
    identity,
    is_gzip,
    is_regular,
    is_rotated_name,
    rotation_order,
)
from claude_top.sources.resume import Position, Positions


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
        on_overlong: OnOverlong | None = None,
        on_status: Callable[[SourceStatus], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        follow: bool = True,
        rotate_wait: float = 5.0,
        resume: Positions | None = None,
        on_settle: Callable[[list[Position], bool], None] | None = None,
    ) -> None:
        self._since = since
        self._resume = resume
        """Read positions of a state: a file it has read resumes where it stopped."""
        self._on_settle = on_settle
        """Called on the follower thread between reads with every file's position (and True
        when it must not wait: history done, or stopping), so a state can commit them with the
        counts of exactly those lines."""
        self._done: dict[str, Position] = {}
        """Where the rotated history files were read to."""
        self._ts_of = ts_of
        self.poll_interval = poll_interval
        self._max_line = max_line_bytes
        self._follow = follow
        self._rotate_wait = max(rotate_wait, 2 * poll_interval)
        self._out = Outlet(sink, on_overlong, on_status, on_progress)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._watcher = DirWatcher(self._wake) if use_watcher else None
        self._history: list[str] = []
        self._live: list[LiveFile] = []
        self._pipes: list[PipeSource] = []
        self._known: set[tuple[int, int] | str] = set()
        """The identities of every input resolved so far: one file named twice is read once."""
        self._globs: list[str] = []
        """Patterns expanded again while following, so files created later are read too."""
        self._passed: dict[str, tuple[int, int] | str] = {}
        """Later matches not followed (rotated or renamed copies of what we read), by identity."""
        self._remotes = Remotes(
            self._out,
            since=since,
            ts_of=ts_of,
            max_line=max_line_bytes,
            follow=follow,
            poll=poll_interval,
            rotate_wait=rotate_wait,
            wake=self._wake,
        )
        """``ssh://`` and ``cmd://`` sources (``sources.remote``)."""
        self._resolve(specs)
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        """An unexpected exception that ended the follower thread (e.g. raised by ``sink``)."""

    # --- public API --------------------------------------------------------------------------

    def start(self) -> None:
        self._out.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="claude-top-follow", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_history(self, timeout: float | None = None) -> bool:
        return self._out.history_done.wait(timeout)

    @property
    def statuses(self) -> list[SourceStatus]:
        return self._out.statuses()

    @property
    def heartbeat(self) -> float:
        """Wall-clock time of the thread's last sign of life (a loop turn, a batch)."""
        return self._out.heartbeat

    @property
    def running(self) -> bool:
        """Whether the thread is alive (False before ``start`` and after it ended)."""
        return self._thread is not None and self._thread.is_alive()

    def _guarded(self, source: str | None, step: Callable[..., Any], *args: Any) -> None:
        """Run one step; an exception becomes the error status of ``source`` (None: all)."""
        try:
            step(*args)
        except Exception as e:
            message = f"internal error: {error_text(e)}"
            if source is None:
                self._out.fail_all(message)
            else:
                self._out.fault(source, message)

    # --- resolving specs ---------------------------------------------------------------------

    def _resolve(self, specs: list[str]) -> None:
        for spec in specs:
            if self._remotes.take(spec):
                continue
            if spec == STDIN:
                if STDIN not in self._known:
                    self._known.add(STDIN)
                    self._add_pipe(STDIN)
                continue
            if glob.has_magic(spec):
                self._globs.append(spec)
                paths = sorted(glob.glob(spec), key=rotation_order)
                if not paths:
                    raise InputError(f"{spec}: no file matches this pattern")
            else:
                paths = [spec]
            for path in paths:
                key = identity(path)
                if key in self._known:
                    continue
                self._known.add(key)
                self._add_path(path)
        self._history.sort(key=rotation_order)

    def _rescan(self) -> None:
        """Follow the new matches of each glob from their start; not the files we already hold
        under another name (``app.log`` renamed to ``old.log``) nor finished rotated files."""
        held: set[tuple[int, int] | str] = set()
        for lv in self._live:
            held |= lv.held()
        for spec in self._globs:
            for path in sorted(glob.glob(spec), key=rotation_order):
                key = identity(path)
                if key in self._known or self._passed.get(path) == key:
                    continue
                if (
                    key in held
                    or not is_regular(path)  # a directory, or a pipe nobody will write again
                    or is_rotated_name(path)
                    or _safe_is_gzip(path)
                ):
                    self._passed[path] = key
                    continue
                self._known.add(key)
                self._add_path(path, later=True)

    def _add_pipe(self, name: str) -> None:
        self._pipes.append(PipeSource(name, self._out, self._max_line, self._stop, self._wake))
        self._out.add(name, "following" if self._follow else "reading-history")

    def _add_path(self, path: str, later: bool = False) -> None:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, not a log file")
        exists = os.path.exists(path)
        readable = exists and os.access(path, os.R_OK)
        if not self._follow and not exists:
            raise InputError(f"{path}: no such file")
        if not self._follow and not readable:
            raise InputError(f"{path}: permission denied")
        if exists and not is_regular(path):
            self._add_pipe(path)  # a FIFO or ``<(...)``: read once, to its end, like stdin
            return
        if readable and not later and (is_rotated_name(path) or _safe_is_gzip(path)):
            self._history.append(path)
            self._out.add(path, "reading-history", size=_size(path))
            return
        self._live.append(
            LiveFile(
                path,
                self._out,
                max_line=self._max_line,
                rotate_wait=self._rotate_wait,
                stop=self._stop,
                wake=self._wake,
                resume=self._resume,
            )
        )
        if not exists or later:  # the next look opens it and reads it from the start
            self._out.add(path, "waiting", "waiting for the file to appear")
        elif not readable:
            self._out.add(path, "error", "permission denied")
        else:
            self._out.add(path, "reading-history", size=_size(path))

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        out = self._out
        try:
            for pipe in self._pipes:
                pipe.start()
            out.total = self._open_history() + sum(_size(p) for p in self._history)
            for path in self._history:
                if self._stop.is_set():
                    return
                self._guarded(path, self._read_rotated, path)
            for lv in self._live:
                if lv.fh is not None and not self._stop.is_set():
                    self._guarded(lv.path, self._read_history, lv)
            self._remotes.read_history(self._stop, self._guarded)
            if not self._follow:
                while self._pipes_open() and not self._stop.is_set():
                    self._drain_pipes(block=True)
            out.history_done.set()
            out.progress(force=True)
            self._settle(True)
            if self._follow:
                self._follow_loop()
        except BaseException as e:
            self.error = e
            out.fail_all(f"reading stopped: {error_text(e)}")
        finally:
            self._settle(True)
            out.history_done.set()
            if self._watcher is not None:
                self._watcher.stop()
            for lv in self._live:
                lv.close()
            self._remotes.close()

    def _open_history(self) -> int:
        ahead = 0
        for lv in self._live:
            try:
                ahead += lv.open_history(self._since, self._ts_of)
            except Exception as e:
                self._out.fault(lv.path, f"internal error: {error_text(e)}")
        return ahead

    def _read_rotated(self, path: str) -> None:
        pos = read_rotated(
            path,
            self._out,
            since=self._since,
            ts_of=self._ts_of,
            max_line=self._max_line,
            stop=self._stop,
            resume=self._resume,
        )
        if pos is not None:
            self._done[path] = pos

    def positions(self) -> list[Position]:
        """Every file's read position (only on the follower thread: ``on_settle``)."""
        out = list(self._done.values())
        for lv in self._live:
            out.extend(lv.positions())
        return out

    def _settle(self, now: bool) -> None:
        if self._on_settle is not None:
            self._guarded(None, lambda: self._on_settle(self.positions(), now))  # type: ignore[misc]

    def _read_history(self, lv: LiveFile) -> None:
        lv.pump(history=True)
        if self._follow:
            self._out.set(lv.path, "following", "")
        else:
            lv.finish()

    def _pipes_open(self) -> bool:
        return any(pipe.framer is not None for pipe in self._pipes)

    def _drain_pipes(self, block: bool) -> None:
        for pipe in self._pipes:
            pipe.drain(block and pipe.framer is not None)

    def _follow_loop(self) -> None:
        while not self._stop.is_set():
            self._out.beat()
            now = time.monotonic()
            for pipe in self._pipes:
                self._guarded(pipe.name, pipe.drain, False)
            self._remotes.check(now, self._guarded)
            if self._globs:
                self._guarded(None, self._rescan)
            for lv in self._live:
                self._guarded(lv.path, lv.check, now)
            if self._watcher is not None:
                paths = [lv.path for lv in self._live] + self._globs
                self._guarded(None, self._watcher.sync, paths, now)
            self._guarded(None, self._out.progress)
            self._settle(False)
            if not self._live and not self._pipes_open() and self._remotes.finished:
                return
            self._wake.wait(self.poll_interval)
            self._wake.clear()


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
