"""A state file that cannot be used is reported in one line and rebuilt; two processes on one
state do not corrupt it (the second reads it and does not write)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.state.db import open_state
from claude_top.state.schema import APPLICATION_ID, SCHEMA
from claude_top.state.session import default_path, open_session, read_new, state_name
from loggen import T0
from statekit import chunk, cold, run, warm


def _write_state(tmp_path: Path) -> tuple[Path, Path]:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(200, 1))
    warm(state, [str(log)])
    return log, state


def _foreign(state: Path) -> None:
    for p in (state, Path(f"{state}-wal"), Path(f"{state}-shm")):
        p.unlink(missing_ok=True)
    conn = sqlite3.connect(state)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.commit()
    conn.close()


def _newer(state: Path) -> None:
    conn = sqlite3.connect(state)
    conn.execute("PRAGMA user_version = 99")
    conn.close()


def _garbage(state: Path) -> None:
    state.write_bytes(b"\x00garbage, not SQLite at all\n" * 100)


def _torn(state: Path) -> None:
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 3])


def _bad_histogram(state: Path) -> None:
    conn = sqlite3.connect(state)
    conn.execute("UPDATE histograms SET hdr = x'00112233'")
    conn.commit()
    conn.close()


def _bad_counter(state: Path) -> None:
    conn = sqlite3.connect(state)
    conn.execute("UPDATE calls SET calls = 'many'")
    conn.commit()
    conn.close()


def _bad_event(state: Path) -> None:
    conn = sqlite3.connect(state)
    assert conn.execute("UPDATE events SET record = '[1, \"x\"]'").rowcount > 0
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (_foreign, "not a claude-top state"),
        (_newer, "newer claude-top"),
        (_garbage, "not a readable state"),
        (_torn, "state"),
        (_bad_histogram, "cannot be read"),
        (_bad_counter, "not a whole number"),
        (_bad_event, "not a call record"),
    ],
)
def test_an_unusable_state_is_one_line_then_rebuilt(tmp_path: Path, damage, words: str) -> None:
    log, state = _write_state(tmp_path)
    damage(state)
    status, _, err = run(
        "summary", str(log), "--state", str(state), "--format", "json", "--jobs", "1"
    )
    assert status == 0
    assert len(err.splitlines()) == 1 and words in err, err
    assert "Traceback" not in err
    assert (tmp_path / "s.db.unusable").exists()  # set aside, never deleted
    assert warm(state, [str(log)]) == cold([log])  # rebuilt, then used


def test_a_foreign_database_is_kept_aside_intact(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "mine.db"
    log.write_bytes(chunk(50, 1))
    _foreign(state)
    warm(state, [str(log)])
    conn = sqlite3.connect(tmp_path / "mine.db.unusable")
    assert conn.execute("SELECT total FROM invoices").fetchall() == [(9.5,)]
    assert conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID


def test_a_second_process_reads_the_state_and_does_not_write_it(tmp_path: Path) -> None:
    log, state = _write_state(tmp_path)
    said: list[str] = []
    holder = open_state(str(state), "UTC", said.append)  # the first process: holds the lock
    assert holder is not None and holder.writable
    with open(log, "ab") as f:
        f.write(chunk(100, 2))
    before = state.read_bytes()
    status, _, err = run(
        "summary", str(log), "--state", str(state), "--format", "json", "--jobs", "1"
    )
    assert status == 0 and "is writing it; reading it, not saving" in err
    assert state.read_bytes() == before
    holder.close()
    assert warm(state, [str(log)]) == cold([log])


def test_the_lock_file_names_its_holder_alone(tmp_path: Path) -> None:
    """The pid is written over the last holder's (a longer one here), and the rest cut off,
    so the second process's message names the writer."""
    _, state = _write_state(tmp_path)
    lock = Path(f"{state}.lock")
    lock.write_bytes(b"1234567890123\n")
    holder = open_state(str(state), "UTC", print)
    assert holder is not None and holder.writable
    assert lock.read_bytes() == f"{os.getpid()}\n".encode()
    said: list[str] = []
    second = open_state(str(state), "UTC", said.append)
    assert second is not None and not second.writable
    assert said == [f"state {state}: another claude-top (pid {os.getpid()}) is writing it; "
                    "reading it, not saving"]  # fmt: skip
    second.close()
    holder.close()


NEW_IN = {
    2: ("streams", "app_costs"),
    3: ("server_tools",),
    4: (),
    5: ("hour_sums", "hours"),
    6: ("headroom",),
    7: ("bursts",),
}
"""The tables each schema added (4 added a column: ``calls.cost``)."""


