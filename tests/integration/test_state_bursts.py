"""The rate-limit tracker's 429 bursts through a state: the TUI resumed from a state shows the
bursts a cold read of the same logs shows (its "Recent 429s" panel, the frame's data), and a
``summary``/``check`` with a state, whose documents hold no bursts, keeps the TUI's bursts in
the file for the TUI's next start (``state.bursts``)."""

from __future__ import annotations

import argparse
import io
import sqlite3
from pathlib import Path
from typing import Any

from rich.console import Console

from claude_top.commands.common import read_all
from claude_top.commands.following import follow_logs
from claude_top.config.load import Config
from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.views.live.dashboard import Dashboard, build_dashboard
from claude_top.views.tui.panels import rate_limits
from loggen import T0, line
from statekit import run

NOW = T0 + 10 * 86400.0
MODELS = ("claude-sonnet-4-6", "claude-opus-4-1", "claude-haiku-4-5")


def _calls(start: float, end: float, step: float, seed: int) -> list[bytes]:
    """Plain calls of every class and a few users and features, every ``step`` seconds."""
    out = []
    i = seed
    t = start
    while t < end:
        out.append(
            line(t, request_id=f"c{seed}-{i}", user_id=f"u{i % 4}", feature=f"f{i % 3}",
                 model=MODELS[i % 3], input_tokens=100 + 37 * (i % 11))
        )  # fmt: skip
        i += 1
        t += step
    return out


def _r429(ts: float, model: str, feature: str, n: int) -> bytes:
    return line(ts, request_id=f"x{n}", model=model, feature=feature, user_id=f"u{n % 3}",
                output_tokens=0, stop_reason="error", error="RateLimitError",
                error_status=429)  # fmt: skip


def _first() -> bytes:
    """Hours-old bursts (their drivers unknown to a read at NOW), one in the tracker's minutes
    (drivers known), and an open opus burst that the second part extends."""
    lines = _calls(NOW - 900, NOW - 100, 7.0, 1)
    lines += [_r429(NOW - 5 * 3600 + k * 10, MODELS[1], "f0", k) for k in range(3)]
    lines += [_r429(NOW - 2 * 3600 + k * 20, MODELS[0], "f1", 10 + k) for k in range(2)]
    lines += [_r429(NOW - 3600, MODELS[2], "f2", 20)]
    lines += [_r429(NOW - 170, MODELS[0], "f2", 30), _r429(NOW - 150, MODELS[1], "f1", 31)]
    return b"".join(x + b"\n" for x in lines)


def _second() -> bytes:
    """More calls; a 429 that extends the open opus burst, a late one near the hours-old sonnet
    burst (a burst of its own: the open sonnet one is the newer), and a new sonnet burst whose
    minute before spans both parts."""
    lines = _calls(NOW - 100, NOW - 1, 3.0, 2)
    lines += [_r429(NOW - 110, MODELS[1], "f0", 40)]
    lines += [_r429(NOW - 2 * 3600 + 50, MODELS[0], "f0", 41)]
    lines += [_r429(NOW - 60, MODELS[0], "f1", 42), _r429(NOW - 55, MODELS[0], "f1", 43)]
    return b"".join(x + b"\n" for x in lines)


def _live(log: Path, state: Path) -> Engine:
    """What ``claude-top LOG`` builds (``commands.following``), run until the history is read."""
    engine = Engine(clock=FixedClock(NOW))
    a = argparse.Namespace(logs=[str(log)], state=str(state), no_state=False, now=None)
    following = follow_logs(a, engine, Config(), None, "claude-top", poll=0.05)
    assert following.session is not None
    following.start(None)
    try:
        assert following.follower.wait_history(60)
        later = following.session.later
        assert later is None or later.done.wait(60)
    finally:
        following.stop()
    return engine


def _cold(log: Path) -> Engine:
    engine = Engine(clock=FixedClock(NOW))
    read_all(engine, [str(log)])
    return engine


def _panel(d: Dashboard) -> list[str]:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(rate_limits(d, bursts=10, rows=40, width=118))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return str(text).splitlines()


def _views(engine: Engine) -> dict[str, Any]:
    """Everything a view reads of the bursts: the tracker's whole log, the TUI frame's rows and
    the panel as drawn."""
    d = build_dashboard(engine, None, now=NOW)
    return {
        "kept": list(engine.headroom.bursts),
        "frame": d.bursts,
        "panel": _panel(d),
        "rate_limits": d.rate_limits,
        "headroom": d.headroom,
    }


def test_a_resumed_tui_shows_the_bursts_of_a_cold_read(tmp_path: Path) -> None:
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(_first())
    first = _live(log, state)
    assert _views(first) == _views(_cold(log))
    with open(log, "ab") as f:
        f.write(_second())
    cold = _views(_cold(log))
    assert len(cold["kept"]) == 7 and cold["kept"][4].count == 2  # the open one, extended
    assert any(b.drivers for b in cold["kept"]) and any(b.drivers is None for b in cold["kept"])
    assert _views(_live(log, state)) == cold
    assert _views(_live(log, state)) == cold  # nothing new: the same again


def test_a_check_or_summary_with_the_state_keeps_the_tuis_bursts(tmp_path: Path) -> None:
    """``check`` and ``summary`` never show bursts, but they commit the tracker: what they
    commit keeps the bursts (and extends them with their own lines) for the TUI's next start."""
    log, state = tmp_path / "app.log", tmp_path / "s.db"
    log.write_bytes(_first())
    _live(log, state)
    with open(log, "ab") as f:
        f.write(_second())
    status, _, err = run("summary", str(log), "--state", str(state), "--now", str(NOW))
    assert status == 0 and "Traceback" not in err
    conn = sqlite3.connect(state)
    try:
        (n,) = conn.execute("SELECT count(*) FROM bursts").fetchone()
    finally:
        conn.close()
    assert n >= 6
    assert _views(_live(log, state)) == _views(_cold(log))
