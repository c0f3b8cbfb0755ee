"""The wrapper's sink in the app's environment: rotation, removal, a full disk, FIFOs, loggers.

An app that logs through ``instrument`` does not stop for its log: whatever happens to the file
or the logger, each line is either written whole, starting on a fresh line, or counted as lost
(``failures`` and ``total_log_failures()``). These tests run against the real filesystem; the
full-disk one needs root (it mounts a 64 KiB tmpfs) and a simulated short write runs anywhere.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anthropic")

from claude_top.instrument import LogSink, total_log_failures
from claude_top.instrument.call import Call


def lines_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


# --------------------------------------------------------------------------------------------------
# The file changes under the sink


def test_after_logrotate_rename_and_create_lines_go_to_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    sink = LogSink(path)
    assert sink.write({"n": 1})
    path.rename(tmp_path / "app.log.1")
    path.touch()  # logrotate's ``create``
    assert sink.write({"n": 2})
    assert lines_of(tmp_path / "app.log.1") == [b'{"n":1}']
    assert lines_of(path) == [b'{"n":2}']
    assert sink.failures == 0


def test_after_rm_lines_go_to_a_new_file_at_the_path(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    sink = LogSink(path)
    assert sink.write({"n": 1})
    path.unlink()
    assert sink.write({"n": 2})
    assert sink.write({"n": 3})
    assert lines_of(path) == [b'{"n":2}', b'{"n":3}']
    assert sink.failures == 0


def test_a_path_that_cannot_be_opened_counts_every_line(tmp_path: Path) -> None:
    before = total_log_failures()
    sink = LogSink(tmp_path / "missing-dir" / "app.log")
    assert not sink.write({"n": 1})
    assert not sink.write({"n": 2})
    assert sink.failures == 2
    assert total_log_failures() == before + 2


# --------------------------------------------------------------------------------------------------
# Short writes: never a line glued onto a partial one


class ShortWrites:
    """``os.write`` on one descriptor, scripted: each entry is how many bytes the next call
    writes (then returns), or an errno it raises; other descriptors write as usual."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, script: list[int | OSError]) -> None:
        self.script = script
        self.fd: int | None = None
        self.real = os.write
        monkeypatch.setattr(os, "write", self.write)

    def write(self, fd: int, data: Any) -> int:
        if fd != self.fd or not self.script:
            return self.real(fd, data)
        step = self.script.pop(0)
        if isinstance(step, OSError):
            raise step
        return self.real(fd, bytes(data)[:step])


def scripted_sink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: list[int | OSError]
) -> tuple[LogSink, Path]:
    path = tmp_path / "app.log"
    sink = LogSink(path)
    assert sink.write({"n": 0})
    fake = ShortWrites(monkeypatch, script)
    fake.fd = sink._fd
    return sink, path


def test_a_short_write_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink, path = scripted_sink(tmp_path, monkeypatch, [3])
    assert sink.write({"n": 1, "pad": "x" * 50})
    assert sink.write({"n": 2})
    assert [json.loads(x)["n"] for x in lines_of(path)] == [0, 1, 2]
    assert sink.failures == 0


def test_a_line_cut_by_a_full_disk_is_counted_and_not_glued_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nospace = OSError(errno.ENOSPC, "No space left on device")
    sink, path = scripted_sink(tmp_path, monkeypatch, [5, nospace, nospace])
    assert not sink.write({"n": 1, "pad": "x" * 50})  # 5 bytes, then the disk is full
    assert not sink.write({"n": 2})  # still full: nothing written
    assert sink.write({"n": 3})
    assert lines_of(path) == [b'{"n":0}', b'{"n":', b'{"n":3}']
    assert sink.failures == 2


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)], check=True)


def test_a_full_tmpfs_loses_counted_lines_and_the_next_line_starts_fresh(tiny_disk: Path) -> None:
    filler = tiny_disk / "filler"
    filler.write_bytes(b"f" * 16384)
    sink = LogSink(tiny_disk / "app.log")
    written: list[bytes] = []
    n = 0
    while sink.failures < 3:  # the disk fills up
        record = {"n": n, "pad": "x" * 700}
        if sink.write(record):
            written.append(json.dumps(record, separators=(",", ":")).encode())
        n += 1
    filler.unlink()
    assert sink.write({"n": "after"})
    sink.close()
    lines = lines_of(tiny_disk / "app.log")
    assert lines[-1] == b'{"n":"after"}'
    whole = [line for line in lines[:-1] if line in written]
    assert whole == written
    assert len(lines) - 1 > len(written)  # the disk did cut a line short
    for line in lines[:-1]:
        if line not in written:  # a line the disk cut short: a prefix of one line, alone
            assert line.count(b'"n"') == 1 and not line.endswith(b"}"), line


