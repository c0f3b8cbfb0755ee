"""Server processes for the integration tests: started in their own session, logged to a file,
and stopped with everything they forked, even children that left the session (sshd's do).

``servers.py`` builds each real server on this; it is its own module because no process may
outlive its test, and getting that right (freeze the tree, then signal it) is a job of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

WAIT_TIMEOUT = 30.0
"""Seconds any wait may take before it fails (servers start in well under one)."""
T = TypeVar("T")


class ServerError(RuntimeError):
    """A server did not start, or a wait on it ran out; the message carries its log tail."""


def wait_until(check: Callable[[], T | None], what: str, timeout: float = WAIT_TIMEOUT) -> T:
    """Poll ``check`` until it returns something truthy; ``ServerError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise ServerError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name: state, parent pid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, found by parent pid in /proc (empty where there is none)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


Identity = tuple[int, int]
"""A process as (pid, start time in clock ticks since boot): a reused pid is another process."""


def identify(pid: int) -> Identity | None:
    """The identity of ``pid`` while it runs; None once it is gone or a zombie."""
    try:
        fields = _stat_fields(pid)
    except (OSError, IndexError):
        return None
    return None if fields[0] in {"Z", "X"} else (pid, int(fields[19]))


def running(process: Identity) -> bool:
    return identify(process[0]) == process


def _stopped(process: Identity) -> bool:
    """Whether ``process`` is stopped by a signal or gone: it can fork no more."""
    try:
        return not running(process) or _stat_fields(process[0])[0] in {"T", "t"}
    except (OSError, IndexError):
        return True


def _all_stopped(processes: Sequence[Identity]) -> bool:
    return all(map(_stopped, processes))


def _signal(processes: Sequence[Identity], sig: signal.Signals) -> None:
    """Send ``sig`` to each of ``processes`` still running, never to a pid now reused."""
    for process in processes:
        if running(process):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process[0], sig)


class Process:
    """One server process, its output in a log file; stopping it takes its descendants too."""

    def __init__(self, argv: Sequence[str], log: Path) -> None:
        self.log = log
        with log.open("ab") as sink:
            self.popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, check: Callable[[], bool], what: str) -> None:
        """Poll ``check`` until true; fail at once, with the log's tail, if the process exits."""

        def ready_or_dead() -> bool:
            if not self.alive():
                raise ServerError(f"{what}: exited with status {self.popen.returncode}")
            return check()

        try:
            wait_until(ready_or_dead, what)
        except ServerError as error:
            self.stop()
            raise ServerError(f"{error}; its log ends:\n{self.log_tail()}") from None

    def tree(self) -> list[Identity]:
        """The process and every process below it, as they run now."""
        found = map(identify, [self.popen.pid, *descendants(self.popen.pid)])
        return [process for process in found if process]

    def _freeze(self) -> list[Identity]:
        """SIGSTOP the process and all below it until the tree holds still; its members.

        A process counts as stopped only once /proc says so, so none can fork behind the scan.
        """
        frozen: list[Identity] = []
        while new := [process for process in self.tree() if process not in frozen]:
            _signal(new, signal.SIGSTOP)
            frozen += new
            wait_until(partial(_all_stopped, tuple(frozen)), "the process tree to stop", 10)
        return frozen

    def stop(self, sig: signal.Signals = signal.SIGTERM, grace: float = 10.0) -> None:
        """Send ``sig`` to the process and all below it; SIGKILL whatever outlives ``grace`` s."""
        if not self.alive():
            return
        tree = self._freeze()
        _signal(tree, sig)
        _signal(tree, signal.SIGCONT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(grace)
        _signal(tree, signal.SIGKILL)
        self.popen.wait(grace)
        wait_until(lambda: not any(map(running, tree)), "the killed processes to exit", grace)
