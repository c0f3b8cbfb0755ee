"""The follower against each edge case a real log file throws at it.

Every test drives a real Follower thread over files in tmp_path and waits with a deadline
(never a fixed sleep) for what it expects, so a slow machine makes tests slower, not flaky.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.sources.batches import LineFramer, Overlong
from claude_top.sources.fingerprint import Fingerprint, count_newlines, seek_since, tail_start
from claude_top.sources.follow import Follower, Progress, SourceStatus, is_rotated_name
from claude_top.sources.paths import Batch, InputError

POLL = 0.05


class Sink:
    """Collects batches from the follower thread; readable from the test thread."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.lock = threading.Lock()

    def __call__(self, batch: Batch) -> None:
        with self.lock:
            self.batches.append(batch)

    @property
    def lines(self) -> list[bytes]:
        with self.lock:
            return [ln for b in self.batches for ln in b.lines]

    def numbered(self, source: str | None = None) -> list[tuple[int, bytes]]:
        with self.lock:
            return [
                (b.first_lineno + i, ln)
                for b in self.batches
                if source is None or b.source == source
                for i, ln in enumerate(b.lines)
            ]


def wait_for(cond: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    """Wait for ``cond``; the timeout guards against a hang, it is not a speed limit."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        time.sleep(0.01)


Make = Callable[..., tuple[Follower, Sink]]


@pytest.fixture
def follow() -> Iterator[Make]:
    started: list[Follower] = []

    def make(specs: list[str], **kw: object) -> tuple[Follower, Sink]:
        sink = Sink()
        kw.setdefault("poll_interval", POLL)
        f = Follower(specs, sink, **kw)  # type: ignore[arg-type]
        f.start()
        started.append(f)
        return f, sink

    yield make
    for f in started:
        f.stop()
        assert f.error is None, f.error


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def state(f: Follower, path: Path | str) -> SourceStatus:
    return next(s for s in f.statuses if s.path == str(path))


# --- history, then following -------------------------------------------------------------------


def test_history_then_appends_continue_line_numbers(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\nb\nc\n")
    f, sink = follow([str(log)])
    assert f.wait_history(30)
    assert sink.lines == [b"a", b"b", b"c"]
    wait_for(lambda: state(f, log).state == "following")
    append(log, b"d\ne\n")
    wait_for(lambda: len(sink.lines) == 5)
    assert sink.numbered() == [(1, b"a"), (2, b"b"), (3, b"c"), (4, b"d"), (5, b"e")]
    assert state(f, log).offset == 10


def test_lines_come_in_batches_not_one_call_per_line(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(25_000)))
    f, sink = follow([str(log)])
    assert f.wait_history(30)
    assert len(sink.lines) == 25_000
    assert 3 <= len(sink.batches) <= 5  # at most 10k lines a call
    assert all(len(b.lines) <= 10_000 for b in sink.batches)
    firsts = [b.first_lineno for b in sink.batches]
    assert firsts[0] == 1
    assert all(
        b.first_lineno + len(b.lines) == n.first_lineno
        for b, n in zip(sink.batches, sink.batches[1:], strict=False)
    )


def test_partial_line_waits_for_its_newline(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntw")
    f, sink = follow([str(log)])
    assert f.wait_history(30)
    assert sink.lines == [b"one"]
    append(log, b"o-and-")
    time.sleep(5 * POLL)
    assert sink.lines == [b"one"]
    append(log, b"more\nthree\n")
    wait_for(lambda: len(sink.lines) == 3)
    assert sink.numbered() == [(1, b"one"), (2, b"two-and-more"), (3, b"three")]


def test_crlf_and_nul_bytes_and_invalid_utf8(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\r\nb\r")
    f, sink = follow([str(log)])
    assert f.wait_history(30)
    append(log, b"\n\x00\x00\x00{}\n\xff\xfe\r\n")
    wait_for(lambda: len(sink.lines) == 4)
    assert sink.lines == [b"a", b"b", b"\x00\x00\x00{}", b"\xff\xfe"]


def test_overlong_line_is_skipped_and_reported(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    reports: list[tuple[str, int, int]] = []
    log.write_bytes(b"ok1\n" + b"x" * 150 + b"\nok2\n" + b"y" * 60)
    f, sink = follow(
        [str(log)], max_line_bytes=100, on_overlong=lambda s, n, ln: reports.append((s, n, ln))
    )
    assert f.wait_history(30)
    append(log, b"y" * 100)  # the held-back partial grows past the limit: skipped, not buffered
    time.sleep(3 * POLL)
    append(log, b"y" * 40 + b"\nok3\n")
    wait_for(lambda: len(sink.lines) == 3)
    assert sink.numbered() == [(1, b"ok1"), (3, b"ok2"), (5, b"ok3")]
    assert reports == [(str(log), 2, 150), (str(log), 4, 200)]
    append(log, b"ok4\n")
    wait_for(lambda: len(sink.lines) == 4)
    assert sink.numbered()[-1] == (6, b"ok4")


# --- rotation and friends ----------------------------------------------------------------------


def test_rename_rotation_keeps_reading_the_old_handle(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    writer = open(log, "ab", buffering=0)  # noqa: SIM115
    writer.write(b"old1\nold2\n")
    statuses: list[SourceStatus] = []
    _, sink = follow([str(log)], on_status=statuses.append)
    wait_for(lambda: len(sink.lines) == 2)
    os.rename(log, tmp_path / "app.log.1")
    writer.write(b"late-in-old-file\n")  # the writer has not reopened yet
    time.sleep(3 * POLL)  # the follower may well have noticed the rotation by now
    writer.write(b"even-later\n")
    writer.close()
    log.write_bytes(b"new1\nnew2\n")
    wait_for(lambda: len(sink.lines) == 6)
    assert sorted(sink.lines) == sorted(
        [b"old1", b"old2", b"late-in-old-file", b"even-later", b"new1", b"new2"]
    )
    assert (1, b"new1") in sink.numbered() and (3, b"late-in-old-file") in sink.numbered()
    assert any(s.state == "rotated" for s in statuses)


def test_copytruncate_restarts_at_zero(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntwo\nthree\n")
    statuses: list[SourceStatus] = []
    _, sink = follow([str(log)], on_status=statuses.append)
    wait_for(lambda: len(sink.lines) == 3)
    shutil.copy(log, tmp_path / "app.log.1")
    with open(log, "r+b") as fh:
        fh.truncate(0)
    # Two looks can see it: stat (smaller: "truncated") or, if the truncation lands between a
    # look's stat and its read, the fingerprint ("content replaced"). Both restart at 0.
    wait_for(lambda: any(restarted(s) for s in statuses), what="a restart at 0")
    append(log, b"four\n")
    wait_for(lambda: len(sink.lines) == 4)
    assert sink.numbered()[-1] == (1, b"four")


def restarted(status: SourceStatus) -> bool:
    return status.state == "rotated" and status.message.endswith("restarting at 0")


def test_copytruncate_between_stat_and_read_restarts_at_zero(
    tmp_path: Path, follow: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving a loaded machine produces: the look's stat still sees the old size,
    the read after it sees an empty file. The fingerprint catches it; no line is lost."""
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntwo\nthree\n")
    statuses: list[SourceStatus] = []
    f, sink = follow([str(log)], poll_interval=30, use_watcher=False, on_status=statuses.append)
    assert f.wait_history(30)
    real_stat = os.stat
    armed = threading.Event()

    def stat_then_truncate(path: object, *a: object, **kw: object) -> os.stat_result:
        st = real_stat(path, *a, **kw)  # type: ignore[arg-type]
        if armed.is_set() and path == str(log):
            armed.clear()
            with open(log, "r+b") as fh:
                fh.truncate(0)
        return st

    monkeypatch.setattr(os, "stat", stat_then_truncate)
    armed.set()
    f._wake.set()
    # Only the fingerprint can see it on this look; the next stat-based look is 30 s away.
    replaced = "content replaced, restarting at 0"
    wait_for(lambda: any(s.message == replaced for s in statuses), what="the fingerprint")
    assert not armed.is_set()
    append(log, b"four\n")
    f._wake.set()
    wait_for(lambda: len(sink.lines) == 4)
    assert sink.numbered() == [(1, b"one"), (2, b"two"), (3, b"three"), (1, b"four")]


def test_rewritten_in_place_longer_is_caught_by_fingerprint(tmp_path: Path, follow: Make) -> None:
    """Same inode, bigger than our offset: only the first bytes tell it is a new file."""
    log = tmp_path / "app.log"
    log.write_bytes(b"first-generation\n")
    statuses: list[SourceStatus] = []
    # No watcher and a poll far away: checks happen only when the test wakes the follower.
    f, sink = follow([str(log)], poll_interval=30, use_watcher=False, on_status=statuses.append)
    assert f.wait_history(30)
    inode = log.stat().st_ino
    with open(log, "r+b") as fh:
        fh.truncate(0)
        fh.write(b"second-generation-a\nsecond-generation-b\n")
    assert log.stat().st_ino == inode
    f._wake.set()
    wait_for(lambda: len(sink.lines) == 3)
    assert sink.numbered() == [
        (1, b"first-generation"),
        (1, b"second-generation-a"),
        (2, b"second-generation-b"),
    ]
    assert any("replaced" in s.message for s in statuses)


def test_delete_and_recreate(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\nb\n")
    f, sink = follow([str(log)])
    wait_for(lambda: len(sink.lines) == 2)
    log.unlink()
    wait_for(lambda: state(f, log).state == "waiting")
    log.write_bytes(b"c\n")
    wait_for(lambda: len(sink.lines) == 3)
    assert sink.numbered()[-1] == (1, b"c")
    assert state(f, log).state in ("rotated", "following")
    assert "appeared" in state(f, log).message or state(f, log).state == "following"


def test_quick_delete_and_recreate_same_size(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"aaaa\n")
    f, sink = follow([str(log)], poll_interval=30, use_watcher=False)
    assert f.wait_history(30)
    log.unlink()
    log.write_bytes(b"bbbb\n")  # same size; a new inode because we still hold the old one open
    f._wake.set()
    wait_for(lambda: len(sink.lines) == 2)
    assert sink.numbered() == [(1, b"aaaa"), (1, b"bbbb")]


def test_missing_file_is_waited_for(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "later.log"
    f, sink = follow([str(log)])
    assert f.wait_history(30)
    assert state(f, log).state == "waiting"
    log.write_bytes(b"hello\n")
    wait_for(lambda: sink.lines == [b"hello"])
    wait_for(lambda: state(f, log).state == "following")


def test_vanished_directory_is_an_error_then_resumes(tmp_path: Path, follow: Make) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    log = d / "app.log"
    log.write_bytes(b"a\n")
    f, sink = follow([str(log)])
    wait_for(lambda: sink.lines == [b"a"])
    shutil.rmtree(d)
    wait_for(lambda: state(f, log).state == "error")
    assert "missing" in state(f, log).message
    d.mkdir()
    log.write_bytes(b"b\n")
    wait_for(lambda: sink.lines == [b"a", b"b"])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied_then_readable(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\n")
    log.chmod(0)
    f, sink = follow([str(log)])
    wait_for(lambda: state(f, log).state == "error")
    log.chmod(0o644)
    wait_for(lambda: sink.lines == [b"a"])


# --- what gets read, in which order ------------------------------------------------------------


def test_rotated_and_gzip_history_oldest_first_never_followed(tmp_path: Path, follow: Make) -> None:
    with gzip.open(tmp_path / "app.log.2.gz", "wb") as gz:
        gz.write(b"g1\ng2\n")
    (tmp_path / "app.log.1").write_bytes(b"r1\nr2")  # last line without newline: still a line
    (tmp_path / "app.log").write_bytes(b"l1\n")
    (tmp_path / "zipped-without-suffix").write_bytes(gzip.compress(b"z1\n"))
    progress: list[Progress] = []
    f, sink = follow(
        [str(tmp_path / "app.log*"), str(tmp_path / "zipped-without-suffix")],
        on_progress=progress.append,
    )
    assert f.wait_history(30)
    assert sink.lines == [b"g1", b"g2", b"r1", b"r2", b"z1", b"l1"]
    assert state(f, tmp_path / "app.log.1").state == "done"
    assert state(f, tmp_path / "app.log.2.gz").state == "done"
    wait_for(lambda: progress and progress[-1].history_done)
    last = progress[-1]
    assert last.lines == 6 and last.total_bytes is not None and last.bytes >= last.total_bytes > 0
    append(tmp_path / "app.log.1", b"ignored\n")
    append(tmp_path / "app.log", b"l2\n")
    wait_for(lambda: sink.lines[-1] == b"l2")
    assert b"ignored" not in sink.lines


def test_glob_of_several_live_files(tmp_path: Path, follow: Make) -> None:
    for name in ("a.log", "b.log"):
        (tmp_path / name).write_bytes(name.encode() + b"-1\n")
    f, sink = follow([str(tmp_path / "*.log")])
    assert f.wait_history(30)
    append(tmp_path / "b.log", b"b.log-2\n")
    append(tmp_path / "a.log", b"a.log-2\n")
    wait_for(lambda: len(sink.lines) == 4)
    assert sink.numbered(str(tmp_path / "a.log")) == [(1, b"a.log-1"), (2, b"a.log-2")]
    assert sink.numbered(str(tmp_path / "b.log")) == [(1, b"b.log-1"), (2, b"b.log-2")]


def test_since_seeks_with_few_timestamp_calls(tmp_path: Path, follow: Make) -> None:
    """The skipped part is still checked for late lines, but the usual spelling of the time is
    compared as text there: the caller's extractor runs only for the search itself."""
    log = tmp_path / "app.log"

    def iso(i: int) -> bytes:
        return datetime.fromtimestamp(i, UTC).isoformat(timespec="milliseconds").encode()

    log.write_bytes(
        b"".join(
            b'{"timestamp":"%s","pad":"%s"}\n' % (iso(i), b"x" * (i % 50)) for i in range(20_000)
        )
    )
    calls = 0

    def ts_of(line: bytes) -> float | None:
        nonlocal calls
        calls += 1
        return datetime.fromisoformat(line.split(b'"')[3].decode()).timestamp()

    f, sink = follow([str(log)], since=12_345.5, ts_of=ts_of)
    assert f.wait_history(30)
    got = sink.numbered()
    assert got[0][0] == 12_347 and got[0][1].startswith(b'{"timestamp":"%s"' % iso(12_346))
    assert len(got) == 20_000 - 12_346
    assert calls < 200


def test_since_falls_back_to_zero_when_not_time_ordered(tmp_path: Path, follow: Make) -> None:
    log = tmp_path / "app.log"
    times = list(range(20_000))
    random.Random(7).shuffle(times)  # many writers, clocks all over the place
    log.write_bytes(b"".join(b"%d\n" % t for t in times))
    f, sink = follow([str(log)], since=10_000.0, ts_of=lambda b: float(b))
    assert f.wait_history(30)
    assert len(sink.lines) == 20_000


def test_since_skips_files_last_written_before_it(tmp_path: Path, follow: Make) -> None:
    old = tmp_path / "app.log.1"
    old.write_bytes(b"old\n")
    log = tmp_path / "app.log"
    log.write_bytes(b"x\ny\npartial")
    os.utime(old, (1000, 1000))
    os.utime(log, (1000, 1000))
    f, sink = follow([str(old), str(log)], since=2000.0)
    assert f.wait_history(30)
    assert sink.lines == []
    append(log, b"-done\n")
    wait_for(lambda: sink.numbered() == [(3, b"partial-done")])


def test_one_shot_mode_reads_to_the_end_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\nb\nlast-without-newline")
    sink = Sink()
    f = Follower([str(log)], sink, follow=False, poll_interval=POLL)
    f.start()
    assert f.wait_history(30)
    assert sink.lines == [b"a", b"b", b"last-without-newline"]
    assert state(f, log).state == "done"
    f.stop()
    assert f._thread is not None and not f._thread.is_alive()


def test_constructor_rejects_what_can_never_work(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="directory"):
        Follower([str(tmp_path)], lambda b: None)
    with pytest.raises(InputError, match="no file matches"):
        Follower([str(tmp_path / "*.nothing")], lambda b: None)
    with pytest.raises(InputError, match="no such file"):
        Follower([str(tmp_path / "missing.log")], lambda b: None, follow=False)
    Follower([str(tmp_path / "missing.log")], lambda b: None)  # follow mode: waits for it


# --- stdin -------------------------------------------------------------------------------------


def _pipe_as_stdin(monkeypatch: pytest.MonkeyPatch) -> int:
    r, w = os.pipe()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(open(r, "rb")))  # noqa: SIM115
    return w


def test_stdin_lines_arrive_as_written(monkeypatch: pytest.MonkeyPatch, follow: Make) -> None:
    w = _pipe_as_stdin(monkeypatch)
    f, sink = follow(["-"])
    assert f.wait_history(30)
    for i in range(5):  # like `kubectl logs -f |`: each line must show up before the next
        os.write(w, b"line %d\n" % i)
        wait_for(lambda: len(sink.lines) == i + 1, timeout=2)  # noqa: B023 - called right here
    os.write(w, b"tail-without-newline")
    os.close(w)
    wait_for(lambda: state(f, "-").state == "done")
    assert sink.lines[-1] == b"tail-without-newline"
    assert [n for n, _ in sink.numbered("-")] == list(range(1, 7))


def test_stdin_one_shot(monkeypatch: pytest.MonkeyPatch) -> None:
    w = _pipe_as_stdin(monkeypatch)
    sink = Sink()
    f = Follower(["-"], sink, follow=False)
    f.start()
    os.write(w, b"a\nb\n" * 1000)
    assert not f.wait_history(0.2)
    os.close(w)
    assert f.wait_history(30)
    assert len(sink.lines) == 2000
    f.stop()


def test_stdin_via_subprocess_pipe(tmp_path: Path) -> None:
    """A real pipe from another process: the child follows its stdin and echoes what it got."""
    import subprocess

    code = (
        "import sys\n"
        "from claude_top.sources.follow import Follower\n"
        "f = Follower(['-'], lambda b: print(*[l.decode() for l in b.lines], sep='\\n', flush=True))\n"
        "f.start(); f._thread.join(10)\n"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write(b"first\n")
    p.stdin.flush()
    assert p.stdout.readline() == b"first\n"  # delivered before more input arrives
    p.stdin.write(b"second\n")
    p.stdin.close()
    assert p.stdout.readline() == b"second\n"
    assert p.wait(10) == 0


# --- the pieces alone --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=20),
    st.lists(st.integers(1, 30), min_size=1, max_size=10),
    st.booleans(),
)
def test_stream_any_chunking_gives_the_same_lines(
    parts: list[bytes], cuts: list[int], trailing: bool
) -> None:
    data = b"\n".join(parts) + (b"\n" if trailing else b"")
    s = LineFramer("x", max_line=8)
    i = k = 0
    while i < len(data):
        n = cuts[k % len(cuts)]
        s.feed(data[i : i + n])
        i += n
        k += 1
    s.finish()
    items = s.take()
    got = [
        (b.first_lineno + j, ln)
        for b in items
        if isinstance(b, Batch)
        for j, ln in enumerate(b.lines)
    ]
    skipped = [it for it in items if not isinstance(it, Batch)]
    lines = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        lines.pop()
    # The limit applies to the raw line (a trailing \r counts); delivered lines lose the \r.
    assert got == [
        (n + 1, ln[:-1] if ln.endswith(b"\r") else ln) for n, ln in enumerate(lines) if len(ln) <= 8
    ]
    assert skipped == [Overlong("x", n + 1, len(ln)) for n, ln in enumerate(lines) if len(ln) > 8]
    assert s.pos == len(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=300), st.integers(-1, 800), st.integers(0, 60))
def test_seek_since_matches_a_linear_scan(steps: list[int], since: int, pad: int) -> None:
    ts = [sum(steps[: i + 1]) for i in range(len(steps))]
    data = b"".join(b"%d %s\n" % (t, b"p" * ((i * pad) % 97)) for i, t in enumerate(ts))
    fh = io.BytesIO(data)
    got = seek_since(fh, len(data), since, lambda b: float(b.split(b" ")[0]))
    if got is None:  # "cannot tell, read from 0": only acceptable without any timestamps
        assert not ts
        return
    want_line = next((i for i, t in enumerate(ts) if t >= since), len(ts))
    want = sum(len(ln) + 1 for ln in data.split(b"\n")[:want_line])
    assert got == want


def test_fingerprint_tail_start_and_count(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"ab")
    with open(p, "rb") as fh:
        fp = Fingerprint.of(fh)
        append(p, b"c" * 300)
        assert fp.matches(fh) and len(fp.head) == 256
        d = fp.digest
        p.write_bytes(b"zz" + b"c" * 300)
        assert not fp.matches(fh) and fp.digest == d
    with open(p, "rb") as fh:
        assert tail_start(fh, 302) == 0 and count_newlines(fh, 302) == 0
    p.write_bytes(b"a\nbb\nccc")
    with open(p, "rb") as fh:
        assert tail_start(fh, 8) == 5 and count_newlines(fh, 5) == 2


def test_rotated_names() -> None:
    assert is_rotated_name("/x/app.log.1") and is_rotated_name("app.log.12.gz")
    assert (
        not is_rotated_name("app.log")
        and not is_rotated_name("/x/1")
        and not is_rotated_name("app.gz")
    )
