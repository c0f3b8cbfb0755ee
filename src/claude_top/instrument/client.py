"""The wrapped client: a proxy that forwards everything and logs ``messages.create`` / ``stream``.

The proxy is what the app holds instead of its ``Anthropic`` / ``AsyncAnthropic`` client, so it
must behave exactly like it: every attribute it does not define is the real client's, return
values and exceptions are the SDK's own. The sync and async ``messages`` differ only in
``create`` (one awaits); everything they decide is in ``_Messages``.
"""

from __future__ import annotations

import inspect
from typing import Any

import anthropic
from anthropic import AsyncStream, Stream
from anthropic.lib.streaming import AsyncMessageStreamManager, MessageStreamManager

from .call import Call
from .sink import LogSink, LogTarget
from .streams import (
    LoggedAsyncStream,
    LoggedAsyncStreamManager,
    LoggedStream,
    LoggedStreamManager,
)

__all__ = ["InstrumentedClient", "instrument"]


class _Proxy:
    """Forwards every attribute it does not define itself to ``_ct_inner``."""

    _ct_inner: Any

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_ct_"):
            raise AttributeError(name)
        return getattr(self._ct_inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_ct_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._ct_inner, name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._ct_inner)) | set(super().__dir__()))

    def __repr__(self) -> str:
        return f"<instrumented {self._ct_inner!r}>"


class _Messages(_Proxy):
    """``client.messages``, with ``create`` and ``stream`` logged."""

    _ct_stream_type: type[Any] = Stream
    _ct_stream_wrapper: type[Any] = LoggedStream
    _ct_manager_type: type[Any] = MessageStreamManager
    _ct_manager_wrapper: type[Any] = LoggedStreamManager

    def __init__(self, inner: Any, sink: LogSink, default_feature: str) -> None:
        self._ct_inner = inner
        self._ct_sink = sink
        self._ct_feature = default_feature

    def _ct_call(self, kwargs: dict[str, Any], feature: Any, user_id: Any) -> Call:
        return Call(
            self._ct_sink,
            kwargs.get("model"),
            self._ct_feature if feature is None else feature,
            user_id,
        )

    def _ct_returned(self, call: Call, raw: Any, result: Any) -> Any:
        """What ``create`` gives back: a stream to observe, or a message whose line is done."""
        if isinstance(result, self._ct_stream_type):
            call.headers(getattr(result.response, "headers", None))
            return self._ct_stream_wrapper(result, call, log_at_end=True)
        call.mark_end()
        if raw is not None:
            call.headers(getattr(raw, "headers", None))
        call.message(result)
        call.finish()
        return result

    def create(
        self, *args: Any, feature: str | None = None, user_id: str | None = None, **kwargs: Any
    ) -> Any:
        call = self._ct_call(kwargs, feature, user_id)
        raw_api = getattr(self._ct_inner, "with_raw_response", None)
        raw = None
        with call.failing_ends_it():
            if raw_api is None:
                result = self._ct_inner.create(*args, **kwargs)
            else:
                # The raw response has the headers; ``parse()`` is what ``create`` returns.
                raw = raw_api.create(*args, **kwargs)
                result = raw.parse()
        return self._ct_returned(call, raw, result)

    def stream(
        self, *args: Any, feature: str | None = None, user_id: str | None = None, **kwargs: Any
    ) -> Any:
        call = self._ct_call(kwargs, feature, user_id)
        with call.failing_ends_it():
            manager = self._ct_inner.stream(*args, **kwargs)
        if isinstance(manager, self._ct_manager_type):
            return self._ct_manager_wrapper(manager, call)
        return manager  # pragma: no cover - an SDK we do not know; pass it through unlogged


class _AsyncMessages(_Messages):
    """``client.messages`` of an async client: ``create`` awaits, the rest is ``_Messages``'."""

    _ct_stream_type = AsyncStream
    _ct_stream_wrapper = LoggedAsyncStream
    _ct_manager_type = AsyncMessageStreamManager
    _ct_manager_wrapper = LoggedAsyncStreamManager

    async def create(
        self, *args: Any, feature: str | None = None, user_id: str | None = None, **kwargs: Any
    ) -> Any:
        call = self._ct_call(kwargs, feature, user_id)
        raw_api = getattr(self._ct_inner, "with_raw_response", None)
        raw = None
        with call.failing_ends_it():
            if raw_api is None:
                result = await self._ct_inner.create(*args, **kwargs)
            else:
                raw = await raw_api.create(*args, **kwargs)
                result = await raw.parse()
        return self._ct_returned(call, raw, result)


def _is_async_client(client: Any) -> bool:
    if isinstance(client, anthropic.AsyncAnthropic):
        return True
    if isinstance(client, anthropic.Anthropic):
        return False
    create = getattr(getattr(client, "messages", None), "create", None)
    # The SDK's ``required_args`` decorator hides ``async def`` from iscoroutinefunction.
    return create is not None and inspect.iscoroutinefunction(inspect.unwrap(create))


class InstrumentedClient(_Proxy):
    """An ``Anthropic`` / ``AsyncAnthropic`` client whose message calls are logged."""

    def __init__(self, client: Any, sink: LogSink, default_feature: str = "unknown") -> None:
        self._ct_inner = client
        self._ct_sink = sink
        self._ct_feature = default_feature
        self._ct_async = _is_async_client(client)
        self._ct_messages: _Messages | None = None

    @property
    def messages(self) -> Any:
        if self._ct_messages is None:
            kind = _AsyncMessages if self._ct_async else _Messages
            self._ct_messages = kind(self._ct_inner.messages, self._ct_sink, self._ct_feature)
        return self._ct_messages

    @property
    def log_failures(self) -> int:
        """Log lines this client failed to write."""
        return self._ct_sink.failures

    @property
    def unwrapped(self) -> Any:
        return self._ct_inner

    def with_options(self, *args: Any, **kwargs: Any) -> InstrumentedClient:
        return InstrumentedClient(
            self._ct_inner.with_options(*args, **kwargs), self._ct_sink, self._ct_feature
        )

    def copy(self, *args: Any, **kwargs: Any) -> InstrumentedClient:
        return InstrumentedClient(
            self._ct_inner.copy(*args, **kwargs), self._ct_sink, self._ct_feature
        )

    def __enter__(self) -> InstrumentedClient:
        self._ct_inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._ct_inner.__exit__(*exc)

    async def __aenter__(self) -> InstrumentedClient:
        await self._ct_inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._ct_inner.__aexit__(*exc)


def instrument(
    client: Any, log: LogTarget | LogSink, *, feature: str = "unknown"
) -> InstrumentedClient:
    """Wrap ``client`` so that each ``messages.create`` / ``messages.stream`` call logs one line.

    ``log`` is a file path (appended to, created if missing, reopened after rotation) or a
    ``logging.Logger`` (each line an INFO record, whatever the logger's level). ``feature`` is
    the default for calls that do not pass ``feature=``.
    """
    sink = log if isinstance(log, LogSink) else LogSink(log)
    return InstrumentedClient(client, sink, feature)
