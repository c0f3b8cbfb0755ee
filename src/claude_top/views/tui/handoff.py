"""What crosses between threads on its way to the screen: the follower's latest progress, and
the alert rules' latest answer.

Both are read by the UI thread's refresh and written by another thread (the follower, the alerts
worker), so each hands over a whole value in one assignment or under its own lock.
"""

from __future__ import annotations

import threading
from typing import Any


class LatestProgress:
    """The follower's most recent ``Progress``, handed across threads by one assignment."""

    def __init__(self) -> None:
        self.value: Any = None

    def set(self, p: Any) -> None:
        self.value = p

    def get(self) -> Any:
        return self.value


class ThrottledAlerts:
    """The alert rules, evaluated at most once a second of view time.

    Rules look at minute-aligned windows, so evaluating them at every 4 Hz refresh would only
    repeat the same answer at a cost. In ``background`` mode a timer of the app evaluates them
    on a worker thread and a refresh only reads the latest answer, so no frame waits for them.
    Everything else passes through to the real object.
    """

    def __init__(self, alerts: Any, every: float = 1.0) -> None:
        self._alerts = alerts
        self._every = every
        self._at: float | None = None
        self._last: list[Any] = []
        self._lock = threading.Lock()
        self.background = False
        self.version = 0
        """Bumped whenever the answer changes, so the screen redraws for new alerts alone."""

    def evaluate(self, now: float) -> list[Any]:
        if self.background and self._at is not None:
            return self._last
        return self.refresh(now)

    def refresh(self, now: float, force: bool = False) -> list[Any]:
        """The rules' answer at ``now``; evaluated again if a second passed, or with ``force``
        (the app's alert timer, which decides by itself when something changed)."""
        with self._lock:
            if force or self._at is None or not 0 <= now - self._at < self._every:
                answer = self._alerts.evaluate(now)
                if answer != self._last:
                    self.version += 1
                self._last = answer
                self._at = now
            return self._last

    def __getattr__(self, name: str) -> Any:
        return getattr(self._alerts, name)
