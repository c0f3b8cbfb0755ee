"""The older buckets summed from the file (``state.older``) answer every window as memory does.

One engine loads only its newest buckets from a state, reads new lines (some late, into
buckets it did not load), commits and then answers the older buckets from the file; another
loads the whole state. Every window of every shape (starts and ends on minutes, quarter hours
and days, open ends, filters) must give the same summary and the same cost-only fold in both,
but the latency histograms, which the file's sums do not carry (``check`` reads p95 only over
its newest buckets).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from claude_top.core.clock import FixedClock
from claude_top.core.stats import GroupStats, Summary
from claude_top.engine.engine import Engine
from claude_top.engine.pricing import PriceTable
from claude_top.state.load import Horizon
from claude_top.state.session import open_session, read_new
from loggen import T0
from statekit import chunk, events, warm

DAY = 86400.0
NOW = T0 + 4 * DAY
PRICES = PriceTable.builtin().with_overrides(
    {"mystery-model": {"input": 1, "output": 4, "effective": "2026-11-22"}}
)
"""A model priced from a date on: a span over that date has priced and unpriced rows of it."""


def _bare(g: GroupStats) -> GroupStats:
    return replace(g, latency=None)


def _answers(engine: Engine, spans: list[tuple[float | None, float | None]]) -> list[Any]:
    out: list[Any] = []
    for start, end in spans:
        for by, match in (("feature", None), ("model", None), ("feature", "HAIKU")):
            s: Summary = engine.query(start, end, by=by, match=match)
            out.append((_bare(s.total), {k: _bare(g) for k, g in s.groups.items()}))
        if end is not None:
            out.append(engine.span_cost(start, end))
            out.append(engine.span_cost(start, end, match="cha"))
            out.append(engine.span_cost(start, end, match="HAIKU"))
    return out


def _spans(rnd: random.Random) -> list[tuple[float | None, float | None]]:
    edges = [T0 + d * DAY for d in range(5)] + [NOW - 86400, NOW - 3600, NOW - 600, NOW]
    spans: list[tuple[float | None, float | None]] = [(None, None), (None, NOW - DAY), (T0, None)]
    spans += [(a, b) for a in edges for b in edges if a < b]
    for _ in range(40):
        a = T0 + rnd.uniform(-DAY, 4.2 * DAY)
        b = a + rnd.choice([600.0, 3600.0, DAY, rnd.uniform(0, 3 * DAY)])
        spans.append((a, b))
        spans.append((round(a / 60) * 60, round(b / 900) * 900))
    return spans


@pytest.mark.parametrize("before", [NOW - 900, NOW + 600])
def test_the_files_sums_answer_every_window_as_the_loaded_rows_do(
    tmp_path: Path, before: float
) -> None:
    """``before`` past every call: memory holds nothing newer (a log that stopped)."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(1500, 1, span=4 * DAY - 900))
    warm(state, [str(log)])  # the built-in prices: the next session prices the rows again
    with open(log, "ab") as f:  # late lines over the older days, and new ones
        f.write(chunk(200, 2, start=T0, span=3 * DAY))
        f.write(chunk(100, 3, start=NOW - 900, span=800))
    part = Engine(PRICES, clock=FixedClock(NOW))
    horizon = Horizon(groups_from=T0, users=False, older_before=before, fine_before=NOW - 26 * 3600)
    session = open_session(str(state), part, print, horizon=horizon)
    assert session is not None
    read_new(part, [str(log)], session)
    assert session.older_before is None  # costs at another table: it loaded all it needed
    session.close()

    part = Engine(PRICES, clock=FixedClock(NOW))
    session = open_session(str(state), part, print, horizon=horizon)
    assert session is not None and session.older_before == before
    read_new(part, [str(log)], session)
    older = session.older()
    assert older is not None
    part.answer_older(older)
    spans = _spans(random.Random(5))
    got = _answers(part, spans)
    session.close()

    whole = Engine(PRICES, clock=FixedClock(NOW))
    session = open_session(str(state), whole, print, horizon=Horizon(users=False))
    assert session is not None
    read_new(whole, [str(log)], session)
    want = _answers(whole, spans)
    session.close()
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, i


def test_events_left_in_the_file_get_the_new_ones_added_as_a_full_load_keeps_them(
    tmp_path: Path,
) -> None:
    """Two commits of one session that did not load the events: the second adds only what
    came after the first (and past the 20 errors kept per feature, the oldest go)."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(600, 1, span=3 * DAY))
    warm(state, [str(log)])
    engine = Engine(clock=FixedClock(NOW))
    session = open_session(str(state), engine, print, horizon=Horizon(users=False, events=False))
    assert session is not None
    for seed in (2, 3):
        with open(log, "ab") as f:
            f.write(chunk(700, seed, start=T0 + 3 * DAY, span=DAY / 2))
        read_new(engine, [str(log)], session)
    session.close()
    fresh = tmp_path / "fresh.db"
    warm(fresh, [str(log)])
    assert events(state) == events(fresh)
    kinds = Counter(kind for kind, _ in events(state))
    errors = [n for kind, n in kinds.items() if kind.startswith("error:")]
    assert kinds["429"] > 0 and max(errors) == 20  # a feature's errors past the 20 kept
