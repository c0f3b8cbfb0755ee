"""``ssh://`` and ``cmd://`` sources against a real sshd on 127.0.0.1: every line counted once.

Two hosts (two sshd on their own ports, named ``web1`` and ``web2`` in an ssh config handed over
with ``CLAUDE_TOP_SSH``), one killed mid-stream and restored: its source says so at once, comes
back by itself and resumes at its offset. Rotation on the remote side, a rotation while the host
is down, a glob with rotated history, and a command source restarted with a replay.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from claude_top.sources.batches import Batch
from claude_top.sources.follow import Follower, SourceStatus
from integration.processes import wait_until
from integration.servers import HOST, Sshd
from loggen import T0, line

POLL = 0.1


@pytest.fixture
def two_hosts(
    sshd: Callable[[], Sshd], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Sshd, Sshd]:
    """Two sshd, reached as ``web1`` and ``web2`` through ``CLAUDE_TOP_SSH``'s config."""
    hosts = (sshd(), sshd())
    config = tmp_path / "ssh_config"
    config.write_text(
        "".join(
            f"Host web{i}\n  HostName {HOST}\n  Port {h.port}\n  User {h.user}\n"
            f"  IdentityFile {h.key}\n  IdentitiesOnly yes\n"
            "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
            for i, h in enumerate(hosts, 1)
        )
    )
    monkeypatch.setenv("CLAUDE_TOP_SSH", f"ssh -F {shlex.quote(str(config))}")
    return hosts


