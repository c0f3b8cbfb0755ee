"""One child process read without blocking: ``ssh`` for a remote file, or a ``cmd://`` command.

Why apart: the follower thread must never block on a slow host, so a pump thread per process
reads its standard output (``read1``: whatever has arrived) into a queue and another keeps the
last lines of its standard error for messages; the follower thread takes what has arrived on
each turn, like it does for stdin (``pipe``). Killing it kills its whole process group, so an
``ssh`` and anything it started (a ``ProxyCommand``) go together.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
from collections import deque

from claude_top.core.text import safe_text
from claude_top.sources.batches import READ_CHUNK

STDERR_LINES = 5


class ChildProcess:
    """A started process; ``take`` returns its output so far (``None`` marks the end)."""

    def __init__(self, argv: list[str], stdin: bytes | None, wake: threading.Event) -> None:
        self._wake = wake
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.ended = False
        threading.Thread(target=self._pump, name="claude-top-child", daemon=True).start()
        threading.Thread(target=self._errors, name="claude-top-child-err", daemon=True).start()
        if stdin is not None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write(stdin)
                self.proc.stdin.close()
            except OSError:
                pass  # it ended at once: its status says why

    def _pump(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            while data := os.read(out.fileno(), READ_CHUNK):
                self._queue.put(data)
                self._wake.set()
        except (OSError, ValueError):
            pass
        self._queue.put(None)
        self._wake.set()

    def _errors(self) -> None:
        err = self.proc.stderr
        assert err is not None
        with contextlib.suppress(OSError, ValueError):
            for raw in err:
                text = raw.decode("utf-8", "replace").strip().strip(".")
                if text:
                    self._stderr.append(text)

    def take(self) -> list[bytes | None]:
        items: list[bytes | None] = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items

    def returncode(self, timeout: float = 5.0) -> int:
        """The exit status once the output has ended (the process is killed if it lingers)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.wait()

    def last_error(self) -> str:
        """The last line it wrote on stderr, made safe ("" if none)."""
        return safe_text(self._stderr[-1], 160) if self._stderr else ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                if f is not None:
                    f.close()
