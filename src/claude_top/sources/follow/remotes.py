"""The follower's ``ssh://`` and ``cmd://`` sources, checked on its thread like its files.

Kept apart so the follower gains three calls, not a second loop: ``take`` claims a spec that is
a URL, ``read_history`` serves them until their history is in (or, not following, until they
are read), and ``check`` serves them on every turn of the follow loop. Each source reads through
a child process whose output arrives on pump threads, so none of this blocks on a slow host.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from claude_top.sources.fingerprint import TsOf
from claude_top.sources.follow.command import CommandSource
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.follow.remote import RemoteFile
from claude_top.sources.follow.remote_glob import RemoteGlob
from claude_top.sources.remote import CmdSource, SshSource, is_url, parse

HISTORY_WAIT_S = 60.0
Guarded = Callable[..., None]
"""The follower's ``_guarded(source, step, *args)``: an exception becomes a status."""


class _Source(Protocol):
    name: str
    finished: bool
    history_done: bool

    def check(self, now: float) -> None: ...

    def close(self) -> None: ...


class Remotes:
    """Every URL source of one follower."""

    def __init__(
        self,
        out: Outlet,
        *,
        since: float | None,
        ts_of: TsOf | None,
        max_line: int,
        follow: bool,
        poll: float,
        rotate_wait: float,
        wake: threading.Event,
    ) -> None:
        self._out = out
        self._opts: dict[str, Any] = {"since": since, "ts_of": ts_of, "max_line": max_line}
        self._follow = follow
        self._poll = poll
        self._rotate_wait = rotate_wait
        self._wake = wake
        self.sources: list[_Source] = []
        self._names: set[str] = set()

    def take(self, spec: str) -> bool:
        """Claim ``spec`` if it is a URL (``InputError`` if it is a malformed one)."""
        if not is_url(spec):
            return False
        src = parse(spec)
        if spec in self._names:
            return True
        self._names.add(spec)
        if isinstance(src, CmdSource):
            cmd = CommandSource(
                src,
                self._out,
                max_line=self._opts["max_line"],
                follow=self._follow,
                wake=self._wake,
            )
            self._add(cmd, "reading-history")
        elif src.has_glob:
            self._add(
                RemoteGlob(
                    src,
                    self._out,
                    functools.partial(self._file, src),
                    follow=self._follow,
                    wake=self._wake,
                ),
                "reading-history",
            )
        else:
            self._file(src, src.path, self._follow)
        return True

    def _file(self, src: SshSource, path: str, follow: bool) -> None:
        name = src.at(path)
        if name in self._names and path != src.path:
            return
        self._names.add(name)
        remote = RemoteFile(
            src,
            path,
            self._out,
            follow=follow,
            poll=min(self._poll, 1.0),
            rotate_wait=min(self._rotate_wait, 5.0),
            wake=self._wake,
            **self._opts,
        )
        self._add(remote, "reading-history")
        self._wake.set()

    def _add(self, source: _Source, state: str) -> None:
        self.sources.append(source)
        if not self._out.has(source.name):
            self._out.add(source.name, state, "connecting")

    @property
    def finished(self) -> bool:
        return all(s.finished for s in self.sources)

    def check(self, now: float, guarded: Guarded) -> None:
        for source in list(self.sources):  # a glob adds its files while being checked
            guarded(source.name, source.check, now)

    def read_history(self, stop: threading.Event, guarded: Guarded) -> None:
        """Serve the sources until their history is read (not following: until they end).

        Following, a host that neither answers nor fails (a connection that hangs) does not
        hold up the rest: after ``HISTORY_WAIT_S`` the follow loop goes on serving it."""
        deadline = time.monotonic() + HISTORY_WAIT_S
        while self.sources and not stop.is_set():
            now = time.monotonic()
            self.check(now, guarded)
            if all(s.finished if not self._follow else s.history_done for s in self.sources):
                return
            if self._follow and now > deadline:
                return
            self._wake.wait(0.05)
            self._wake.clear()

    def close(self) -> None:
        for source in self.sources:
            source.close()
