"""A warm ``check --state`` gives the document a cold ``check`` gives, over the same log.

A warm check loads only its newest buckets and has the older ones summed by SQLite from the
file (``state.older``): the 24-hour and daily windows, the 7-day cost baseline. The rules here
are set to fire on anything, per feature, so every sum they read is in the document (the
alerts' values and messages): a wrong sum of the older buckets changes it. Each step runs the
warm check, then a cold one over the whole log at the same ``--now``, across appends, late
lines for a finished day, minutes moving up a tier, and price changes (which make the stored
costs stale: that check loads everything, and the next one is fast again).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from claude_top.engine.engine import Engine
from loggen import iso
from statekit import chunk, events, run

DAY = 86400.0
END = 1795478400.0  # 2026-11-23T00:00:00Z (a Monday): the log's first end
LOUD = """
[alerts.error_rate]
threshold = 0
min_calls = 0
window = "24h"
[alerts.max_tokens]
threshold = 0
min_calls = 0
window = "today"
[alerts.cache_hit]
threshold = 100
min_calls = 0
[alerts.unpriced]
threshold = 0
[alerts.p95_latency]
threshold = 0
min_calls = 0
[alerts.p95_ttft]
threshold = 0
min_calls = 0
[alerts.daily_cost]
threshold = 1
min_calls = 0
[alerts.cost_pace]
threshold = 1
min_calls = 0
[alerts.rate_limit]
min_calls = 0
"""
PRICES = """
[prices.claude-haiku-4-5]
input = 2
output = 9
[prices.mystery-model]
input = 1
output = 4
effective = "2026-11-21"
"""
"""A changed price, and a model priced from a date on: its older calls stay unpriced."""


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


@pytest.fixture
def older_used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many checks summed their older buckets from the file."""
    used: list[int] = []
    real = Engine.answer_older

    def spy(self: Engine, older: Any) -> None:
        used.append(1)
        real(self, older)

    monkeypatch.setattr(Engine, "answer_older", spy)
    return used


def _check(log: Path, cfg: Path, now: float, state: Path | None) -> tuple[int, dict[str, Any]]:
    extra = ["--state", str(state)] if state else []
    status, out, err = run(
        "check", str(log), "--config", str(cfg), "--now", iso(now), "--format", "json", *extra
    )
    assert err == "", err
    return status, json.loads(out)


def _same(log: Path, cfg: Path, now: float, state: Path) -> dict[str, Any]:
    warm = _check(log, cfg, now, state)
    cold = _check(log, cfg, now, None)
    assert warm == cold
    return warm[1]


def test_a_warm_check_gives_the_cold_checks_document(tmp_path: Path, older_used: list[int]) -> None:
    log, state, cfg = tmp_path / "app.log", tmp_path / "s.db", tmp_path / "c.toml"
    cfg.write_text(LOUD)
    log.write_bytes(chunk(2500, 1, start=END - 9 * DAY, span=9 * DAY - 60))
    _same(log, cfg, END, state)  # builds the state: everything read, nothing from the file
    assert older_used == []

    _append(log, chunk(150, 2, start=END, span=1700))
    doc = _same(log, cfg, END + 1800, state)
    assert older_used == [1]
    fired = {a["rule"] for a in doc["alerts"]}
    # the rules that read the file's sums fire, so their numbers are in the document
    assert {"error_rate", "max_tokens", "unpriced", "daily_cost", "cost_pace"} <= fired

    # late lines for a finished day (the baseline's), new ones, and minutes moving up a tier
    _append(log, chunk(80, 3, start=END - 3 * DAY, span=DAY))
    _append(log, chunk(80, 4, start=END + 1800, span=3 * 3600))
    _same(log, cfg, END + 4 * 3600, state)
    _same(log, cfg, END + 28 * 3600, state)  # nothing new; a day later: minutes move
    assert older_used == [1, 1, 1]
    # ... in the file too: minutes more than 26 h (and the hour compaction waits) before the
    # newest call (END + 3.5 h: a replay's clock for compaction) went up a tier
    assert _oldest_minute(state) >= END + (3.5 - 26 - 1) * 3600 - 120

    # another price table: the stored costs are stale, so this check loads everything ...
    cfg.write_text(LOUD + PRICES)
    _append(log, chunk(60, 5, start=END + 28 * 3600, span=600))
    _same(log, cfg, END + 28 * 3600 + 900, state)
    assert older_used == [1, 1, 1]
    # ... and prices every row again, so the next one sums them from the file
    _append(log, chunk(60, 6, start=END + 28 * 3600 + 900, span=600))
    _same(log, cfg, END + 28 * 3600 + 1800, state)
    assert older_used == [1, 1, 1, 1]
    # back to the built-in prices: stale again, then fast again
    cfg.write_text(LOUD)
    _same(log, cfg, END + 29 * 3600, state)
    _append(log, chunk(300, 7, start=END + 29 * 3600, span=60))  # errors past what is kept
    _same(log, cfg, END + 29 * 3600 + 120, state)
    assert older_used == [1, 1, 1, 1, 1]
    # the checks left the events in the file, and added the new ones as a full load keeps them
    fresh = tmp_path / "fresh.db"
    _check(log, cfg, END + 29 * 3600 + 120, fresh)
    assert events(state) == events(fresh)


