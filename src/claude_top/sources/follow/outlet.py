"""Everything the follower tells the world: batches to the sink, statuses, progress.

The follower's parts (history, live files, pipes) run on one thread but report to callers on
other threads (the TUI reads statuses while the follower writes them). Keeping the sink, the
status table and the progress counters behind one small object gives them one lock and one
place where a skipped over-long line becomes a call to ``on_overlong``.
"""

from __future__ import annotations

import dataclasses
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
    ``since`` is the wall-clock time the state was entered. ``fault`` and ``fault_at`` keep the
    last unexpected failure (an exception while reading, or in the sink) after the source has
    healed, so a failure between two looks of a view is still seen (``rules.sources``).
    """

    path: str
    state: str
    message: str
    offset: int
    size: int
    since: float = 0.0
    fault: str = ""
    fault_at: float | None = None


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
        self.heartbeat = time.time()
        """Wall-clock time of the follower's last sign of life (a loop turn, a batch)."""

    def beat(self) -> None:
        self.heartbeat = time.time()

    def add(self, path: str, state: str, message: str = "", size: int = 0) -> None:
        """A new source, shown without an ``on_status`` call (nothing changed yet)."""
        with self._lock:
            self._status[path] = SourceStatus(path, state, message, 0, size, time.time())

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
                old.since if old.state == state else time.time(),
                old.fault,
                old.fault_at,
            )
            self._status[path] = new
        if self._on_status is not None and (old.state, old.message) != (state, message):
            self._on_status(new)

    def fail_all(self, message: str) -> None:
        for status in self.statuses():
            self.fault(status.path, message)

    def fault(self, source: str, message: str) -> None:
        """An unexpected failure of ``source``: state "error", and remembered after it heals.

        A source not in the table (a rotated sibling read under its own name) is reported on
        the name it was found under."""
        for path in self._owners(source):
            with self._lock:
                old = self._status[path]
                self._status[path] = dataclasses.replace(old, fault=message, fault_at=time.time())
            self.set(path, "error", message)

    def _owners(self, source: str) -> list[str]:
        with self._lock:
            if source in self._status:
                return [source]
            found = [p for p in self._status if source.startswith(p + ".")]
            return found[:1] or list(self._status)

    def overlong(self, source: str, lineno: int, length: int) -> None:
        """A skipped over-long line, counted by ``on_overlong`` (if given)."""
        (self._on_overlong or _uncounted)(source, lineno, length)

    def deliver(self, framer: LineFramer) -> None:
        """Hand over what the framer has ready: batches to the sink, over-long lines counted."""
        self.deliver_batches(batches_only(iter(framer.take()), self._on_overlong or _uncounted))

    def deliver_batches(self, batches: Iterable[Batch]) -> None:
        """Batches to the sink (a generator is consumed in order: over-long reports between)."""
        for batch in batches:
            self.lines += len(batch.lines)
            self.heartbeat = time.time()
            try:
                self._sink(batch)
            except Exception as e:  # one batch lost, reported; reading goes on
                last = batch.first_lineno + len(batch.lines) - 1
                where = f"lines {batch.first_lineno}-{last}"
                self.fault(batch.source, f"could not ingest {where}: {error_text(e)}")

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


def error_text(e: BaseException) -> str:
    """An exception as a status message says it: its type and its text."""
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _uncounted(source: str, lineno: int, length: int) -> None:
    """No ``on_overlong`` given: the caller chose not to count skipped lines."""
