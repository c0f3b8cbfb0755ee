"""The health rules: ``source`` from a follower's statuses and heartbeat, ``stale_log`` from the
newest call's age; their config keys; the source alert ordered first.

Times are injected (the reader's wall clock, the view's clock), so no test waits for a grace
period to pass.
"""

from __future__ import annotations

import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.unit.rules.test_alerts import T0, TRAFFIC, errors, line, spread

from claude_top.config.load import Config, load
from claude_top.core.clock import FixedClock
from claude_top.core.errors import ConfigError
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alert, Alerts
from claude_top.rules.spec import DEFAULT_RULES, rules_from_config
from claude_top.sources.batches import Batch
from claude_top.sources.follow import Follower, SourceStatus

GRACE = 30.0
W0 = 1_000_000.0
"""The reader's wall clock in these tests."""


@dataclass
class Health:
    """A follower as the rule sees it."""

    statuses: list[SourceStatus] = field(default_factory=list)
    heartbeat: float = W0
    running: bool = True
    error: BaseException | None = None
    poll_interval: float = 1.0


def status(
    path: str, state: str, message: str = "", since: float = W0, **kw: object
) -> SourceStatus:
    return SourceStatus(path, state, message, 0, 0, since, **kw)  # type: ignore[arg-type]


def source_alerts(health: Health, wall_now: float, alive: bool = True) -> list[Alert]:
    """The source alerts at ``wall_now``; with ``alive`` the reader beat just now."""
    if alive:
        health.heartbeat = wall_now
    al = Alerts(Engine(clock=FixedClock(T0)), sources=health, wall=lambda: wall_now)
    return [a for a in al.evaluate(T0) if a.rule == "source"]


def test_an_erroring_source_fires_at_once_critical_with_its_reason_and_since() -> None:
    h = Health([status("/var/log/app.log", "error", "Permission denied", since=W0 - 5)])
    [a] = source_alerts(h, W0)
    assert (a.severity, a.scope, a.since) == ("critical", "/var/log/app.log", W0 - 5)
    assert a.message == "app.log: Permission denied"


def test_names_and_reasons_are_made_safe() -> None:
    h = Health([status("/logs/\x1b[31mevil.log", "error", "bad \x07 thing")])
    [a] = source_alerts(h, W0)
    assert "\x1b" not in a.message and "\x07" not in a.message
    assert a.message.startswith("^[[31mevil.log: ")


def test_a_missing_file_fires_only_after_the_grace_period() -> None:
    h = Health([status("app.log", "waiting", "file removed; waiting for it to reappear")])
    assert source_alerts(h, W0 + GRACE) == []
    [a] = source_alerts(h, W0 + GRACE + 1)
    assert a.message == "app.log: file removed; waiting for it to reappear"


def test_a_fault_fires_for_the_grace_period_after_the_source_healed() -> None:
    h = Health([status("app.log", "following", fault="internal error: boom", fault_at=W0)])
    [a] = source_alerts(h, W0 + GRACE)
    assert a.message == "app.log: internal error: boom"
    assert source_alerts(h, W0 + GRACE + 1) == []


def test_healthy_sources_are_quiet() -> None:
    h = Health([status("a.log", "following"), status("b.log", "reading-history")])
    assert source_alerts(h, W0 + 10 * GRACE) == []


def test_a_stalled_reader_fires_after_grace_and_three_polls() -> None:
    h = Health([status("app.log", "following")], poll_interval=20.0)
    assert source_alerts(h, W0 + 60, alive=False) == []  # three polls of 20 s
    [a] = source_alerts(h, W0 + 61, alive=False)
    assert (a.scope, a.message) == ("*", "reader: stalled, no progress for 61s")


def test_a_dead_reader_fires_and_one_that_finished_does_not() -> None:
    h = Health([status("-", "done", "end of input")], running=False)
    assert source_alerts(h, W0 + 1000, alive=False) == []
    h.error = RuntimeError("gone")
    [a] = source_alerts(h, W0)
    assert a.message == "reader: stopped (RuntimeError: gone)"


def test_no_follower_no_source_rule() -> None:
    assert [
        a for a in Alerts(Engine(clock=FixedClock(T0))).evaluate(T0) if a.rule == "source"
    ] == []


