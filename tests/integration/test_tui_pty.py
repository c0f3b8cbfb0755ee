"""The live view as ``tail -F app.log | claude-top -`` runs it: stdin a pipe, a real terminal.

The app runs in a pseudo-terminal that is its controlling terminal; log lines go down the stdin
pipe and keys are typed on the terminal. Keys must act (``w`` moves the window, ``e`` exports,
``q`` quits), the ``q``, ``r`` and ``e`` inside log lines must not, and every piped line must be
counted. Without a terminal the app must say so in one line and stop, writing no escape codes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from claude_top.core.windows import WINDOW_CYCLE
from integration.processes import wait_until

LINES = 400
AFTER_10M = WINDOW_CYCLE[WINDOW_CYCLE.index("10m") + 1]
"""The window after one ``w`` (the app starts on 10m)."""


def _line(i: int, now: float) -> bytes:
    """A call record full of the letters the app binds (q quits, r opens Rejected, e exports)."""
    doc = {
        "timestamp": now - 60 + i * 0.1,
        "request_id": f"req-qqq-rrr-eee-{i:04d}",
        "feature": "queue_reader",
        "model": "claude-sonnet-4-6",
        "user_id": "qre",
        "input_tokens": 100,
        "output_tokens": 20,
        "latency_ms": 800,
        "stop_reason": "end_turn",
        "error": "rate q r e" if i % 50 == 0 else None,
    }
    return orjson.dumps(doc) + b"\n"


class Tty:
    """A pseudo-terminal whose output is drained on a thread (a full pty would block the app)."""

    def __init__(self, cols: int = 120, rows: int = 40) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.output += data

    def seen(self) -> bytes:
        with self._lock:
            return bytes(self.output)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        for fd in (self.slave, self.master):
            with contextlib.suppress(OSError):
                os.close(fd)


def _spawn(
    args: list[str],
    cwd: Path,
    *,
    stdout: int,
    ctty: bool,
    stderr: int | None = None,
    sighup: str = "SIG_DFL",
) -> subprocess.Popen[bytes]:
    # In the child, after setsid: with ``ctty`` the pty on fd 1 becomes its controlling terminal
    # (done by a small exec wrapper rather than preexec_fn, which is unsafe with threads about).
    # SIGHUP's disposition is set, not inherited from whatever started the tests (``nohup``
    # ignores it), and an ignored one survives the exec, as under ``nohup claude-top``.
    wrap = (
        f"import fcntl, os, signal, sys, termios; signal.signal(signal.SIGHUP, signal.{sighup}); "
        + ("fcntl.ioctl(1, termios.TIOCSCTTY, 0); " if ctty else "")
        + "os.execv(sys.executable, [sys.executable, '-m', 'claude_top', *sys.argv[1:]])"
    )
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "", "LINES": ""}
    return subprocess.Popen(
        [sys.executable, "-c", wrap, *args],
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=stderr if stderr is not None else stdout,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )


@pytest.fixture
def tty() -> Iterator[Tty]:
    t = Tty()
    yield t
    t.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _exports(cwd: Path) -> list[Path]:
    return sorted(cwd.glob("claude-top-*.json"))


def test_keys_come_from_the_terminal_and_every_piped_line_is_read(tty: Tty, tmp_path: Path) -> None:
    proc = _spawn(["-", "--since", "1h"], tmp_path, stdout=tty.slave, ctty=True)
    try:
        assert proc.stdin is not None
        now = time.time()
        proc.stdin.write(b"".join(_line(i, now) for i in range(LINES)))
        proc.stdin.flush()  # and left open, as ``tail -F`` leaves it
        wait_until(lambda: b"queue_reader" in tty.seen(), "the piped records on screen")

        tty.type(b"w")
        presses = 0

        def exported_all() -> dict[str, object] | None:
            nonlocal presses
            tty.type(b"e")
            presses += 1
            wait_until(lambda: len(_exports(tmp_path)) >= presses, "an export")
            newest = max(_exports(tmp_path), key=lambda p: p.stat().st_mtime_ns)
            doc = orjson.loads(newest.read_bytes())
            lines = doc["lines"]
            total = lines["records"] + lines["foreign"] + lines["rejected"]
            return doc if total == LINES and doc["window_name"] == AFTER_10M else None

        doc = wait_until(exported_all, "an export counting every piped line")
        assert doc["lines"]["records"] == LINES  # type: ignore[index]
        assert doc["window_name"] == AFTER_10M  # the terminal's w, typed once
        assert proc.poll() is None  # the q's in the log did not quit
        assert len(_exports(tmp_path)) == presses  # the e's in the log exported nothing

        tty.type(b"q")
        assert proc.wait(30) == 0
    finally:
        _stop(proc)


@pytest.mark.parametrize("sighup", ["SIG_DFL", "SIG_IGN"])
def test_the_app_ends_when_its_terminal_goes_away(tty: Tty, tmp_path: Path, sighup: str) -> None:
    """Also when started with hang-ups ignored (``nohup``): a live view left without its
    terminal would hold its state's lock for ever."""
    proc = _spawn(["-"], tmp_path, stdout=tty.slave, ctty=True, sighup=sighup)
    try:
        wait_until(lambda: b"claude-top" in tty.seen(), "the first frame")
        tty.close()  # the terminal window closes: hang-up
        proc.wait(30)
        assert proc.returncode != 0
    finally:
        _stop(proc)


@pytest.mark.parametrize("case", ["stdout a pipe", "no controlling terminal"])
def test_without_a_terminal_it_says_so_in_one_line(tty: Tty, tmp_path: Path, case: str) -> None:
    if case == "stdout a pipe":
        proc = _spawn(["-"], tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, ctty=False)
    else:  # stdout is a terminal, but not the process's: /dev/tty cannot be opened
        proc = _spawn(["-"], tmp_path, stdout=tty.slave, stderr=subprocess.PIPE, ctty=False)
    try:
        _, err = proc.communicate(b"", timeout=60)
        assert proc.returncode != 0
        text = err.decode()
        assert text.count("\n") == 1 and text.startswith("claude-top: no terminal")
        assert "claude-top summary --follow" in text
        assert b"\x1b" not in err
        if case == "stdout a pipe":
            assert proc.stdout is not None
    finally:
        _stop(proc)
    if case == "stdout a pipe":
        assert b"\x1b" not in tty.seen()
