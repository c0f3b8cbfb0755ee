"""The test servers themselves work: Prometheus scrapes and answers PromQL, promtool tells good
files from broken ones, Alertmanager delivers a firing alert and its resolution, sshd serves a
file and comes back after being killed. The fleet tests build on these."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from integration.processes import Process, running, wait_until
from integration.servers import HOST, Alertmanager, Prometheus, Promtool, Sshd, require_binary


class CounterExporter:
    """A tiny Prometheus exposition of one counter, ``demo_events_total``, set by the test."""

    def __init__(self) -> None:
        self.count = 0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = (
                    "# HELP demo_events_total Events seen.\n# TYPE demo_events_total counter\n"
                    f"demo_events_total {exporter.count}\n"
                ).encode()
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.target = f"{HOST}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module", autouse=True)
def early_prometheus(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Prometheus, CounterExporter] | None]:
    """A Prometheus scraping a counter at 42, started as the module starts (None without the
    binary: the test that uses it says so).

    A new Prometheus first scrapes some 5 s after it starts (``servers.Prometheus``); started
    here, that wait runs while the module's other tests do, and its test comes last.
    """
    try:
        binary = require_binary("prometheus")
    except (pytest.skip.Exception, pytest.fail.Exception):
        yield None
        return
    exporter = CounterExporter()
    exporter.count = 42
    server = Prometheus(binary, tmp_path_factory.mktemp("prometheus"), [exporter.target])
    try:
        server.start()
        yield server, exporter
    finally:
        server.stop()
        exporter.server.shutdown()
        exporter.server.server_close()


def _outcome_without(binary: str) -> str:
    try:
        require_binary(binary)
    except pytest.fail.Exception as failed:
        return f"fail: {failed}"
    except pytest.skip.Exception as skipped:
        return f"skip: {skipped}"
    return "found"


def test_a_missing_binary_skips_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert _outcome_without("no-such-server").startswith("skip: no-such-server is not installed")


def test_a_missing_binary_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert _outcome_without("no-such-server").startswith("fail: no-such-server is not installed")
    assert _outcome_without("no-such-server").endswith("CI=true, so this cannot be skipped")


VALID_METRICS = """\
# HELP demo_events_total Events seen.
# TYPE demo_events_total counter
demo_events_total{feature="chat"} 3
"""

VALID_RULES = """\
groups:
  - name: demo
    rules:
      - alert: DemoEventsStopped
        expr: rate(demo_events_total[5m]) == 0
        for: 1m
        labels: {severity: warning}
        annotations: {summary: "no demo events for 1m"}
"""

RULE_TEST = """\
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'demo_events_total{{feature="chat"}}'
        values: '5x10'
    alert_rule_test:
      - eval_time: 8m
        alertname: DemoEventsStopped
        exp_alerts:
          - exp_labels: {{severity: warning, feature: chat}}
            exp_annotations: {{summary: "no demo events for 1m"}}
