"""What the TUI and ``serve`` both run under their views: the engine split by host, the state
session, and the follower that reads the history and then follows the logs.

Built once, here, for both: the two commands used to wire these by hand, and a ``serve`` bug
was exactly the two copies drifting apart. ``start`` and ``stop`` keep the order that matters:
the follower's last commit happens before the state is closed, and the users' archive of a
state and its older histograms are added only once the history has been read (``state.later``).
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from claude_top.commands.state import live_session
from claude_top.config.load import Config
from claude_top.core.errors import InputError, UserError
from claude_top.engine.engine import Engine
from claude_top.engine.hosts import ByHost, hosts_of
from claude_top.sources.follow import Follower
from claude_top.state.session import Session


@dataclass
class Following:
    engine: Engine
    by_host: ByHost
    session: Session | None
    follower: Follower

    def start(self, first_screen: threading.Event | None = None) -> None:
        """Start reading; what the state left for later is added once the history is read
        and (the TUI) ``first_screen`` is set: its first full frame is painted."""
        self.follower.start()
        if self.session is None:
            return
        if first_screen is None:
            self.session.start_later(self.follower.wait_history)
            return
        history, shown = self.follower.wait_history, first_screen

        def ready(timeout: float) -> bool:
            return history(timeout) and shown.wait(timeout)

        self.session.start_later(ready)

    def stop(self) -> None:
        """Stop reading (with a state, long enough for the follower's last commit), then close
        the state."""
        self.follower.stop(timeout=30.0 if self.session is not None else 2.0)
        if self.session is not None:
            self.session.close()


def follow_logs(
    a: argparse.Namespace,
    engine: Engine,
    cfg: Config,
    since: float | None,
    prog: str,
    *,
    poll: float,
    on_progress: Callable[[Any], None] | None = None,
    shown: str | None = None,
) -> Following:
    """The host split, the state (loaded into ``engine``) and the follower over ``a.logs``;
    a source that cannot be followed is a ``UserError`` (and the state is closed). ``shown``:
    the TUI's window (``state.live_session``)."""
    by_host = ByHost(engine, hosts_of(a.logs))
    session = live_session(a, engine, cfg, since, prog, shown)
    try:
        follower = Follower(
            list(a.logs),
            by_host.sink,
            since=since,
            ts_of=engine.timestamp_of,
            poll_interval=poll,
            on_overlong=by_host.on_overlong,
            on_progress=on_progress,
            resume=session.positions if session is not None else None,
            on_settle=session.settle if session is not None else None,
        )
    except InputError as e:
        if session is not None:
            session.close()
        raise UserError(str(e)) from None
    return Following(engine, by_host, session, follower)
