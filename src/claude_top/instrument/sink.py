"""Where the wrapper's lines go, and the count of the ones that never got there.

Writing is the one part of the wrapper that touches the app's environment (its disk, its logging
setup), so it lives apart from the observing of calls: ``LogSink`` takes a finished line and
either writes it or counts it as lost (``failures``, and ``total_log_failures()`` for the
process), and never raises into the app.

A path is written through ``LogFile`` (rotation, removal, short writes and FIFOs are handled
there; its docstring says how). A ``logging.Logger`` (or ``LoggerAdapter``) gets each line as
an INFO record handed straight to ``Logger.handle``: the logger's own level is not consulted, so
a logger left at WARNING (the default of the root logger) still passes every line to its
handlers, and nobody has to lower the app's log level for claude-top. Handlers keep their own
levels: when no handler on the logger's chain takes INFO records (or the logger is disabled)
the line would vanish, so it is counted as lost instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

import orjson

from .logfile import LogFile

__all__ = ["LogSink", "LogTarget", "total_log_failures"]

LogTarget = str | os.PathLike[str] | logging.Logger | logging.LoggerAdapter[Any]

_failures_lock = threading.Lock()
_total_failures = 0


def total_log_failures() -> int:
    """Log lines lost in this process, over every instrumented client."""
    return _total_failures


class LogSink:
    """Where log lines go: a file (``LogFile``, one line per ``os.write``) or a ``Logger``."""

    def __init__(self, target: LogTarget) -> None:
        self.failures = 0
        self._lock = threading.Lock()
        self._logger: logging.Logger | logging.LoggerAdapter[Any] | None = None
        self._file: LogFile | None = None
        if isinstance(target, logging.Logger | logging.LoggerAdapter):
            self._logger = target
        else:
            self._file = LogFile(os.fspath(target))
            # Early, so a bad path shows at once; retried (and counted) on each write.
            with contextlib.suppress(OSError):
                self._file.open()

    @property
    def _fd(self) -> int | None:
        """The log file's descriptor, if open (for tests)."""
        return None if self._file is None else self._file.fd

    def write(self, record: Mapping[str, object]) -> bool:
        """Write one record as one JSON line. Never raises: returns False and counts a failure."""
        try:
            line = orjson.dumps(record, default=str)
            if self._logger is not None:
                done = _emit(self._logger, line.decode())
            else:
                assert self._file is not None
                with self._lock:
                    done = self._file.append(line + b"\n")
        except Exception:
            done = False
        if not done:
            self.count_failure()
        return done

    def count_failure(self) -> None:
        """Count one line lost (here and in ``total_log_failures()``)."""
        global _total_failures
        with _failures_lock:
            self.failures += 1
            _total_failures += 1

    def close(self) -> None:
        if self._file is not None:
            with self._lock:
                self._file.close()


def _emit(target: logging.Logger | logging.LoggerAdapter[Any], text: str) -> bool:
    """Hand ``text`` to the logger's handlers at INFO, past the logger's level; False when no
    handler would take it."""
    extra: Mapping[str, object] | None = None
    if isinstance(target, logging.LoggerAdapter):
        text, kwargs = target.process(text, {})
        extra = kwargs.get("extra")
        logger = target.logger
    else:
        logger = target
    if logger.disabled or not _reaches_a_handler(logger, logging.INFO):
        return False
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 0, text, (), None, func="write", extra=extra
    )
    logger.handle(record)
    return True


def _reaches_a_handler(logger: logging.Logger, level: int) -> bool:
    """Whether ``Logger.callHandlers`` would give a record at ``level`` to some handler."""
    node: logging.Logger | None = logger
    while node is not None:
        if any(level >= handler.level for handler in node.handlers):
            return True
        node = node.parent if node.propagate else None
    last = logging.lastResort
    return last is not None and level >= last.level