"""


def test_promtool_accepts_valid_metrics_and_rejects_broken_ones(promtool: Promtool) -> None:
    assert promtool.check_metrics(VALID_METRICS).returncode == 0
    broken = promtool.check_metrics("demo_events_total{feature=chat} three\n")
    assert broken.returncode != 0, broken


def test_promtool_checks_and_tests_rule_files(promtool: Promtool, tmp_path: Path) -> None:
    rules, broken = tmp_path / "rules.yml", tmp_path / "broken.yml"
    rules.write_text(VALID_RULES)
    broken.write_text(VALID_RULES.replace("rate(demo_events_total[5m])", "rate(demo_events_total"))
    assert promtool.check_rules(rules).returncode == 0
    assert promtool.check_rules(broken).returncode != 0

    passing, failing = tmp_path / "test.yml", tmp_path / "wrong.yml"
    passing.write_text(RULE_TEST.format(rules=rules))
    failing.write_text(RULE_TEST.format(rules=rules).replace("severity: warning", "severity: page"))
    assert promtool.test_rules(passing).returncode == 0, promtool.test_rules(passing).stdout
    assert promtool.test_rules(failing).returncode != 0


def test_alertmanager_delivers_a_firing_alert_then_its_resolution(
    alertmanager: Callable[[], Alertmanager],
) -> None:
    server = alertmanager()
    now = datetime.now(UTC)
    alert = {
        "labels": {"alertname": "ClaudeTopErrorRate", "feature": "chat", "severity": "warning"},
        "annotations": {"summary": "error rate 12% over 5m"},
        "startsAt": now.isoformat(),
    }
    server.post([alert])

    fired = server.webhook.wait_for(lambda body: body["status"] == "firing")
    assert [a["labels"] for a in fired["alerts"]] == [alert["labels"]]
    assert fired["alerts"][0]["annotations"] == alert["annotations"]
    assert [a["labels"]["alertname"] for a in server.alerts()] == ["ClaudeTopErrorRate"]

    server.post([alert | {"endsAt": (now + timedelta(milliseconds=1)).isoformat()}])
    resolved = server.webhook.wait_for(lambda body: body["status"] == "resolved")
    assert [a["status"] for a in resolved["alerts"]] == ["resolved"]
    assert resolved["alerts"][0]["labels"] == alert["labels"]


def _ssh_cat(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_sshd_serves_a_file_drops_its_sessions_when_killed_and_comes_back(
    sshd: Callable[[], Sshd], tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text('{"n": 1}\n')
    host = sshd()
    plain = ["ssh", "-p", str(host.port), "-i", str(host.key), "-o", "BatchMode=yes"]
    plain += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    read = _ssh_cat([*plain, HOST, "cat", str(log)])
    assert (read.returncode, read.stdout) == (0, '{"n": 1}\n'), read.stderr
    assert _ssh_cat(host.ssh_argv("cat", str(log))).stdout == '{"n": 1}\n'

    follow = subprocess.Popen(
        host.ssh_argv("tail", "-n", "+1", "-f", str(log)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline() == '{"n": 1}\n'
        host.kill()
        assert follow.wait(30) == 255, "a killed sshd drops the open session"
    finally:
        follow.kill()
        follow.wait(10)
    assert _ssh_cat(host.ssh_argv("true")).returncode == 255, "refused while down"

    host.restart()
    log.write_text('{"n": 1}\n{"n": 2}\n')
    assert _ssh_cat(host.ssh_argv("cat", str(log))).stdout == '{"n": 1}\n{"n": 2}\n'


def test_stopping_sshd_ends_its_sessions_too(sshd: Callable[[], Sshd]) -> None:
    host = sshd()
    session = subprocess.Popen(host.ssh_argv("sleep", "600"), stdin=subprocess.DEVNULL)
    try:
        assert host.process is not None
        server = host.process
        tree = wait_until(lambda: [*server.tree()] if "sleep" in _commands(server) else [], "sleep")
        host.stop()
        assert session.wait(30) == 255
        assert [process for process in tree if running(process)] == []
    finally:
        session.kill()
        session.wait(10)


def _commands(server: Process) -> str:
    """The command lines of the server's process tree, for waiting on a session to start."""
    lines = []
    for pid, _ in server.tree():
        with contextlib.suppress(FileNotFoundError):  # it exited meanwhile
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
    return " ".join(lines)


def test_prometheus_scrapes_a_counter_and_answers_promql_across_a_restart(
    early_prometheus: tuple[Prometheus, CounterExporter] | None,
) -> None:
    """Last in the module: its Prometheus, started with the module, is past the wait before its
    first scrape by now (``early_prometheus``)."""
    if early_prometheus is None:
        require_binary("prometheus")  # skips, or fails under CI
    assert early_prometheus is not None
    server, exporter = early_prometheus
    wait_until(lambda: server.value("demo_events_total") == 42, "the counter's first scrape")
    assert server.value(f'up{{job="{Prometheus.JOB}"}}') == 1
    assert server.value("time()", time=1_700_000_000.5) == 1_700_000_000.5

    exporter.count = 50
    server.restart()
    wait_until(lambda: server.value("demo_events_total") == 50, "a scrape after the restart")
    assert server.value("max_over_time(demo_events_total[1h])") == 50
    assert server.value("min_over_time(demo_events_total[1h])") == 42, "history survives"
