"""``claude-top check``: exit codes 0/1/2/3, text and JSON output, and an end-to-end incident."""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from claude_top.commands.main import main

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC).timestamp()
NOW = "2026-11-27T14:00:00Z"


def record(ts: float, feature: str, rng: random.Random, **kw: Any) -> dict[str, Any]:
    """One call in the article's log format."""
    d: dict[str, Any] = {
        "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(),
        "request_id": f"req-{rng.getrandbits(64):016x}",
        "user_id": f"user-{rng.randrange(40)}",
        "feature": feature,
        "model": "claude-sonnet-4-6",
        "input_tokens": rng.randrange(800, 1200),
        "output_tokens": rng.randrange(150, 250),
        "cached_tokens": 0,
        "latency_ms": rng.randrange(600, 3000),
        "stop_reason": "end_turn",
        "error": None,
        "error_status": None,
    }
    if feature == "rag":
        d["cached_tokens"] = rng.randrange(3000, 4000)
    d.update(kw)
    if d["error"] is not None:
        d.update(input_tokens=0, output_tokens=0, cached_tokens=0, stop_reason="error")
    return d


def generate(path: Path, incident: bool, days: int = 8, step: float = 180.0) -> Path:
    """Eight quiet days of three features up to 14:00 today; with ``incident``, a 429 storm and
    an error burst on doc_summary in the last hour."""
    rng = random.Random(42)
    out: list[dict[str, Any]] = []
    t = T0 - days * 86400
    while t < T0:
        for i, f in enumerate(("chat", "doc_summary", "rag")):
            out.append(record(t + i * 7, f, rng))
        t += step
    if incident:
        for k in range(60):  # 429 storm: 40 min ago .. now
            out.append(
                record(
                    T0 - 2400 + k * 40,
                    "doc_summary",
                    rng,
                    error="RateLimitError",
                    error_status=429,
                )
            )
        for k in range(80):  # error burst in the last 8 minutes
            bad = k % 3 == 0
            out.append(
                record(
                    T0 - 480 + k * 6,
                    "doc_summary",
                    rng,
                    error="InternalServerError" if bad else None,
                    error_status=500 if bad else None,
                )
            )
        out.sort(key=lambda d: d["timestamp"])
    path.write_text("".join(json.dumps(d) + "\n" for d in out))
    return path


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("logs")
    return {
        "quiet": generate(d / "quiet.log", incident=False),
        "incident": generate(d / "incident.log", incident=True),
    }


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_quiet_log_is_ok(logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(logs["quiet"]), "--now", NOW)
    n = sum(1 for _ in logs["quiet"].open())
    assert (code, err) == (0, "")
    assert out == f"OK: no alerts ({n} records, checked at 2026-11-27T14:00:00Z)\n"


def test_incident_is_critical(logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(logs["incident"]), "--now", NOW)
    assert code == 2
    lines = out.splitlines()
    assert lines[0].startswith("CRITICAL error_rate all traffic: ")
    assert lines[1].startswith("CRITICAL error_rate doc_summary: ")
    assert "errors over 10 min" in lines[1]
    assert any(x.startswith("WARNING rate_limit doc_summary: ") for x in lines)
    fired = {tuple(x.split()[:3]) for x in lines}
    # nothing about the quiet features
    assert not any(scope in ("chat:", "rag:") for _, _, scope in fired)


def test_incident_as_json(logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(logs["incident"]), "--now", NOW, "--format", "json")
    assert code == 2
    doc = json.loads(out)
    assert doc["checked_at"] == "2026-11-27T14:00:00Z"
    assert doc["status"] == "critical"
    assert doc["lines"]["rejected"] == 0 and doc["lines"]["records"] > 11_000
    first = doc["alerts"][0]
    assert set(first) == {
        "rule",
        "scope",
        "severity",
        "value",
        "threshold",
        "window",
        "since",
        "message",
    }
    assert (first["rule"], first["scope"], first["severity"]) == ("error_rate", "*", "critical")
    assert first["since"] == "2026-11-27T14:00:00Z"
    rl = [a for a in doc["alerts"] if a["rule"] == "rate_limit" and a["scope"] == "doc_summary"]
    assert rl and rl[0]["value"] == 7  # 429s in the last 5 minutes: 13:55:20 .. 13:59:20


