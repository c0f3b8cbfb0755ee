"""``summary --follow`` from outside the process: the follower driven as a user drives it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_top.commands.follow_summary import follow_summary
from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.sources.follow import Follower
from loggen import T0, line


def _read_until(proc: subprocess.Popen[str], want_calls: int, deadline: float) -> dict[str, object]:
    assert proc.stdout is not None
    doc: dict[str, object] = {}
    while time.monotonic() < deadline:
        out = proc.stdout.readline()
        if not out:
            break
        doc = json.loads(out)
        if doc["total"]["calls"] >= want_calls:  # type: ignore[index]
            return doc
    raise AssertionError(f"never reached {want_calls} calls; last document: {doc}")


def test_follow_prints_growing_documents_through_rotation(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"\n".join(line(T0 + i) for i in range(10)) + b"\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claude_top",
            "summary",
            str(log),
            "--follow",
            "--interval",
            "0.2",
            "--format",
            "json",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        first = _read_until(proc, 10, deadline)
        assert first["lines"] == {
            "records": 10,
            "foreign": 0,
            "rejected": 0,
            "rejected_by_reason": {},
            "unmapped": 0,
            "unmapped_by_preset": {},
            "formats": {str(log): "claude-top"},
            "format_detected": True,
        }
        with open(log, "ab") as f:  # appended lines, one of them foreign
            f.write(b"\n".join(line(T0 + 100 + i) for i in range(5)) + b"\nINFO:httpx:noise\n")
        _read_until(proc, 15, deadline)
        os.rename(log, tmp_path / "app.log.1")  # rename rotation, then a new file
        with open(tmp_path / "app.log.1", "ab") as f:  # a late line to the rotated file
            f.write(line(T0 + 200) + b"\n")
        log.write_bytes(b"\n".join(line(T0 + 300 + i) for i in range(4)) + b"\n")
        doc = _read_until(proc, 20, deadline)
        assert doc["total"]["calls"] == 20  # type: ignore[index]
        assert doc["lines"]["foreign"] == 1  # type: ignore[index]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


FOLLOW_JSON = ("--follow", "--interval", "0.1", "--format", "json")


def _summary_follow(log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "claude_top", "summary", str(log), *FOLLOW_JSON],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_failing_source_is_said_once_on_stderr_and_printing_goes_on(tmp_path: Path) -> None:
    logs = tmp_path / "logs\x1b[2J"
    logs.mkdir()
    log = logs / "app.log"
    log.write_bytes(b"\n".join(line(T0 + i) for i in range(3)) + b"\n")
    proc = _summary_follow(log)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        deadline = time.monotonic() + 20
        _read_until(proc, 3, deadline)
        shutil.rmtree(logs)  # the directory is gone: an error at once, retried every poll
        failed = proc.stderr.readline()
        assert failed.startswith("claude-top summary: app.log: directory ")
        assert failed.endswith(" is missing; retrying\n") and "\x1b" not in failed
        for _ in range(5):  # the documents go on, and the failure is not said again
            assert json.loads(proc.stdout.readline())["total"]["calls"] == 3
        logs.mkdir()
        log.write_bytes(line(T0 + 10) + b"\n")
        assert proc.stderr.readline() == "claude-top summary: app.log: reading again\n"
        _read_until(proc, 4, deadline)
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=10)
    assert rest == ""  # nothing more was said than the two lines


def test_a_dead_follower_ends_the_command_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(line(T0) + b"\n")

    def killed(self: Follower) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(Follower, "_follow_loop", killed)
    engine = Engine(clock=FixedClock(T0))
    printed: list[int] = []
    code = follow_summary(engine, [str(log)], 0.01, lambda: printed.append(engine.lines.records))
    err = capsys.readouterr().err
    assert code == 1 and printed and printed[-1] == 1
    assert err.splitlines()[0] == "claude-top summary: reader: stopped (SystemExit: killed)"
    assert "app.log: reading stopped: SystemExit: killed" in err
