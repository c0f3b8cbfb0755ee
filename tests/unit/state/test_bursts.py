"""The tracker's 429 bursts through a state file (``state.bursts``): saved by one run, loaded by
the next, which then reads the rest, they are the bursts of one tracker fed every record."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.core.record import Record
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import BURSTS_KEPT, Headroom, HeadroomConfig
from claude_top.state import rates
from claude_top.state.db import StateError, open_state
from claude_top.state.load import load_meta
from claude_top.state.session import open_session
from loggen import T0

MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-1")
Raw = tuple[float, int, int, int, bool]

records = st.lists(
    st.tuples(
        st.floats(-900, 30),  # seconds from the clock
        st.integers(0, 3),  # user
        st.integers(0, 2),  # feature
        st.integers(0, 2),  # model
        st.booleans(),  # a 429
    ),
    max_size=50,
)


def _records(raw: list[Raw], now: float) -> list[Record]:
    return [
        Record(now + off, f"r{i}", f"u{u}", f"f{f}", MODELS[m], 100 + i, 0 if r else 50, 0, 0,
               0, 100, "error" if r else "end_turn", None, 429 if r else None)
        for i, (off, u, f, m, r) in enumerate(raw)
    ]  # fmt: skip


def _commit(conn: sqlite3.Connection, w: rates.RateWriter, now: float) -> int:
    taken = w.take(now)
    conn.execute("BEGIN IMMEDIATE")
    n = w.write(conn, taken)
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(taken.meta.items()))
    conn.execute("COMMIT")
    w.done(taken)
    return n - len(taken.rows)


def _same(a: Headroom, b: Headroom) -> None:
    assert list(a.bursts) == list(b.bursts)
    assert a.burst_log.opened() == b.burst_log.opened()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=records, more=records, cut=st.integers(0, 50))
def test_saved_bursts_load_as_a_cold_read_would_have_them(
    tmp_path: Path, first: list[Raw], more: list[Raw], cut: int
) -> None:
    """Two commits of one run, then a run that loads and reads the rest, at one clock."""
    now = T0 + 0.5
    recs1, recs2 = _records(first, now), _records(more, now)
    with tempfile.TemporaryDirectory(dir=tmp_path) as d:
        handle = open_state(str(Path(d) / "s.db"), "UTC", print)
        assert handle is not None
        conn = handle.conn
        try:
            live = Headroom()
            w = rates.RateWriter(live)
            live.add_fast(recs1[:cut], now)
            _commit(conn, w, now)
            live.add_fast(recs1[cut:], now)
            _commit(conn, w, now)
            assert _commit(conn, w, now) == 0  # nothing moved: nothing written

            warm = Headroom()
            w2 = rates.RateWriter(warm)
            w2.adopt(rates.load(conn, warm, load_meta(conn), now))
            _same(warm, live)
            warm.add_fast(recs2, now)
            cold = Headroom()
            cold.add_fast(recs1 + recs2, now)
            _same(warm, cold)
            _commit(conn, w2, now)
            again = Headroom()
            rates.load(conn, again, load_meta(conn), now)
            _same(again, cold)
        finally:
            handle.close()


def test_an_open_burst_pushed_out_of_the_kept_is_still_extended(tmp_path: Path) -> None:
    """A burst of one class, then more bursts of another than are kept: the first is no longer
    shown, but a late 429 near it still counts into it, after a restart as before."""
    now = T0 + 10 * 86400
    old = [_records([(-7200.0, 0, 0, 2, True)], now)[0]]
    many = _records([(-7000.0 + 61 * k, 1, 1, 0, True) for k in range(BURSTS_KEPT + 5)], now)
    late = _records([(-7190.0, 2, 2, 2, True)], now)
    handle = open_state(str(tmp_path / "s.db"), "UTC", print)
    assert handle is not None
    live = Headroom()
    w = rates.RateWriter(live)
    live.add_fast(old + many, now)
    _commit(handle.conn, w, now)
    (n,) = handle.conn.execute("SELECT count(*) FROM bursts WHERE seq < 0 AND open").fetchone()
    assert n == 1
    warm = Headroom()
    rates.load(handle.conn, warm, load_meta(handle.conn), now)
    warm.add_fast(late, now)
    cold = Headroom()
    cold.add_fast(old + many + late, now)
    assert len(cold.bursts) == BURSTS_KEPT and cold.bursts[-1].model_class == "sonnet-4"
    _same(warm, cold)
    handle.close()


def test_bursts_of_another_layout_are_not_loaded_and_are_replaced(tmp_path: Path) -> None:
    now = T0 + 0.5
    handle = open_state(str(tmp_path / "s.db"), "UTC", print)
    assert handle is not None
    conn = handle.conn
    h = Headroom()
    h.add_fast(_records([(-5.0, 1, 1, 2, True), (-900.0, 1, 1, 0, True)], now), now)
    _commit(conn, rates.RateWriter(h), now)
    other = Headroom(HeadroomConfig(classes=(("claude-opus", "big"),)))
    w = rates.RateWriter(other)
    w.adopt(rates.load(conn, other, load_meta(conn), now))
    assert list(other.bursts) == []
    other.add_fast(_records([(-1.0, 0, 0, 2, True)], now), now)
    _commit(conn, w, now)
    assert conn.execute("SELECT class FROM bursts").fetchall() == [("big",)]
    handle.close()


def test_the_prune_drops_bursts_older_than_the_retention(tmp_path: Path) -> None:
    now = T0 + 0.5
    handle = open_state(str(tmp_path / "s.db"), "UTC", print)
    assert handle is not None
    conn = handle.conn
    h = Headroom()
    w = rates.RateWriter(h)
    h.add_fast(_records([(-900.0, 1, 1, 0, True), (-5.0, 1, 1, 2, True)], now), now)
    _commit(conn, w, now)
    w.prune(conn, now - 100)
    h.add_fast(_records([(-1.0, 0, 0, 1, True)], now), now)
    _commit(conn, w, now)  # a rewrite: the pruned one stays out
    rows = conn.execute("SELECT class FROM bursts ORDER BY seq").fetchall()
    assert rows == [("opus-4",), ("haiku-4",)]
    handle.close()


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE bursts SET count = 'many'",
        "UPDATE bursts SET users = '[{\"name\": 1}]' WHERE users IS NOT NULL",
        "UPDATE bursts SET open = 1",  # two open bursts of one class
        "UPDATE bursts SET seq = -seq - 1, open = 0",
    ],
)
def test_a_damaged_burst_is_a_state_error(tmp_path: Path, damage: str) -> None:
    now = T0 + 0.5
    handle = open_state(str(tmp_path / "s.db"), "UTC", print)
    assert handle is not None
    conn = handle.conn
    h = Headroom()
    h.add_fast(_records([(-50.0, 1, 1, 0, False), (-5.0, 1, 1, 0, True)], now), now)
    h.add_fast(_records([(-300.0, 1, 1, 0, True)], now), now)
    _commit(conn, rates.RateWriter(h), now)
    conn.execute(damage)
    with pytest.raises(StateError):
        rates.load(conn, Headroom(), load_meta(conn), now)
    handle.close()


def test_a_load_that_fails_after_the_bursts_leaves_none(tmp_path: Path) -> None:
    """A state found unusable after its bursts were put in is rebuilt from nothing: no burst
    of it stays to be counted again by the read of the logs."""
    now = T0 + 0.5
    path = str(tmp_path / "s.db")
    handle = open_state(path, "UTC", print)
    assert handle is not None
    h = Headroom()
    h.add_fast(_records([(-5.0, 1, 1, 0, True)], now), now)
    _commit(handle.conn, rates.RateWriter(h), now)
    handle.conn.execute("INSERT OR REPLACE INTO meta VALUES ('formats', '[1]')")
    handle.close()
    engine = Engine(clock=FixedClock(now))
    said: list[str] = []
    session = open_session(path, engine, said.append)
    assert session is not None and len(said) == 1
    assert list(engine.headroom.bursts) == [] and engine.headroom.burst_log.opened() == {}
    session.close()
