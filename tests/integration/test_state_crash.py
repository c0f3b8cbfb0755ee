"""``kill -9`` at any moment leaves a state that resumes to exactly a cold read.

A child process appends to a log and reads it into a state in a loop (timestamps out of order
and spread over days, so buckets are compacted and users archived while it runs); the test kills
it at random moments, many times, then resumes once more and compares the whole summary
document with a cold read of the log.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integration.processes import identify, running, wait_until
from statekit import cold, warm

TESTS = Path(__file__).resolve().parents[1]
FORKER = """
import os, random, signal, sys, traceback
from statekit import chunk
from loggen import T0
from claude_top.engine.engine import Engine
from claude_top.state.session import open_session, read_new

signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the killed children are reaped at once


def work(log, state, seed):
    rnd = random.Random(seed)
    engine = Engine()
    session = open_session(state, engine, lambda m: print(m, file=sys.stderr))
    print(os.getpid(), "ready", flush=True)
    for i in range(1000):
        data = chunk(rnd.randint(20, 400), seed * 1000 + i, start=T0 + rnd.uniform(0, 4 * 86400),
                     span=rnd.uniform(60, 86400))
        with open(log, "ab") as f:
            f.write(data)
        read_new(engine, [log], session)


log, state = sys.argv[1], sys.argv[2]
for request in sys.stdin:
    seed, err = request.split(maxsplit=1)
    if os.fork() == 0:
        fd = os.open(err.strip(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 2)
        status = 0
        try:
            work(log, state, int(seed))
        except BaseException:
            traceback.print_exc()
            status = 1
        sys.stderr.flush()
        os._exit(status)  # never back into the loop that forks
"""
"""Forks a child per request (``SEED ERR_FILE``): the child opens the state, says ``PID ready``
and reads a growing log into it until killed, its stderr in ERR_FILE. One interpreter imports
claude_top once, instead of one fresh interpreter per kill spending its time on imports."""
ITERATIONS = 14


@pytest.mark.timeout(120)
def test_kill_9_at_random_moments_then_resume_equals_a_cold_read(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.touch()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS / "fixtures")])}
    rnd = random.Random(15)
    killed_busy = 0
    forker = subprocess.Popen(
        [sys.executable, "-c", FORKER, str(log), str(state)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert forker.stdin is not None and forker.stdout is not None
    try:
        for i in range(ITERATIONS):
            err = tmp_path / f"child-{i}.err"
            forker.stdin.write(f"{i} {err}\n".encode())
            forker.stdin.flush()
            pid, ready = forker.stdout.readline().split()
            assert ready == b"ready"
            child = identify(int(pid))
            assert child is not None
            time.sleep(rnd.uniform(0.0, 0.6))
            if running(child):
                killed_busy += 1
                with contextlib.suppress(ProcessLookupError):  # it finished meanwhile
                    os.kill(child[0], signal.SIGKILL)
            wait_until(lambda c=child: not running(c), "the killed child to exit", 10)
            text = err.read_text()
            assert "Traceback" not in text and text == "", text
    finally:
        _, forker_err = forker.communicate(timeout=30)  # closes its stdin: it exits
    assert forker.returncode == 0 and forker_err == b"", forker_err.decode()
    assert killed_busy >= ITERATIONS // 2  # most kills landed while it was working
    conn = sqlite3.connect(state)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert warm(state, [str(log)]) == cold([log])
