"""The alert rules: each fires, stays quiet, respects its minimum and resolves; window edges;
the cost baseline with 0, 3 and 7 days of history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alert, Alerts
from claude_top.rules.spec import AGE_KEYS, DEFAULT_RULES, Rule

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC).timestamp()
"""A Friday, 14:00 UTC: on a minute boundary, so window edges are exact."""
DAY = 86400.0
_seq = 0


def line(
    ts: float,
    feature: str = "chat",
    *,
    model: str = "claude-sonnet-4-6",
    user: str = "u1",
    inp: int = 1000,
    out: int = 200,
    cached: int = 0,
    latency: int = 800,
    stop: str | None = "end_turn",
    error: str | None = None,
    status: int | None = None,
) -> str:
    """One log line in the article's format."""
    global _seq
    _seq += 1
    if error is not None:
        inp = out = cached = 0
        stop = "error"
    return json.dumps(
        {
            "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(),
            "request_id": f"req-{_seq}",
            "user_id": user,
            "feature": feature,
            "model": model,
            "input_tokens": inp,
            "output_tokens": out,
            "cached_tokens": cached,
            "latency_ms": latency,
            "stop_reason": stop,
            "error": error,
            "error_status": status,
        }
    )


def spread(n: int, start: float, end: float, **kw: Any) -> list[str]:
    """``n`` calls evenly spread over [start, end)."""
    step = (end - start) / n
    return [line(start + i * step, **kw) for i in range(n)]


def errors(n: int, start: float, end: float, status: int = 500, **kw: Any) -> list[str]:
    name = "RateLimitError" if status == 429 else "InternalServerError"
    return spread(n, start, end, error=name, status=status, **kw)


TRAFFIC = [r for r in DEFAULT_RULES if r.id not in AGE_KEYS]
"""The rules about the calls: these tests move ``now`` hours past the newest call, which the
health rule ``stale_log`` rightly reports (tested in ``test_source_rules``)."""


def make(lines: list[str], now: float = T0) -> Engine:
    e = Engine(clock=FixedClock(now))
    e.ingest_lines(lines)
    return e


def fired(engine: Engine, now: float = T0, rule: str | None = None) -> list[Alert]:
    out = Alerts(engine, TRAFFIC).evaluate(now)
    return [a for a in out if rule is None or a.rule == rule]


def scopes(alerts: list[Alert]) -> set[str]:
    return {a.scope for a in alerts}


# -- error_rate ---------------------------------------------------------------------------------


def test_error_rate_fires_per_feature_and_overall() -> None:
    e = make(
        spread(76, T0 - 600, T0, feature="doc_summary")
        + errors(36, T0 - 600, T0, feature="doc_summary")
        + spread(400, T0 - 600, T0, feature="chat")
    )
    out = fired(e, rule="error_rate")
    assert scopes(out) == {"*", "doc_summary"}
    doc = next(a for a in out if a.scope == "doc_summary")
    assert doc.severity == "critical" and doc.threshold == 5.0 and doc.window == "10m"
    assert doc.value == pytest.approx(36 / 112 * 100)
    assert doc.since == T0
    assert doc.message == "doc_summary: 32.1% errors over 10 min (36/112), > 5%"
    overall = next(a for a in out if a.scope == "*")
    assert overall.message.startswith("all traffic: 7.0% errors")


def test_error_rate_is_strict_and_quiet_below() -> None:
    # exactly 5% is not "more than 5%"
    e = make(spread(95, T0 - 600, T0) + errors(5, T0 - 600, T0))
    assert fired(e, rule="error_rate") == []


def test_error_rate_needs_min_calls() -> None:
    e = make(spread(9, T0 - 600, T0) + errors(10, T0 - 600, T0))
    assert fired(e, rule="error_rate") == []  # 19 calls: 53% errors, still too few to judge
    e.ingest_lines([line(T0 - 30)])
    assert scopes(fired(e, rule="error_rate")) == {"*", "chat"}


