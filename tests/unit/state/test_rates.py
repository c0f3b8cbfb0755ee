"""The rate-limit tracker through a state file: saved at one clock, loaded at a later one, it
holds what a tracker fed every call at the later clock holds (``state.rates``)."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.record import Record
from claude_top.engine.headroom import KEEP_S, ClassLimits, Headroom, HeadroomConfig
from claude_top.state import rates
from claude_top.state.db import StateError, open_state
from claude_top.state.load import load_meta
from loggen import T0

CONFIG = HeadroomConfig(
    {"sonnet-4": ClassLimits(rpm=50, itpm=9000)},
    (("mystery", "odd"),),
    itpm_counts_cache_reads=True,
)
Raw = tuple[float, int, int, int, int, int, int, bool]
MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "mystery-model", "claude-opus-4-1")

calls = st.lists(
    st.tuples(
        st.floats(-300, 60),  # seconds from the clock of the run that reads the call
        st.integers(0, 5),  # user
        st.integers(0, 3),  # feature
        st.integers(0, 3),  # model
        st.integers(0, 5000),
        st.integers(0, 2000),
        st.integers(0, 3000),
        st.booleans(),  # carries rate-limit headers
    ),
    max_size=60,
)


def _records(raw: list[Raw], now: float) -> list[Record]:
    out = []
    for i, (off, u, f, m, inp, out_tok, cr, headers) in enumerate(raw):
        more = {}
        if headers:
            more = {
                "ratelimit_requests_limit": 40 + i,
                "ratelimit_requests_remaining": i,
                "ratelimit_output_tokens_limit": 7000 - i,
            }
        out.append(
            Record(now + off, f"r{i}", f"u{u}", f"f{f}", MODELS[m], inp, out_tok, cr, i % 3, 0,
                   100, "end_turn", None, None, **more)  # type: ignore[arg-type]
        )  # fmt: skip
    return out


def _same(a: Headroom, b: Headroom, now: float) -> None:
    for span in (1, 17, 60, 120, 180):
        assert a.snapshot(now, span, top=100) == b.snapshot(now, span, top=100), span
    assert sorted(a.header_values()) == sorted(b.header_values())
    # second by second (the drivers of a new 429 burst read the minute before it), but the one
    # the horizon cuts: the cold read took only its calls from the horizon on
    lo = int(now) - KEEP_S
    held = a.second_calls()
    assert min(held, default=lo) >= lo
    inner = sorted(s for s in held if s > lo)
    assert inner == sorted(s for s in b.second_calls() if s > lo)
    for sec in inner:
        assert sorted(a.second_rows(sec)) == sorted(b.second_rows(sec)), sec


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=calls,
    more=calls,
    later=calls,
    gap=st.floats(0, 400),
    gap2=st.floats(0, 400),
    cut=st.integers(0, 60),
)
def test_a_saved_tracker_loads_as_a_cold_read_would_have_it(
    tmp_path: Path,
    first: list[Raw],
    more: list[Raw],
    later: list[Raw],
    gap: float,
    gap2: float,
    cut: int,
) -> None:
    """Two commits (the second writes only the seconds that moved), a load at a later clock and
    new calls, against one tracker fed them all at that clock, as a read of the whole log."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as d:
        handle = open_state(str(Path(d) / "s.db"), "UTC", print)
        assert handle is not None
        try:
            _round_trip(handle.conn, first, more, later, gap, gap2, cut)
        finally:
            handle.close()


def _round_trip(
    conn: sqlite3.Connection,
    first: list[Raw],
    more: list[Raw],
    later: list[Raw],
    gap: float,
    gap2: float,
    cut: int,
) -> None:
    now1 = T0 + 0.25
    now2 = now1 + gap
    now3 = now2 + gap2
    recs1 = _records(first, now1)
    recs2 = _records(more, now2)
    recs3 = _records(later, now3)

    def commit(h: Headroom, w: rates.RateWriter, now: float) -> None:
        taken = w.take(now)
        conn.execute("BEGIN IMMEDIATE")
        w.write(conn, taken)
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(taken.meta.items()))
        conn.execute("COMMIT")
        w.done(taken)

    live = Headroom(CONFIG)
    writer = rates.RateWriter(live)
    live.add_fast(recs1[:cut], now1)
    commit(live, writer, now1)
    live.add_fast(recs1[cut:], now1)
    commit(live, writer, now1)

    warm = Headroom(CONFIG)
    writer = rates.RateWriter(warm)  # the next run: it loads, reads and commits
    writer.adopt(rates.load(conn, warm, load_meta(conn), now2))
    warm.add_fast(recs2, now2)
    cold = Headroom(CONFIG)
    cold.add_fast(recs1 + recs2, now2)
    _same(warm, cold, now2)

    commit(warm, writer, now2)
    again = Headroom(CONFIG)
    rates.load(conn, again, load_meta(conn), now3)
    again.add_fast(recs3, now3)
    cold = Headroom(CONFIG)
    cold.add_fast(recs1 + recs2 + recs3, now3)
    _same(again, cold, now3)
    n = conn.execute("SELECT count(*) FROM headroom WHERE second < ?", (int(now2) - 180,))
    assert n.fetchone() == (0,)  # what the clock left behind is gone from the file


def test_counts_of_another_layout_are_not_loaded(tmp_path: Path) -> None:
    """Another class mapping or ITPM rule counted other numbers: they are not taken, and the
    first commit replaces them."""
    handle = open_state(str(tmp_path / "s.db"), "UTC", print)
    assert handle is not None
    conn = handle.conn
    h = Headroom(CONFIG)
    h.add_fast(_records([(-5.0, 1, 1, 2, 100, 10, 50, True)], T0), T0)
    w = rates.RateWriter(h)
    taken = w.take(T0)
    w.write(conn, taken)
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(taken.meta.items()))
    conn.commit()
    other = Headroom(HeadroomConfig())
    assert rates.load(conn, other, load_meta(conn), T0) is True
    assert other.second_calls() == {} and other.header_values() == []
    same = Headroom(CONFIG)
    assert rates.load(conn, same, load_meta(conn), T0) is False
    assert same.second_calls() == h.second_calls()
    handle.close()


def test_a_damaged_row_is_a_state_error(tmp_path: Path) -> None:
    handle = open_state(str(tmp_path / "s.db"), "UTC", print)
    assert handle is not None
    conn = handle.conn
    h = Headroom(CONFIG)
    conn.execute("INSERT INTO meta VALUES (?, ?)", (rates.LAYOUT_KEY, rates.layout(h)))
    conn.execute("INSERT INTO headroom VALUES (?, 'class', 'x', '', 'many', 0, 0)", (int(T0),))
    conn.commit()
    with pytest.raises(StateError):
        rates.load(conn, h, load_meta(conn), T0)
    handle.close()
