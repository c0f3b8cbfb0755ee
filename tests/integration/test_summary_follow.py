"""``summary --follow`` from outside the process: the follower driven as a user drives it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from loggen import T0, line


def _read_until(proc: subprocess.Popen[str], want_calls: int, deadline: float) -> dict[str, object]:
    assert proc.stdout is not None
    doc: dict[str, object] = {}
    while time.monotonic() < deadline:
        out = proc.stdout.readline()
        if not out:
            break
        doc = json.loads(out)
        if doc["total"]["calls"] >= want_calls:  # type: ignore[index]
            return doc
    raise AssertionError(f"never reached {want_calls} calls; last document: {doc}")


def test_follow_prints_growing_documents_through_rotation(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"\n".join(line(T0 + i) for i in range(10)) + b"\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claude_top",
            "summary",
            str(log),
            "--follow",
            "--interval",
            "0.2",
            "--format",
            "json",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        first = _read_until(proc, 10, deadline)
        assert first["lines"] == {
            "records": 10,
            "foreign": 0,
            "rejected": 0,
            "rejected_by_reason": {},
        }
        with open(log, "ab") as f:  # appended lines, one of them foreign
            f.write(b"\n".join(line(T0 + 100 + i) for i in range(5)) + b"\nINFO:httpx:noise\n")
        _read_until(proc, 15, deadline)
        os.rename(log, tmp_path / "app.log.1")  # rename rotation, then a new file
        with open(tmp_path / "app.log.1", "ab") as f:  # a late line to the rotated file
            f.write(line(T0 + 200) + b"\n")
        log.write_bytes(b"\n".join(line(T0 + 300 + i) for i in range(4)) + b"\n")
        doc = _read_until(proc, 20, deadline)
        assert doc["total"]["calls"] == 20  # type: ignore[index]
        assert doc["lines"]["foreign"] == 1  # type: ignore[index]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
