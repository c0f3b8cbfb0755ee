"""Where the wrapper's lines go, and the count of the ones that never got there.

Writing is the one part of the wrapper that touches the app's environment (its disk, its logging
setup), so it lives apart from the observing of calls: ``LogSink`` takes a finished line and
either writes it or counts it as lost, and never raises into the app.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["LogSink", "LogTarget", "total_log_failures"]

LogTarget = str | os.PathLike[str] | logging.Logger | logging.LoggerAdapter[Any]

_failures_lock = threading.Lock()
_total_failures = 0


def total_log_failures() -> int:
    """Log lines lost in this process, over every instrumented client."""
    return _total_failures


class LogSink:
    """Where log lines go: a file (``O_APPEND``, one ``os.write`` per line) or a ``Logger``."""

    def __init__(self, target: LogTarget) -> None:
        self.failures = 0
        self._lock = threading.Lock()
        self._logger: logging.Logger | logging.LoggerAdapter[Any] | None = None
        self._path: str | None = None
        self._fd: int | None = None
        if isinstance(target, logging.Logger | logging.LoggerAdapter):
            self._logger = target
        else:
            self._path = os.fspath(target)
            with contextlib.suppress(OSError):  # retried (and counted) on the first write
                self._fd_or_open()

    def _fd_or_open(self) -> int:
        fd = self._fd
        if fd is not None:
            return fd
        assert self._path is not None
        with self._lock:
            if self._fd is None:
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                self._fd = os.open(self._path, flags, 0o644)
                weakref.finalize(self, _close_quietly, self._fd)
            return self._fd

    def write(self, record: Mapping[str, object]) -> bool:
        """Write one record as one JSON line. Never raises: returns False and counts a failure."""
        try:
            line = orjson.dumps(record, default=str)
            if self._logger is not None:
                self._logger.info(line.decode())
                return True
            data = line + b"\n"
            if os.write(self._fd_or_open(), data) != len(data):
                raise OSError("short write to the log")
            return True
        except Exception:
            self.count_failure()
            return False

    def count_failure(self) -> None:
        """Count one line lost (here and in ``total_log_failures()``)."""
        global _total_failures
        with _failures_lock:
            self.failures += 1
            _total_failures += 1

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            _close_quietly(fd)


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
