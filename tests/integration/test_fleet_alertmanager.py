"""A real Alertmanager receiving claude-top's alerts: ``serve`` pushes a firing alert and its
resolution, ``check`` pushes once, and a push to nowhere is said, never fatal."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from claude_top.rules.spec import DEFAULT_RULES
from integration.fleet import Serve, append
from integration.servers import Alertmanager, Promtool, free_port
from loggen import call, iso


def burst(n: int, errors: int, feature: str = "chat") -> list[bytes]:
    now = time.time()
    out = []
    for i in range(n):
        over: dict[str, Any] = {"timestamp": iso(now - 120 + i * 100 / n), "feature": feature}
        if i < errors:
            over.update(error="InternalServerError", error_status=500, stop_reason=None)
        out.append(orjson.dumps(call(now, **over)))
    return out


def _has(status: str, alertname: str, **labels: str) -> Callable[[dict[str, Any]], bool]:
    def matches(body: dict[str, Any]) -> bool:
        return any(
            a["status"] == status
            and a["labels"].get("alertname") == alertname
            and all(a["labels"].get(k) == v for k, v in labels.items())
            for a in body.get("alerts", [])
        )

    return matches


def test_serve_pushes_a_firing_alert_and_its_resolution(
    tmp_path: Path, alertmanager: Callable[[], Alertmanager]
) -> None:
    am = alertmanager()
    log = tmp_path / "app.log"
    append(log, burst(40, errors=20))
    s = Serve(tmp_path, [str(log)], "--alertmanager", am.base_url)
    s.start()
    try:
        fired = am.webhook.wait_for(_has("firing", "error_rate", feature="chat"))
        alert = next(a for a in fired["alerts"] if a["labels"].get("feature") == "chat")
        assert alert["labels"]["severity"] == "critical"
        assert alert["annotations"]["summary"].startswith("chat: 50.0% errors over 10 min")
        append(log, burst(3000, errors=0))  # the error rate falls under 5%
        am.webhook.wait_for(_has("resolved", "error_rate", feature="chat"))
        assert not [
            a for a in am.alerts() if a["labels"]["alertname"] == "error_rate"
            and a["status"]["state"] == "active"
        ]  # fmt: skip
    finally:
        s.stop()


def _check(log: Path, url: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "claude_top", "check", str(log), "--alertmanager", url]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_check_pushes_once_and_a_failed_push_is_said(
    tmp_path: Path, alertmanager: Callable[[], Alertmanager]
) -> None:
    am = alertmanager()
    log = tmp_path / "app.log"
    append(log, burst(40, errors=20, feature="rag"))
    done = _check(log, am.base_url)
    assert done.returncode == 2, done.stderr
    assert {
        a["labels"].get("feature") for a in am.alerts() if a["labels"]["alertname"] == "error_rate"
    } == {"rag", "*"}
    am.webhook.wait_for(_has("firing", "error_rate", feature="rag"))
    nowhere = _check(log, f"http://127.0.0.1:{free_port()}")
    assert nowhere.returncode == 2  # the alerts' status, not a crash
    assert "push failed" in nowhere.stderr and "Traceback" not in nowhere.stderr


def test_promtool_accepts_the_rule_file(tmp_path: Path, promtool: Promtool) -> None:
    rules = tmp_path / "claude-top.rules.yml"
    out = subprocess.run(
        [sys.executable, "-m", "claude_top", "rules", "--format", "prometheus"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rules.write_text(out.stdout)
    checked = promtool.check_rules(rules)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(DEFAULT_RULES)} rules found" in checked.stdout
