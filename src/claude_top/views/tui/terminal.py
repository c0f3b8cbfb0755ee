"""The controlling terminal: where the screen is drawn and keys are read, whatever stdin is.

``tail -F app.log | claude-top -`` gives the app a pipe as stdin. Textual's Linux driver reads
keys from ``sys.__stdin__`` and draws on ``sys.__stderr__``, so log bytes would act as keys (a
``q`` in a request id quits) and the key reader would take lines from the follower. Like ``less``
and ``fzf``, the app opens ``/dev/tty`` instead and the driver below reads and draws there only;
stdin belongs to the follower alone.

With no terminal at all (no ``/dev/tty``, or stdout not a terminal: cron, a pipe, CI) there is
nothing to draw on: ``open_terminal`` raises ``NoTerminal`` with one line to print, rather than
let the app write escape codes into a pipe.
"""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any

from textual.drivers.linux_driver import LinuxDriver

TTY = "/dev/tty"


class NoTerminal(Exception):
    """There is no terminal to draw the live view on; the message says why."""


class Terminal:
    """An open controlling terminal: one fd read for keys, one text stream drawn on."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.out = io.TextIOWrapper(
            io.FileIO(os.dup(fd), "w"), encoding="utf-8", errors="replace", write_through=True
        )

    def size(self) -> tuple[int, int]:
        """Columns and rows of the terminal (80x24 if it will not say)."""
        try:
            cols, rows = os.get_terminal_size(self.fd)
        except OSError:
            return 80, 24
        return cols or 80, rows or 24

    def close(self) -> None:
        """Close both ends (again: nothing)."""
        if self.fd < 0:
            return
        with contextlib.suppress(OSError, ValueError):
            self.out.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1


def open_terminal(stdout_fd: int = 1, path: str = TTY) -> Terminal:
    """The controlling terminal, opened for reading keys and drawing; ``NoTerminal`` if none."""
    if not _isatty(stdout_fd):
        raise NoTerminal("standard output is not a terminal")
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise NoTerminal(f"no controlling terminal ({path}: {e.strerror or e})") from None
    if not os.isatty(fd):
        os.close(fd)
        raise NoTerminal(f"{path} is not a terminal")
    return Terminal(fd)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


class TerminalDriver(LinuxDriver):
    """Textual's Linux driver, reading keys from and drawing on ``app.terminal``, not stdin."""

    def __init__(self, app: Any, **kw: Any) -> None:
        super().__init__(app, **kw)
        term: Terminal = app.terminal
        self._terminal = term
        self._file = term.out
        self.fileno = term.fd
        self.input_tty = True

    def _get_terminal_size(self) -> tuple[int, int]:
        return self._terminal.size()
