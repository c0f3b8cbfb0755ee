"""``claude-top LOG`` starts with the cyclic GC off (imports, the state's load, until the app's
first frame with the history in), and leaves it on however the live view ends."""

from __future__ import annotations

import argparse
import gc
from typing import Any

import pytest

from claude_top.commands import live
from claude_top.core.errors import UserError


class _Terminal:
    closed = False

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("ends", ["returns", "raises"])
def test_the_gc_is_off_while_the_live_view_starts_and_on_after(
    monkeypatch: pytest.MonkeyPatch, ends: str
) -> None:
    seen: list[bool] = []

    def fake(args: Any, terminal: Any) -> int:
        seen.append(gc.isenabled())
        if ends == "raises":
            raise UserError("--since: no")
        return 0

    monkeypatch.setattr(live, "_run_tui", fake)
    term = _Terminal()
    assert gc.isenabled()
    if ends == "raises":
        with pytest.raises(UserError):
            live.run_tui(argparse.Namespace(), term)
    else:
        assert live.run_tui(argparse.Namespace(), term) == 0
    assert seen == [False] and gc.isenabled() and term.closed
