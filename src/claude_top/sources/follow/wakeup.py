"""Wake-ups from the file system: directory events turned into "look now", nothing more.

Events are unordered and lossy (NFS, WSL and inotify limits lose them), so what happened is
always decided by the follower from stat/fstat; an event only saves waiting for the next poll.
The parent directories are watched, not the files: a watch on a file goes silent after a rename,
and a watch on a deleted directory stays silent forever, so a recreated directory is re-watched.
"""

from __future__ import annotations

import contextlib
import os
import threading

RETRY_S = 5.0
"""How soon a watcher that died is started again."""
ACTIVE_STEP_MS = 50
"""How often the watcher looks for changes while the files change (``_watch``)."""
IDLE_STEP_MS = 100
"""How often it looks once they have been quiet for ``QUIET_MS``."""
QUIET_MS = 5000


class DirWatcher:
    """Sets ``wake`` when anything changes in the directories of the followed files."""

    def __init__(self, wake: threading.Event) -> None:
        self._wake = wake
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._dirs: dict[str, tuple[int, int]] = {}
        self._retry_at = 0.0

    def sync(self, paths: list[str], now: float) -> None:
        """Watch the parent directories of ``paths`` that exist; restart if one was recreated."""
        want: dict[str, tuple[int, int]] = {}
        for path in paths:
            d = os.path.abspath(os.path.dirname(path) or ".")
            with contextlib.suppress(OSError):
                st = os.stat(d)
                want[d] = (st.st_dev, st.st_ino)
        alive = self._thread is not None and self._thread.is_alive()
        if want == self._dirs and (alive or now < self._retry_at):
            return
        self.stop()
        self._dirs = want
        self._retry_at = now + RETRY_S
        if want:
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=_watch,
                args=(list(want), self._stop, self._wake),
                name="claude-top-watch",
                daemon=True,
            )
            self._thread.start()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        self._stop = self._thread = None


def _watch(dirs: list[str], stop: threading.Event, wake: threading.Event) -> None:
    """Set ``wake`` at each change, looking every ``ACTIVE_STEP_MS`` while the files change and
    every ``IDLE_STEP_MS`` once they have been quiet for ``QUIET_MS``.

    Why two paces: the watcher wakes (and takes the interpreter's lock) once a step whether or
    not anything changed, so at 50 ms an idle log cost 20 wake-ups a second, a sixth of the
    idle TUI's CPU. A change is reported a step or two after it, so a written line keeps its
    50-100 ms to the follower while lines come, and the first line after a quiet spell waits
    up to two idle steps (or the follower's own poll, whichever is sooner). The idle step is
    100 ms, not more: that first line is often the one that matters (a 429 after a calm
    spell), and at 200 ms it reached the follower 220-370 ms after its write, which with a
    4 Hz screen left it past half a second; at 100 ms, 100-180 ms."""
    try:
        import watchfiles

        step = ACTIVE_STEP_MS
        while not stop.is_set():
            active = step == ACTIVE_STEP_MS
            for changes in watchfiles.watch(
                *dirs,
                watch_filter=None,
                debounce=50,
                step=step,
                stop_event=stop,
                rust_timeout=QUIET_MS if active else 0,  # 0: no timeout
                yield_on_timeout=True,
                recursive=False,
                raise_interrupt=False,
                ignore_permission_denied=True,
            ):
                if changes:
                    wake.set()
                    if not active:
                        step = ACTIVE_STEP_MS
                        break
                elif active:  # quiet for QUIET_MS
                    step = IDLE_STEP_MS
                    break
            else:
                return  # stopped
    except Exception:
        return