def test_error_rate_resolves_keeping_since_and_transitions() -> None:
    e = make(spread(20, T0 - 600, T0) + errors(10, T0 - 600, T0))
    al = Alerts(e, TRAFFIC)
    first = al.evaluate(T0)
    assert {a.since for a in first} == {T0}
    again = al.evaluate(T0 + 60)  # still firing: since stays at the first time it was seen
    assert {a.since for a in again} == {T0}
    assert [t.kind for t in al.transitions] == ["fired", "fired"]
    assert al.evaluate(T0 + 900) == []  # the burst left the window
    kinds = [(t.kind, t.at, t.alert.scope) for t in al.transitions]
    assert kinds[2:] == [("resolved", T0 + 900, "*"), ("resolved", T0 + 900, "chat")]
    assert al.transitions[-1].alert.since == T0
    # firing again later is a new alert with a new since
    e.ingest_lines(errors(25, T0 + 900, T0 + 960))
    assert {a.since for a in al.evaluate(T0 + 960) if a.rule == "error_rate"} == {T0 + 960}


def test_window_edges_follow_minute_buckets() -> None:
    """A bucket is in the window when its start minute is >= the window start."""
    base = spread(20, T0 - 300, T0)
    # errors in the minute that starts exactly at now - 10 min: inside
    e = make(base + errors(3, T0 - 600, T0 - 540))
    assert fired(e, rule="error_rate") != []
    # one second earlier: the bucket starts at now - 11 min, outside
    e = make(base + errors(3, T0 - 601, T0 - 600))
    assert fired(e, rule="error_rate") == []
    # now in mid-minute (14:00:30): the window starts at 13:50:30, so the 13:50 minute is out,
    # and the whole 14:00 minute is in, even its seconds after now (replaying an old log)
    e = make(base + errors(3, T0 - 600, T0 - 590))
    assert fired(e, T0 + 30, rule="error_rate") == []
    e = make(base + errors(3, T0 + 40, T0 + 50))
    assert fired(e, T0 + 30, rule="error_rate") != []


# -- rate_limit ---------------------------------------------------------------------------------


def test_rate_limit_any_429_has_no_minimum() -> None:
    e = make([line(T0 - 100, "chat"), *errors(1, T0 - 60, T0, status=429, feature="chat")])
    out = fired(e, rule="rate_limit")
    assert scopes(out) == {"*", "chat"}
    assert out[0].severity == "warning" and out[0].value == 1.0
    assert "1 call rate-limited (HTTP 429) over 5 min" in out[0].message


def test_rate_limit_quiet_and_resolves() -> None:
    e = make(spread(50, T0 - 300, T0) + errors(3, T0 - 360, T0 - 301, status=429))
    assert fired(e, rule="rate_limit") == []  # 6 minutes ago: outside 5 min
    e = make(errors(2, T0 - 120, T0 - 60, status=429))
    al = Alerts(e, TRAFFIC)
    assert len(al.evaluate(T0)) == 2
    assert al.evaluate(T0 + 300) == []
    assert [t.kind for t in al.transitions] == ["fired"] * 2 + ["resolved"] * 2


# -- p95_latency --------------------------------------------------------------------------------


def test_p95_latency_fires_and_is_quiet() -> None:
    e = make(spread(30, T0 - 600, T0, feature="rag", latency=20_000))
    out = fired(e, rule="p95_latency")
    assert scopes(out) == {"*", "rag"}
    assert out[0].value == pytest.approx(20_000, rel=0.01)  # the histogram's resolution
    assert out[0].message.startswith("all traffic: p95 latency 20s")
    assert out[0].message.endswith("s over 10 min (30 calls), > 15s")
    e = make(spread(30, T0 - 600, T0, feature="rag", latency=9_000))
    assert fired(e, rule="p95_latency") == []


def test_p95_latency_min_calls_and_resolve() -> None:
    e = make(spread(19, T0 - 600, T0, latency=30_000))
    assert fired(e, rule="p95_latency") == []
    e.ingest_lines([line(T0 - 1, latency=30_000)])
    al = Alerts(e, TRAFFIC)
    assert len(al.evaluate(T0)) == 2
    assert al.evaluate(T0 + 660) == []
    assert al.transitions[-1].kind == "resolved"


# -- max_tokens ---------------------------------------------------------------------------------


def test_max_tokens_is_the_share_of_all_calls() -> None:
    # 2 stops of 60 successes would be 3.3%, but of all 100 calls it is 2%: quiet
    e = make(
        spread(58, T0 - 3600, T0, feature="email_draft")
        + spread(2, T0 - 3000, T0, feature="email_draft", stop="max_tokens")
        + errors(40, T0 - 3600, T0 - 1800, feature="email_draft")
    )
    assert fired(e, rule="max_tokens") == []
    e.ingest_lines(spread(2, T0 - 600, T0, feature="email_draft", stop="max_tokens"))
    out = fired(e, rule="max_tokens")  # 4 of 102 calls: 3.9%
    assert scopes(out) == {"*", "email_draft"}
    assert out[0].value == pytest.approx(4 / 102 * 100)
    assert out[0].message.endswith(
        "3.9% of calls stopped at max_tokens (truncated answers) over 1 hour (4/102), > 3%"
    )