def test_the_source_alert_comes_first_even_before_a_critical_one() -> None:
    e = Engine(clock=FixedClock(T0))
    e.ingest_lines(errors(30, T0 - 300, T0) + spread(30, T0 - 300, T0))
    h = Health([status("app.log", "error", "read failed")], heartbeat=time.time())
    out = Alerts(e, sources=h).evaluate(T0)
    assert out[0].rule == "source"
    assert "error_rate" in [a.rule for a in out[1:]]


def test_a_real_stuck_follower_is_reported_stalled(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\n")
    entered, release = threading.Event(), threading.Event()

    def stuck_sink(batch: Batch) -> None:
        entered.set()
        release.wait(10)

    f = Follower([str(log)], stuck_sink, poll_interval=0.05)
    f.start()
    try:
        assert entered.wait(5)
        beat = f.heartbeat
        al = Alerts(Engine(clock=FixedClock(T0)), sources=f, wall=lambda: beat + GRACE + 1)
        [a] = [a for a in al.evaluate(T0) if a.rule == "source"]
        assert a.message.startswith("reader: stalled")
    finally:
        release.set()
        f.stop()


# --- stale_log ---------------------------------------------------------------------------------


def stale(newest: float, now: float, clock: float | None = None, **raw: object) -> list[Alert]:
    e = Engine(clock=FixedClock(now))
    e.ingest_lines([line(newest)])
    rules = rules_from_config({"stale_log": raw}) if raw else DEFAULT_RULES
    view = None if clock is None else FixedClock(clock)
    return [a for a in Alerts(e, rules, clock=view).evaluate(now) if a.rule == "stale_log"]


def test_stale_log_fires_past_its_age_naming_it() -> None:
    assert stale(T0 - 900, T0) == []
    [a] = stale(T0 - 2 * 3600, T0)
    assert (a.severity, a.message) == ("warning", "all traffic: newest call 2h ago (limit 15m)")
    assert a.since == T0 - 2 * 3600 + 900


def test_stale_log_age_and_severity_are_configurable() -> None:
    assert stale(T0 - 3600, T0, max_age="2h") == []
    [a] = stale(T0 - 3600, T0, max_age=600, severity="critical")
    assert (a.severity, a.message) == ("critical", "all traffic: newest call 60m ago (limit 10m)")
    assert stale(T0 - 3600, T0, enabled=False) == []


def test_stale_log_reads_the_views_clock_not_a_replay_anchor() -> None:
    """The TUI evaluates a replay at its anchor (just after the newest call); the log is still
    as old as the clock says."""
    assert stale(T0 - 3600, T0 - 3599) == []
    assert len(stale(T0 - 3600, T0 - 3599, clock=T0)) == 1


def test_an_empty_log_is_not_stale() -> None:
    assert [
        a for a in Alerts(Engine(clock=FixedClock(T0))).evaluate(T0) if a.rule != "source"
    ] == []


# --- config ------------------------------------------------------------------------------------


def test_config_reads_writes_and_refuses_health_keys(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[alerts.stale_log]\nmax_age = "1h"\n[alerts.source]\ngrace = "2m"\n')
    rules = {r.id: r for r in rules_from_config(load(str(p)).alerts)}
    assert (rules["stale_log"].threshold, rules["source"].threshold) == (3600.0, 120.0)
    doc = tomllib.loads(Config().to_toml())
    assert doc["alerts"]["stale_log"] == {"max_age": "15m", "severity": "warning", "enabled": True}
    assert doc["alerts"]["source"] == {"grace": "30s", "severity": "critical", "enabled": True}
    with pytest.raises(ConfigError, match=r"alerts\.stale_log\.threshold: unknown key"):
        rules_from_config({"stale_log": {"threshold": 5}})
    with pytest.raises(ConfigError, match=r"alerts\.stale_log\.max_age: .*not a duration"):
        rules_from_config({"stale_log": {"max_age": "soon"}})
    with pytest.raises(ConfigError, match=r"alerts\.source\.grace: must be a duration"):
        rules_from_config({"source": {"grace": True}})


def test_traffic_rules_are_all_but_the_health_ones() -> None:
    assert [r.id for r in DEFAULT_RULES if r not in TRAFFIC] == ["source", "stale_log"]
