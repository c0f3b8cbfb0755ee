"""Rate-limit headroom: model classes, one-second buckets at their edges, the ITPM counting rule,
limits from headers against the config, 429 bursts and who drove them, and the alert."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from claude_top.config.load import Config, ConfigError
from claude_top.core.clock import FixedClock
from claude_top.core.record import Record
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import (
    Headroom,
    HeadroomConfig,
    HeadroomConfigError,
    default_model_class,
)
from claude_top.rules.evaluate import Alerts
from claude_top.rules.spec import rules_from_config

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC).timestamp()
"""On a minute boundary."""
SONNET = "claude-sonnet-4-6"


def rec(ts: float, **kw: Any) -> Record:
    base: dict[str, Any] = {
        "ts": ts,
        "request_id": "r",
        "user_id": "u1",
        "feature": "chat",
        "model": SONNET,
        "input_tokens": 1000,
        "output_tokens": 100,
        "cache_read_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "latency_ms": 500,
        "stop_reason": "end_turn",
        "error": None,
        "error_status": None,
    }
    base.update(kw)
    return Record(**base)


def line(ts: float, **kw: Any) -> str:
    """A line in the article's 12-key shape (the engine's fast path) unless ``kw`` adds keys."""
    d: dict[str, Any] = {
        "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(),
        "request_id": "r",
        "user_id": "u1",
        "feature": "chat",
        "model": SONNET,
        "input_tokens": 1000,
        "output_tokens": 100,
        "cached_tokens": 0,
        "latency_ms": 500,
        "stop_reason": "end_turn",
        "error": None,
        "error_status": None,
    }
    d.update(kw)
    return json.dumps(d)


@pytest.mark.parametrize(
    ("model", "cls"),
    [
        ("claude-sonnet-4-5-20250929", "sonnet-4"),
        ("claude-sonnet-4-6", "sonnet-4"),
        ("claude-sonnet-4-20250514", "sonnet-4"),
        ("claude-haiku-4-5", "haiku-4"),
        ("claude-opus-4-1", "opus-4"),
        ("claude-opus-4-5-20251101", "opus-4"),
        ("claude-3-5-haiku-20241022", "haiku-3"),
        ("claude-3-opus-20240229", "opus-3"),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "sonnet-4"),
        ("claude-sonnet-4-5@20250929", "sonnet-4"),
        ("gpt-x", "gpt-x"),
    ],
)
def test_default_model_class(model: str, cls: str) -> None:
    assert default_model_class(model) == cls


def test_configured_classes_override_by_longest_prefix() -> None:
    cfg = HeadroomConfig.from_raw({"classes": {"claude-3-5-haiku": "haiku-3.5", "claude-3": "x"}})
    assert cfg.model_class("claude-3-5-haiku-20241022") == "haiku-3.5"
    assert cfg.model_class("claude-3-haiku-20240307") == "x"
    assert cfg.model_class(SONNET) == "sonnet-4"


# -- buckets -----------------------------------------------------------------------------------


def test_window_is_sixty_one_second_buckets_at_whole_seconds() -> None:
    h = Headroom()
    now = T0 + 60
    for ts in (T0 - 0.001, T0, T0 + 59.999, T0 + 60):
        assert h.add_call(ts, "u", "f", SONNET, 10, 1, 0, 0, now)
    s = h.snapshot(now)
    # [T0, T0+60): T0 and T0+59.999 count; T0-0.001 is the second before; T0+60 is "now".
    assert s.requests == 2
    assert s.itpm_tokens == 20


def test_window_at_a_fractional_now_counts_the_current_partial_second() -> None:
    h = Headroom()
    now = T0 + 60.5
    for ts in (T0 + 0.5, T0 + 0.9, T0 + 1.0, T0 + 60.2):
        h.add_call(ts, "u", "f", SONNET, 10, 1, 0, 0, now)
    # Buckets T0+1 .. T0+60: the second cut at the start (T0) is out, the current one is in.
    assert h.snapshot(now).requests == 2


def test_window_across_a_minute_edge_is_not_minute_aligned() -> None:
    h = Headroom()
    now = T0 + 30
    for k in range(-40, 30):  # one call a second from T0-40 to T0+29
        h.add_call(T0 + k, "u", "f", SONNET, 1, 1, 0, 0, now)
    assert h.snapshot(now).requests == 60  # T0-30 .. T0+29, across 14:00:00


def test_old_and_far_future_calls_are_not_kept() -> None:
    h = Headroom()
    now = T0
    assert not h.add_call(T0 - 181, "u", "f", SONNET, 1, 1, 0, 0, now)
    assert not h.add_call(T0 + 61, "u", "f", SONNET, 1, 1, 0, 0, now)
    assert h.add_call(T0 + 5, "u", "f", SONNET, 1, 1, 0, 0, now)  # small clock skew: kept
    assert h.snapshot(now + 10).requests == 1


def test_buckets_are_pruned_as_time_moves() -> None:
    h = Headroom()
    for k in range(1000):
        h.add_call(T0 + k, "u", "f", SONNET, 1, 1, 0, 0, T0 + k)
    assert len(h._seconds) <= 181


# -- ITPM counting -----------------------------------------------------------------------------


def test_cache_reads_are_not_itpm_but_cache_writes_are() -> None:
    h = Headroom()
    h.offer(rec(T0 + 1, input_tokens=100, cache_read_tokens=5000, cache_write_5m_tokens=30,
                cache_write_1h_tokens=7, output_tokens=40), T0 + 10)  # fmt: skip
    s = h.snapshot(T0 + 10)
    assert (s.itpm_tokens, s.otpm_tokens, s.requests) == (137, 40, 1)
    assert not s.cache_reads_counted


def test_cache_reads_count_when_configured() -> None:
    h = Headroom(HeadroomConfig.from_raw({"itpm_counts_cache_reads": True}))
    h.offer(rec(T0 + 1, input_tokens=100, cache_read_tokens=5000), T0 + 10)
    s = h.snapshot(T0 + 10)
    assert s.itpm_tokens == 5100
    assert s.cache_reads_counted


def test_engine_fast_and_slow_paths_feed_only_recent_calls() -> None:
    e = Engine(clock=FixedClock(T0 + 60))
    lines = [line(T0 - 3600), line(T0 - 200), line(T0 + 10), line(T0 + 20, user_id="u2")]
    lines.append(line(T0 + 30, cache_creation_tokens=500))  # 13 keys: still the fast path
    lines.append(line(T0 + 40, batch=False, cached_tokens=9000))  # the slow path
    e.ingest_lines(lines)
    s = e.headroom.snapshot(T0 + 60)
    assert s.requests == 4
    assert s.itpm_tokens == 4 * 1000 + 500
    assert [(u.name, u.tokens) for u in s.top_users] == [("u1", 3500), ("u2", 1000)]
    assert s.top_users[0].share == pytest.approx(3500 / 4500)


# -- limits ------------------------------------------------------------------------------------

HEADERS = {
    "ratelimit_requests_limit": 50,
    "ratelimit_requests_remaining": 40,
    "ratelimit_input_tokens_limit": 30000,
    "ratelimit_input_tokens_remaining": 20000,
    "ratelimit_output_tokens_limit": 8000,
    "ratelimit_output_tokens_remaining": 7000,
}


def test_limits_from_the_newest_headers_any_age() -> None:
    e = Engine(clock=FixedClock(T0 + 60))
    old = {**HEADERS, "ratelimit_input_tokens_limit": 20000}
    e.ingest_lines([line(T0 - 7200, **old), line(T0 - 3600, **HEADERS), line(T0 + 1)])
    [c] = e.headroom.snapshot(T0 + 60).classes
    assert c.model_class == "sonnet-4"
    assert (c.rpm.limit, c.itpm.limit, c.otpm.limit) == (50, 30000, 8000)
    assert {d.source for d in c.dimensions} == {"headers"}
    assert c.itpm.remaining == 20000
    assert c.itpm.used == 1000
    assert c.itpm.ratio == pytest.approx(1000 / 30000)


def test_config_wins_over_headers_per_dimension() -> None:
    cfg = HeadroomConfig.from_raw({"sonnet-4": {"itpm": 2000}})
    e = Engine(clock=FixedClock(T0 + 60), headroom=Headroom(cfg))
    e.ingest_lines([line(T0 + 1, **HEADERS)])
    [c] = e.headroom.snapshot(T0 + 60).classes
    assert (c.itpm.limit, c.itpm.source) == (2000, "config")
    assert (c.rpm.limit, c.rpm.source) == (50, "headers")
    assert c.itpm.ratio == pytest.approx(0.5)


def test_no_limits_known() -> None:
    h = Headroom()
    h.offer(rec(T0 + 1), T0 + 10)
    s = h.snapshot(T0 + 10)
    assert not s.limits_known
    assert s.classes[0].worst is None
    assert all(d.source is None for d in s.classes[0].dimensions)


def test_a_configured_class_without_traffic_is_listed() -> None:
    h = Headroom(HeadroomConfig.from_raw({"opus-4": {"rpm": 10}}))
    s = h.snapshot(T0)
    assert [c.model_class for c in s.classes] == ["opus-4"]
    assert s.classes[0].rpm.used == 0


@pytest.mark.parametrize(
    ("raw", "msg"),
    [
        ({"sonnet-4": {"rpm": 0}}, "limits.sonnet-4.rpm: must be a positive integer"),
        ({"sonnet-4": {"tpm": 5}}, "limits.sonnet-4.tpm: unknown key"),
        ({"sonnet-4": 5}, "limits.sonnet-4: must be a table"),
        ({"itpm_counts_cache_reads": "no"}, "itpm_counts_cache_reads: must be true or false"),
        ({"classes": {"claude-3": 1}}, "limits.classes.claude-3: must be a class name"),
    ],
)
def test_limits_config_errors_name_the_key(raw: dict[str, Any], msg: str) -> None:
    with pytest.raises(HeadroomConfigError, match=re.escape(msg)):
        HeadroomConfig.from_raw(raw)
    with pytest.raises(ConfigError, match=re.escape(msg)):
        Config(path="c.toml", limits=raw).headroom_config()


# -- bursts ------------------------------------------------------------------------------------


def r429(ts: float, feature: str = "chat", user: str = "u9") -> Record:
    return rec(ts, user_id=user, feature=feature, input_tokens=0, output_tokens=0,
               error="RateLimitError", error_status=429)  # fmt: skip


def test_a_burst_keeps_who_drove_the_minute_before_it() -> None:
    h = Headroom()
    now = T0 + 200
    for k in range(50):  # the minute before the burst: one batch user, a little chat
        h.offer(rec(T0 + 60 + k, user_id="batch", feature="doc_summary", input_tokens=9000), now)
        h.offer(rec(T0 + 60 + k, user_id=f"p{k % 5}", input_tokens=500), now)
    h.offer(rec(T0 + 60, user_id="other", model="claude-haiku-4-5", input_tokens=10**6), now)
    h.offer(rec(T0 + 30, user_id="early", input_tokens=10**6), now)  # > 60 s before
    for ts in (T0 + 120, T0 + 150, T0 + 205):  # gaps under 60 s: one burst
        h.offer(r429(ts), now)
    h.offer(r429(T0 + 300, feature="search"), T0 + 300)  # 95 s later: a new burst
    first, second = h.bursts
    assert (first.model_class, first.start, first.end, first.count) == ("sonnet-4", T0 + 120,
                                                                       T0 + 205, 3)  # fmt: skip
    assert first.features == (("chat", 3),)
    assert first.users is not None and first.drivers is not None
    assert first.users[0].name == "batch"
    assert first.users[0].share == pytest.approx(450_000 / (450_000 + 25_000))
    assert "other" not in {u.name for u in first.users}  # another model class
    assert "early" not in {u.name for u in first.users}
    assert first.drivers[0].name == "doc_summary"
    assert second.count == 1 and second.start == T0 + 300
    assert h.bursts_between(T0, T0 + 400) == [second, first]


def test_a_429_older_than_the_tracker_is_a_burst_without_drivers() -> None:
    e = Engine(clock=FixedClock(T0 + 3600))
    e.ingest_lines([line(T0, error="RateLimitError", error_status=429, input_tokens=0)])
    [b] = e.headroom.bursts
    assert b.users is None and b.drivers is None


# -- the alert ---------------------------------------------------------------------------------


def _traffic(e: Engine, start: float, seconds: int, tokens: int) -> None:
    e.ingest_lines([line(start + k, input_tokens=tokens) for k in range(seconds)])


def test_headroom_alert_fires_per_class_and_resolves() -> None:
    clock = FixedClock(T0 + 60)
    cfg = HeadroomConfig.from_raw({"sonnet-4": {"rpm": 1000, "itpm": 50_000}})
    e = Engine(clock=clock, headroom=Headroom(cfg))
    alerts = Alerts(e)
    _traffic(e, T0, 60, 800)  # 48k ITPM: 96% of 50k
    fired = [a for a in alerts.evaluate(T0 + 60) if a.rule == "headroom"]
    assert len(fired) == 1
    a = fired[0]
    assert (a.scope, a.severity, a.threshold) == ("sonnet-4", "warning", 80.0)
    assert a.value == pytest.approx(96.0)
    assert "ITPM at 96.0% of its limit (48,000/50,000 per min, limit from config)" in a.message
    # A quiet minute later the window is empty: resolved.
    clock.set(T0 + 125)
    assert not [a for a in alerts.evaluate(T0 + 125) if a.rule == "headroom"]
    kinds = [(t.kind, t.alert.rule) for t in alerts.transitions]
    assert ("fired", "headroom") in kinds and ("resolved", "headroom") in kinds


def test_headroom_alert_quiet_under_threshold_and_without_limits() -> None:
    e = Engine(clock=FixedClock(T0 + 60))
    _traffic(e, T0, 60, 800)
    assert not [a for a in Alerts(e).evaluate(T0 + 60) if a.rule == "headroom"]  # no limits
    cfg = HeadroomConfig.from_raw({"sonnet-4": {"itpm": 100_000}})
    e = Engine(clock=FixedClock(T0 + 60), headroom=Headroom(cfg))
    _traffic(e, T0, 60, 800)  # 48%
    assert not [a for a in Alerts(e).evaluate(T0 + 60) if a.rule == "headroom"]


def test_headroom_rule_is_configurable() -> None:
    rules = rules_from_config({"headroom": {"threshold": 40, "window": "30s"}})
    cfg = HeadroomConfig.from_raw({"sonnet-4": {"itpm": 100_000}})
    e = Engine(clock=FixedClock(T0 + 60), headroom=Headroom(cfg))
    _traffic(e, T0, 60, 800)
    [a] = [a for a in Alerts(e, rules).evaluate(T0 + 60) if a.rule == "headroom"]
    assert "over 30 s" in a.message and a.value == pytest.approx(48.0)
    with pytest.raises(ConfigError, match=r"alerts\.headroom\.window"):
        rules_from_config({"headroom": {"window": "10m"}})
    assert "[alerts.headroom]" in Config().to_toml()


def test_dashboard_does_not_evaluate_alerts_while_history_loads() -> None:
    """Evaluating at the historical times the data has reached records spurious transitions."""
    from types import SimpleNamespace

    from claude_top.views.live.dashboard import build_dashboard

    cfg = HeadroomConfig.from_raw({"sonnet-4": {"itpm": 50_000}})
    e = Engine(clock=FixedClock(T0 + 60), headroom=Headroom(cfg))
    _traffic(e, T0, 60, 800)
    alerts = Alerts(e)
    loading = SimpleNamespace(lines=60, bytes=1, elapsed_s=1.0, history_done=False, total_bytes=2)
    d = build_dashboard(e, alerts, now=T0 + 60, progress=loading)
    assert d.alerts_pending and d.alerts == () and not alerts.transitions
    done = SimpleNamespace(lines=60, bytes=2, elapsed_s=1.0, history_done=True, total_bytes=2)
    d = build_dashboard(e, alerts, now=T0 + 60, progress=done)
    assert not d.alerts_pending
    assert [a.rule for a in d.alerts] == ["headroom"]
    [c] = d.headroom.classes
    assert [g.level for g in c.gauges] == ["ok", "warning", "ok"]
    assert c.gauges[1].pct == pytest.approx(96.0)


def test_check_reports_headroom_with_config_limits(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from claude_top.commands.main import main

    log = tmp_path / "app.log"
    log.write_text("\n".join(line(T0 - 60 + k, input_tokens=800) for k in range(60)) + "\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text("[limits.sonnet-4]\nitpm = 50000\n")
    now = datetime.fromtimestamp(T0, UTC).isoformat()
    code = main(["check", str(log), "--now", now, "--config", str(cfg)])
    out = capsys.readouterr().out
    assert code == 1
    assert "WARNING headroom sonnet-4: ITPM at 96.0% of its limit" in out