def _as_schema(state: Path, version: int) -> None:
    """The file as a claude-top of schema ``version`` wrote it: without the later tables."""
    conn = sqlite3.connect(state)
    for v in range(version + 1, SCHEMA + 1):
        for table in NEW_IN[v]:
            conn.execute(f"DROP TABLE {table}")
    if version < 4:
        conn.execute("ALTER TABLE calls DROP COLUMN cost")
        conn.execute("DELETE FROM meta WHERE key = 'prices'")
    if version == 2:  # schema 2 kept the app's cost in dollars, as reals
        conn.execute("ALTER TABLE app_costs RENAME COLUMN nano_usd TO usd")
        conn.execute("UPDATE app_costs SET usd = usd / 1e9")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("version", "lacking", "partial"),
    [
        (
            1,
            "streamed calls and the app's own cost and server tool use and the rate-limit "
            "tracker's last minutes and the 429 bursts",
            "streamed_calls",
        ),
        (
            2,
            "server tool use and the rate-limit tracker's last minutes and the 429 bursts",
            "web_search_requests",
        ),
        (3, "the rate-limit tracker's last minutes and the 429 bursts", ""),
        (4, "the rate-limit tracker's last minutes and the 429 bursts", ""),
        (5, "the rate-limit tracker's last minutes and the 429 bursts", ""),
        (6, "the 429 bursts", ""),
    ],
)
def test_an_older_state_is_upgraded_in_place_and_keeps_its_counts(
    tmp_path: Path, version: int, lacking: str, partial: str
) -> None:
    log, state = _write_state(tmp_path)
    _as_schema(state, version)
    with open(log, "ab") as f:
        f.write(chunk(100, 2, start=T0 + 86400))
    status, out, err = run(
        "summary", str(log), "--state", str(state), "--format", "json", "--jobs", "1"
    )
    assert status == 0 and "Traceback" not in err
    tail = f"; {lacking} of the lines read before count from now on" if lacking else ""
    assert err.splitlines() == [
        f"claude-top summary: state {state}: upgraded from schema {version} to {SCHEMA}{tail}"
    ]
    assert not (tmp_path / "s.db.unusable").exists()  # kept: its counts outlive the logs
    conn = sqlite3.connect(state)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    # every row's cost is filled in by the first commit, at the table in use
    assert conn.execute("SELECT count(*) FROM calls WHERE cost IS NULL").fetchone() == (0,)
    cost = conn.execute("SELECT sum(cost) FROM calls WHERE cost >= 0").fetchone()[0]
    conn.close()
    doc, full = json.loads(out), cold([log])
    assert cost / 1e9 == pytest.approx(full["total"]["cost_usd"], abs=0.01)
    for what in ("calls", "errors", "cost_usd", "total_input_tokens", "p95_latency_ms"):
        assert doc["total"][what] == full["total"][what], what
    if partial:  # the lines read after the upgrade have what the old schema did not keep
        assert 0 < doc["total"][partial] < full["total"][partial]
    if version == 2:  # its dollars became nano-dollars
        assert doc["total"]["app_cost_usd"] == full["total"]["app_cost_usd"]
    assert warm(state, [str(log)], sources=True) == doc


def test_a_state_kept_in_another_time_zone_is_rebuilt(tmp_path: Path) -> None:
    log, state = _write_state(tmp_path)
    status, _, err = run(
        "summary", str(log), "--state", str(state), "--tz", "Europe/Paris", "--jobs", "1"
    )
    assert status == 0 and "time zone UTC, not Europe/Paris" in err


def test_default_names_are_safe_file_names(tmp_path: Path) -> None:
    weird = ["/var/log/../app\n\x1b[31m.log", "-", "*.log", "/" + "x" * 500]
    for spec in weird:
        name = state_name([spec])
        assert "/" not in name and not name.startswith(".") and len(name) < 100
        assert all(c.isalnum() or c in "._-+" for c in name)
    assert state_name(["a.log"]) != state_name(["b.log"])
    # The digest part is what it was with ``hashlib`` (a state found by its default name)
    digest = hashlib.blake2b(os.path.abspath("a.log").encode(), digest_size=4).hexdigest()
    assert state_name(["a.log"]).endswith(f"-{digest}.db")
    assert default_path(["a.log"]).endswith(".db")


def test_an_unwritable_state_directory_is_one_line_and_no_state(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    said: list[str] = []
    engine = Engine(clock=FixedClock(0))
    assert open_session(str(blocker / "s.db"), engine, said.append) is None
    assert len(said) == 1


def test_read_new_commits_positions_with_the_counts(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(chunk(100, 1))
    engine = Engine(clock=FixedClock(0))
    session = open_session(str(state), engine, print)
    assert session is not None
    read_new(engine, [str(log)], session)
    session.close()
    conn = sqlite3.connect(state)
    (offset,) = conn.execute("SELECT offset FROM sources").fetchone()
    (records,) = conn.execute("SELECT n FROM line_health WHERE what = 'records'").fetchone()
    assert offset == log.stat().st_size and records == engine.lines.records


def test_events_written_before_records_gained_slots_are_read_with_their_defaults(
    tmp_path: Path,
) -> None:
    """A state's recent 429s and errors are records as JSON arrays; a claude-top whose
    ``Record`` has more optional slots reads the shorter arrays of an older one."""
    from claude_top.core.record import Record

    log, state = _write_state(tmp_path)
    required = len(Record._fields) - len(Record._field_defaults)
    conn = sqlite3.connect(state)
    rows = conn.execute("SELECT kind, seq, record FROM events").fetchall()
    assert rows
    for kind, seq, text in rows:  # as written when a record had only its first slots
        short = json.dumps(json.loads(text)[: required + 1])
        conn.execute("UPDATE events SET record = ? WHERE kind = ? AND seq = ?", (short, kind, seq))
    conn.commit()
    conn.close()
    status, _, err = run(
        "summary", str(log), "--state", str(state), "--format", "json", "--jobs", "1"
    )
    assert status == 0 and err == ""
    assert not (tmp_path / "s.db.unusable").exists()
