"""A big log read on two cores gives exactly what one core gives, line numbers included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from claude_top.core.clock import FixedClock
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


def test_a_small_file_does_not_load_the_process_pool(tmp_path: Path) -> None:
    """``summary`` of a small log never forks, so it need not import ``multiprocessing``."""
    small = tmp_path / "s.log"
    small.write_bytes(b"x\n")
    probe = (
        "import sys; from claude_top.engine import merge;"
        f"assert not merge.can_split({str(small)!r});"
        "print(sorted(m for m in sys.modules if m.startswith(('multiprocessing', 'concurrent'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
