"""Opening what the user named on the command line: files, globs, rotated ``.gz`` files, stdin.

One-shot commands (``summary``, ``check``) read their inputs through here in batches of raw lines;
the live follower reuses ``open_bytes`` for rotated history. Lines stay ``bytes``: decoding is the
reader's job, so invalid UTF-8 becomes a counted rejection instead of an exception here.
"""

from __future__ import annotations

import glob
import gzip
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from claude_top.core.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
BATCH_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive complete lines of one source.

    A line may still end in ``\n`` or ``\r\n``: JSON allows trailing whitespace and the reader
    strips it, so one-shot reads skip a per-line copy the hot path does not need.
    """

    source: str
    first_lineno: int
    lines: list[bytes]


def expand(specs: list[str]) -> list[str]:
    """Expand globs; keep ``-`` for stdin; a name that matches nothing is an error."""
    out: list[str] = []
    for spec in specs:
        if spec == "-":
            out.append(spec)
            continue
        if glob.has_magic(spec):
            matches = sorted(glob.glob(spec), key=_rotation_order)
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
    return out


def _rotation_order(path: str) -> tuple[str, int]:
    """Oldest first: ``app.log.3.gz``, ``app.log.2``, ``app.log.1``, ``app.log``."""
    name = path[:-3] if path.endswith(".gz") else path
    base, dot, suffix = name.rpartition(".")
    if dot and suffix.isdigit():
        return (base, -int(suffix))
    return (name, 0)


def is_gzip(path: str) -> bool:
    """Detect gzip by its magic bytes, not by the file name."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_bytes(path: str) -> BinaryIO:
    """Open a file for reading bytes, transparently decompressing gzip."""
    if path == "-":
        return sys.stdin.buffer
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_batches(path: str, batch_bytes: int = BATCH_BYTES) -> Iterator[Batch]:
    """Yield a source's complete lines in batches of about ``batch_bytes``.

    A last line without a newline is still a line here: a one-shot read has no writer to wait for.
    """
    lineno = 1
    try:
        f = open_bytes(path)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from e
    try:
        while True:
            try:
                lines = f.readlines(batch_bytes)
            except (OSError, EOFError, gzip.BadGzipFile) as e:
                raise InputError(f"{path}: read failed: {e}") from e
            if not lines:
                return
            yield Batch(path, lineno, lines)
            lineno += len(lines)
    finally:
        if f is not sys.stdin.buffer:
            f.close()
