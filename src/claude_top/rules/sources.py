"""The health of what is being read: the ``source`` and ``stale_log`` rules.

The worst thing a monitor can do is show "no alert firing" while it has stopped reading. These
two rules turn that into alerts like any other, so the TUI, ``summary --follow`` and ``check``
agree on it:

* ``source`` (critical) reads the follower's statuses: a source in "error" fires at once; one
  "waiting" (missing, or removed and not recreated) fires once it has waited longer than the
  rule's ``grace``; an unexpected failure (an exception while reading, in ``engine.ingest``)
  fires for ``grace`` after it happened, even if the source healed meanwhile; and a follower
  thread that died, or gave no sign of life for ``grace`` (at least three polls), fires too.
  These are wall-clock durations, measured by the reader's own clock (``wall_now``), never by
  the view's ``--now``.
* ``stale_log`` (warning by default) fires when the newest call is older than ``max_age`` at the
  view's clock: the real time, or ``--now`` when given. So ``check --now T`` answers "was the
  log stale at T", and an old log replayed without ``--now`` is reported stale, which it is. A
  log with no call at all has no age and does not fire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from msgspec import Struct

from claude_top.core import format as fmt
from claude_top.core.text import safe_text
from claude_top.rules.spec import Rule
from claude_top.sources.remote import is_url, shown_source

if TYPE_CHECKING:  # the follower itself is not needed to judge its statuses (``check``)
    from claude_top.sources.follow import SourceStatus

STALL_POLLS = 3
"""A follower is stalled after this many poll intervals without a sign of life (at least)."""
NAME_CHARS = 60


class SourceHealth(Protocol):
    """What the ``source`` rule reads from a follower (``sources.follow.Follower``)."""

    @property
    def statuses(self) -> list[SourceStatus]: ...

    @property
    def heartbeat(self) -> float: ...

    @property
    def running(self) -> bool: ...

    @property
    def error(self) -> BaseException | None: ...

    @property
    def poll_interval(self) -> float: ...


class SourceProblem(Struct, frozen=True):
    """One source the reader cannot trust: its path ("" for the follower itself), since when
    (wall clock) and what is wrong, made safe for any terminal."""

    path: str
    since: float
    message: str


def shown_name(path: str) -> str:
    """A source as messages name it, made visible: the file name (``host:name`` for a remote
    file, the command line for a ``cmd://`` source)."""
    if is_url(path):
        return shown_source(path, NAME_CHARS)
    if not path:
        return "reader"
    from pathlib import PurePath  # only to name a source in a message: not at every start

    return safe_text(PurePath(path).name or path, NAME_CHARS)


def source_problems(health: SourceHealth, wall_now: float, grace_s: float) -> list[SourceProblem]:
    """Every problem of ``health`` at ``wall_now``, the follower's own first, then by path."""
    out: list[SourceProblem] = []
    error = health.error
    if error is not None:
        out.append(SourceProblem("", health.heartbeat, f"reader: stopped ({_text(error)})"))
    elif health.running:
        quiet = wall_now - health.heartbeat
        if quiet > max(grace_s, STALL_POLLS * health.poll_interval):
            text = f"reader: stalled, no progress for {fmt.age(quiet)}"
            out.append(SourceProblem("", health.heartbeat, text))
    for s in sorted(health.statuses, key=lambda s: s.path):
        problem = _status_problem(s, wall_now, grace_s)
        if problem is not None:
            out.append(problem)
    return out


def _status_problem(s: SourceStatus, wall_now: float, grace_s: float) -> SourceProblem | None:
    name = shown_name(s.path)
    if s.state == "error":
        return SourceProblem(s.path, s.since, f"{name}: {safe_text(s.message, 200)}")
    if s.state == "waiting" and wall_now - s.since > grace_s:
        return SourceProblem(s.path, s.since, f"{name}: {safe_text(s.message, 200)}")
    if s.fault_at is not None and wall_now - s.fault_at <= grace_s:
        return SourceProblem(s.path, s.fault_at, f"{name}: {safe_text(s.fault, 200)}")
    return None


def _text(e: BaseException) -> str:
    text = str(e)
    return safe_text(f"{type(e).__name__}: {text}" if text else type(e).__name__, 200)


def stale_age(rule: Rule, newest: float | None, now: float) -> float | None:
    """The age of the newest call when it is past ``max_age`` (the rule's threshold), else None."""
    if newest is None or not rule.enabled:
        return None
    age = now - newest
    return age if age > rule.threshold else None


def stale_message(rule: Rule, age: float) -> str:
    """ "all traffic: newest call 2h ago (limit 15m)"."""
    return f"all traffic: newest call {fmt.age(age)} ago (limit {fmt.span(rule.threshold)})"
