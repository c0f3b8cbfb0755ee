"""What the user names: each input read once, and pipes read without losing bytes."""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from claude_top.commands.common import read_all
from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.ingest.reader import timestamp_of
from claude_top.sources.follow import Follower
from claude_top.sources.paths import Batch, expand, read_batches
from loggen import T0, line

LINES = [line(T0 + i, request_id=f"r{i}") for i in range(300)]  # ~90 KB, more than a pipe buffer
DATA = b"".join(ln + b"\n" for ln in LINES)


def _followed(specs: list[str]) -> list[bytes]:
    got: list[bytes] = []

    def sink(batch: Batch) -> None:
        got.extend(batch.lines)

    f = Follower(specs, sink, follow=False, use_watcher=False)
    f.start()
    assert f.wait_history(30)
    f.stop()
    assert f.error is None
    return got


def _twice(tmp_path: Path) -> list[str]:
    log = tmp_path / "app.log"
    log.write_bytes(DATA)
    (tmp_path / "link.log").symlink_to(log)
    os.link(log, tmp_path / "hard.log")
    return [
        str(log),
        str(tmp_path / "*.log"),
        str(tmp_path / "." / "app.log"),
        str(tmp_path / "link.log"),
    ]


def test_a_file_named_twice_is_read_once_one_shot(tmp_path: Path) -> None:
    assert len(expand(_twice(tmp_path))) == 1


def test_a_file_named_twice_is_read_once_when_following(tmp_path: Path) -> None:
    assert _followed(_twice(tmp_path)) == LINES


def _through_pipe(data: bytes, read: Callable[[str], object]) -> object:
    """``read`` a path that is a pipe (like ``<(cat log)``) while a thread writes ``data``."""
    r, w = os.pipe()

    def write() -> None:
        with os.fdopen(w, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.append(read(f"/dev/fd/{r}")), daemon=True)
    reader.start()
    reader.join(60)  # a guard against a hang, not a speed limit
    os.close(r)
    assert result, "the read hung"
    return result[0]


def _one_shot(path: str) -> list[bytes]:
    return [ln for b in read_batches(path, lambda *a: None) for ln in b.lines]


def test_a_pipe_named_as_a_file_loses_no_bytes_one_shot() -> None:
    assert _through_pipe(DATA, _one_shot) == LINES


def test_a_gzip_stream_through_a_pipe_is_decompressed() -> None:
    assert _through_pipe(gzip.compress(DATA), _one_shot) == LINES


def test_a_pipe_loses_no_bytes_in_summary_with_two_jobs() -> None:
    def summary(path: str) -> int:
        engine = Engine(clock=FixedClock(T0 + 86400))
        read_all(engine, [path], split=True)
        return engine.lines.records

    assert _through_pipe(DATA, summary) == len(LINES)


def test_a_pipe_loses_no_bytes_when_followed() -> None:
    assert _through_pipe(DATA, lambda p: _followed([p])) == LINES


def test_a_fifo_whose_writer_exits_is_read_to_its_end(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(DATA)

    threading.Thread(target=write, daemon=True).start()
    result: list[list[bytes]] = []
    reader = threading.Thread(target=lambda: result.append(_one_shot(str(fifo))), daemon=True)
    reader.start()
    reader.join(60)
    assert result == [LINES]


class _Collect:
    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, batch: Batch) -> None:
        with self.lock:
            self.lines.extend(batch.lines)

    def wait_for(self, n: int) -> list[bytes]:
        deadline = time.monotonic() + 20  # a guard against a hang, not a speed limit
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.lines) >= n:
                    break
            time.sleep(0.01)
        with self.lock:
            return list(self.lines)


def test_a_glob_picks_up_files_created_later_and_not_renamed_ones(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(b"a1\n")
    got = _Collect()
    f = Follower([str(tmp_path / "*.log")], got, poll_interval=0.02, use_watcher=False)
    f.start()
    try:
        assert f.wait_history(30)
        assert got.wait_for(1) == [b"a1"]
        (tmp_path / "b.log").write_bytes(b"b1\nb2\n")
        assert sorted(got.wait_for(3)) == [b"a1", b"b1", b"b2"]
        (tmp_path / "a.log").rename(tmp_path / "c.log")  # the same file under a new name
        with open(tmp_path / "b.log", "ab") as fh:
            fh.write(b"b3\n")
        assert sorted(got.wait_for(4)) == [b"a1", b"b1", b"b2", b"b3"]
        time.sleep(0.3)  # many polls: c.log must not be read again as a new file
        with got.lock:
            assert sorted(got.lines) == [b"a1", b"b1", b"b2", b"b3"]
    finally:
        f.stop()
    assert f.error is None


def test_since_on_a_file_out_of_time_order_skips_no_record_when_following(tmp_path: Path) -> None:
    """Probes see a time-ordered file; a few late records sit early in it, one in another
    spelling of the time. The seek must not skip them: the totals are those of a full read."""
    since = T0 + 5000
    ts = [T0 + i for i in range(0, 10_000, 2)]
    ts[10] = ts[700] = since + 50  # late lines inside the part the seek skips
    texts = [line(t, request_id=f"r{i}") for i, t in enumerate(ts)]
    texts[1500] = line(since + 60, request_id="r-epoch").replace(
        b'"timestamp":"', b'"timestamp": "'
    )
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(t + b"\n" for t in texts))

    def calls(engine: Engine) -> int:
        return engine.query().total.calls

    want = Engine(clock=FixedClock(T0 + 86400), since=since)
    for batch in read_batches(str(log), want.count_overlong):
        want.ingest(batch)
    got = Engine(clock=FixedClock(T0 + 86400), since=since)
    f = Follower([str(log)], got.ingest, since=since, ts_of=timestamp_of, use_watcher=False)
    f.start()
    assert f.wait_history(30)
    f.stop()
    assert f.error is None
    assert calls(got) == calls(want) == 2500 + 3
