"""An ``ssh://`` URL with a glob: listed on the remote host, then one ``RemoteFile`` per match.

The pattern is expanded by the remote ``sh`` (``list_script``), so it means there what it would
mean in a shell there. Matches with a rotated name (``app.log.1``, ``app.log.2.gz``) are read
once as history, the others followed, as for a local glob. The pattern is expanded once, when
the first listing succeeds (retried with backoff while the host cannot be reached, or, while
following, while nothing matches yet): files created later under it are not picked up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.follow.process import ChildProcess
from claude_top.sources.follow.remote import Backoff
from claude_top.sources.follow.remote_script import REMOTE_COMMAND, list_script
from claude_top.sources.paths import is_rotated_name, rotation_order
from claude_top.sources.remote import SshSource, ssh_argv

ONESHOT_TRIES = 3


class RemoteGlob:
    """Lists what a remote pattern matches, then hands each match to ``add`` (oldest first)."""

    def __init__(
        self,
        src: SshSource,
        out: Outlet,
        add: Callable[[str, bool], None],
        *,
        follow: bool,
        wake: threading.Event,
    ) -> None:
        self.src = src
        self.name = src.name
        self._out = out
        self._add = add
        self.follow = follow
        self._wake = wake
        self._conn: ChildProcess | None = None
        self._data = b""
        self._backoff = Backoff()
        self._next_at = 0.0
        self.failures = 0
        self.finished = False
        self.history_done = False

    def check(self, now: float) -> None:
        if self.finished:
            return
        if self._conn is None:
            if now >= self._next_at:
                argv = ssh_argv(self.src, REMOTE_COMMAND)
                try:
                    self._conn = ChildProcess(argv, list_script(self.src.path), self._wake)
                except OSError as e:
                    self._retry(now, f"cannot run ssh: {e.strerror or e}")
                self._data = b""
            return
        items = self._conn.take()
        self._data += b"".join(i for i in items if i is not None)
        if None not in items:
            return
        rc = self._conn.returncode()
        why = self._conn.last_error()
        self._conn.kill()
        self._conn = None
        if rc != 0:
            self._retry(now, f"cannot list files (ssh exit {rc}{': ' + why if why else ''})")
            return
        paths = sorted(
            (p.decode("utf-8", "surrogateescape") for p in self._data.split(b"\0") if p),
            key=rotation_order,
        )
        if not paths:
            self._retry(now, "no file matches this pattern")
            return
        for path in paths:
            once = is_rotated_name(path) or path.endswith(".gz")
            self._add(path, self.follow and not once)
        self.finished = self.history_done = True
        self._out.set(self.name, "done", f"{len(paths)} remote files")

    def _retry(self, now: float, message: str) -> None:
        self.failures += 1
        delay = self._backoff.next()
        self._next_at = now + delay
        if not self.follow and self.failures >= ONESHOT_TRIES:
            self.finished = self.history_done = True
            self._out.set(self.name, "error", message)
            return
        state = "waiting" if message.startswith("no file") else "error"
        self._out.set(self.name, state, f"{message}; retrying in {delay:g}s")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.kill()
            self._conn = None
