"""Compactions between two commits: a state writer takes only what a compaction would make
untellable (user days about to be archived) before it, and the rest at the next commit, by
the full walk a moved store gets. Many compactions per commit (a cold load of a long history
compacts every ``COMPACT_EVERY`` records), with minutes moving to quarter hours and days to the
archive while reading, and late calls for days already archived, end where a cold read ends,
by feature and by user."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_top.core.clock import FixedClock
from claude_top.engine import engine as engine_module
from claude_top.engine.engine import Engine
from claude_top.state.session import open_session, read_new
from loggen import T0
from statekit import chunk, cold, warm

DAY = 86400.0


@pytest.mark.parametrize("every", [37, 450])
def test_compactions_between_commits_resume_to_a_cold_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    monkeypatch.setattr(engine_module, "COMPACT_EVERY", every)
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.touch()
    engine = Engine(clock=FixedClock(T0 + 5 * DAY))
    session = open_session(str(state), engine, print)
    assert session is not None and session.writer is not None
    for day in range(4):  # a day a step, in time order, and late calls for the days before
        with open(log, "ab") as f:
            f.write(chunk(900, day + 1, start=T0 + day * DAY, span=DAY))
            f.write(chunk(60, day + 11, start=T0, span=(day + 1) * DAY))
        read_new(engine, [str(log)], session)
    assert session.writer.commits == 4
    session.close()
    assert warm(state, [str(log)]) == cold([log])
    assert warm(state, [str(log)], "--by", "user") == cold([log], "--by", "user")


def test_the_days_kept_by_day_depend_on_the_last_ref_alone() -> None:
    """Whatever compactions ran before (one an hour up to it, or none), ``compact(ref)`` leaves
    by day exactly the days from ``kept_from(ref)`` on: what a warm start loads by day."""
    from claude_top.engine import store as B
    from claude_top.engine.accumulate import USER_TIERS

    day_start = Engine(clock=FixedClock(T0)).day_start
    days = [int(T0 + d * DAY) for d in range(6)]
    for hours in range(48):
        ref = T0 + 5 * DAY + hours * 3600.0
        for steps in (1, 3, 24 + hours):
            store = B.TieredStore(USER_TIERS, B.new_user_row, B.merge_user_row, day_start)
            for d in days:
                store.fine[d] = {("u", "f", "m", 0): B.new_user_row()}
            for i in range(steps - 1, -1, -1):
                store.compact(ref - i * 3600.0)
            kept = store.kept_from(ref)
            assert sorted(store.fine) == [d for d in days if d >= kept], (hours, steps)
