"""A real Prometheus scraping ``claude-top serve``: the exposition is valid, PromQL over it gives
claude-top's own numbers, and neither a rotation nor a restart shows a false spike in rate()."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from claude_top.views.metrics.collector import BASE_BOUNDS_MS
from claude_top.views.metrics.grafana import expressions
from integration.fleet import Serve, append, fixture_lines, sample_sum, scrape
from integration.processes import wait_until
from integration.servers import HOST, Prometheus, Promtool, require_binary


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    """``serve(logs, *extra, port=None)``: a started one, on ``port`` when given."""
    started: list[Serve] = []

    def make(logs: list[str], *extra: str, port: int | None = None) -> Serve:
        s = Serve(tmp_path, logs, *extra, port=port)
        started.append(s)
        s.start()
        return s

    yield make
    for s in started:
        s.stop()


class Early:
    """A Prometheus started before its test, scraping a port held for the serve the test starts.

    Prometheus scrapes a target first some 5 s after it starts (service discovery hands targets
    over at most every 5 s, see ``servers.Prometheus``). Started together when the module
    starts, each test's Prometheus has that wait behind it by the time the test starts its
    serve, which is then scraped within a scrape interval. Until ``take``, the port is held by
    a socket bound and not listening: Prometheus's scrapes of it are refused (``up`` is 0, no
    series), and no other process is handed the port.
    """

    def __init__(self, workdir: Path, rule_files: list[Path] | None = None) -> None:
        self._hold = socket.socket()
        self._hold.bind((HOST, 0))
        self.port = int(self._hold.getsockname()[1])
        binary = require_binary("prometheus")
        self.server = Prometheus(binary, workdir, [f"{HOST}:{self.port}"], rule_files)

    def take(self) -> tuple[int, Prometheus]:
        """The held port, now free for serve to bind, and the Prometheus scraping it."""
        self._hold.close()
        return self.port, self.server

    def stop(self) -> None:
        self._hold.close()
        self.server.stop()


SOURCE_CONFIG = '[alerts.source]\ngrace = "1s"\n'
"""The config of the rules test: its serve and the rule file its Prometheus loads."""


@pytest.fixture(scope="module")
def early(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Early]]:
    """The Prometheus of each test that starts one, by test, all started at once."""
    config = tmp_path_factory.mktemp("rules") / "config.toml"
    config.write_text(SOURCE_CONFIG)
    rules = config.with_name("claude-top.rules.yml")
    out = subprocess.run(
        [sys.executable, "-m", "claude_top", "rules", "--config", str(config)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rules.write_text(out.stdout)
    made: dict[str, Early] = {}
    try:
        for name, rule_files in (("promql", None), ("restart", None), ("rules", [rules])):
            made[name] = Early(tmp_path_factory.mktemp(f"prometheus-{name}"), rule_files)
            made[name].server.start()
        yield made
    finally:
        for held in made.values():
            held.stop()


def _summary(path: Path, *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "claude_top", "summary", str(path), "--format", "json", *args],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return dict(json.loads(out.stdout))


def test_a_scrape_passes_promtool_and_counts_only_what_is_read_live(
    tmp_path: Path, serve: Callable[..., Serve], promtool: Promtool
) -> None:
    log = tmp_path / "app.log"
    append(log, fixture_lines(40, seed=1))
    s = serve([str(log)])
    first = scrape(s.url)
    assert 'claude_top_calls_total{feature="chat"' in first, "the history's series start at 0"
    assert sample_sum(first, "claude_top_calls_total") == 0, "history is not counted"
    append(log, fixture_lines(200, seed=2))

    def counted() -> str | None:
        text = scrape(s.url)
        return text if sample_sum(text, "claude_top_calls_total") == 200 else None

    text = wait_until(counted, "the live lines in a scrape")
    checked = promtool.check_metrics(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "user" not in text.replace("user_", "")  # no user label unless --metrics-users
    assert 'le="15.0"' in text and 'le="30.0"' in text and 'le="120.0"' in text


def test_promql_over_the_scrapes_equals_claude_tops_numbers(
    tmp_path: Path, serve: Callable[..., Serve], early: dict[str, Early]
) -> None:
    log, live = tmp_path / "app.log", tmp_path / "live.log"
    # 8 days of history: the cost baseline the dashboard draws has its 7 days
    append(log, fixture_lines(400, seed=3, now=time.time() - 3600, span_s=8 * 86400))
    config = tmp_path / "config.toml"
    config.write_text("[limits.sonnet-4]\nrpm = 100\nitpm = 200000\notpm = 40000\n")
    port, server = early["promql"].take()
    serve([str(log)], "--config", str(config), port=port)
    server.wait_for_value("claude_top_counting_since_timestamp_seconds")
    lines = fixture_lines(600, seed=4)
    append(log, lines)
    append(live, lines)
    want = _summary(live)
    total = want["total"]
    assert isinstance(total, dict)
    wait_until(
        lambda: server.value("sum(claude_top_calls_total)") == total["calls"],
        "Prometheus to hold every live call",
    )
    assert server.value("sum(claude_top_errors_total)") == total["errors"]
    assert server.value('sum(claude_top_errors_total{status="429"})') == total["rate_limited"]
    assert server.value("sum(claude_top_max_tokens_stops_total)") == total["max_tokens_stops"]
    assert (
        server.value('sum(claude_top_tokens_total{kind="output"})') == total["total_output_tokens"]
    )
    cost = server.value("sum(claude_top_cost_usd_total)")
    assert cost is not None and round(cost, 6) == total["cost_usd"]
    assert server.value('sum(claude_top_lines_total{class="record"})') == 600
    features = want["features"]
    assert isinstance(features, dict)
    bounds = sorted({0.0, *(b / 1000 for b in BASE_BOUNDS_MS), float("inf")})
    for name, g in features.items():
        assert server.value(f'sum(claude_top_calls_total{{feature="{name}"}})') == g["calls"]
        cost = server.value(f'sum(claude_top_cost_usd_total{{feature="{name}"}})')
        assert cost is not None and round(cost, 6) == g["cost_usd"]
        q = f'histogram_quantile(0.95, sum by (le) (claude_top_call_duration_seconds_bucket{{feature="{name}"}}))'
        p95 = server.value(q)
        exact = g["p95_latency_ms"] / 1000
        # within the bucket error: Prometheus interpolates inside the bucket holding the p95
        upper = next(b for b in bounds if b >= exact)
        lower = max(b for b in bounds if b < upper)
        assert p95 is not None and lower <= p95 <= upper, (name, p95, exact)
    # every query of the shipped Grafana dashboard is valid PromQL and finds data here
    for expr in expressions():
        promql = (
            expr.replace("$__rate_interval", "1m")
            .replace('"$feature"', '".*"')
            .replace('"$host"', '".*"')
        )
        wait_until(lambda q=promql: server.query(q)["result"], f"data for the dashboard's {expr!r}")


class Writer:
    """Appends one line every ``every`` seconds to whatever file ``path`` names, until stopped."""

    def __init__(self, path: Path, every: float) -> None:
        self.path, self.every, self.written = path, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every) and self.written < 5000:
            append(self.path, fixture_lines(1, seed=100 + self.written))
            self.written += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def test_restart_and_rotation_show_no_false_spike(
    tmp_path: Path, serve: Callable[..., Serve], early: dict[str, Early]
) -> None:
    """3,000 lines of history over two days, 10 lines/s live. A restart that reads less history
    than before (``--since`` shorter, as when the window slides past old days or a rotated file
    is gone) starts the counters at zero; counting history would read it as a reset followed by
    some 1,500 calls at once, about 300 calls/s in rate(calls[5s]). A rotation is then followed
    without any reset."""
    log = tmp_path / "app.log"
    append(log, fixture_lines(3000, seed=5, now=time.time() - 60, span_s=2 * 86400))
    port, server = early["restart"].take()
    s = serve([str(log)], port=port)
    server.wait_for_value("claude_top_counting_since_timestamp_seconds")
    began = time.time()
    writer = Writer(log, 0.1)
    try:
        wait_until(lambda: (server.value("sum(claude_top_calls_total)") or 0) > 30, "live calls")
        stopped = time.time()
        s.stop()
        s.start("--since", "1d")  # half the history it read before
        after = sample_sum(scrape(s.url), "claude_top_calls_total")
        assert after < 30, "a restart starts counting at zero, whatever the history holds"

        def scraped_since_restart() -> bool:
            # the count alone may still be the last one Prometheus scraped before the restart
            since = server.value("claude_top_counting_since_timestamp_seconds") or 0
            calls = server.value("sum(claude_top_calls_total)") or 0
            return since >= stopped and calls > after + 30

        wait_until(scraped_since_restart, "scrapes after the restart")
        rotated = time.time()
        log.rename(tmp_path / "app.log.1")  # logrotate: the writer now creates a new app.log
        # serve's own count at the rename: only the line or two of its last poll are still
        # unread in app.log.1, so most of the 20 calls waited for come from the new app.log.
        counted = sample_sum(scrape(s.url), "claude_top_calls_total")
        wait_until(
            lambda: (server.value("sum(claude_top_calls_total)") or 0) > counted + 20,
            "live calls after the rotation",
        )
    finally:
        writer.stop()
    since_rotation = f"{math.ceil(time.time() - rotated)}s"  # from the rename on
    assert server.value(f"resets(sum(claude_top_calls_total)[{since_rotation}:1s])") == 0
    span = f"{round(time.time() - began + 5)}s"
    peak = server.value(f"max_over_time(sum(rate(claude_top_calls_total[5s]))[{span}:1s])")
    assert peak is not None and peak < 3 * 10, f"rate() peaked at {peak}/s"
    assert server.value(f"resets(sum(claude_top_calls_total)[{span}:1s])") == 1


def test_prometheus_fires_the_shipped_source_and_stale_rules(
    tmp_path: Path, serve: Callable[..., Serve], early: dict[str, Early]
) -> None:
    """The rule file loaded by a real Prometheus (``claude-top rules`` over ``SOURCE_CONFIG``,
    see ``early``): a missing log (past a 1 s grace) and a log whose newest call is an hour old
    fire ``source`` and ``stale_log``, as serve's own rules do."""
    log, missing = tmp_path / "app.log", tmp_path / "missing.log"
    append(log, fixture_lines(5, seed=9, now=time.time() - 3600, span_s=60))
    config = tmp_path / "config.toml"
    config.write_text(SOURCE_CONFIG)
    port, server = early["rules"].take()
    serve([str(log), str(missing)], "--config", str(config), port=port)
    firing = 'ALERTS{alertstate="firing", alertname="%s"}'
    source = server.wait_for_value(firing % "source")
    assert source == 1
    [alert] = server.query(firing % "source")["result"]
    assert alert["metric"]["source"] == str(missing) and alert["metric"]["severity"] == "critical"
    [stale] = server.query(firing % "stale_log")["result"]
    assert stale["metric"]["feature"] == "*" and stale["metric"]["severity"] == "warning"
    assert server.value('claude_top_alerts_firing{alertname="source"}') == 1  # serve agrees
    assert server.value(firing % "error_rate") is None
