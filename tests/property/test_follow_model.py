"""Model-based test of the follower, after Vector's QuickCheck file-watcher tests.

Hypothesis draws a random life of a log file (writes, partial writes, rename rotation with a late
write to the old handle, copytruncate, delete, recreate, pauses). A model tracks which complete
lines the followed *name* ever held; at the end the follower must have delivered each exactly once.

Two rules keep the model exact instead of "at least / at most" (Vector relaxes instead):
* Before a rotation or delete, the follower must hold the current file (one of its lines has been
  delivered). A generation created and rotated away between two looks is invisible to any
  name-follower, tail -F included.
* Before a copytruncate, everything written must have been read: the truncate destroys it.
A partial line abandoned by a truncate or delete was never a complete line, so it is not expected.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.sources.follow import Follower
from claude_top.sources.paths import Batch

POLL = 0.02

Op = tuple[str, int]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(1, 5)),
        st.tuples(st.just("partial"), st.just(0)),
        st.tuples(st.just("complete"), st.just(0)),
        st.tuples(st.just("rotate"), st.integers(0, 2)),  # number of late lines to the old file
        st.tuples(st.just("copytruncate"), st.just(0)),
        st.tuples(st.just("delete"), st.just(0)),
        st.tuples(st.just("recreate"), st.just(0)),
        st.tuples(st.just("pause"), st.integers(0, 40)),  # milliseconds
    ),
    max_size=25,
)


class Model:
    """The writer side: a real file plus the lines it must eventually yield."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.next_id = 0
        self.partial: bytes | None = None
        self.expected: list[bytes] = []
        self.generation: list[bytes] = []  # complete lines of the file now at `path`
        self.delivered: Counter[bytes] = Counter()
        self.lock = threading.Lock()

    def sink(self, batch: Batch) -> None:
        with self.lock:
            self.delivered.update(batch.lines)

    def _id(self, tag: bytes) -> bytes:
        self.next_id += 1
        return tag + b"%d" % self.next_id

    def _line(self, fd: int, payload: bytes, generation: bool = True) -> None:
        line = (self.partial or b"") + payload
        self.partial = None
        os.write(fd, payload + b"\n")
        self.expected.append(line)
        if generation:
            self.generation.append(line)

    def _wait(self, cond_lines: list[bytes], everything: bool) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self.lock:
                if everything and all(self.delivered[ln] for ln in cond_lines):
                    return
                if not everything and any(self.delivered[ln] for ln in cond_lines):
                    return
            time.sleep(0.005)
        raise AssertionError(f"follower did not catch up: {cond_lines[:5]}...")

    def apply(self, op: Op) -> None:
        name, n = op
        fd = self.fd
        if name == "write" and fd is not None:
            for _ in range(n):
                self._line(fd, self._id(b"L"))
        elif name == "partial" and fd is not None and self.partial is None:
            self.partial = self._id(b"P") + b"-"
            os.write(fd, self.partial)
        elif name == "complete" and fd is not None and self.partial is not None:
            self._line(fd, self._id(b"C"))
        elif name == "rotate" and fd is not None:
            if not self.generation:
                self._line(fd, self._id(b"L"))
            self._wait(self.generation, everything=False)
            os.rename(self.path, f"{self.path}.1")
            for _ in range(n):  # the app has not reopened yet: these go to the rotated file
                self._line(fd, self._id(b"R"), generation=False)
            os.close(fd)
            self.partial = None  # left unfinished in the rotated file
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self.generation = []
        elif name == "copytruncate" and fd is not None:
            self._wait(self.expected, everything=True)
            shutil.copy(self.path, f"{self.path}.tmp")  # never overwrite a file we may still drain
            os.replace(f"{self.path}.tmp", f"{self.path}.1")
            os.truncate(self.path, 0)
            self.partial = None
            self.generation = []
        elif name == "delete" and fd is not None:
            if self.generation:
                self._wait(self.generation, everything=False)
            os.unlink(self.path)
            os.close(fd)
            self.fd = None
            self.partial = None
            self.generation = []
        elif name == "recreate" and fd is None:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        elif name == "pause":
            time.sleep(n / 1000)


@settings(max_examples=40, deadline=None)
@given(ops, st.booleans())
def test_every_complete_line_is_delivered_exactly_once(plan: list[Op], use_watcher: bool) -> None:
    d = tempfile.mkdtemp(prefix="follow-model-")
    model = Model(Path(d) / "app.log")
    f = Follower([str(model.path)], model.sink, poll_interval=POLL, use_watcher=use_watcher)
    f.start()
    try:
        assert f.wait_history(5)
        for op in plan:
            model.apply(op)
        want = Counter(model.expected)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with model.lock:
                if +model.delivered == want:
                    break
            time.sleep(0.01)
        time.sleep(3 * POLL)  # duplicates would show up now
        with model.lock:
            got = Counter(model.delivered)
        missing = want - got
        extra = got - want
        assert not missing and not extra, (plan, missing, extra)
        assert f.error is None
    finally:
        f.stop()
        if model.fd is not None:
            os.close(model.fd)
        shutil.rmtree(d, ignore_errors=True)
