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
