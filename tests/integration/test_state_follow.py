"""The follower (the TUI's reader) with a state: it resumes each file where the state stopped,
and what it commits on the way equals a cold read of everything written."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from claude_top.commands.common import read_all
from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.sources.follow import Follower
from claude_top.state.session import open_session
from claude_top.views.summary import summary_dict
from loggen import T0
from statekit import chunk

DAY = 86400.0
NOW = T0 + 10 * DAY


def _doc(engine: Engine) -> dict[str, Any]:
    doc = summary_dict(
        engine.query(), engine.lines, {}, engine.streaming(), engine.app_costs(by="feature")
    )
    doc["lines"].pop("formats", None)  # witness copies have other names (``statekit``)
    return doc


def _cold(paths: list[Path]) -> dict[str, Any]:
    engine = Engine(clock=FixedClock(NOW))
    read_all(engine, [str(p) for p in paths])
    return _doc(engine)


def _follow(specs: list[str], state: Path, *, live: int | None = None, then: Any = None) -> Engine:
    """Read ``specs`` with the follower into a state; with ``live``, keep following until the
    engine holds that many records (after ``then`` has written more), then stop."""
    engine = Engine(clock=FixedClock(NOW))
    said: list[str] = []
    session = open_session(str(state), engine, said.append)
    assert session is not None and said == []
    follower = Follower(
        specs,
        engine.ingest,
        resume=session.positions,
        on_settle=session.settle,
        follow=live is not None,
        use_watcher=False,
        poll_interval=0.05,
        on_overlong=engine.count_overlong,
    )
    follower.start()
    assert follower.wait_history(60)
    if live is not None:
        if then is not None:
            then()
        deadline = time.monotonic() + 60
        while engine.lines.records < live and time.monotonic() < deadline:
            time.sleep(0.05)
    follower.stop(60)
    session.close()
    return engine


def _records(data: bytes) -> int:
    e = Engine(clock=FixedClock(NOW))
    e.ingest_lines(data.splitlines())
    return e.lines.records


def test_the_follower_resumes_appends_and_rotations(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    spec = [str(tmp_path / "app.log*")]
    log.write_bytes(chunk(300, 1))
    assert _doc(_follow(spec, state)) == _cold([log])
    with open(log, "ab") as f:
        f.write(chunk(50, 2, start=T0 + DAY))
    assert _doc(_follow(spec, state)) == _cold([log])
    os.rename(log, tmp_path / "app.log.1")
    with open(tmp_path / "app.log.1", "ab") as f:
        f.write(chunk(30, 3, start=T0 + DAY))
    log.write_bytes(chunk(100, 4, start=T0 + 1.5 * DAY))
    assert _doc(_follow(spec, state)) == _cold([tmp_path / "app.log.1", log])
    witness = tmp_path / "gone.log"
    os.rename(tmp_path / "app.log.1", witness)
    shutil.copy(log, tmp_path / "app.log.1")  # copytruncate
    os.truncate(log, 0)
    log.write_bytes(chunk(40, 5, start=T0 + 2 * DAY))
    assert _doc(_follow(spec, state)) == _cold([witness, tmp_path / "app.log.1", log])


def test_lines_followed_live_are_committed_and_not_read_again(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    first = chunk(200, 1)
    log.write_bytes(first)
    more = chunk(150, 2, start=T0 + DAY)

    def write_more() -> None:
        with open(log, "ab") as f:
            f.write(more)

    n = _records(first) + _records(more)
    engine = _follow([str(log)], state, live=n, then=write_more)
    assert engine.lines.records == n
    assert _doc(_follow([str(log)], state)) == _cold([log])


def _live(log: Path, state: Path, shown: str | None = None) -> Engine:
    """What ``claude-top LOG`` and ``serve`` build (``commands.following``), run until the
    history is read and the users' archive of the state added. With ``shown`` (a window, as
    the TUI passes), what is left for later waits for the first screen, set here by hand."""
    import argparse
    import threading

    from claude_top.commands.following import follow_logs
    from claude_top.config.load import Config

    engine = Engine(clock=FixedClock(NOW))
    a = argparse.Namespace(logs=[str(log)], state=str(state), no_state=False, now=None)
    following = follow_logs(a, engine, Config(), None, "claude-top", poll=0.05, shown=shown)
    assert following.session is not None
    first_screen = threading.Event() if shown is not None else None
    following.start(first_screen)
    try:
        assert following.follower.wait_history(60)
        later = following.session.later
        if first_screen is not None and later is not None:
            assert not later.done.wait(0.5)  # the history is in, the first screen is not
            first_screen.set()
        assert later is None or later.done.wait(60)
    finally:
        following.stop()
    return engine


def _by_user(engine: Engine) -> dict[str, Any]:
    return summary_dict(engine.query(by="user"), engine.lines, {})["users"]


def test_the_live_path_adds_the_users_archive_as_loaded_after_the_history(tmp_path: Path) -> None:
    """The TUI sums the state's older user days after its start; late calls for those days,
    read and committed meanwhile, are counted once (the sums are the state as it was loaded)."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(400, 1, start=NOW - 6 * DAY, span=6 * DAY))
    _live(log, state)
    with open(log, "ab") as f:  # late calls for archived days, and new ones
        f.write(chunk(150, 2, start=NOW - 6 * DAY, span=3 * DAY))
        f.write(chunk(50, 3, start=NOW - DAY / 2, span=DAY / 4))
    engine = _live(log, state)
    cold = Engine(clock=FixedClock(NOW))
    read_all(cold, [str(log)])
    assert _by_user(engine) == _by_user(cold) and len(_by_user(cold)) > 10
    assert _doc(_live(log, state)) == _doc(cold)


