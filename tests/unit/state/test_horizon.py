"""A command that loads only part of a state (``check``: recent buckets, recent histograms, no
users) still writes it back whole: late calls into buckets it did not load, and compaction of
minutes whose histograms it left in the file, end in the same state as a full read."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.state.load import Horizon
from claude_top.state.session import open_session, read_new
from loggen import T0
from statekit import chunk, cold, warm

DAY = 86400.0


@pytest.mark.parametrize(
    "horizon",
    [
        Horizon(groups_from=T0 + 1.5 * DAY, users=False, hists_from=T0 + 2.9 * DAY),
        Horizon(groups_from=None, users=False, hists_from=T0 + 2.5 * DAY),
        Horizon(groups_from=T0 + 2.95 * DAY, users=True, user_days_from=T0 + 2 * DAY),
    ],
)
def test_a_partial_load_writes_the_state_back_whole(tmp_path: Path, horizon: Horizon) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(600, 1, span=3 * DAY))
    warm(state, [str(log)])
    with open(log, "ab") as f:  # late calls over the whole span, and newer ones
        f.write(chunk(300, 2, start=T0, span=3 * DAY))
        f.write(chunk(300, 3, start=T0 + 3 * DAY, span=DAY / 2))
    engine = Engine(clock=FixedClock(T0 + 3.6 * DAY))  # an hour and more past: minutes move
    session = open_session(str(state), engine, print, horizon=horizon)
    assert session is not None
    read_new(engine, [str(log)], session)
    session.close()
    assert warm(state, [str(log)]) == cold([log])


def test_the_default_rules_need_nine_days_of_buckets_and_an_hour_of_histograms() -> None:
    """``check`` with a state loads what its rules read: the rules without a window (the
    readers' health) and disabled ones do not make it load everything."""
    from claude_top.commands.state import rules_horizon
    from claude_top.config.load import Config
    from claude_top.rules.spec import rules_from_config

    now = T0 + 20 * DAY
    engine = Engine(clock=FixedClock(now))
    rules = rules_from_config(Config().alerts)
    assert any(not r.window for r in rules)
    h = rules_horizon(rules, engine, now)
    assert h.groups_from is not None and h.hists_from is not None and not h.users
    assert now - 11 * DAY < h.groups_from <= now - 9 * DAY
    assert now - 2 * 3600 < h.hists_from < now


@pytest.mark.parametrize("hists_days_back", [None, 2.0, 5.5])
def test_what_is_added_later_is_the_state_as_loaded(
    tmp_path: Path, hists_days_back: float | None
) -> None:
    """The users' archive and older histograms, added after the start: late calls for those
    days, read and committed in between (their buckets compacted, their histograms read back by
    the writer), are in the engine already and must not be added twice."""
    from claude_top.commands.common import read_all
    from claude_top.views.summary import summary_dict

    log, state = tmp_path / "app.log", tmp_path / "s.db"
    now = T0 + 6 * DAY
    log.write_bytes(chunk(500, 1, span=5 * DAY))
    warm(state, [str(log)])
    with open(log, "ab") as f:
        f.write(chunk(200, 2, start=T0, span=3 * DAY))
    engine = Engine(clock=FixedClock(now))
    hists_from = None if hists_days_back is None else now - hists_days_back * DAY
    horizon = Horizon(
        users=True,
        user_days_from=engine.day_start(now - 2 * DAY),
        hists_from=hists_from,
        later=True,
    )
    session = open_session(str(state), engine, print, horizon=horizon)
    assert session is not None and session.later is not None
    read_new(engine, [str(log)], session)  # commits the late calls' rows
    cold_engine = Engine(clock=FixedClock(now))
    read_all(cold_engine, [str(log)])

    def doc(e: Engine) -> dict[str, object]:
        return summary_dict(e.query(), e.lines, {})["features"]

    if hists_from is not None:
        assert doc(engine) != doc(cold_engine)  # older p95s lack the histograms not yet added
    session.later.run_now(engine, session.writer)
    assert session.later.histograms > 0 or hists_from is None
    assert engine.query(by="user").groups == cold_engine.query(by="user").groups
    assert doc(engine) == doc(cold_engine)
    session.close()
    assert warm(state, [str(log)]) == cold([log])


def test_the_tuis_first_screen_loads_the_histograms_of_its_window_and_the_p95_rule() -> None:
    """An hour and the window back from now; from the newest call of an old log (a replay);
    a whole day for "today"; all of them for "all" (None)."""
    from claude_top.commands.state import first_screen_hists
    from claude_top.config.load import Config
    from claude_top.rules.spec import rules_from_config

    now = T0 + 20 * DAY + 1234.0
    engine = Engine(clock=FixedClock(now))
    rules = rules_from_config(Config().alerts)
    ten = first_screen_hists("10m", rules, engine, now)
    h = ten(now - 5)
    assert h is not None and now - 600 - 3600 - 900 < h <= now - 600 - 3600 and h % 900 == 0
    old = now - 3 * DAY
    replay = ten(old)
    assert replay is not None and old - 600 - 3600 - 900 < replay <= old - 600 - 3600
    day = first_screen_hists("today", rules, engine, now)(now)
    assert day is not None and engine.day_start(now) - 3600 - 900 < day <= engine.day_start(now)
    assert first_screen_hists("all", rules, engine, now)(now) is None
    wide = rules_from_config({"p95_latency": {"window": "6h"}})
    six = first_screen_hists("10m", wide, engine, now)(now)
    assert six is not None and six <= now - 6 * 3600 - 3600


def test_rows_keep_the_files_costs_only_when_they_are_at_the_engines_prices(
    tmp_path: Path,
) -> None:
    """A load takes each row's cost from the file, so no fold prices it again, only when the
    file's costs were computed with the engine's price table: under another, the stored costs
    are stale and every number must still be the cold read's at the new prices."""
    from claude_top.engine import store as B
    from claude_top.engine.window_cache import GROUPS_BY_FEATURE, row_units

    log, state, cfg = tmp_path / "app.log", tmp_path / "s.db", tmp_path / "c.toml"
    log.write_bytes(chunk(300, 1, span=2 * DAY))
    warm(state, [str(log)])
    engine = Engine(clock=FixedClock(T0 + 2 * DAY))
    session = open_session(str(state), engine, print)
    assert session is not None
    rows = [
        (start, key, row)
        for tier in engine.agg.groups.tiers
        for start, bucket in tier.buckets.items()
        for key, row in bucket.items()
    ]
    assert rows and all(
        row[B.G_COST] == row_units(engine.prices, GROUPS_BY_FEATURE, start, key, row)
        for start, key, row in rows
    )
    session.close()
    cfg.write_text("[prices.claude-haiku-4-5]\ninput = 2\noutput = 9\n")
    with open(log, "ab") as f:
        f.write(chunk(50, 2, start=T0 + 2 * DAY, span=3600))
    assert warm(state, [str(log)], "--config", str(cfg)) == cold([log], "--config", str(cfg))
