"""A state resumed equals a cold read: the whole ``summary --format json`` document.

Each test writes logs, reads them into a state, changes the files the way logrotate and
applications do, reads again from the state, and compares with one cold read over everything
that was ever written (kept aside as ``witness`` files where a file was deleted or replaced).
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from loggen import T0
from statekit import chunk, cold, run, warm

DAY = 86400.0


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def test_appends_resume_where_the_last_read_stopped(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(300, 1))
    assert warm(state, [str(log)], sources=True) == cold([log], sources=True)
    for seed in (2, 3, 4):
        _append(log, chunk(200, seed, start=T0 + seed * DAY / 4))
        assert warm(state, [str(log)], sources=True) == cold([log], sources=True)
    # per model too: the app's own cost is compared per model, TTFT kept per feature and model
    assert warm(state, [str(log)], "--by", "model") == cold([log], "--by", "model")


def test_nothing_new_reads_nothing_and_changes_nothing(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(300, 1))
    first = warm(state, [str(log)])
    assert warm(state, [str(log)]) == first == cold([log])


def test_rename_rotation_reads_the_rotated_tail_once(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    spec = [str(tmp_path / "app.log*")]
    log.write_bytes(chunk(300, 1))
    warm(state, spec)
    _append(log, chunk(50, 2, start=T0 + DAY))  # written before the rotation, not yet read
    os.rename(log, tmp_path / "app.log.1")
    _append(tmp_path / "app.log.1", chunk(20, 3, start=T0 + DAY))  # after it: a slow writer
    log.write_bytes(chunk(100, 4, start=T0 + 1.2 * DAY))
    assert warm(state, spec) == cold([tmp_path / "app.log.1", log])
    # and once more, compressed by the next rotation: app.log.1 -> app.log.2.gz
    with open(tmp_path / "app.log.1", "rb") as f, gzip.open(tmp_path / "app.log.2.gz", "wb") as g:
        shutil.copyfileobj(f, g)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(chunk(80, 5, start=T0 + 1.5 * DAY))
    witness = tmp_path / "w"
    witness.mkdir()
    os.rename(tmp_path / "app.log.2.gz", witness / "old.gz")
    shutil.copy(witness / "old.gz", tmp_path / "app.log.2.gz")
    assert warm(state, spec) == cold([witness / "old.gz", tmp_path / "app.log.1", log])


def test_copytruncate_reads_the_copy_from_where_it_stopped_and_the_file_from_0(
    tmp_path: Path,
) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    spec = [str(tmp_path / "app.log*")]
    log.write_bytes(chunk(300, 1))
    warm(state, spec)
    _append(log, chunk(40, 2, start=T0 + DAY))
    shutil.copy(log, tmp_path / "app.log.1")
    os.truncate(log, 0)
    _append(log, chunk(60, 3, start=T0 + 1.1 * DAY))
    assert warm(state, spec) == cold([tmp_path / "app.log.1", log])


def test_a_deleted_rotated_file_stays_counted(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    spec = [str(tmp_path / "app.log*")]
    log.write_bytes(chunk(300, 1))
    warm(state, spec)
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(chunk(100, 2, start=T0 + DAY))
    warm(state, spec)
    witness = tmp_path / "gone.log"
    os.rename(tmp_path / "app.log.1", witness)  # logrotate deletes it
    _append(log, chunk(30, 3, start=T0 + 1.3 * DAY))
    assert warm(state, spec) == cold([witness, log])


def test_a_file_replaced_under_the_same_name_is_read_from_its_start(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(300, 1))
    warm(state, [str(log)])
    witness = tmp_path / "old.log"
    shutil.copy(log, witness)
    log.unlink()
    log.write_bytes(chunk(500, 2, start=T0 + DAY))  # longer than the old one: same offset exists
    assert warm(state, [str(log)]) == cold([witness, log])


def test_a_truncated_file_rewritten_longer_is_new(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(100, 1))
    warm(state, [str(log)])
    witness = tmp_path / "old.log"
    shutil.copy(log, witness)
    with open(log, "r+b") as f:  # rewritten in place: same inode, other content
        f.truncate(0)
        f.write(chunk(400, 7, start=T0 + DAY))
    assert warm(state, [str(log)]) == cold([witness, log])


def test_windows_and_users_from_a_state(tmp_path: Path) -> None:
    """``--day`` and ``--by user`` are answered from the state's buckets and day rows."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(400, 1, span=3 * DAY))
    warm(state, [str(log)])
    _append(log, chunk(200, 2, start=T0 + 3 * DAY, span=DAY))
    for extra in (
        ["--day", "2026-11-21"],
        ["--day", "2026-11-20", "--by", "user"],
        ["--by", "model"],
        ["--since", "2026-11-22T00:00:00Z", "--by", "user"],
    ):
        assert warm(state, [str(log)], *extra) == cold([log], *extra), extra


def test_per_user_windows_days_back_from_a_state(tmp_path: Path) -> None:
    """``--by user`` over ``all`` or from a local midnight days back equals a cold read. The
    state keeps user rows per local day, so a start inside a day (``--since 3d`` at noon) counts
    the whole days from the next midnight on, as a cold read from that midnight does; a cold
    read without a state filters the lines themselves (by design: README, State)."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    now = ["--now", "2026-11-25T12:00:00Z"]
    log.write_bytes(chunk(400, 1, span=5 * DAY))
    warm(state, [str(log)], *now)
    _append(log, chunk(100, 2, start=T0 + 2 * DAY, span=3 * DAY))
    for extra in (["--by", "user"], ["--since", "2026-11-21T00:00:00Z", "--by", "user"]):
        assert warm(state, [str(log)], *now, *extra) == cold([log], *now, *extra), extra
    days = warm(state, [str(log)], *now, "--since", "3d", "--by", "user")
    whole = cold([log], *now, "--since", "2026-11-23T00:00:00Z", "--by", "user")
    assert days["users"] == whole["users"] and days["total"] == whole["total"]
    assert days["users"] != cold([log], *now, "--since", "3d", "--by", "user")["users"]


def test_check_with_a_state_agrees_with_a_cold_check(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(300, 1, span=DAY))
    now = ["--now", "2026-11-21T00:00:00Z", "--format", "json"]
    first = run("check", str(log), "--state", str(state), *now)
    _append(log, chunk(100, 2, start=T0 + DAY - 900, span=850))
    warm_check = run("check", str(log), "--state", str(state), *now)
    cold_check = run("check", str(log), *now)
    assert first[0] in (0, 1, 2)
    assert warm_check == cold_check


def test_state_info_names_sources_span_and_size(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(100, 1))
    warm(state, [str(log)])
    status, out, _ = run("state", "info", "--state", str(state))
    assert status == 0
    assert "span 2026-11-20" in out and "MiB" in out
    assert f"{log}  read to byte {log.stat().st_size:,}" in out
