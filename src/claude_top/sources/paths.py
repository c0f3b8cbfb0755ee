"""Opening what the user named on the command line: files, globs, rotated ``.gz`` files, stdin.

One-shot commands (``summary``, ``check``) read their inputs through here, framed into batches of
lines by ``batches`` like every other reader; the live follower reuses ``open_bytes`` for rotated
history. ``gzip`` is imported when a compressed file is opened, not at every start of a ``check``
of a plain log.
"""

from __future__ import annotations

import glob
import os
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO

from claude_top.core.errors import InputError
from claude_top.sources.batches import MAX_LINE_BYTES, Batch, OnOverlong, batches_only, frame

__all__ = [
    "Batch",
    "expand",
    "identity",
    "is_gunzipped",
    "is_gzip",
    "is_regular",
    "is_rotated_name",
    "once_each",
    "open_bytes",
    "read_batches",
    "rotation_order",
]

GZIP_MAGIC = b"\x1f\x8b"


def expand(specs: list[str]) -> list[str]:
    """Expand globs; keep ``-`` for stdin; a name that matches nothing is an error."""
    out: list[str] = []
    for spec in specs:
        if spec == "-":
            out.append(spec)
            continue
        if glob.has_magic(spec):
            matches = sorted(glob.glob(spec), key=rotation_order)
            if not matches:
                raise InputError(f"{spec}: no file matches this pattern")
            out.extend(matches)
        else:
            out.append(spec)
    for path in out:
        if path == "-":
            continue
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file")
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, not a log file")
        if not os.access(path, os.R_OK):
            raise InputError(f"{path}: permission denied")
    return once_each(out)


def identity(path: str) -> tuple[int, int] | str:
    """What a name stands for: (device, inode) of the file, so two names of one file (a link,
    ``./x`` and ``x``, overlapping globs) are one input; the absolute path if it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return os.path.abspath(path)
    return (st.st_dev, st.st_ino)


def once_each(paths: list[str]) -> list[str]:
    """``paths`` without the second and later names of one file (the first name is kept)."""
    seen: set[tuple[int, int] | str] = set()
    out: list[str] = []
    for path in paths:
        key = identity(path) if path != "-" else path
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def is_regular(path: str) -> bool:
    """A plain file, which can be seeked and sniffed; not a pipe, FIFO, socket or device."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def rotation_order(path: str) -> tuple[str, int]:
    """Oldest first: ``app.log.3.gz``, ``app.log.2``, ``app.log.1``, ``app.log``."""
    name = path[:-3] if path.endswith(".gz") else path
    base, dot, suffix = name.rpartition(".")
    if dot and suffix.isdigit():
        return (base, -int(suffix))
    return (name, 0)


def is_rotated_name(path: str) -> bool:
    """``app.log.1`` / ``app.log.2.gz``: a finished file of a rotation set, read once, not followed."""
    name = path[:-3] if path.endswith(".gz") else path
    base, dot, suffix = os.path.basename(name).rpartition(".")
    return bool(dot and base and suffix.isdigit())


def is_gzip(path: str) -> bool:
    """Detect gzip by its magic bytes, not by the file name (False for a pipe: reading its first
    bytes would take them from the real reader)."""
    if not is_regular(path):
        return False
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_bytes(path: str) -> BinaryIO:
    """Open an input once for reading bytes, transparently decompressing gzip.

    The magic bytes are peeked at through the open handle, never read by a second open: a pipe
    or FIFO gives its bytes to one reader only, and a FIFO whose writer has gone would block a
    second open for ever.
    """
    if path == "-":
        return sys.stdin.buffer
    f = open(path, "rb")  # noqa: SIM115 - the caller closes it
    try:
        head = f.peek(2)[:2]
    except OSError:
        f.close()
        raise
    if head != GZIP_MAGIC:
        return f
    import gzip

    g = gzip.GzipFile(fileobj=f, mode="rb")
    g.myfileobj = f  # type: ignore[assignment]  # closed with it, as gzip.open(name) arranges
    return g  # type: ignore[return-value]


def is_gunzipped(f: BinaryIO) -> bool:
    """Whether ``f`` (from ``open_bytes``) decompresses a gzip file. No ``GzipFile`` exists
    before ``open_bytes`` imports ``gzip`` to make one, so without it none is asked for."""
    gzip = sys.modules.get("gzip")
    return gzip is not None and isinstance(f, gzip.GzipFile)


def read_batches(
    path: str, on_overlong: OnOverlong, *, max_line: int = MAX_LINE_BYTES
) -> Iterator[Batch]:
    """Yield a source's lines in batches; each over-long line goes to ``on_overlong`` instead.

    A last line without a newline is still a line here: a one-shot read has no writer to wait for.
    """
    try:
        f = open_bytes(path)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from e
    try:
        yield from batches_only(frame(f, path, max_line=max_line), on_overlong)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise InputError(f"{path}: read failed: {e}") from e
    finally:
        if f is not sys.stdin.buffer:
            f.close()
