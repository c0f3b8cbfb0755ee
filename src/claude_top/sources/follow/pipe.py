"""Stdin and pipes named as files: blocking reads on a thread of their own, framed on the follower's.

A pipe (``-``, a FIFO, ``<(...)``) cannot be polled, seeked or reopened like a file, and a blocking
open or read on the follower thread would stop every file from being served while the pipe is
quiet. So a helper thread only reads and queues chunks
(``read1`` returns whatever the pipe has, so ``kubectl logs -f | claude-top -`` lines arrive as
they are written); the follower thread frames and delivers them like any other source's bytes.

Stdin is read through an unbuffered handle on a copy of fd 0, not ``sys.stdin.buffer``: the pump
blocks in a read for as long as the pipe is quiet, and a daemon thread blocked inside the
buffered reader holds its lock, which the interpreter takes at exit to flush stdin ("could not
acquire lock ... at interpreter shutdown", a fatal error when the user quits).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from typing import BinaryIO

from claude_top.sources.batches import READ_CHUNK, LineFramer
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.paths import open_bytes

STDIN = "-"


class PipeSource:
    """A pipe read to its end by a pump thread; ``drain`` frames what arrived, on the caller's."""

    def __init__(
        self,
        name: str,
        out: Outlet,
        max_line: int,
        stop: threading.Event,
        wake: threading.Event,
    ) -> None:
        self.name = name
        self._out = out
        self._stop = stop
        self._wake = wake
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=16)
        self.framer: LineFramer | None = LineFramer(name, max_line)
        """None once stdin has ended or failed."""

    def start(self) -> None:
        threading.Thread(target=self._pump, name="claude-top-pipe", daemon=True).start()

    def _pump(self) -> None:
        try:
            f = _open(self.name)  # opened here: a FIFO blocks until a writer comes
            read1 = getattr(f, "read1", f.read)
            while True:
                data: bytes = read1(READ_CHUNK)
                self._put(data)
                if not data:
                    return
        except BaseException as e:
            self._put(e)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
            except queue.Full:
                continue
            self._wake.set()
            return

    def drain(self, block: bool) -> None:
        """Frame and deliver what the pump has queued (with ``block``, wait a little for it)."""
        framer = self.framer
        if framer is None:
            return
        out = self._out
        while True:
            try:
                item = self._queue.get(timeout=0.2) if block else self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                out.deliver(framer)
                out.set(self.name, "error", f"{self.name}: {item}")
                self.framer = None
                return
            out.bytes += len(item)
            if not item:
                framer.finish()
                out.deliver(framer)
                out.set(self.name, "done", "end of input", offset=framer.pos, size=framer.pos)
                self.framer = None
                return
            framer.feed(item)
            if framer.full:
                out.deliver(framer)
            if block:
                break
        out.deliver(framer)
        out.set(self.name, out.status_of(self.name).state, "", offset=framer.pos, size=framer.pos)


def _open(name: str) -> BinaryIO:
    if name == STDIN:
        return open(os.dup(sys.stdin.fileno()), "rb", buffering=0)
    return open_bytes(name)