class Collector:
    """A follower's sink: every line it was handed, by source, in order."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, bytes]] = []

    def __call__(self, batch: Batch) -> None:
        self.lines.extend((batch.source, line) for line in batch.lines)

    def count(self) -> Counter[bytes]:
        return Counter(line for _, line in self.lines)


@pytest.fixture
def follow() -> Iterator[Callable[..., tuple[Follower, Collector]]]:
    started: list[Follower] = []

    def start(specs: list[str], **kwargs: object) -> tuple[Follower, Collector]:
        sink = Collector()
        follower = Follower(specs, sink, poll_interval=POLL, use_watcher=False, **kwargs)  # type: ignore[arg-type]
        started.append(follower)
        follower.start()
        return follower, sink

    yield start
    for follower in started:
        follower.stop()


def _write(path: Path, lines: range, tag: str) -> None:
    with path.open("a") as f:
        f.writelines(f'{{"{tag}": {n}}}\n' for n in lines)


def _expect(*parts: tuple[str, range]) -> Counter[bytes]:
    return Counter(f'{{"{tag}": {n}}}'.encode() for tag, lines in parts for n in lines)


def _status(follower: Follower, name: str) -> SourceStatus:
    return next(s for s in follower.statuses if s.path == name)


def _all_read(sink: Collector, want: Counter[bytes]) -> Callable[[], bool]:
    return lambda: sink.count() == want or None  # type: ignore[return-value]


def test_two_hosts_one_killed_and_restored_mid_stream_every_line_once(
    two_hosts: tuple[Sshd, Sshd], follow: Callable[..., tuple[Follower, Collector]], tmp_path: Path
) -> None:
    web1, _web2 = two_hosts
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    _write(a, range(0, 100), "a")
    _write(b, range(0, 50), "b")
    url_a, url_b = f"ssh://web1{a}", f"ssh://web2{b}"
    follower, sink = follow([url_a, url_b])
    assert follower.wait_history(30)
    wait_until(_all_read(sink, _expect(("a", range(100)), ("b", range(50)))), "history")

    _write(a, range(100, 150), "a")
    wait_until(_all_read(sink, _expect(("a", range(150)), ("b", range(50)))), "live lines")
    with a.open("a") as f:
        f.write('{"a": 150')  # half a line when the host goes away: read again whole
    web1.kill()
    status = wait_until(
        lambda: ((s := _status(follower, url_a)).state == "error" and s) or None, "error status"
    )
    assert "connection lost" in status.message and "reconnecting in" in status.message
    with a.open("a") as f:
        f.write("}\n")
    _write(a, range(151, 200), "a")
    _write(b, range(50, 80), "b")  # the other host goes on meanwhile
    wait_until(lambda: sink.count()[b'{"b": 79}'] == 1 or None, "web2 while web1 is down")

    web1.start()
    want = _expect(("a", range(200)), ("b", range(80)))
    wait_until(_all_read(sink, want), "every line after the restart", timeout=60)
    assert wait_until(lambda: _status(follower, url_a).state == "following" or None, "healed")
    assert sink.count() == want  # nothing twice
    numbers = [n for src, line in sink.lines if src == url_a for n in [line]]
    assert len(numbers) == 200


def test_rotation_on_the_remote_side_while_connected_and_while_down(
    two_hosts: tuple[Sshd, Sshd], follow: Callable[..., tuple[Follower, Collector]], tmp_path: Path
) -> None:
    web1, _ = two_hosts
    log = tmp_path / "app.log"
    _write(log, range(0, 10), "r")
    follower, sink = follow([f"ssh://web1{log}"], rotate_wait=0.3)
    assert follower.wait_history(30)
    wait_until(_all_read(sink, _expect(("r", range(10)))), "history")

    os.rename(log, f"{log}.1")  # rename rotation while connected
    _write(Path(f"{log}.1"), range(10, 15), "r")  # a late write to the old file
    _write(log, range(15, 30), "r")
    wait_until(_all_read(sink, _expect(("r", range(30)))), "after a rotation")

    web1.kill()
    wait_until(lambda: _status(follower, f"ssh://web1{log}").state == "error" or None, "down")
    _write(log, range(30, 40), "r")
    os.rename(f"{log}.1", f"{log}.2")
    os.rename(log, f"{log}.1")  # rotated while down: its rest is read from app.log.1
    _write(log, range(40, 45), "r")
    os.rename(f"{log}.1", f"{log}.2")
    os.rename(log, f"{log}.1")  # and once more: a file that lived only while we were away
    _write(log, range(45, 50), "r")
    web1.start()
    want = _expect(("r", range(50)))
    wait_until(_all_read(sink, want), "every line after two rotations while down", timeout=60)
    assert sink.count() == want


def test_glob_reads_rotated_history_once_and_follows_the_live_file(
    two_hosts: tuple[Sshd, Sshd], tmp_path: Path
) -> None:
    import gzip

    (tmp_path / "app.log.2.gz").write_bytes(gzip.compress(b'{"g": 0}\n{"g": 1}\n'))
    (tmp_path / "app.log.1").write_text('{"g": 2}\n')
    (tmp_path / "app.log").write_text('{"g": 3}\n{"g": 4}')
    sink = Collector()
    follower = Follower(
        [f"ssh://web2{tmp_path}/app.log*"], sink, follow=False, use_watcher=False, poll_interval=0.1
    )
    follower.start()
    assert follower.wait_history(60)
    follower.stop(10)
    assert sink.count() == _expect(("g", range(5)))
    live = [line for source, line in sink.lines if source.endswith("/app.log")]
    assert live == [b'{"g": 3}', b'{"g": 4}'], "a last line without a newline counts when read once"
    assert {s.state for s in follower.statuses} == {"done"}


def test_a_command_source_restarted_replays_nothing_twice(
    follow: Callable[..., tuple[Follower, Collector]], tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    _write(log, range(0, 20), "c")
    # Each run prints the last 10 lines of the file, then what is written while it runs (1 s).
    script = f"tail -n 10 {shlex.quote(str(log))}; sleep 1"
    url = f"cmd://[box] sh -c {shlex.quote(script)}"
    follower, sink = follow([url])
    wait_until(_all_read(sink, _expect(("c", range(10, 20)))), "the first run")
    status = wait_until(
        lambda: ((s := _status(follower, url)).state == "waiting" and s) or None, "ended"
    )
    assert "exited with status 0" in status.message
    _write(log, range(20, 25), "c")
    wait_until(_all_read(sink, _expect(("c", range(10, 25)))), "the restart", timeout=60)
    assert sink.count() == _expect(("c", range(10, 25)))


def _summary(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "claude_top", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_summary_by_host_over_ssh_a_command_and_a_local_file(
    two_hosts: tuple[Sshd, Sshd], tmp_path: Path
) -> None:
    logs = []
    for i, n in enumerate((5, 3, 2)):
        log = tmp_path / f"app{i}.log"
        log.write_bytes(b"".join(line(T0 + k * 60) + b"\n" for k in range(n)) + b"noise\n")
        logs.append(str(log))
    sources = [f"ssh://web1{logs[0]}", f"cmd://[batch] cat {shlex.quote(logs[1])}", logs[2]]
    out = _summary("summary", *sources, "--by", "host", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {h: g["calls"] for h, g in doc["hosts"].items()} == {"web1": 5, "batch": 3, "local": 2}
    assert doc["total"]["calls"] == 10 and doc["lines"]["foreign"] == 3
    table = _summary("summary", *sources, "--by", "host")
    assert table.returncode == 0 and "web1" in table.stdout and "batch" in table.stdout

    missing = _summary("check", f"ssh://web1{tmp_path}/none.log")
    assert missing.returncode == 3, "a remote file that cannot be read: could not check"
    assert "web1:none.log" in missing.stderr


def test_a_remote_file_not_there_yet_is_waited_for_and_read_from_its_start(
    two_hosts: tuple[Sshd, Sshd], follow: Callable[..., tuple[Follower, Collector]], tmp_path: Path
) -> None:
    log = tmp_path / "later.log"
    url = f"ssh://web1{log}"
    follower, sink = follow([url])
    assert follower.wait_history(30), "a missing file holds up no history"
    wait_until(lambda: _status(follower, url).state == "waiting" or None, "waiting")
    _write(log, range(3), "w")
    wait_until(_all_read(sink, _expect(("w", range(3)))), "the file once it appears")


class _Lines:
    """A stream of a child process read into a list on a thread of its own."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for text in stream:
            self.lines.append(text)

    def having(self, part: str) -> str | None:
        return next((text for text in list(self.lines) if part in text), None)


def test_summary_follow_says_a_host_was_lost_and_is_read_again_counting_each_call_once(
    two_hosts: tuple[Sshd, Sshd], tmp_path: Path
) -> None:
    web1, _ = two_hosts
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(line(T0 + k) + b"\n" for k in range(20)))
    argv = [sys.executable, "-m", "claude_top", "summary", f"ssh://web1{log}", "--follow"]
    argv += ["--interval", "0.3", "--format", "json", "--by", "host"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = _Lines(proc.stdout), _Lines(proc.stderr)

        def calls() -> int | None:
            return (
                json.loads(out.lines[-1])["hosts"].get("web1", {}).get("calls")
                if out.lines
                else None
            )

        wait_until(lambda: calls() == 20 or None, "history")
        web1.kill()
        said = wait_until(lambda: err.having("connection lost"), "the loss said on stderr")
        assert "web1:app.log" in said
        with log.open("ab") as f:
            f.write(b"".join(line(T0 + k) + b"\n" for k in range(20, 30)))
        web1.start()
        wait_until(lambda: err.having("web1:app.log: reading again"), "the return said", 60)
        wait_until(lambda: calls() == 30 or None, "every call once after the return")
    finally:
        proc.terminate()
        proc.wait(10)
