"""Pushing alerts to Alertmanager's v2 API: the only network client in claude-top.

``serve`` calls ``AlertPusher.update`` after every evaluation: a new alert or a resolution is
sent at once, and every firing alert is sent again every ``resend_s`` (as Prometheus does),
with an ``endsAt`` four resends away, so Alertmanager resolves it by itself if claude-top
stops. A resolved alert is sent with ``endsAt`` = the time it resolved. ``check`` sends one
push without ``endsAt`` (Alertmanager's ``resolve_timeout`` then ends what is not sent again).

A push that fails is loud and harmless: one line on stderr when pushing starts failing (and
one when it works again), the failure counted in ``claude_top_alertmanager_push_failures_total``
and ``claude_top_alertmanager_up`` at 0; the alerts are sent again at the next evaluation
after a backoff. Nothing here raises into the loop that evaluates the rules; a push waits at
most ``TIMEOUT_S`` for an answer, and that loop with it (it has nothing else to do).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from claude_top.commands.failing import say
from claude_top.rules.evaluate import Alert
from claude_top.views.metrics.alertmanager import alert_payload

API_PATH = "/api/v2/alerts"
RESEND_S = 60.0
TIMEOUT_S = 5.0
BACKOFF_MAX_S = 60.0

Post = Callable[[str, list[dict[str, Any]]], None]


def api_url(url: str) -> str:
    """The alerts endpoint of an Alertmanager named by its base URL (or the endpoint itself)."""
    base = url.rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


def post_json(url: str, body: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        response.read()


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return str(e.reason)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


class AlertPusher:
    """The alerts one ``serve`` has told Alertmanager about, and how pushing goes."""

    def __init__(
        self,
        url: str,
        prog: str,
        *,
        resend_s: float = RESEND_S,
        post: Post = post_json,
        on_result: Callable[[bool], None] | None = None,
    ) -> None:
        self.url = api_url(url)
        self.prog = prog
        self.resend_s = resend_s
        self._post = post
        self._on_result = on_result
        self._sent: dict[tuple[str, str], Alert] = {}
        """What Alertmanager was last told is firing."""
        self._resolved: dict[tuple[str, str], tuple[Alert, float]] = {}
        """Resolutions not yet delivered, with the time each resolved."""
        self._last_ok = float("-inf")
        self._retry_at = float("-inf")
        self._failures = 0
        self.failing = False

    def update(self, firing: Sequence[Alert], now: float) -> None:
        current = {(a.rule, a.scope): a for a in firing}
        for key, old in self._sent.items():
            if key not in current:
                self._resolved[key] = (old, now)
        for key in current:
            self._resolved.pop(key, None)
        changed = current.keys() != self._sent.keys() or bool(self._resolved)
        if not changed and now - self._last_ok < self.resend_s:
            return
        if now < self._retry_at:
            return
        ends = now + 4 * self.resend_s
        body = [alert_payload(a, ends) for a in current.values()]
        body += [alert_payload(a, at) for a, at in self._resolved.values()]
        if not body:
            self._sent = current
            return
        if self.send(body):
            self._sent = current
            self._resolved.clear()
            self._last_ok = now
            self._retry_at = float("-inf")
        else:
            self._sent = current  # resolutions stay pending; firing ones are re-sent anyway
            self._retry_at = now + min(BACKOFF_MAX_S, 2.0 ** min(self._failures, 6))

    def send(self, body: list[dict[str, Any]]) -> bool:
        """POST ``body``; False (said on stderr once per change) when it failed."""
        try:
            self._post(self.url, body)
        except Exception as e:  # a push must never stop the rules: every failure is reported
            self._failures += 1
            if not self.failing:
                say(self.prog, f"alertmanager {self.url}: push failed: {_reason(e)}; retrying")
            self.failing = True
            if self._on_result:
                self._on_result(False)
            return False
        if self.failing:
            say(self.prog, f"alertmanager {self.url}: pushing again")
        self.failing = False
        self._failures = 0
        if self._on_result:
            self._on_result(True)
        return True


def push_once(url: str, firing: Sequence[Alert], prog: str, post: Post = post_json) -> bool:
    """``check --alertmanager``: the firing alerts, once, without ``endsAt``."""
    if not firing:
        return True
    return AlertPusher(url, prog, post=post).send([alert_payload(a) for a in firing])
