"""A bug met on one line rejects that line ("internal error") and reading goes on."""

from __future__ import annotations

from typing import Any

import pytest

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.ingest import fast, reader
from claude_top.ingest.reader import R_INTERNAL
from loggen import T0, line

BATCH = [
    line(T0, request_id="a"),
    line(T0 + 1, feature="boom", batch=False),  # a key the fast decoder leaves to the reader
    line(T0 + 2, request_id="b"),
]


def _engine(fast_decoder: bool) -> Engine:
    return Engine(clock=FixedClock(T0 + 60), fast_decoder=fast_decoder)


@pytest.mark.parametrize("fast_decoder", [True, False])
def test_a_reader_failure_rejects_its_line_only(
    fast_decoder: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = reader.record_from_dict

    def broken(d: dict[str, Any]) -> Any:
        if d.get("feature") == "boom":
            raise RuntimeError("a bug")
        return real(d)

    monkeypatch.setattr(reader, "record_from_dict", broken)
    e = _engine(fast_decoder)
    e.ingest_lines(BATCH)
    assert (e.lines.records, e.lines.rejected, e.lines.by_reason) == (2, 1, {R_INTERNAL: 1})
    assert [x[1:3] for x in e.lines.examples] == [(2, R_INTERNAL)]
    assert e.query().total.calls == 2


@pytest.mark.parametrize("fast_decoder", [True, False])
def test_a_failure_outside_the_record_rules_rejects_its_line_only(
    fast_decoder: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = reader.parse_line

    def broken(raw: bytes, _depth: int = 0) -> Any:
        if b'"boom"' in raw:
            raise MemoryError
        return real(raw, _depth)

    monkeypatch.setattr(reader, "parse_line", broken)
    e = _engine(fast_decoder)
    e.ingest_lines(BATCH)
    assert (e.lines.records, e.lines.rejected, e.lines.by_reason) == (2, 1, {R_INTERNAL: 1})


def test_a_fast_decoder_failure_leaves_the_line_to_the_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = fast._minute
    second = line(T0 + 60).decode()[14:30]  # the second line's minute, looked up once

    hit: list[str] = []

    def broken(prefix: str) -> tuple[float, str]:
        if prefix == second:
            hit.append(prefix)
            raise AssertionError("a bug")
        return real(prefix)

    fast._minutes.clear()
    monkeypatch.setattr(fast, "_minute", broken)
    lines = [line(T0, request_id="a"), line(T0 + 60), line(T0 + 120, request_id="b")]
    e = _engine(True)
    e.ingest_lines(lines)
    assert hit  # the fast decoder did fail on the second line
    assert (e.lines.records, e.lines.rejected) == (3, 0)
    assert e.query().total.calls == 3
