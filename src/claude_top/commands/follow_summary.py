"""``summary --follow``: the ``top -b`` of claude-top.

The follower thread feeds the engine; this loop prints the same document ``summary`` prints,
over everything read so far, every interval. Scripts read it as JSON lines, people as a table
redrawn in place, and tests use it to drive the follower from outside the process.

It must not print stale numbers as if they were current: when a source starts failing (the
``source`` rule's problems, ``rules.sources``) one line on stderr says so, once per change, and
another when it reads again; the documents go on. When the follower thread itself died nothing
can be read any more: the last document is printed and the command exits 1.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from claude_top.commands.failing import say
from claude_top.core.errors import ConfigError, InputError, UserError
from claude_top.engine.engine import Engine
from claude_top.engine.hosts import ByHost
from claude_top.rules.sources import SourceHealth, SourceProblem, shown_name, source_problems
from claude_top.rules.spec import rules_from_config
from claude_top.sources.follow import Follower

PROG = "claude-top summary"

CLEAR = "\x1b[H\x1b[2J"


def follow_summary(
    engine: Engine,
    specs: list[str],
    interval: float,
    emit: Callable[[], None],
    *,
    table: bool = False,
    poll_interval: float = 1.0,
    max_prints: int | None = None,
    alerts_config: Mapping[str, Any] | None = None,
    by_host: ByHost | None = None,
) -> int:
    """Follow ``specs`` and call ``emit`` every ``interval`` seconds until interrupted.

    ``alerts_config`` is the config's ``[alerts]``, for the ``source`` rule's grace (the rule
    turned off: only a dead follower is reported); ``by_host`` also feeds each host's engine
    (``summary --by host``). Returns 1 when the follower died, else 0."""
    if interval <= 0:
        raise InputError("--interval must be positive")
    grace_s = _grace(alerts_config or {})
    follower = Follower(
        specs,
        engine.ingest if by_host is None else by_host.sink,
        since=engine.since,
        ts_of=engine.timestamp_of,
        poll_interval=poll_interval,
        on_overlong=engine.count_overlong if by_host is None else by_host.on_overlong,
    )
    follower.start()
    redraw = table and sys.stdout.isatty()
    printed = 0
    health = HealthReport(follower, grace_s)
    try:
        follower.wait_history()
        next_at = time.monotonic()
        while max_prints is None or printed < max_prints:
            health.report()
            if redraw:
                sys.stdout.write(CLEAR)
            emit()
            printed += 1
            if follower.error is not None:
                return 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    except KeyboardInterrupt:
        pass
    finally:
        follower.stop()
    return 0


def _grace(alerts_config: Mapping[str, Any]) -> float | None:
    try:
        rules = rules_from_config(alerts_config)
    except ConfigError as e:
        raise UserError(str(e)) from None
    rule = next(r for r in rules if r.id == "source")
    return rule.threshold if rule.enabled else None


class HealthReport:
    """Says on stderr, once per change, which sources fail and which read again."""

    def __init__(self, health: SourceHealth, grace_s: float | None, prog: str = PROG) -> None:
        self._health = health
        self._prog = prog
        self._grace = grace_s
        self._shown: dict[tuple[str, float], SourceProblem] = {}

    def report(self) -> None:
        grace = self._grace if self._grace is not None else float("inf")
        problems = source_problems(self._health, time.time(), grace)
        if self._grace is None:  # the rule is off: only a reader that died is said
            problems = [p for p in problems if self._health.error is not None and not p.path]
        now = {(p.path, p.since): p for p in problems}
        for key, p in now.items():
            if key not in self._shown:
                say(self._prog, p.message)
        healed = {path for path, _ in self._shown} - {p.path for p in problems}
        if self._health.error is None:
            for path in sorted(healed):
                say(self._prog, f"{shown_name(path)}: reading again")
        self._shown = now