def test_max_tokens_quiet_min_and_resolve() -> None:
    e = make(spread(97, T0 - 3600, T0) + spread(3, T0 - 3600, T0, stop="max_tokens"))
    assert fired(e, rule="max_tokens") == []  # exactly 3%
    e = make(spread(15, T0 - 3600, T0) + spread(4, T0 - 3600, T0, stop="max_tokens"))
    assert fired(e, rule="max_tokens") == []  # 19 calls
    e.ingest_lines([line(T0 - 5)])
    al = Alerts(e, TRAFFIC)
    assert len(al.evaluate(T0)) == 2
    assert al.evaluate(T0 + 3600) == []


# -- cache_hit ----------------------------------------------------------------------------------


def test_cache_hit_only_where_caching_is_used() -> None:
    e = make(
        spread(30, T0 - 3600, T0, feature="rag", inp=1000, cached=200)
        + spread(300, T0 - 3600, T0, feature="chat", inp=5000)
    )
    out = fired(e, rule="cache_hit")
    assert scopes(out) == {"*", "rag"}  # chat never caches: no alert, and not in "*"
    rag = next(a for a in out if a.scope == "rag")
    assert rag.value == pytest.approx(200 / 1200 * 100)
    assert rag.message == "rag: cache hit rate 16.7% over 1 hour (30 calls), < 30%"
    assert next(a for a in out if a.scope == "*").value == pytest.approx(rag.value)


def test_cache_hit_quiet_min_and_broken_caching() -> None:
    e = make(spread(30, T0 - 3600, T0, feature="rag", inp=1000, cached=1000))
    assert fired(e, rule="cache_hit") == []
    e = make(spread(19, T0 - 3600, T0, feature="rag", inp=1000, cached=10))
    assert fired(e, rule="cache_hit") == []
    # caching worked this morning and stopped entirely: 0% this hour still fires
    e = make(
        spread(30, T0 - 6 * 3600, T0 - 5 * 3600, feature="rag", cached=5000)
        + spread(30, T0 - 3600, T0, feature="rag")
    )
    out = fired(e, rule="cache_hit")
    assert scopes(out) == {"*", "rag"} and out[0].value == 0.0
    al = Alerts(e, TRAFFIC)
    al.evaluate(T0)
    e.ingest_lines(spread(30, T0, T0 + 3600, feature="rag", cached=5000))
    assert al.evaluate(T0 + 3600) == []
    assert al.transitions[-1].kind == "resolved"


# -- unpriced -----------------------------------------------------------------------------------


def test_unpriced_names_the_models() -> None:
    e = make([line(T0 - 7200, "labs", model="claude-unknown-9"), line(T0 - 60, "chat")])
    out = fired(e, rule="unpriced")
    assert scopes(out) == {"*", "labs"}
    assert "claude-unknown-9" in out[0].message and out[0].value == 1.0
    assert fired(make([line(T0 - 60)]), rule="unpriced") == []
    # older than 24 h: resolved
    al = Alerts(e, TRAFFIC)
    al.evaluate(T0)
    assert al.evaluate(T0 + DAY) == []


def test_unpriced_min_calls_is_configurable() -> None:
    e = make([line(T0 - 60, "labs", model="claude-unknown-9")] * 3)
    rules = [Rule("unpriced", 0.0, "24h", "warning", min_calls=5)]
    assert Alerts(e, rules).evaluate(T0) == []


# -- rejected_lines -----------------------------------------------------------------------------

BAD = '{"timestamp": "yesterday", "feature": "chat", "model": "m", "input_tokens": 1}'


def test_rejected_lines_cumulative_on_first_evaluation() -> None:
    e = make([*spread(98, T0 - 600, T0), BAD, BAD])
    assert e.lines.rejected == 2
    out = fired(e, rule="rejected_lines")
    assert [a.scope for a in out] == ["*"]
    assert out[0].value == pytest.approx(2.0)
    assert "over everything read (2/100)" in out[0].message
    assert fired(make([*spread(199, T0 - 600, T0), BAD]), rule="rejected_lines") == []
    assert fired(make(spread(10, T0 - 600, T0) + [BAD] * 9), rule="rejected_lines") == []


