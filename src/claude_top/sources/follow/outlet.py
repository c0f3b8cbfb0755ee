"""Everything the follower tells the world: batches to the sink, statuses, progress.

The follower's parts (history, live files, pipes) run on one thread but report to callers on
other threads (the TUI reads statuses while the follower writes them). Keeping the sink, the
status table and the progress counters behind one small object gives them one lock and one
place where a skipped over-long line becomes a call to ``on_overlong``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from claude_top.sources.batches import Batch, LineFramer, OnOverlong, batches_only

PROGRESS_EVERY = 0.1


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


class Outlet:
    """The sink, the status table and the progress counters of one follower."""

    def __init__(
        self,
        sink: Callable[[Batch], None],
        on_overlong: OnOverlong | None,
        on_status: Callable[[SourceStatus], None] | None,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self._sink = sink
        self._on_overlong = on_overlong
        self._on_status = on_status
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._status: dict[str, SourceStatus] = {}
        self.history_done = threading.Event()
        self.t0 = time.monotonic()
        self.lines = 0
        """Lines handed to the sink."""
        self.bytes = 0
        """On-disk bytes read so far (for progress)."""
        self.total: int | None = None
        """On-disk bytes of history, once known."""
        self._last_progress = (-1.0, -1, False)

    def add(self, path: str, state: str, message: str = "", size: int = 0) -> None:
        """A new source, shown without an ``on_status`` call (nothing changed yet)."""
        with self._lock:
            self._status[path] = SourceStatus(path, state, message, 0, size)

    def has(self, path: str) -> bool:
        with self._lock:
            return path in self._status

    def statuses(self) -> list[SourceStatus]:
        with self._lock:
            return list(self._status.values())

    def status_of(self, path: str) -> SourceStatus:
        with self._lock:
            return self._status[path]

    def set(
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

    def fail_all(self, message: str) -> None:
        for status in self.statuses():
            self.set(status.path, "error", message)

    def deliver(self, framer: LineFramer) -> None:
        """Hand over what the framer has ready: batches to the sink, over-long lines counted."""
        self.deliver_batches(batches_only(iter(framer.take()), self._on_overlong or _uncounted))

    def deliver_batches(self, batches: Iterable[Batch]) -> None:
        """Batches to the sink (a generator is consumed in order: over-long reports between)."""
        for batch in batches:
            self.lines += len(batch.lines)
            self._sink(batch)

    def progress(self, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        done = self.history_done.is_set()
        last_t, last_lines, last_done = self._last_progress
        if not force and (
            now - last_t < PROGRESS_EVERY or (last_lines, last_done) == (self.lines, done)
        ):
            return
        self._last_progress = (now, self.lines, done)
        self._on_progress(Progress(self.lines, self.bytes, now - self.t0, done, self.total))


def _uncounted(source: str, lineno: int, length: int) -> None:
    """No ``on_overlong`` given: the caller chose not to count skipped lines."""