def test_before_the_incident_is_ok(
    logs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # --now for an incident review: an hour earlier nothing was firing
    code, out, _ = run(capsys, str(logs["incident"]), "--now", "2026-11-27T13:00:00Z")
    assert code == 0 and out.startswith("OK: no alerts")


def test_warning_only_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(1)
    rows = [record(T0 - 600 + i * 10, "chat", rng) for i in range(59)]
    rows.append(record(T0 - 30, "chat", rng, error="RateLimitError", error_status=429))
    log = tmp_path / "a.log"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = run(capsys, str(log), "--now", NOW)
    assert code == 1
    assert out.splitlines()[0].startswith("WARNING rate_limit all traffic: 1 call rate-limited")


def test_config_changes_what_fires(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(1)
    rows = [record(T0 - 30, "chat", rng, error="RateLimitError", error_status=429)]
    log = tmp_path / "a.log"
    log.write_text(json.dumps(rows[0]) + "\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[alerts.rate_limit]\nseverity = "critical"\n')
    assert run(capsys, str(log), "--now", NOW, "--config", str(cfg))[0] == 2
    cfg.write_text("[alerts.rate_limit]\nenabled = false\n")
    assert run(capsys, str(log), "--now", NOW, "--config", str(cfg))[0] == 0


def test_missing_log_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope.log"))
    assert (code, out) == (3, "")
    assert "nope.log: no such file" in err and err.count("\n") == 1


def test_directory_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, str(tmp_path))[0] == 3


def test_bad_config_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.log"
    log.write_text("")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[alerts.error_rate]\nthreshold = "five"\n')
    code, _, err = run(capsys, str(log), "--config", str(cfg))
    assert code == 3
    assert "alerts.error_rate.threshold: must be a number" in err
    cfg.write_text("[alerts\n")
    assert run(capsys, str(log), "--config", str(cfg))[0] == 3
    assert run(capsys, str(log), "--config", str(tmp_path / "missing.toml"))[0] == 3


def test_bad_now_and_tz_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.log"
    log.write_text("")
    code, _, err = run(capsys, str(log), "--now", "teatime")
    assert code == 3 and "--now" in err
    assert run(capsys, str(log), "--tz", "Mars/Olympus")[0] == 3


def test_empty_log_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.log"
    log.write_text("")
    code, out, _ = run(capsys, str(log), "--now", NOW)
    assert code == 0 and out.startswith("OK: no alerts (0 records")


def test_a_stale_log_is_a_warning_naming_the_age(
    logs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(logs["quiet"]), "--now", "2026-11-27T16:00:00Z")
    assert code == 1
    assert out == "WARNING stale_log all traffic: newest call 2h ago (limit 15m)\n"


def test_stale_log_counts_like_any_alert_and_its_age_is_configurable(
    logs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[alerts.stale_log]\nmax_age = "3h"\n')
    later = ("--now", "2026-11-27T16:00:00Z", "--config", str(cfg))
    assert run(capsys, str(logs["quiet"]), *later)[0] == 0
    cfg.write_text('[alerts.stale_log]\nmax_age = "1h"\nseverity = "critical"\n')
    code, out, _ = run(capsys, str(logs["quiet"]), *later, "--format", "json")
    assert code == 2
    [alert] = json.loads(out)["alerts"]
    assert (alert["rule"], alert["threshold"]) == ("stale_log", 3600.0)
    assert 7200 < alert["value"] < 7200 + 180  # the newest quiet call is within a step of 14:00


def test_a_log_that_fails_halfway_could_not_be_checked(
    logs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gzip file whose second half is garbage: the lines before it were read, but the
    check is incomplete, so it is "could not check", not an answer."""
    whole = gzip.compress(logs["quiet"].read_bytes())
    broken = tmp_path / "app.log.1.gz"
    broken.write_bytes(whole[: len(whole) // 2] + b"\xff" * 64)
    code, out, err = run(capsys, str(broken), "--now", NOW)
    assert (code, out) == (3, "")
    assert "app.log.1.gz: read failed" in err and err.count("\n") == 1
