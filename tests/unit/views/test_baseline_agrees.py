"""The cost baseline: the KPI's "7-day avg" and the cost rules show one number, from one function.

Every case builds a log, then reads the baseline twice -- from the dashboard's KPI and from the
``daily_cost`` alert (threshold 0, so it fires whenever a baseline exists) -- and checks they
are the same number over the same days, and that the days are the ones the rule documents: the
days before today the log covers entirely, days without calls included.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from claude_top.core import format as fmt
from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.baseline import cost_baseline
from claude_top.rules.evaluate import Alert, Alerts
from claude_top.rules.spec import rules_from_config
from claude_top.views.live.dashboard import build_dashboard
from claude_top.views.live.rows import Dashboard
from loggen import line

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2026, 11, 27, tzinfo=UTC).timestamp()
DAY = 86400.0
ALWAYS = rules_from_config(
    {"daily_cost": {"threshold": 0, "min_calls": 0}, "cost_pace": {"threshold": 0, "min_calls": 0}}
)


def calls_on(days_back: list[int], hour: float = 10.0, n: int = 10, **kw: object) -> list[bytes]:
    """``n`` calls a minute apart from ``hour`` on each day back (0 = today)."""
    out: list[bytes] = []
    for d in days_back:
        start = MIDNIGHT - d * DAY + hour * 3600
        out += [line(start + i * 60, **kw) for i in range(n)]
    return out


def frame(lines: list[bytes], tz: tzinfo = UTC, now: float = NOW) -> tuple[Dashboard, Alerts]:
    e = Engine(clock=FixedClock(now), tz=tz)
    e.ingest_lines(lines)
    alerts = Alerts(e, ALWAYS, tz)
    return build_dashboard(e, alerts, now=now, tz=tz, window_name="today"), alerts


def alert(d: Dashboard, rule: str, scope: str = "*") -> Alert | None:
    hits = [a for a in d.alerts if a.rule == rule and a.scope == scope]
    return hits[0] if hits else None  # type: ignore[return-value]


def assert_agree(d: Dashboard) -> None:
    k = d.kpis
    a = alert(d, "daily_cost")
    if k.baseline_days == 0:
        assert k.cost_7d_avg is None and a is None
        return
    assert k.cost_7d_avg is not None and k.cost_7d_avg > 0
    assert a is not None
    assert a.value == pytest.approx(k.cost_today / k.cost_7d_avg * 100)
    said = f"of the {k.baseline_days}-day average daily cost {fmt.usd(k.cost_7d_avg)}"
    assert said in a.message


CASES = {
    # name: (days back with calls, the baseline days expected, the average in days of calls)
    "no history": ([0], 0, None),
    "only the partial first day": ([1, 0], 0, None),
    "one day": ([2, 1, 0], 1, 1.0),
    "three days": ([4, 3, 2, 1, 0], 3, 1.0),
    "seven days": ([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 7, 1.0),
    "days without calls inside the span": ([6, 4, 1, 0], 5, 2 / 5),
}


@pytest.mark.parametrize("name", CASES)
def test_kpi_and_rule_agree(name: str) -> None:
    days_back, expected_days, per_day = CASES[name]
    d, _ = frame(calls_on(days_back))
    assert d.kpis.baseline_days == expected_days
    assert_agree(d)
    if per_day is not None:
        one_day = d.kpis.cost_today  # today has one day's calls, like each day with calls
        assert d.kpis.cost_7d_avg == pytest.approx(one_day * per_day)


def test_a_log_starting_at_midnight_counts_its_first_day() -> None:
    d, _ = frame(calls_on([3, 2, 1, 0], hour=0.0))
    assert d.kpis.baseline_days == 3
    assert_agree(d)


def test_another_time_zone_uses_its_own_midnights() -> None:
    tz = ZoneInfo("America/New_York")  # 14:00 UTC is 09:00 there; midnight there is 05:00 UTC
    # calls at 03:00 UTC: 22:00 the evening before in New York
    d, _ = frame(calls_on([4, 3, 2, 1], hour=3.0) + calls_on([0], hour=6.0), tz=tz)
    # the log starts at 22:00 NY on day -5 (partial): days -4..-1 in New York count, and the
    # 03:00 UTC calls of UTC day -1 fell on NY day -2, so NY day -1 has none ($0)
    assert d.kpis.baseline_days == 4
    assert d.kpis.cost_7d_avg == pytest.approx(d.kpis.cost_today * 3 / 4)
    assert_agree(d)


def flat(start: float, end: float) -> list[bytes]:
    """The same traffic all day: a call every 10 minutes."""
    n = int((end - start) // 600)
    return [line(start + i * 600) for i in range(n)]


def test_flat_traffic_from_a_log_that_starts_at_10_raises_no_cost_pace() -> None:
    e = Engine(clock=FixedClock(NOW))
    e.ingest_lines(flat(MIDNIGHT - DAY + 10 * 3600, NOW))
    assert [a for a in Alerts(e).evaluate(NOW) if a.rule in ("cost_pace", "daily_cost")] == []
    # yesterday is partial: no baseline at all rather than a near-$0 one
    base = cost_baseline(e.span_cost, NOW, UTC, e.oldest_ts, same_hours=True)
    assert base.days == 0


def test_flat_traffic_paces_at_100_percent() -> None:
    d, alerts = frame(flat(MIDNIGHT - 3 * DAY + 10 * 3600, NOW))
    pace = alert(d, "cost_pace")
    assert pace is not None and pace.value == pytest.approx(100.0, abs=1.0)
    assert "of the 2-day average by 14:00" in pace.message
    assert_agree(d)
    quiet = Alerts(alerts.engine)  # the default 150% rules: flat traffic is not a runaway
    assert quiet.evaluate(NOW) == []


def test_a_feature_baseline_starts_after_its_first_day() -> None:
    # "new" first appears on day 2 (partial for it): one day of its own history, not six $0 days
    lines = calls_on([8, 7, 6, 5, 4, 3, 2, 1, 0]) + calls_on([2, 1, 0], feature="new", n=5)
    d, _ = frame(lines)
    new = alert(d, "daily_cost", "new")
    assert new is not None and "of the 1-day average" in new.message
    assert new.value == pytest.approx(100.0)
