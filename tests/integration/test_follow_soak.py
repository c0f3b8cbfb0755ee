"""Soak: 100k lines through 25 rename rotations, as Fluent Bit's in_tail runtime tests do.

A writer thread writes numbered lines at ~20k lines/s and rotates every 256 KB, writing one more
line to the old handle after each rename (the app has not reopened yet). Every line must arrive
exactly once. The writer only refuses to rotate a file the follower has not opened at all (no
name-follower can see a file that lives and dies between two looks).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from claude_top.sources.follow import Follower
from claude_top.sources.paths import Batch

TOTAL = 100_000
ROTATE_AT = 256 << 10
BURST = 200
RATE = 20_000  # lines per second


def test_100k_lines_through_rotations(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    got: list[bytes] = []
    lock = threading.Lock()
    seen_gen: set[int] = set()

    def sink(batch: Batch) -> None:
        with lock:
            got.extend(batch.lines)
            seen_gen.update(int(ln[9:13]) for ln in batch.lines[:1] + batch.lines[-1:])

    rotations = 0

    def writer() -> None:
        nonlocal rotations
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        gen, size, i = 0, 0, 0
        t0 = time.monotonic()
        while i < TOTAL:
            n = min(BURST, TOTAL - i)
            data = b"".join(b"%08d %04d %s\n" % (j, gen, b"x" * 40) for j in range(i, i + n))
            os.write(fd, data)
            i += n
            size += len(data)
            if size >= ROTATE_AT and i < TOTAL:
                deadline = time.monotonic() + 60  # a guard against a hang, not a speed limit
                while gen not in seen_gen and time.monotonic() < deadline:
                    time.sleep(0.001)
                os.rename(path, f"{path}.1")
                os.write(fd, b"%08d %04d late\n" % (i, gen))  # lands in the rotated file
                i += 1
                os.close(fd)
                gen += 1
                rotations += 1
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                size = 0
            ahead = i / RATE - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        os.close(fd)

    f = Follower([str(path)], sink, poll_interval=0.05)
    path.touch()
    f.start()
    assert f.wait_history(30)
    w = threading.Thread(target=writer)
    w.start()
    w.join(300)
    assert not w.is_alive()
    deadline = time.monotonic() + 60  # a guard against a hang, not a speed limit
    while time.monotonic() < deadline:
        with lock:
            if len(got) >= TOTAL:
                break
        time.sleep(0.02)
    time.sleep(0.2)
    f.stop()
    assert f.error is None
    ids = sorted(int(ln[:8]) for ln in got)
    assert rotations >= 20
    assert len(got) == TOTAL, (len(got), TOTAL)
    assert ids == list(range(TOTAL))


KEEP = 8
"""Rotated files kept, as logrotate's ``rotate 8``: app.log.1 (newest) .. app.log.8."""


def _rotate(path: Path) -> None:
    for n in range(KEEP - 1, 0, -1):
        if os.path.exists(f"{path}.{n}"):
            os.rename(f"{path}.{n}", f"{path}.{n + 1}")
    os.rename(path, f"{path}.1")


@pytest.mark.parametrize(("use_watcher", "poll"), [(True, 1.0), (False, 0.05), (False, 0.2)])
def test_rotation_every_50_ms_loses_no_line(tmp_path: Path, use_watcher: bool, poll: float) -> None:
    """The writer does not wait for the follower: some files live and are rotated away between
    two looks. They are still next to the live file (app.log.1, .2 ...) and must be read."""
    path = tmp_path / "app.log"
    got: list[bytes] = []
    lock = threading.Lock()

    def sink(batch: Batch) -> None:
        with lock:
            got.extend(batch.lines)

    total = 0

    def writer() -> None:
        nonlocal total
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for _ in range(60):  # 60 rotations, 50 ms apart
            for _ in range(5):
                os.write(fd, b"%08d\n" % total)
                total += 1
                time.sleep(0.01)
            _rotate(path)
            os.close(fd)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.close(fd)

    path.touch()
    f = Follower([str(path)], sink, poll_interval=poll, use_watcher=use_watcher, rotate_wait=0.5)
    f.start()
    assert f.wait_history(30)
    w = threading.Thread(target=writer)
    w.start()
    w.join(300)
    assert not w.is_alive()
    deadline = time.monotonic() + 60  # a guard against a hang, not a speed limit
    while time.monotonic() < deadline:
        with lock:
            if len(got) >= total:
                break
        time.sleep(0.02)
    time.sleep(0.3)
    f.stop()
    assert f.error is None
    assert sorted(int(ln) for ln in got) == list(range(total))