def _oldest_minute(state: Path) -> float:
    conn = sqlite3.connect(state)
    try:
        return float(conn.execute("SELECT min(start) FROM calls WHERE width = 60").fetchone()[0])
    finally:
        conn.close()


def test_a_second_process_on_the_state_loads_what_it_needs(tmp_path: Path) -> None:
    """One that cannot write the file cannot trust its sums to be complete: it loads the
    buckets, as before."""
    from claude_top.state.db import open_state

    log, state, cfg = tmp_path / "app.log", tmp_path / "s.db", tmp_path / "c.toml"
    cfg.write_text(LOUD)
    log.write_bytes(chunk(800, 1, start=END - 9 * DAY, span=9 * DAY - 60))
    _same(log, cfg, END, state)
    _append(log, chunk(100, 2, start=END, span=1700))
    holder = open_state(str(state), "UTC", print)  # another writer holds the lock
    assert holder is not None and holder.writable
    try:
        status, out, err = run(
            "check", str(log), "--state", str(state), "--config", str(cfg), "--now",
            iso(END + 1800), "--format", "json",
        )  # fmt: skip
        assert "is writing it" in err
        assert (status, json.loads(out)) == _check(log, cfg, END + 1800, None)
    finally:
        holder.close()


@pytest.mark.parametrize("broken", ["sums", "commit"])
def test_when_the_file_cannot_answer_the_check_reads_the_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    """A file that fails under the older buckets' sums is one line, then a cold read; a
    commit that did not happen leaves nothing to sum: the logs are read, and nothing said."""
    from claude_top.state.db import StateError
    from claude_top.state.older import FileRows
    from claude_top.state.session import Session

    log, state, cfg = tmp_path / "app.log", tmp_path / "s.db", tmp_path / "c.toml"
    cfg.write_text(LOUD)
    log.write_bytes(chunk(800, 1, start=END - 9 * DAY, span=9 * DAY - 60))
    _same(log, cfg, END, state)
    _append(log, chunk(100, 2, start=END, span=1700))
    if broken == "sums":

        def fail(self: FileRows, start: float, end: float) -> Any:
            raise StateError("cannot be read (disk I/O error)")

        monkeypatch.setattr(FileRows, "rows", fail)
    else:
        monkeypatch.setattr(Session, "older", lambda self: None)
    status, out, err = run(
        "check", str(log), "--state", str(state), "--config", str(cfg), "--now",
        iso(END + 1800), "--format", "json",
    )  # fmt: skip
    said = [f"claude-top check: state {state}: cannot be read (disk I/O error)"]
    assert err.splitlines() == (said if broken == "sums" else [])
    assert (status, json.loads(out)) == _check(log, cfg, END + 1800, None)


LIMITS = """
[alerts.headroom]
threshold = 0.001
window = "2m"
[limits.sonnet-4]
rpm = 100
itpm = 20000
[limits.haiku-4]
otpm = 5000
"""
"""A headroom rule that fires on any use, over its longest window: its values (each class's
share of its limit) and messages (the rates per minute) are in the document. Opus gets its
limits from the headers the lines carry (the message names their source)."""


def _recent(n: int, seed: int, start: float, span: float) -> bytes:
    """``chunk``'s lines, some carrying rate-limit headers, as the instrument wrapper logs them."""
    out = []
    for i, line in enumerate(chunk(n, seed, start=start, span=span).splitlines()):
        if i % 7 == 3 and line.startswith(b"{") and line.endswith(b"}"):
            d = json.loads(line)
            d["ratelimit_requests_limit"] = 40 + seed
            d["ratelimit_requests_remaining"] = 30 - i % 20
            d["ratelimit_output_tokens_limit"] = 9000 + seed
            line = json.dumps(d).encode()
        out.append(line + b"\n")
    return b"".join(out)


def test_a_warm_check_counts_the_headroom_a_cold_one_does(tmp_path: Path) -> None:
    """Cron runs ``check`` more often than the headroom rule's window: the window holds lines
    the run before read, which a warm check no longer reads and must take from the state."""
    log, state, cfg = tmp_path / "app.log", tmp_path / "s.db", tmp_path / "c.toml"
    cfg.write_text(LOUD + LIMITS)
    log.write_bytes(chunk(800, 1, start=END - 2 * DAY, span=2 * DAY - 300))
    _append(log, _recent(120, 2, start=END - 290, span=290))
    doc = _same(log, cfg, END, state)
    assert any(a["rule"] == "headroom" for a in doc["alerts"])
    now = END
    for step, (n, late) in enumerate([(60, 0), (40, 50), (90, 20), (0, 0), (30, 170)]):
        start = now - late  # late lines: within the window the run before counted
        now += 45 + 17 * step
        _append(log, _recent(n, 3 + step, start=start, span=now - start - 1))
        doc = _same(log, cfg, now, state)
    now += 100  # nothing new: the seconds the window has left behind are gone
    doc = _same(log, cfg, now, state)
    _same(log, cfg, now + 200, state)  # and all of them
    assert any(a["rule"] == "headroom" for a in doc["alerts"])