def test_rejected_lines_uses_deltas_between_evaluations() -> None:
    e = make(spread(1000, T0 - 3600, T0))
    al = Alerts(e, TRAFFIC)
    assert al.evaluate(T0) == []
    # 5 bad of the 105 lines read since: 4.8%, though only 0.45% of everything read
    e.ingest_lines(spread(100, T0, T0 + 600) + [BAD] * 5)
    out = [a for a in al.evaluate(T0 + 660) if a.rule == "rejected_lines"]
    assert len(out) == 1 and "over 10 min (5/105)" in out[0].message
    e.ingest_lines(spread(100, T0 + 660, T0 + 1200))
    assert [a for a in al.evaluate(T0 + 1320) if a.rule == "rejected_lines"] == []
    assert al.transitions[-1].kind == "resolved"
    assert al.transitions[-1].alert.rule == "rejected_lines"


# -- the cost rules -----------------------------------------------------------------------------


def history(days: list[int], n: int = 30, hour: int = 10, **kw: Any) -> list[str]:
    """``n`` calls at ``hour`` on each of the given days before today (1 = yesterday)."""
    out: list[str] = []
    midnight = T0 - 14 * 3600
    for d in days:
        s = midnight - d * DAY + hour * 3600
        out += spread(n, s, s + 600, **kw)
    return out


def today(n: int, hour: int = 10, **kw: Any) -> list[str]:
    s = T0 - 14 * 3600 + hour * 3600
    return spread(n, s, s + 600, **kw)


WEEK = list(range(1, 9))
"""Seven full days: the log starts on the 8th day back, which is partial and left out."""


def test_daily_cost_with_seven_days() -> None:
    e = make(history(WEEK, feature="chat") + today(70, feature="chat"))
    out = fired(e, rule="daily_cost")
    assert scopes(out) == {"*", "chat"}
    a = out[0]
    assert a.severity == "critical" and a.value == pytest.approx(70 / 30 * 100)
    assert a.message == (
        "all traffic: cost today $0.4200 is 233.3% of the 7-day average daily cost $0.1800, > 150%"
    )
    e = make(history(WEEK) + today(44))
    assert fired(e, rule="daily_cost") == []  # 147%


def test_daily_cost_counts_covered_days_without_calls() -> None:
    # the log starts on day 6 (partial: left out); days 5..1 are covered, 3 of them without
    # calls: the baseline is 60 calls' cost over 5 days
    e = make(history([1, 4, 6]) + today(50))
    out = fired(e, rule="daily_cost")
    assert out and all("of the 5-day average daily cost" in a.message for a in out)
    assert out[0].value == pytest.approx(50 / 12 * 100)


def test_daily_cost_silent_without_history() -> None:
    e = make(today(500) + history([8, 9]))  # only days older than the 7-day baseline
    assert fired(e, rule="daily_cost") == []
    assert fired(e, rule="cost_pace") == []


def test_daily_cost_needs_min_calls_today() -> None:
    e = make(history([1, 2, 3], n=2, inp=100) + today(19, inp=100_000))
    assert fired(e, rule="daily_cost") == []
    e.ingest_lines(today(1, inp=100_000))
    assert scopes(fired(e, rule="daily_cost")) == {"*", "chat"}


def test_daily_cost_per_feature_has_its_own_history() -> None:
    # "new" started today: no history, so silent for it, though "*" fires
    e = make(history(list(range(1, 8))) + today(30) + today(40, feature="new"))
    assert scopes(fired(e, rule="daily_cost")) == {"*"}


def test_cost_pace_compares_the_same_hours() -> None:
    # every day: 30 calls at 10:00 and 300 in the evening; today by 14:00 already 70 calls
    days = WEEK
    e = make(history(days) + history(days, n=300, hour=20) + today(70))
    pace = fired(e, rule="cost_pace")
    assert scopes(pace) == {"*", "chat"}
    assert pace[0].severity == "warning"
    assert pace[0].value == pytest.approx(70 / 30 * 100)
    assert "is 233.3% of the 7-day average by 14:00 $0.1800, > 150%" in pace[0].message
    assert fired(e, rule="daily_cost") == []  # the whole day is still far below average
    # 14:00 with only 40 calls: 133% of the usual pace, quiet
    e = make(history(days) + history(days, n=300, hour=20) + today(40))
    assert fired(e, rule="cost_pace") == []


