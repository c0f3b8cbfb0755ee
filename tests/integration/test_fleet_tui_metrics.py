"""``claude-top LOG --metrics``: the TUI's wiring serves the same endpoint ``serve`` does, over
the TUI's own engine and alerts, counting once the follower's history is in."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from claude_top.commands.live import _metrics
from claude_top.core.clock import SystemClock
from claude_top.engine.engine import Engine
from claude_top.ingest.reader import timestamp_of
from claude_top.rules.evaluate import Alerts
from claude_top.sources.follow import Follower
from integration.fleet import append, fixture_lines, sample_sum, scrape
from integration.processes import wait_until
from integration.servers import HOST


def test_the_tui_serves_metrics_beside_the_screen(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    append(log, fixture_lines(30, seed=11))
    engine = Engine(clock=SystemClock())
    alerts = Alerts(engine, clock=engine.clock)
    follower = Follower([str(log)], engine.ingest, ts_of=timestamp_of, poll_interval=0.1)
    alerts.sources = follower
    args = argparse.Namespace(metrics=f"{HOST}:0", metrics_users=2)
    exporter = _metrics(args, engine, alerts, engine.tz, engine.clock, follower)
    assert exporter is not None
    follower.start()
    try:
        wait_until(lambda: exporter.collector.counting_since, "counting to start")
        append(log, fixture_lines(20, seed=12, now=time.time()))

        def counted() -> str | None:
            text = scrape(exporter.url)
            return text if sample_sum(text, "claude_top_calls_total") == 20 else None

        text = wait_until(counted, "the live calls on /metrics")
        assert "claude_top_user_tokens_today{" in text  # --metrics-users 2
        assert "claude_top_source_up{" in text
    finally:
        follower.stop()
        exporter.stop()
    assert _metrics(argparse.Namespace(), engine, alerts, engine.tz, engine.clock, follower) is None