# --------------------------------------------------------------------------------------------------
# FIFOs: never block the app


def run_guarded(path: Path, work: Any) -> None:
    """Run ``work`` on a thread; if it blocks on the FIFO, unblock it by opening a reader, then
    fail (a hang guard: the passing case never waits)."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        thread.join(timeout=20)
        os.close(fd)
        pytest.fail("the sink blocked on a FIFO")


def test_a_fifo_without_a_reader_does_not_block_and_counts_the_line(tmp_path: Path) -> None:
    path = tmp_path / "app.fifo"
    os.mkfifo(path)
    results: list[bool] = []
    sink: list[LogSink] = []

    def work() -> None:
        sink.append(LogSink(path))
        results.append(sink[0].write({"n": 1}))

    run_guarded(path, work)
    assert results == [False] and sink[0].failures == 1
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert sink[0].write({"n": 2})
        assert os.read(reader, 1000) == b'{"n":2}\n'
    finally:
        os.close(reader)


def test_a_full_fifo_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    path = tmp_path / "app.fifo"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    sink = LogSink(path)
    try:
        results: list[bool] = []

        def work() -> None:
            while len(results) < 100_000 and sink.failures < 3:  # the reader never reads
                results.append(sink.write({"pad": "y" * 1000}))

        run_guarded(path, work)
        assert sink.failures == 3
        data = b""
        while chunk := _read_nonblocking(reader):
            data += chunk
        assert data.count(b"\n") == results.count(True)
        assert all(json.loads(line) for line in data.splitlines())
    finally:
        os.close(reader)


def _read_nonblocking(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


# --------------------------------------------------------------------------------------------------
# Loggers: the level is not the app's problem


def keeping_logger(name: str, level: int) -> tuple[logging.Logger, list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(name)
    logger.setLevel(level)
    logger.propagate = False
    logger.handlers[:] = [Keep()]
    return logger, records


def test_a_logger_at_warning_still_gets_every_line_at_info() -> None:
    logger, records = keeping_logger("claude_top.test_sink.warning", logging.WARNING)
    sink = LogSink(logger)
    assert sink.write({"n": 1})
    assert sink.write({"n": 2})
    assert [json.loads(r.getMessage()) for r in records] == [{"n": 1}, {"n": 2}]
    assert [r.levelno for r in records] == [logging.INFO] * 2
    assert sink.failures == 0


def test_a_logger_adapter_at_warning_keeps_its_extra() -> None:
    logger, records = keeping_logger("claude_top.test_sink.adapter", logging.ERROR)
    sink = LogSink(logging.LoggerAdapter(logger, {"app": "shop"}))
    assert sink.write({"n": 1})
    [record] = records
    assert json.loads(record.getMessage()) == {"n": 1}
    assert record.__dict__["app"] == "shop"


def test_a_logger_no_handler_takes_counts_the_line() -> None:
    logger, records = keeping_logger("claude_top.test_sink.nohandler", logging.INFO)
    logger.handlers[0].setLevel(logging.WARNING)
    sink = LogSink(logger)
    assert not sink.write({"n": 1})
    logger.handlers.clear()  # and no handler at all (logging's last resort takes warnings only)
    assert not sink.write({"n": 2})
    assert records == [] and sink.failures == 2


# --------------------------------------------------------------------------------------------------
# Text the app passes: never the reason a line is lost


def test_a_lone_surrogate_in_user_or_feature_does_not_drop_the_line(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    sink = LogSink(path)
    Call(sink, "claude-haiku-4-5", "f\udc00x", "u\ud800").finish()
    Call(sink, "m\ud83d\ude00", "pair \ud83d\ude00", "\udfff").finish()
    [first, second] = [json.loads(line) for line in lines_of(path)]
    assert (first["feature"], first["user_id"]) == ("f\ufffdx", "u\ufffd")
    assert (second["model"], second["feature"], second["user_id"]) == ("m😀", "pair 😀", "\ufffd")
    assert sink.failures == 0