def test_the_tui_loads_its_first_screens_histograms_and_the_rest_after_it(tmp_path: Path) -> None:
    """The TUI's warm start decodes only the histograms of its window (and the p95 rule's),
    adds the others once its first screen is painted, and then gives the numbers of a cold
    read for every window."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(400, 1, start=NOW - 3 * DAY, span=3 * DAY))
    _live(log, state)
    midnight = Engine(clock=FixedClock(NOW)).day_start(NOW)
    with open(log, "ab") as f:  # late calls for older days and for yesterday, and new ones
        f.write(chunk(100, 2, start=NOW - 3 * DAY, span=2 * DAY))
        f.write(chunk(60, 4, start=midnight - 6 * 3600, span=5 * 3600))
        f.write(chunk(50, 3, start=NOW - 3600, span=3000))
    engine = _live(log, state, shown="10m")
    cold = Engine(clock=FixedClock(NOW))
    read_all(cold, [str(log)])
    assert _doc(engine) == _doc(cold) and _by_user(engine) == _by_user(cold)
    for start in (NOW - 2 * DAY, midnight - DAY, NOW - DAY, NOW - 3600, NOW - 600):
        w = [summary_dict(e.query(start, NOW), e.lines, {})["features"] for e in (engine, cold)]
        assert w[0] == w[1], start - NOW
    for start in (midnight - DAY, midnight):  # user rows: the days kept by day
        u = [
            summary_dict(e.query(start, NOW, by="user"), e.lines, {})["users"]
            for e in (engine, cold)
        ]
        assert u[0] == u[1], start - NOW
    again = _live(log, state, shown="10m")  # what that run wrote: nothing counted twice
    assert _doc(again) == _doc(cold) and _by_user(again) == _by_user(cold)


def test_per_user_windows_that_start_days_back_equal_a_cold_read(tmp_path: Path) -> None:
    """The day rows a warm start keeps by day, rather than summed into the archive, are those
    a cold read's compaction keeps, so a per-user window starting before yesterday (the
    detail screen's over "3d", ``all``) gives the same numbers."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(400, 1, start=NOW - 6 * DAY, span=6 * DAY))
    _live(log, state)
    with open(log, "ab") as f:  # late calls for archived and kept days, and new ones
        f.write(chunk(100, 2, start=NOW - 5 * DAY, span=4 * DAY))
        f.write(chunk(50, 3, start=NOW - 3600, span=3000))
    midnight = Engine(clock=FixedClock(NOW)).day_start(NOW)
    cold = Engine(clock=FixedClock(NOW))
    read_all(cold, [str(log)])
    for shown in (None, "10m"):
        engine = _live(log, state, shown=shown)
        for start in (None, NOW - 3 * DAY, midnight - 2 * DAY, NOW - 2 * DAY, midnight - DAY):
            u = [
                summary_dict(e.query(start, NOW, by="user"), e.lines, {})["users"]
                for e in (engine, cold)
            ]
            assert u[0] == u[1] and u[0], (shown, None if start is None else start - NOW)
