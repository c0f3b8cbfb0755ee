"""Short names for bytes: the BLAKE2b digests a state keeps (a price table's, a file's start).

``hashlib.blake2b`` is CPython's own ``_blake2`` module: ``hashlib`` never takes BLAKE2 from
OpenSSL. Importing ``hashlib`` also loads OpenSSL's ``_hashlib`` for the constructors it does
take from there (2.5 ms at every start here, most of it ``_hashlib``), which a ``check``
from cron never uses. So the function is taken from ``_blake2`` itself: the very same function,
hence the same digests as ``hashlib.blake2b`` gives (a test compares them), and ``hashlib``
only where a Python is built without that module.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b as _blake2b
except ImportError:  # pragma: no cover - a CPython built without its own BLAKE2
    from hashlib import blake2b as _blake2b


def blake2b_hex(data: bytes, size: int) -> str:
    """The BLAKE2b digest of ``data``, ``size`` bytes long, in hex (``hashlib.blake2b(data,
    digest_size=size).hexdigest()``)."""
    return _blake2b(data, digest_size=size).hexdigest()
