"""Latency bucket counts as HdrHistogram's standard compressed bytes, and back.

The engine keeps a latency histogram as ``{lowest value of an HDR bucket: count}``
(``core.histogram``: 1 ms .. 1 h, two significant figures, HDR's own bucket layout). The state
stores each one as the bytes HdrHistogram's ``encodeIntoCompressedByteBuffer`` writes (a V2
compressed cookie, a length, a zlib'd V2 payload), made by the ``hdrhistogram`` package's
encoder, so any HDR tool reads them: ``HdrHistogram.decode(base64.b64encode(blob))`` in Python,
``Histogram.decodeFromCompressedByteBuffer`` in Java. Because the engine's buckets are HDR's
buckets, a count dict goes in and comes out unchanged.

Speed is why this is not ``record_value`` and ``decode`` used naively: ``record_value`` is pure
Python and ``HdrHistogram.decode`` builds a whole histogram object, about 120 and 400 µs a row
measured here, and a warm start loads tens of thousands of rows. Encoding fills one reused
histogram's counts array directly and calls the package's encoder; decoding runs the package's
C decoder (``pyhdrh.decode``) into one reused counts array and reads back only the span it
reports as non-zero. ``tests/unit/state/test_hdr.py`` checks both against ``hdrh`` itself.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import struct
import zlib
from collections.abc import Mapping
from itertools import compress
from typing import Any

from hdrh.histogram import HdrHistogram
from pyhdrh import decode as _c_decode

from claude_top.core.histogram import HIGHEST_MS, LOWEST_MS, SIGNIFICANT_FIGURES

_EXTERNAL_HEADER = 8
"""Compressed cookie and length before the zlib stream."""
_PAYLOAD_HEADER = 40
"""The V2 payload header inside the zlib stream, before the counts."""
_WORD = 8
_LAYOUT = struct.Struct(">IQQ")
"""Significant figures, lowest and highest trackable value, in the payload header."""


class HdrError(ValueError):
    """Bytes that are not a histogram of the engine's layout (a corrupt or foreign state)."""


def new_histogram() -> Any:
    """An empty ``hdrh`` histogram of the engine's layout (1 ms .. 1 h, 2 figures)."""
    return HdrHistogram(LOWEST_MS, HIGHEST_MS, SIGNIFICANT_FIGURES)


@functools.cache
def _values(n: int) -> list[int]:
    """Each counts index's lowest value, the same for every codec (read only): made once, as
    ``check`` and the writer make several codecs."""
    h = new_histogram()
    return [h.get_value_from_index(i) for i in range(n)]


class Codec:
    """Encoder and decoder sharing one histogram and one counts array (not thread-safe:
    one per writer or loader)."""

    def __init__(self) -> None:
        self._h = new_histogram()
        self._counts = self._h.counts
        self._addr = ctypes.addressof(self._counts)
        self._size = ctypes.sizeof(self._counts)
        self._len = self._h.counts_len
        self._index: dict[int, int] = {}
        self._value = _values(self._len)
        self._buf = (ctypes.c_int64 * self._len)()
        self._buf_addr = ctypes.addressof(self._buf)
        self._view = memoryview(self._buf).cast("B").cast("q")

    def encode(self, counts: Mapping[int, int]) -> bytes:
        """HdrHistogram's standard compressed bytes of ``{bucket low: count}``."""
        h, c, index = self._h, self._counts, self._index
        ctypes.memset(self._addr, 0, self._size)
        total = 0
        for low, n in counts.items():
            i = index.get(low)
            if i is None:
                i = index[low] = h._counts_index_for(low)
                if not 0 <= i < self._len or self._value[i] != low:
                    raise HdrError(f"{low} is not the low end of an HDR bucket in range")
            c[i] = n
            total += n
        h.total_count = total
        h.min_value = min(counts) if counts else 0
        h.max_value = max(counts) if counts else 0
        return base64.b64decode(h.encode())

    def decode(self, blob: bytes) -> dict[int, int]:
        """The bucket counts of a blob ``encode`` wrote (or any HDR tool wrote for this layout)."""
        try:
            data = zlib.decompress(blob[_EXTERNAL_HEADER:])
            if len(data) < _PAYLOAD_HEADER:
                raise HdrError("histogram payload too short")
            figures, lowest, highest = _LAYOUT.unpack_from(data, 12)
            if (figures, lowest) != (SIGNIFICANT_FIGURES, LOWEST_MS) or highest < HIGHEST_MS:
                raise HdrError(f"a histogram of another layout ({lowest}..{highest}, {figures})")
            r = _c_decode(data, _PAYLOAD_HEADER, self._buf_addr, self._len, _WORD)
        except (zlib.error, TypeError, ValueError) as e:
            raise HdrError(f"not an HDR histogram: {e}") from None
        if not r["total"]:
            return {}
        lo, hi = r["min_nonzero_index"], r["max_nonzero_index"] + 1
        seg = self._view[lo:hi].tolist()
        ctypes.memset(self._buf_addr + _WORD * lo, 0, _WORD * (hi - lo))
        # In C from here: the values of the non-zero counts, paired with those counts.
        return dict(zip(compress(self._value[lo:hi], seg), filter(None, seg), strict=True))


def read_with_hdrh(blob: bytes) -> Any:
    """The blob as a ``hdrh.histogram.HdrHistogram``, decoded by the package itself."""
    return HdrHistogram.decode(base64.b64encode(blob))