def test_cost_pace_baseline_of_four_days_and_resolve() -> None:
    # day 5 is the log's partial first day; days 4..1 count, two of them without calls
    e = make(history([2, 3, 5]) + today(60))
    al = Alerts(e, TRAFFIC)
    out = [a for a in al.evaluate(T0) if a.rule == "cost_pace"]
    assert out and "of the 4-day average by 14:00" in out[0].message
    assert out[0].value == pytest.approx(60 / 15 * 100)
    # the next day, today's calls are history: the alert resolves
    later = [a for a in al.evaluate(T0 + DAY) if a.rule == "cost_pace"]
    assert later == []
    assert any(t.kind == "resolved" and t.alert.rule == "cost_pace" for t in al.transitions)


def test_cost_baseline_follows_history_as_it_loads() -> None:
    """The TUI evaluates while history is still being read: unfinished days are not kept."""
    e = make(history([7, 6, 5, 4]))
    al = Alerts(e, TRAFFIC)
    assert al.evaluate(T0) == []  # no calls today
    e.ingest_lines(history([3, 2, 1], n=300) + today(70))
    # with the last 3 days read, the average is (3*30 + 3*300)/6 = 165 calls: 70 is quiet
    assert [a for a in al.evaluate(T0 + 1) if a.rule == "daily_cost"] == []
    e.compact()  # compaction re-buckets old days: cached answers start over, same numbers
    assert [a for a in al.evaluate(T0 + 2) if a.rule == "daily_cost"] == []
    assert [a.rule for a in Alerts(e, TRAFFIC).evaluate(T0 + 2)] == []


def test_cost_rules_with_a_time_zone() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/New_York")  # 14:00 UTC is 09:00 there
    e = make(history(list(range(1, 8)), hour=8) + today(70, hour=8))
    out = [a for a in Alerts(e, tz=tz).evaluate(T0) if a.rule == "cost_pace"]
    # in New York the 08:00 UTC calls happened at 03:00: the same hours, so 233% again
    assert out and out[0].value == pytest.approx(70 / 30 * 100)
    assert "by 09:00" in out[0].message


# -- the whole evaluation -----------------------------------------------------------------------


def test_order_critical_then_rule_then_scope() -> None:
    e = make(
        errors(5, T0 - 200, T0, status=429, feature="b")
        + errors(25, T0 - 500, T0, feature="a")
        + spread(30, T0 - 500, T0, feature="a", latency=40_000)
    )
    out = Alerts(e, TRAFFIC).evaluate(T0)
    keys = [(a.severity, a.rule, a.scope) for a in out]
    assert keys[:2] == [("critical", "error_rate", "*"), ("critical", "error_rate", "a")]
    rest = keys[2:]
    assert rest == sorted(rest, key=lambda k: ([r.id for r in DEFAULT_RULES].index(k[1]), k[2]))
    assert ("warning", "rate_limit", "b") in rest


def test_disabled_rules_and_rule_lookup() -> None:
    rules = [Rule("error_rate", 5.0, "10m", "critical", enabled=False), DEFAULT_RULES[1]]
    e = make(errors(30, T0 - 300, T0, status=429))
    al = Alerts(e, rules)
    assert {a.rule for a in al.evaluate(T0)} == {"rate_limit"}
    assert al.rule("error_rate") is None
    assert al.rule("rate_limit") == DEFAULT_RULES[1]
    assert al.rule("nope") is None
    assert Alerts(e, TRAFFIC).rule("p95_latency") == DEFAULT_RULES[2]


def test_quiet_traffic_fires_nothing() -> None:
    days = list(range(1, 8))
    e = make(history(days, n=100, hour=12) + spread(100, T0 - 7200, T0, cached=0))
    assert Alerts(e, TRAFFIC).evaluate(T0) == []


def test_hostile_feature_names_are_made_visible() -> None:
    e = make(errors(30, T0 - 300, T0, feature="\x1b]0;pwned\x07"))
    msgs = [a.message for a in Alerts(e, TRAFFIC).evaluate(T0)]
    assert msgs and not any("\x1b" in m for m in msgs)


def test_window_words() -> None:
    words = [Rule("error_rate", 5, w, "warning").window_words for w in ("5m", "1h", "24h", "2d")]
    assert [*words, *(Rule("x", 1, w, "warning").window_words for w in ("90s", "today"))] == [
        "5 min",
        "1 hour",
        "24 hours",
        "2 days",
        "90 s",
        "today",
    ]
