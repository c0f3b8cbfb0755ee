"""Putting the demo's lines in a file: the history at once, then the live stream as it happens.

The live writer is what ``claude-top demo`` runs on a thread while the TUI follows the file, so
its one rule is the follower's: every write holds whole lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .generator import Generator
from .profile import DemoConfig

__all__ = ["run_live", "write_history"]


def write_history(path: str, now: float, config: DemoConfig) -> int:
    """Write the history to ``path`` (replacing it) and return the number of lines written.

    Lines are written in chunks so an 8-day history never sits whole in memory as one string.
    """
    gen = Generator(config)
    count = 0
    chunk: list[bytes] = []
    with open(path, "wb") as f:
        for line in gen.history(now):
            chunk.append(line)
            if len(chunk) >= 8192:
                f.write(b"\n".join(chunk) + b"\n")
                count += len(chunk)
                chunk.clear()
        if chunk:
            f.write(b"\n".join(chunk) + b"\n")
            count += len(chunk)
    return count


def run_live(
    path: str,
    config: DemoConfig,
    stop: threading.Event,
    clock: Callable[[], float] = time.time,
) -> None:
    """Append live lines to ``path`` every ~0.25 s until ``stop`` is set.

    Each batch is one unbuffered ``write()`` on an append-mode file, so a follower tailing the
    file sees whole lines (never half a batch split mid-line by a buffer flush).
    """
    gen = Generator(config)
    last = clock()
    with open(path, "ab", buffering=0) as f:
        while not stop.wait(0.25):
            now = clock()
            lines = gen.live(last, now)
            last = max(last, now)
            if lines:
                f.write(b"\n".join(lines) + b"\n")
