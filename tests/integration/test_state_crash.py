"""``kill -9`` at any moment leaves a state that resumes to exactly a cold read.

A child process appends to a log and reads it into a state in a loop (timestamps out of order
and spread over days, so buckets are compacted and users archived while it runs); the test kills
it at random moments, many times, then resumes once more and compares the whole summary
document with a cold read of the log.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from statekit import cold, warm

TESTS = Path(__file__).resolve().parents[1]
CHILD = """
import random, sys
from statekit import chunk
from loggen import T0
from claude_top.engine.engine import Engine
from claude_top.state.session import open_session, read_new

log, state, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
engine = Engine()
session = open_session(state, engine, lambda m: print(m, file=sys.stderr))
print("ready", flush=True)
for i in range(1000):
    data = chunk(rnd.randint(20, 400), seed * 1000 + i, start=T0 + rnd.uniform(0, 4 * 86400),
                 span=rnd.uniform(60, 86400))
    with open(log, "ab") as f:
        f.write(data)
    read_new(engine, [log], session)
"""
ITERATIONS = 14


@pytest.mark.timeout(120)
def test_kill_9_at_random_moments_then_resume_equals_a_cold_read(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.touch()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS / "fixtures")])}
    rnd = random.Random(15)
    killed_busy = 0
    for i in range(ITERATIONS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(log), str(state), str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rnd.uniform(0.0, 0.6))
        if child.poll() is None:
            killed_busy += 1
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
        assert b"Traceback" not in err and err == b"", err.decode()
    assert killed_busy >= ITERATIONS // 2  # most kills landed while it was working
    conn = sqlite3.connect(state)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert warm(state, [str(log)]) == cold([log])
