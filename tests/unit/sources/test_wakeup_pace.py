"""The directory watcher looks often while files change and seldom once they are quiet.

The pace is what the idle TUI's CPU and a written line's way to the screen trade between
(``wakeup._watch``): these tests record the step each ``watchfiles.watch`` run is started with,
over a real directory, with the quiet spell shortened.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import watchfiles

from claude_top.sources.follow import wakeup

WAIT_S = 10.0
"""A bound on waiting for the watcher thread, not a speed asserted: it should take well under."""


def _until(cond: Any) -> bool:
    done = threading.Event()
    for _ in range(int(WAIT_S / 0.02)):
        if cond():
            return True
        done.wait(0.02)
    return False


def test_the_watcher_slows_down_when_quiet_and_speeds_up_at_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[int] = []
    real = watchfiles.watch

    def recording(*paths: Any, **kw: Any) -> Any:
        steps.append(kw["step"])
        return real(*paths, **kw)

    monkeypatch.setattr(watchfiles, "watch", recording)
    monkeypatch.setattr(wakeup, "QUIET_MS", 200)
    wake = threading.Event()
    watcher = wakeup.DirWatcher(wake)
    log = tmp_path / "app.log"
    log.write_text("")
    watcher.sync([str(log)], 0.0)
    try:
        assert _until(lambda: wakeup.IDLE_STEP_MS in steps), steps
        assert steps[0] == wakeup.ACTIVE_STEP_MS  # it starts looking often (a log being read)
        wake.clear()
        with log.open("a") as f:
            f.write("{}\n")
        assert wake.wait(WAIT_S)
        assert _until(lambda: steps[-1] == wakeup.ACTIVE_STEP_MS and len(steps) >= 3), steps
        assert _until(lambda: steps[-1] == wakeup.IDLE_STEP_MS and len(steps) >= 4), steps
    finally:
        watcher.stop()
    assert wakeup.ACTIVE_STEP_MS < wakeup.IDLE_STEP_MS
