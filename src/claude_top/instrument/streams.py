"""Streams, observed: subclasses of the SDK's own stream classes that delegate and only watch.

A streamed call ends when its stream does (exhausted, failed, closed, or dropped half-read), not
when ``create`` returns, so the line is written from inside the stream. The sync and async SDK
classes differ only in ``await``; what to do at each step lives once, in ``StreamWatch`` (for
``Stream`` / ``AsyncStream``) and ``ManagerWatch`` (for the ``messages.stream(...)`` managers),
and the four wrappers are the thinnest shells that call it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any

from anthropic import AsyncStream, Stream
from anthropic.lib.streaming import AsyncMessageStreamManager, MessageStreamManager

from .call import Call

__all__ = [
    "LoggedAsyncStream",
    "LoggedAsyncStreamManager",
    "LoggedStream",
    "LoggedStreamManager",
]

_END = (StopIteration, StopAsyncIteration)


class StreamWatch:
    """One stream's observer: ``with watch: item = next(inner)``, then ``watch.seen(item)``.

    Leaving the block by an exception ends the stream: the end of iteration ends it cleanly, any
    other exception as a failure. With ``log_at_end`` (``create(stream=True)``) the end writes the
    line; inside a manager the manager writes it on exit.
    """

    def __init__(self, call: Call, *, log_at_end: bool) -> None:
        self.call = call
        self.log_at_end = log_at_end

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.stopped(None if isinstance(exc, _END) else exc)

    def seen(self, item: Any) -> Any:
        self.call.event(item)
        return item

    def stopped(self, exc: BaseException | None) -> None:
        call = self.call
        call.mark_end()
        if exc is not None:
            call.fail(exc)
        if self.log_at_end:
            call.finish()

    def dropped(self) -> None:
        """A stream dropped half-read and never closed still gets its one line."""
        try:
            if self.log_at_end and not self.call.done:
                self.call.finish()
        except Exception:
            pass


class _StreamView:
    """Shared by both stream wrappers: a view of ``inner`` (no ``super().__init__``), so that
    anything reading its attributes (``response`` ...) sees the real stream's."""

    def __init__(self, inner: Any, call: Call, *, log_at_end: bool) -> None:
        self.__dict__.update(inner.__dict__)
        self._ct_inner = inner
        self._ct_watch = StreamWatch(call, log_at_end=log_at_end)

    def __del__(self) -> None:
        watch = self.__dict__.get("_ct_watch")
        if watch is not None:
            watch.dropped()


class LoggedStream(_StreamView, Stream[Any]):
    """``create(stream=True)``'s ``Stream``, observed: logs at the end of the stream or on close."""

    def __next__(self) -> Any:
        with self._ct_watch:
            item = self._ct_inner.__next__()
        return self._ct_watch.seen(item)

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                item = self.__next__()
            except StopIteration:
                return
            yield item

    def close(self) -> None:
        try:
            self._ct_inner.close()
        finally:
            self._ct_watch.stopped(None)


class LoggedAsyncStream(_StreamView, AsyncStream[Any]):
    """The async ``LoggedStream``."""

    async def __anext__(self) -> Any:
        with self._ct_watch:
            item = await self._ct_inner.__anext__()
        return self._ct_watch.seen(item)

    async def __aiter__(self) -> AsyncIterator[Any]:
        while True:
            try:
                item = await self.__anext__()
            except StopAsyncIteration:
                return
            yield item

    async def close(self) -> None:
        try:
            await self._ct_inner.close()
        finally:
            self._ct_watch.stopped(None)


class ManagerWatch:
    """A ``messages.stream(...)`` manager's observer: the call ends when the manager exits.

    On enter it routes the ``MessageStream``'s raw events through a ``LoggedStream`` (or its async
    twin) so usage is seen event by event; if that is not possible (an SDK whose internals moved),
    the helper's own accumulated snapshot is read on exit instead.
    """

    def __init__(self, call: Call, wrapper: type[_StreamView], base: type) -> None:
        self.call = call
        self.wrapper = wrapper
        self.base = base
        self.stream: Any = None
        self.observed = False

    def entered(self, stream: Any) -> Any:
        self.call.headers(getattr(getattr(stream, "response", None), "headers", None))
        self.observed = self._observe_raw(stream)
        self.stream = stream
        return stream

    def _observe_raw(self, message_stream: Any) -> bool:
        try:
            raw = message_stream._raw_stream
            if isinstance(raw, self.base) and not isinstance(raw, self.wrapper):
                message_stream._raw_stream = self.wrapper(raw, self.call, log_at_end=False)
                return True
        except Exception:
            pass
        return False

    def exited(self) -> None:
        if self.stream is not None and not self.observed:
            try:
                snapshot = self.stream._current_snapshot_or_none()
            except Exception:
                snapshot = None
            self.call.snapshot(snapshot)
        self.call.finish()


class _ManagerView:
    """Shared by both manager wrappers: a view of ``inner``, as ``_StreamView`` is of a stream;
    ``_ct_raw`` names the raw stream class and its observed wrapper."""

    _ct_raw: tuple[type[_StreamView], type]

    def __init__(self, inner: Any, call: Call) -> None:
        self.__dict__.update(inner.__dict__)
        self._ct_inner = inner
        self._ct_watch = ManagerWatch(call, *self._ct_raw)


class LoggedStreamManager(_ManagerView, MessageStreamManager[Any]):
    """``messages.stream(...)``'s manager, observed: logs on exit of the context manager."""

    _ct_raw = (LoggedStream, Stream)

    def __enter__(self) -> Any:
        with self._ct_watch.call.failing_ends_it():
            stream = self._ct_inner.__enter__()
        return self._ct_watch.entered(stream)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        try:
            self._ct_inner.__exit__(exc_type, exc, exc_tb)
        finally:
            self._ct_watch.exited()


class LoggedAsyncStreamManager(_ManagerView, AsyncMessageStreamManager[Any]):
    """The async ``LoggedStreamManager``."""

    _ct_raw = (LoggedAsyncStream, AsyncStream)

    async def __aenter__(self) -> Any:
        with self._ct_watch.call.failing_ends_it():
            stream = await self._ct_inner.__aenter__()
        return self._ct_watch.entered(stream)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        try:
            await self._ct_inner.__aexit__(exc_type, exc, exc_tb)
        finally:
            self._ct_watch.exited()
