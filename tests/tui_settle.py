"""``settle``: wait until the app has drawn the frame its view asks for, before a snapshot.

Why: one ``pause(); workers.wait_for_complete(); pause()`` is not enough under load. When a
key opens the detail page while a build is on its worker thread (one the 0.25 s tick started,
say after the alerts worker found a new answer), that build's frame has no detail and the page
draws "loading…"; its ``_apply`` then starts the build that carries the detail, a worker
``wait_for_complete`` did not see when it was called. So this loops until no worker is left,
no build is running or wanted, the frame was built from the current alerts answer, and every
detail page on the stack has its feature's numbers in the app's frame.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

ROUNDS = 200
"""A bound, not a timing: each round waits for the app's queue and its workers to drain."""


def frame_pending(app: Any) -> str | None:
    """What the app still has to build or draw (None once the frame on screen is the one the
    view asks for)."""
    if any(not w.is_finished for w in app.workers):
        return "a worker is running"
    if getattr(app, "_building", False):
        return "a frame is being built"
    key = getattr(app, "_last_key", ())
    if key is None:
        return "a rebuild is wanted"
    alerts_key = getattr(app, "_alerts_key", None)
    if key and alerts_key is not None and key[-1] != alerts_key():
        return "the alerts worker has a new answer the next tick will build"
    d = getattr(app, "dashboard", None)
    for screen in app.screen_stack:
        feature = getattr(screen, "feature", None)
        if isinstance(feature, str) and (
            d is None or d.detail is None or d.detail.feature != feature
        ):
            return f"the detail page of {feature!r} has no frame with its detail yet"
    return None


async def settle(pilot: Pilot[Any], rounds: int = ROUNDS) -> None:
    why: str | None = None
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        why = frame_pending(pilot.app)
        if why is None:
            return
    raise AssertionError(f"the app did not settle in {rounds} rounds: {why}")
