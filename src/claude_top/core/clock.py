"""The one source of "now".

Every window ("last 10 minutes", "today") and every alert is relative to a clock. Taking it from
one injectable object makes tests, snapshots and ``--now`` replays exact: nothing in the core
calls ``time.time()`` directly.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current time as epoch seconds (UTC)."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that stays where it is put: for tests, snapshots and ``--now``."""

    def __init__(self, t: float) -> None:
        self._t = float(t)

    def now(self) -> float:
        return self._t

    def set(self, t: float) -> None:
        self._t = float(t)
