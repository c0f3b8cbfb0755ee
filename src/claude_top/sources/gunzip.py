"""Decompressing a gzip stream as it arrives: a rotated ``.gz`` read over ssh or from a command.

``paths.open_bytes`` decompresses a local file through ``gzip.GzipFile``, which needs a file to
read from; a remote file arrives as chunks on a pipe instead. Detected by the magic bytes, like
local files, never by the name; concatenated members (``cat a.gz b.gz``) are read in turn.
"""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b"


class Gunzip:
    """Feed compressed chunks, get the bytes they hold (``zlib.error`` on corrupt input)."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    @classmethod
    def if_compressed(cls, first: bytes) -> Gunzip | None:
        """A decompressor when the stream's first bytes are gzip's magic, else None."""
        return cls() if first[:2] == GZIP_MAGIC else None

    def feed(self, data: bytes) -> bytes:
        out = [self._z.decompress(data)]
        while self._z.eof and self._z.unused_data:
            rest = self._z.unused_data
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out.append(self._z.decompress(rest))
        return b"".join(out)

    def flush(self) -> bytes:
        return self._z.flush()
