"""``p95_ttft``: the streamed calls' p95 time to first token over 10 minutes (a warning), per
feature and over all traffic, with its threshold and minimum from the config, through the same
``Alerts`` the TUI and ``check`` evaluate."""

from __future__ import annotations

import json

from claude_top.rules.evaluate import Alerts
from claude_top.rules.spec import DEFAULT_RULES, rules_from_config
from unit.rules.test_alerts import T0, fired, make, spread


def streamed(lines: list[str], ttft: int) -> list[str]:
    return [json.dumps({**json.loads(x), "ttft_ms": ttft}) for x in lines]


def test_the_default_rule() -> None:
    rule = next(r for r in DEFAULT_RULES if r.id == "p95_ttft")
    assert (rule.threshold, rule.window, rule.severity, rule.min_calls) == (
        5000.0,
        "10m",
        "warning",
        20,
    )
    assert rule.limit_text == "> 5.0s"


def test_fires_for_the_slow_streaming_feature_and_overall() -> None:
    # voice: 30 streams, first token after 8 s; chat: 30 streams after 0.4 s. Overall p95 is
    # voice's 8 s (30 of 60 streams are slow); chat alone is quiet.
    e = make(
        streamed(spread(30, T0 - 600, T0, feature="voice", latency=9000), 8000)
        + streamed(spread(30, T0 - 600, T0, feature="chat", latency=2000), 400)
    )
    alerts = fired(e, rule="p95_ttft")
    assert {a.scope for a in alerts} == {"*", "voice"}
    voice = next(a for a in alerts if a.scope == "voice")
    assert voice.severity == "warning"
    assert 8000 <= voice.value <= 8000 * 1.01  # an HDR bucket's reported value
    assert voice.message == "p95 time to first token 8.0s over 10 min (30 streamed calls), > 5.0s"


def test_quiet_below_the_threshold_without_streams_and_outside_the_window() -> None:
    assert (
        fired(make(streamed(spread(30, T0 - 600, T0, latency=9000), 4000)), rule="p95_ttft") == []
    )
    # The latency rule sees slow calls; with no ttft_ms logged there is nothing to time here.
    assert fired(make(spread(30, T0 - 600, T0, latency=9000)), rule="p95_ttft") == []
    old = streamed(spread(30, T0 - 1800, T0 - 1200, latency=9000), 8000)
    assert fired(make(old), rule="p95_ttft") == []


def test_min_calls_counts_streams_and_both_come_from_the_config() -> None:
    few = make(streamed(spread(19, T0 - 600, T0, latency=9000), 8000) + spread(50, T0 - 600, T0))
    assert fired(few, rule="p95_ttft") == []  # 19 streams, though 69 calls
    rules = rules_from_config({"p95_ttft": {"threshold": 3000, "min_calls": 10}})
    e = make(streamed(spread(12, T0 - 600, T0, latency=9000), 4000))
    alerts = [a for a in Alerts(e, rules).evaluate(T0) if a.rule == "p95_ttft"]
    assert {a.scope for a in alerts} == {"*", "chat"}
    off = rules_from_config({"p95_ttft": {"enabled": False}})
    assert [a for a in Alerts(e, off).evaluate(T0) if a.rule == "p95_ttft"] == []


def test_resolves_when_the_window_moves_on() -> None:
    e = make(streamed(spread(30, T0 - 600, T0, latency=9000), 8000))
    alerts = Alerts(e)
    assert any(a.rule == "p95_ttft" for a in alerts.evaluate(T0))
    assert not any(a.rule == "p95_ttft" for a in alerts.evaluate(T0 + 1200))
    assert [t.kind for t in alerts.transitions if t.alert.rule == "p95_ttft"] == [
        "fired",
        "fired",
        "resolved",
        "resolved",
    ]
