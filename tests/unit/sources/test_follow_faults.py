"""Faults the follower must survive and report: a failing sink, a failing read step, a thread
killed outright, a file deleted for good, a directory made unreadable to a real unprivileged user.

The follower must never stop silently: each fault ends as an "error" (or "waiting") status with
the reason, the fault is remembered after the source heals, and the other sources go on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.sources import test_follow
from tests.unit.sources.test_follow import POLL, Make, Sink, append, state, wait_for

from claude_top.sources.batches import Batch
from claude_top.sources.follow import Follower
from claude_top.sources.follow.live_file import LiveFile

NOBODY = 65534
follow = test_follow.follow


class FailingSink(Sink):
    """Raises for every batch of one source; keeps the others."""

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad

    def __call__(self, batch: Batch) -> None:
        if batch.source == self.bad:
            raise ValueError("engine refused")
        super().__call__(batch)


@pytest.fixture
def started() -> Iterator[list[Follower]]:
    followers: list[Follower] = []
    yield followers
    for f in followers:
        f.stop()


def test_an_ingest_that_raises_is_that_sources_error_and_the_others_go_on(
    tmp_path: Path, started: list[Follower]
) -> None:
    bad, good = tmp_path / "bad.log", tmp_path / "good.log"
    bad.write_bytes(b"a\n")
    good.write_bytes(b"b\n")
    sink = FailingSink(str(bad))
    f = Follower([str(bad), str(good)], sink, poll_interval=POLL)
    started.append(f)
    f.start()
    wait_for(lambda: state(f, bad).fault_at is not None)
    assert "could not ingest lines 1-1: ValueError: engine refused" in state(f, bad).fault
    append(good, b"c\n")
    wait_for(lambda: sink.lines == [b"b", b"c"])
    assert f.running and f.error is None


def test_a_read_step_that_raises_is_that_sources_error_and_the_others_go_on(
    tmp_path: Path, follow: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad, good = tmp_path / "bad.log", tmp_path / "good.log"
    bad.write_bytes(b"")
    good.write_bytes(b"")
    real = LiveFile.check

    def check(self: LiveFile, now: float) -> None:
        if self.path == str(bad):
            raise RuntimeError("boom")
        real(self, now)

    monkeypatch.setattr(LiveFile, "check", check)
    f, sink = follow([str(bad), str(good)])
    wait_for(lambda: state(f, bad).state == "error")
    assert state(f, bad).message == "internal error: RuntimeError: boom"
    append(good, b"x\n")
    wait_for(lambda: sink.lines == [b"x"])
    assert f.running


def test_a_healed_source_keeps_its_last_fault(
    tmp_path: Path, follow: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    real = LiveFile.check
    calls = {"n": 0}

    def check_once_failing(self: LiveFile, now: float) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("once")
        real(self, now)

    monkeypatch.setattr(LiveFile, "check", check_once_failing)
    f, sink = follow([str(log)])
    append(log, b"x\n")
    wait_for(lambda: sink.lines == [b"x"] and state(f, log).state == "following")
    assert state(f, log).fault == "internal error: RuntimeError: once"
    assert state(f, log).fault_at is not None


def test_a_thread_killed_outright_says_so_on_every_source(
    tmp_path: Path, started: list[Follower]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\n")
    sink = Sink()
    f = Follower([str(log)], sink, poll_interval=POLL)
    started.append(f)

    class Killer:
        def wait(self, timeout: float | None = None) -> bool:
            raise SystemExit("killed")

        def set(self) -> None:
            pass

        def clear(self) -> None:
            pass

    f._wake = Killer()  # type: ignore[assignment]
    f.start()
    wait_for(lambda: not f.running)
    assert isinstance(f.error, SystemExit)
    assert state(f, log).state == "error"
    assert state(f, log).message == "reading stopped: SystemExit: killed"


def test_a_file_deleted_for_good_waits_from_the_time_it_went(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\n")
    f, sink = follow([str(log)])
    wait_for(lambda: sink.lines == [b"a"] and state(f, log).state == "following")
    following_since = state(f, log).since
    log.unlink()
    wait_for(lambda: state(f, log).state == "waiting")
    gone = state(f, log)
    assert gone.message == "file removed; waiting for it to reappear"
    assert gone.since >= following_since


def test_heartbeat_moves_with_the_loop(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    f, _ = follow([str(log)])
    first = f.heartbeat
    wait_for(lambda: f.heartbeat > first)


# --- a real unprivileged user ------------------------------------------------------------------

WATCHER = """
import json, sys, time
from claude_top.sources.follow import Follower
f = Follower([sys.argv[1]], lambda b: print(json.dumps(["lines", len(b.lines)]), flush=True),
             poll_interval=0.05,
             on_status=lambda s: print(json.dumps(["status", s.state, s.message]), flush=True))
f.start()
f.wait_history()
print(json.dumps(["ready"]), flush=True)
sys.stdin.readline()
f.stop()
"""


def _unprivileged() -> list[str] | None:
    """The command prefix that runs a process as nobody, or None when that is impossible."""
    setpriv = shutil.which("setpriv")
    if os.name != "posix" or os.geteuid() != 0 or setpriv is None:
        return None
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.mark.skipif(_unprivileged() is None, reason="needs root and setpriv to become nobody")
def test_permission_removed_while_followed_by_an_unprivileged_reader() -> None:
    prefix = _unprivileged()
    assert prefix is not None
    top = tempfile.mkdtemp(prefix="claude-top-perm-")
    try:
        os.chmod(top, 0o755)
        logs = Path(top) / "logs"
        logs.mkdir(mode=0o755)
        log = logs / "app.log"
        log.write_bytes(b"a\n")
        log.chmod(0o644)
        proc = subprocess.Popen(
            [*prefix, sys.executable, "-c", WATCHER, str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert proc.stdout is not None and proc.stdin is not None
        try:
            seen = []
            for line in proc.stdout:
                seen.append(json.loads(line))
                if seen[-1] == ["ready"]:
                    break
            assert ["lines", 1] in seen
            logs.chmod(0)  # the reader can no longer look into the directory
            for line in proc.stdout:
                event = json.loads(line)
                if event[0] == "status" and event[1] == "error":
                    assert event[2] == "Permission denied"
                    break
            else:
                raise AssertionError("the reader never reported the permission error")
        finally:
            logs.chmod(0o755)
            proc.stdin.write("\n")
            proc.stdin.flush()
            proc.wait(10)
    finally:
        shutil.rmtree(top)
