"""The digests a state keeps are ``hashlib``'s BLAKE2b, whichever module gives the function:
a state written before ``core.digest`` took it from ``_blake2`` loads at the same prices and
finds its files by the same fingerprints."""

from __future__ import annotations

import hashlib

from claude_top.core.digest import blake2b_hex
from claude_top.engine.pricing.table import PRICING, PriceTable
from claude_top.sources.fingerprint import Fingerprint


def test_the_digest_is_hashlibs_blake2b() -> None:
    for data in (b"", b"x", bytes(range(256)) * 5):
        for size in (4, 8, 32):
            assert blake2b_hex(data, size) == hashlib.blake2b(data, digest_size=size).hexdigest()


def test_a_price_tables_digest_and_a_fingerprint_are_unchanged() -> None:
    table = PriceTable.builtin()
    facts = (PRICING, table.batch_discount, table.rows(), table.modifiers, table.tools)
    assert table.digest() == hashlib.blake2b(repr(facts).encode(), digest_size=8).hexdigest()
    head = b'{"timestamp": "2026-01-01T00:00:00Z"}\n' * 8
    assert Fingerprint(head).digest == hashlib.blake2b(head, digest_size=8).hexdigest()
