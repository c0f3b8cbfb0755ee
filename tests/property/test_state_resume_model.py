"""Model test: any sequence of appends, rotations, copytruncates, deletions and replacements,
with a read into the state after each step, ends where one cold read of everything ever
written ends (the whole ``summary`` document).

The model keeps, for every byte written to a file, a witness copy outside the log directory;
a file is deleted only after a read has counted all of it, as logrotate deletes old files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loggen import T0
from statekit import chunk, cold, warm

OPS = st.lists(
    st.tuples(
        st.sampled_from(["append", "rotate", "copytruncate", "delete_rotated", "replace", "gzip"]),
        st.integers(1, 120),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(OPS, st.booleans())
def test_any_history_of_rotations_resumes_to_a_cold_read(
    tmp_path_factory: object, ops: list[tuple[str, int]], read_between: bool
) -> None:
    import gzip
    import tempfile

    root = Path(tempfile.mkdtemp(dir=str(tmp_path_factory.mktemp("m"))))  # type: ignore[attr-defined]
    logs, wit = root / "logs", root / "witness"
    logs.mkdir()
    wit.mkdir()
    log, state = logs / "app.log", root / "s.db"
    spec = [str(logs / "app.log*")]
    written: list[Path] = []  # witness files: everything ever written, once
    seq = 0

    def write(path: Path, n: int) -> None:
        nonlocal seq
        seq += 1
        data = chunk(n, seq, start=T0 + seq * 3600, span=3000)
        with open(path, "ab") as f:
            f.write(data)
        w = wit / f"{seq}.log"
        w.write_bytes(data)
        written.append(w)

    write(log, 50)
    warm(state, spec)
    for op, n in ops:
        rotated = logs / "app.log.1"
        if op == "append":
            write(log, n)
        elif op == "rotate" and log.exists():
            if rotated.exists():
                if (logs / "app.log.2").exists():
                    warm(state, spec)  # the oldest is dropped: only once it was read
                os.replace(rotated, logs / "app.log.2")
            os.rename(log, rotated)
            write(rotated, n // 4 + 1)  # a late writer still holding the old file
            write(log, n)
        elif op == "copytruncate" and log.exists() and not rotated.exists():
            shutil.copy(log, rotated)
            os.truncate(log, 0)
            write(log, n)
        elif op == "delete_rotated":
            warm(state, spec)  # logrotate deletes only what was rotated long ago: read first
            for old in logs.glob("app.log.*"):
                old.unlink()
        elif op == "replace" and log.exists():
            warm(state, spec)
            log.unlink()
            write(log, n)
        elif op == "gzip" and rotated.exists() and not (logs / "app.log.2.gz").exists():
            warm(state, spec)
            with open(rotated, "rb") as f, gzip.open(logs / "app.log.2.gz", "wb") as g:
                shutil.copyfileobj(f, g)
            rotated.unlink()
        if read_between:
            warm(state, spec)
    assert warm(state, spec) == cold(written)
