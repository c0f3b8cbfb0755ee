"""The wrapper's log file: appended to whole lines at a time, whatever happens to the path.

The app owns its environment, and the file the wrapper writes lives in it: logrotate renames it
and creates a new one, someone removes it, the disk fills up, or the path is a FIFO that nobody
reads. ``LogFile`` keeps each of those from costing more than the lines it really cannot write:

- **Rotation and removal.** Before each line the path is checked against the open descriptor
  (``(st_dev, st_ino)``, as ``logging.handlers.WatchedFileHandler`` does); when it names another
  file or none, the descriptor is closed and the path opened again (created if missing). So
  after a rename-and-create the lines go to the new file, and after ``rm`` to a new file there.
- **Short writes.** A line is written with one ``os.write``; if the kernel takes only part of it
  (a full disk), the rest is written at once. If that fails too, the line is lost, and the next
  line starts with a newline so it is never glued onto the partial one (which a reader then
  rejects as a broken line).
- **Never blocking.** The descriptor is opened with ``O_NONBLOCK``. A FIFO with no reader fails
  to open (``ENXIO``) and a FIFO whose reader is not keeping up refuses the write (``EAGAIN``):
  either way that line is dropped, never waited for, and the next line tries again. A regular
  file's write goes to the page cache and never waits for the disk itself (there is no
  ``fsync``); only a filesystem that hangs outright (a hard NFS mount whose server is gone) can
  still stall a write, as it would stall any ``write()`` the app makes.

Every method returns whether the line was written whole; the caller counts the losses.
"""

from __future__ import annotations

import contextlib
import errno
import os
import weakref

__all__ = ["LogFile"]

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_NEWLINE = ord("\n")
_DEAD_DESCRIPTOR = (errno.EPIPE, errno.EBADF)
"""Write errors after which the descriptor is useless (the FIFO's reader left): reopen next."""


class LogFile:
    """A path opened for appending lines; not thread-safe (``LogSink`` holds a lock around it)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._ident: tuple[int, int] | None = None
        self._closer: weakref.finalize[[int], LogFile] | None = None
        self._partial = False
        """The file's last byte is inside a line of ours that was cut short."""

    @property
    def fd(self) -> int | None:
        """The open descriptor (None until opened, or after it was given up)."""
        return self._fd

    def open(self) -> None:
        """Open the path unless already open; raises ``OSError`` when it cannot be."""
        if self._fd is not None:
            return
        fd = os.open(self.path, _FLAGS, 0o644)
        st = os.fstat(fd)
        self._fd, self._ident, self._partial = fd, (st.st_dev, st.st_ino), False
        self._closer = weakref.finalize(self, _close_quietly, fd)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if self._closer is not None:
            self._closer.detach()
            self._closer = None
        if fd is not None:
            _close_quietly(fd)

    def append(self, line: bytes) -> bool:
        """Write ``line`` (ending in a newline) whole, or return False. Raises ``OSError`` only
        when the path cannot be opened."""
        self._reopen_if_moved()
        self.open()
        assert self._fd is not None
        data = b"\n" + line if self._partial else line
        written, error = _write_all(self._fd, data)
        if written == len(data):
            self._partial = False
            return True
        if written > 0:
            self._partial = data[written - 1] != _NEWLINE
        if error is not None and error.errno in _DEAD_DESCRIPTOR:
            self.close()
        return False

    def _reopen_if_moved(self) -> None:
        if self._fd is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.close()
            return
        except OSError:  # cannot look (a directory's permissions changed): keep writing
            return
        if (st.st_dev, st.st_ino) != self._ident:
            self.close()


def _write_all(fd: int, data: bytes) -> tuple[int, OSError | None]:
    """Write as much of ``data`` as the descriptor takes: (bytes written, the error that stopped
    it, if one did)."""
    try:
        done = os.write(fd, data)  # nearly always the whole line at once
    except OSError as exc:
        return 0, exc
    view = memoryview(data)
    while 0 < done < len(data):
        try:
            n = os.write(fd, view[done:])
        except OSError as exc:
            return done, exc
        if n <= 0:
            break
        done += n
    return max(done, 0), None


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
