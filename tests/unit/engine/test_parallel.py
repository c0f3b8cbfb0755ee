"""A big log read on two cores gives exactly what one core gives, line numbers included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from claude_top.core.clock import FixedClock
from claude_top.core.errors import InputError
from claude_top.engine import merge as parallel
from claude_top.engine.engine import Engine
from claude_top.sources.paths import read_batches
from claude_top.views.summary import summary_dict
from loggen import T0, random_calls

WINDOW = {"start": None, "end": None, "tz": "UTC", "day": None}


def make_log(path: Path) -> None:
    lines = [orjson.dumps(d) for d in random_calls(6000, seed=21, span=5 * 86400)]
    for i in range(0, len(lines), 997):  # noise spread over both halves
        lines[i] = b"INFO:httpx:HTTP Request: POST" if i % 2 else b'{"latency_ms": "oops"'
    path.write_bytes(b"\r\n".join(lines[:10]) + b"\r\n" + b"\n".join(lines[10:]))  # no final \n


def test_split_read_equals_serial_read(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    make_log(log)
    assert parallel.can_split(str(log), min_bytes=1)
    serial = Engine(clock=FixedClock(T0 + 6 * 86400))
    for batch in read_batches(str(log), serial.count_overlong):
        serial.ingest(batch)
    split = Engine(clock=FixedClock(T0 + 6 * 86400))
    parallel.read_split(split, str(log))
    for by in ("feature", "model", "user"):
        a = summary_dict(serial.query(by=by), serial.lines, WINDOW)
        b = summary_dict(split.query(by=by), split.lines, WINDOW)
        assert a == b, by
    assert serial.lines.rejected > 2 and serial.lines.foreign > 2
    assert list(serial.lines.examples) == list(split.lines.examples)
    assert [r.request_id for r in serial.events_429()] == [r.request_id for r in split.events_429()]
    assert split.newest_ts == serial.newest_ts and split.oldest_ts == serial.oldest_ts


def test_a_split_file_after_another_file_counts_each_line_once(tmp_path: Path) -> None:
    """``summary app.log.1 app.log``: the worker is forked with the first file already in the
    engine; only its own half comes back to be merged."""
    first, second = tmp_path / "app.log.1", tmp_path / "app.log"
    first.write_bytes(b"\n".join(orjson.dumps(d) for d in random_calls(900, seed=3, span=86400)))
    make_log(second)
    serial, split = (Engine(clock=FixedClock(T0 + 6 * 86400), whole_read=w) for w in (False, True))
    for e in (serial, split):
        for batch in read_batches(str(first), e.count_overlong):
            e.ingest(batch)
    for batch in read_batches(str(second), serial.count_overlong):
        serial.ingest(batch)
    parallel.read_split(split, str(second))
    for by in ("feature", "model", "user"):
        a = summary_dict(serial.query(by=by), serial.lines, WINDOW)
        b = summary_dict(split.query(by=by), split.lines, WINDOW)
        assert a == b, by
    assert split.query().total.calls == serial.query().total.calls > 6000


def test_range_batches_cover_every_line_once(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(50_000)) + b"tail-without-newline")
    mid = parallel.split_point(str(log))
    got = [ln for b in parallel.range_batches(str(log), 0, mid) for ln in b.lines]
    got += [ln for b in parallel.range_batches(str(log), mid, log.stat().st_size) for ln in b.lines]
    assert got == log.read_bytes().split(b"\n")


def test_gzip_and_small_files_are_not_split(tmp_path: Path) -> None:
    small = tmp_path / "s.log"
    small.write_bytes(b"x\n")
    assert not parallel.can_split(str(small))
    gz = tmp_path / "g.log"
    gz.write_bytes(b"\x1f\x8b" + b"\0" * 100)
    assert not parallel.can_split(str(gz), min_bytes=1)
    assert not parallel.can_split("-", min_bytes=1)


def test_a_split_read_loads_no_process_pool(tmp_path: Path) -> None:
    """The worker is a bare fork and a pipe: neither ``multiprocessing`` nor a process pool is
    imported, even by a read that splits."""
    log = tmp_path / "app.log"
    make_log(log)
    probe = (
        "import sys; from claude_top.core.clock import FixedClock;"
        "from claude_top.engine import merge; from claude_top.engine.engine import Engine;"
        f"assert merge.can_split({str(log)!r}, min_bytes=1);"
        f"e = Engine(clock=FixedClock({T0 + 6 * 86400})); merge.read_split(e, {str(log)!r});"
        "assert e.query().total.calls > 5000;"
        "print(sorted(m for m in sys.modules if m.startswith(('multiprocessing', 'concurrent'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_parent_reads_the_bigger_part(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(50_000)))
    size = log.stat().st_size
    mid = parallel.split_point(str(log), parallel.PARENT_SHARE)
    assert size / 2 < mid < size * 0.6
    assert log.read_bytes()[mid - 1 : mid] == b"\n"


class Boom(Exception):
    pass


def test_a_worker_that_fails_fails_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's exception crosses the pipe and is raised here; nothing is merged."""
    log = tmp_path / "app.log"
    make_log(log)

    def fail(*_: object) -> None:
        raise Boom("second half unreadable")

    monkeypatch.setattr(parallel, "_work", fail)
    engine = Engine(clock=FixedClock(T0 + 6 * 86400))
    with pytest.raises(Boom, match="second half unreadable"):
        parallel.read_split(engine, str(log))
    assert parallel._engine is None


def test_a_worker_that_dies_fails_the_read_naming_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed mid-read (the OOM killer, say) sends nothing: the read fails with the
    signal, rather than a summary of half the file."""
    log = tmp_path / "app.log"
    make_log(log)

    def die(*_: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(parallel, "_work", die)
    engine = Engine(clock=FixedClock(T0 + 6 * 86400))
    with pytest.raises(InputError, match=r"second half was killed by signal 9 \(SIGKILL\)"):
        parallel.read_split(engine, str(log))


def test_a_failure_here_kills_the_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When this process fails first, the worker is killed and reaped, not left running."""
    log = tmp_path / "app.log"
    make_log(log)
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    def fail(*_: object) -> None:
        raise Boom("first half")

    monkeypatch.setattr(parallel.os, "fork", fork)
    monkeypatch.setattr(parallel, "_feed", fail)
    with pytest.raises(Boom):
        parallel.read_split(Engine(clock=FixedClock(T0 + 6 * 86400)), str(log))
    assert len(pids) == 1
    with pytest.raises(ChildProcessError):  # already reaped
        os.waitpid(pids[0], os.WNOHANG)
