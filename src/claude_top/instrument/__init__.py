"""Make an app write claude-top's log: a drop-in wrapper around an ``anthropic`` client.

    import anthropic
    from claude_top.instrument import instrument

    client = instrument(anthropic.Anthropic(), log="app.log")       # or log=logging.getLogger(...)
    msg = client.messages.create(model=..., max_tokens=..., messages=[...],
                                 feature="search", user_id="u_42")

The wrapped client proxies every attribute to the real one. Its ``messages.create`` and
``messages.stream`` (sync and async) accept two extra keyword arguments, ``feature=`` and
``user_id=``, which are removed before the SDK sees them, and write exactly one JSON line per call.
Return values and exceptions are exactly what the unwrapped client gives (streams come back as a
subclass of the SDK's ``Stream`` / ``AsyncStream`` / ``MessageStreamManager`` that only observes).

Each line has ``timestamp`` (start of the call, ISO 8601 UTC, ms), ``request_id`` (ours, uuid4),
``api_request_id`` (the API's ``request-id``, or null), ``user_id`` (null when not given),
``feature`` (default ``"unknown"``), ``model`` (as requested), token counts (``input_tokens``,
``output_tokens``, ``cached_tokens``, ``cache_creation_tokens`` = 5-minute writes,
``cache_creation_1h_tokens``), ``latency_ms`` (start of the call to the end of the response or, for
streams, of the stream), ``stop_reason`` (null for failed calls), ``error`` (exception type name or
null) and ``error_status`` (HTTP status or null). When the response (success or error) carried
the headers: ``ratelimit_{requests,input_tokens,output_tokens}_{limit,remaining}``,
``ratelimit_tokens_remaining`` and ``retry_after_s``; a key is left out when its header is absent.

Writing never raises into the app: a failure is counted (``client.log_failures``, and
``total_log_failures()`` for the process). A file is written with one ``os.write`` per line on an
``O_APPEND`` descriptor, so threads, tasks and processes sharing one file never interleave lines.

Only ``messages.create`` and ``messages.stream`` are instrumented; everything else (``beta``,
``messages.with_raw_response``, ``count_tokens``, batches ...) passes through untouched.
This module imports ``anthropic``; the rest of ``claude_top`` never imports this module.
"""

from __future__ import annotations

import contextlib
import email.utils
import inspect
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import anthropic
import orjson
from anthropic import AsyncStream, Stream
from anthropic.lib.streaming import AsyncMessageStreamManager, MessageStreamManager

__all__ = ["InstrumentedClient", "LogSink", "instrument", "total_log_failures"]

LogTarget = str | os.PathLike[str] | logging.Logger | logging.LoggerAdapter[Any]

_failures_lock = threading.Lock()
_total_failures = 0


def total_log_failures() -> int:
    """Log lines lost in this process, over every instrumented client."""
    return _total_failures


# --------------------------------------------------------------------------------------------------
# Writing


class LogSink:
    """Where log lines go: a file (``O_APPEND``, one ``os.write`` per line) or a ``Logger``."""

    def __init__(self, target: LogTarget) -> None:
        self.failures = 0
        self._lock = threading.Lock()
        self._logger: logging.Logger | logging.LoggerAdapter[Any] | None = None
        self._path: str | None = None
        self._fd: int | None = None
        if isinstance(target, logging.Logger | logging.LoggerAdapter):
            self._logger = target
        else:
            self._path = os.fspath(target)
            with contextlib.suppress(OSError):  # retried (and counted) on the first write
                self._fd_or_open()

    def _fd_or_open(self) -> int:
        fd = self._fd
        if fd is not None:
            return fd
        assert self._path is not None
        with self._lock:
            if self._fd is None:
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                self._fd = os.open(self._path, flags, 0o644)
                weakref.finalize(self, _close_quietly, self._fd)
            return self._fd

    def write(self, record: Mapping[str, Any]) -> bool:
        """Write one record as one JSON line. Never raises: returns False and counts a failure."""
        try:
            line = orjson.dumps(record, default=str)
            if self._logger is not None:
                self._logger.info(line.decode())
                return True
            data = line + b"\n"
            if os.write(self._fd_or_open(), data) != len(data):
                raise OSError("short write to the log")
            return True
        except Exception:
            self._count_failure()
            return False

    def _count_failure(self) -> None:
        global _total_failures
        with _failures_lock:
            self.failures += 1
            _total_failures += 1

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            _close_quietly(fd)


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


# --------------------------------------------------------------------------------------------------
# One call


_RATELIMIT_DIMS = (
    ("requests", "requests"),
    ("input_tokens", "input-tokens"),
    ("output_tokens", "output-tokens"),
)


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _retry_after_s(value: Any) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _header_fields(headers: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dim, name in _RATELIMIT_DIMS:
        for kind in ("limit", "remaining"):
            value = _int_or_none(headers.get(f"anthropic-ratelimit-{name}-{kind}"))
            if value is not None:
                out[f"ratelimit_{dim}_{kind}"] = value
    tokens = _int_or_none(headers.get("anthropic-ratelimit-tokens-remaining"))
    if tokens is not None:
        out["ratelimit_tokens_remaining"] = tokens
    retry = _retry_after_s(headers.get("retry-after"))
    if retry is not None:
        out["retry_after_s"] = retry
    return out


class _Call:
    """What one call has shown so far; ``finish()`` writes its line once."""

    def __init__(self, sink: LogSink, model: Any, feature: Any, user_id: Any) -> None:
        self.t0 = time.perf_counter()
        self.timestamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.sink = sink
        self.request_id = str(uuid.uuid4())
        self.api_request_id: str | None = None
        self.user_id = None if user_id is None else str(user_id)
        self.feature = "unknown" if feature is None else str(feature)
        self.model = None if model is None else str(model)
        self.input_tokens = 0
        self.output_tokens = 0
        self.cached_tokens = 0
        self.cache_creation_tokens = 0
        self.cache_creation_1h_tokens = 0
        self._cache_split_seen = False
        self.stop_reason: str | None = None
        self.error: str | None = None
        self.error_status: int | None = None
        self.header_fields: dict[str, Any] = {}
        self.t_end: float | None = None
        self._done = False
        self._lock = threading.Lock()

    # -- observations (none of these may raise) --

    def headers(self, headers: Any) -> None:
        try:
            if headers is None:
                return
            rid = headers.get("request-id")
            if rid:
                self.api_request_id = str(rid)
            self.header_fields = _header_fields(headers)
        except Exception:
            pass

    def usage(self, usage: Any) -> None:
        """Apply a ``Usage`` (message, message_start) or ``MessageDeltaUsage`` (message_delta).

        Stream usage counts are cumulative, so a present value overwrites and an absent (None)
        one keeps what message_start said, as the SDK's own accumulator does.
        """
        try:
            if usage is None:
                return
            for attr, slot in (
                ("input_tokens", "input_tokens"),
                ("output_tokens", "output_tokens"),
                ("cache_read_input_tokens", "cached_tokens"),
            ):
                value = getattr(usage, attr, None)
                if isinstance(value, int):
                    setattr(self, slot, value)
            split = getattr(usage, "cache_creation", None)
            five = getattr(split, "ephemeral_5m_input_tokens", None)
            hour = getattr(split, "ephemeral_1h_input_tokens", None)
            if isinstance(five, int) or isinstance(hour, int):
                self.cache_creation_tokens = five if isinstance(five, int) else 0
                self.cache_creation_1h_tokens = hour if isinstance(hour, int) else 0
                self._cache_split_seen = True
            elif not self._cache_split_seen:
                total = getattr(usage, "cache_creation_input_tokens", None)
                if isinstance(total, int):
                    self.cache_creation_tokens = total
        except Exception:
            pass

    def message(self, message: Any) -> None:
        try:
            self.usage(getattr(message, "usage", None))
            self.stop_reason = getattr(message, "stop_reason", None)
            if self.model is None:
                self.model = getattr(message, "model", None)
            if self.api_request_id is None:
                rid = getattr(message, "_request_id", None)
                self.api_request_id = rid if isinstance(rid, str) else None
        except Exception:
            pass

    def event(self, event: Any) -> None:
        try:
            kind = getattr(event, "type", None)
            if kind == "message_start":
                msg = event.message
                self.usage(getattr(msg, "usage", None))
                if self.model is None:
                    self.model = getattr(msg, "model", None)
            elif kind == "message_delta":
                self.usage(getattr(event, "usage", None))
                stop = getattr(getattr(event, "delta", None), "stop_reason", None)
                if stop is not None:
                    self.stop_reason = stop
        except Exception:
            pass

    def fail(self, exc: BaseException) -> None:
        try:
            self.error = type(exc).__name__
            status = getattr(exc, "status_code", None)
            self.error_status = status if isinstance(status, int) else None
            response = getattr(exc, "response", None)
            self.headers(getattr(response, "headers", None))
            rid = getattr(exc, "request_id", None)
            if isinstance(rid, str) and rid:
                self.api_request_id = rid
        except Exception:
            pass

    def mark_end(self) -> None:
        if self.t_end is None:
            self.t_end = time.perf_counter()

    def finish(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        try:
            self.mark_end()
            assert self.t_end is not None
            record: dict[str, Any] = {
                "timestamp": self.timestamp,
                "request_id": self.request_id,
                "api_request_id": self.api_request_id,
                "user_id": self.user_id,
                "feature": self.feature,
                "model": self.model,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "cached_tokens": self.cached_tokens,
                "cache_creation_tokens": self.cache_creation_tokens,
                "cache_creation_1h_tokens": self.cache_creation_1h_tokens,
                "latency_ms": round((self.t_end - self.t0) * 1000),
                "stop_reason": None if self.error is not None else self.stop_reason,
                "error": self.error,
                "error_status": self.error_status,
            }
            record.update(self.header_fields)
        except Exception:
            self.sink._count_failure()
            return
        self.sink.write(record)

    @property
    def done(self) -> bool:
        return self._done


# --------------------------------------------------------------------------------------------------
# Streams: subclasses of the SDK's own classes that delegate to the real object and only observe


class _LoggedStream(Stream[Any]):
    """``create(stream=True)``'s ``Stream``, observed: logs at the end of the stream or on close."""

    def __init__(self, inner: Stream[Any], call: _Call, *, log_at_end: bool) -> None:
        # No super().__init__: this is a view of ``inner``; its attributes (``response`` ...) are
        # shared so that anything reading them sees the real stream's.
        self.__dict__.update(inner.__dict__)
        self._ct_inner = inner
        self._ct_call = call
        self._ct_log_at_end = log_at_end

    def _ct_stop(self, exc: BaseException | None) -> None:
        call = self._ct_call
        call.mark_end()
        if exc is not None:
            call.fail(exc)
        if self._ct_log_at_end:
            call.finish()

    def __next__(self) -> Any:
        try:
            item = self._ct_inner.__next__()
        except StopIteration:
            self._ct_stop(None)
            raise
        except BaseException as exc:
            self._ct_stop(exc)
            raise
        self._ct_call.event(item)
        return item

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
            self._ct_stop(None)

    def __del__(self) -> None:
        # A stream dropped half-read and never closed still gets its one line.
        try:
            if self._ct_log_at_end and not self._ct_call.done:
                self._ct_call.finish()
        except Exception:
            pass


class _LoggedAsyncStream(AsyncStream[Any]):
    """The async twin of ``_LoggedStream``."""

    def __init__(self, inner: AsyncStream[Any], call: _Call, *, log_at_end: bool) -> None:
        self.__dict__.update(inner.__dict__)
        self._ct_inner = inner
        self._ct_call = call
        self._ct_log_at_end = log_at_end

    def _ct_stop(self, exc: BaseException | None) -> None:
        call = self._ct_call
        call.mark_end()
        if exc is not None:
            call.fail(exc)
        if self._ct_log_at_end:
            call.finish()

    async def __anext__(self) -> Any:
        try:
            item = await self._ct_inner.__anext__()
        except StopAsyncIteration:
            self._ct_stop(None)
            raise
        except BaseException as exc:
            self._ct_stop(exc)
            raise
        self._ct_call.event(item)
        return item

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
            self._ct_stop(None)

    def __del__(self) -> None:
        try:
            if self._ct_log_at_end and not self._ct_call.done:
                self._ct_call.finish()
        except Exception:
            pass


def _observe_raw_stream(message_stream: Any, call: _Call, wrapper: type[Any], base: type) -> bool:
    """Route a ``MessageStream``'s raw events through our observer (before it reads any)."""
    try:
        raw = message_stream._raw_stream
        if isinstance(raw, base) and not isinstance(raw, wrapper):
            message_stream._raw_stream = wrapper(raw, call, log_at_end=False)
            return True
    except Exception:
        pass
    return False


def _apply_snapshot(message_stream: Any, call: _Call) -> None:
    """Fallback when the raw stream could not be observed: what the helper accumulated."""
    try:
        snapshot = message_stream._current_snapshot_or_none()
    except Exception:
        return
    if snapshot is not None:
        call.usage(getattr(snapshot, "usage", None))
        call.stop_reason = getattr(snapshot, "stop_reason", None)


class _LoggedStreamManager(MessageStreamManager[Any]):
    """``messages.stream(...)``'s manager, observed: logs on exit of the context manager."""

    def __init__(self, inner: MessageStreamManager[Any], call: _Call) -> None:
        self.__dict__.update(inner.__dict__)
        self._ct_inner = inner
        self._ct_call = call
        self._ct_stream: Any = None
        self._ct_observed = False

    def __enter__(self) -> Any:
        call = self._ct_call
        try:
            stream = self._ct_inner.__enter__()
        except BaseException as exc:
            call.fail(exc)
            call.finish()
            raise
        call.headers(getattr(getattr(stream, "response", None), "headers", None))
        self._ct_observed = _observe_raw_stream(stream, call, _LoggedStream, Stream)
        self._ct_stream = stream
        return stream

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        try:
            self._ct_inner.__exit__(exc_type, exc, exc_tb)
        finally:
            if self._ct_stream is not None and not self._ct_observed:
                _apply_snapshot(self._ct_stream, self._ct_call)
            self._ct_call.finish()


class _LoggedAsyncStreamManager(AsyncMessageStreamManager[Any]):
    """The async twin of ``_LoggedStreamManager``."""

    def __init__(self, inner: AsyncMessageStreamManager[Any], call: _Call) -> None:
        self.__dict__.update(inner.__dict__)
        self._ct_inner = inner
        self._ct_call = call
        self._ct_stream: Any = None
        self._ct_observed = False

    async def __aenter__(self) -> Any:
        call = self._ct_call
        try:
            stream = await self._ct_inner.__aenter__()
        except BaseException as exc:
            call.fail(exc)
            call.finish()
            raise
        call.headers(getattr(getattr(stream, "response", None), "headers", None))
        self._ct_observed = _observe_raw_stream(stream, call, _LoggedAsyncStream, AsyncStream)
        self._ct_stream = stream
        return stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        try:
            await self._ct_inner.__aexit__(exc_type, exc, exc_tb)
        finally:
            if self._ct_stream is not None and not self._ct_observed:
                _apply_snapshot(self._ct_stream, self._ct_call)
            self._ct_call.finish()


# --------------------------------------------------------------------------------------------------
# The proxies


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
    def __init__(self, inner: Any, sink: LogSink, default_feature: str) -> None:
        self._ct_inner = inner
        self._ct_sink = sink
        self._ct_feature = default_feature

    def _ct_call(self, kwargs: dict[str, Any], feature: Any, user_id: Any) -> _Call:
        return _Call(
            self._ct_sink,
            kwargs.get("model"),
            self._ct_feature if feature is None else feature,
            user_id,
        )

    def create(
        self, *args: Any, feature: str | None = None, user_id: str | None = None, **kwargs: Any
    ) -> Any:
        call = self._ct_call(kwargs, feature, user_id)
        raw_api = getattr(self._ct_inner, "with_raw_response", None)
        try:
            if raw_api is None:
                raw = None
                result = self._ct_inner.create(*args, **kwargs)
            else:
                # The raw response has the headers; ``parse()`` is what ``create`` returns.
                raw = raw_api.create(*args, **kwargs)
                result = raw.parse()
        except BaseException as exc:
            call.fail(exc)
            call.finish()
            raise
        if isinstance(result, Stream):
            call.headers(getattr(result.response, "headers", None))
            return _LoggedStream(result, call, log_at_end=True)
        call.mark_end()
        if raw is not None:
            call.headers(getattr(raw, "headers", None))
        call.message(result)
        call.finish()
        return result

    def stream(
        self, *args: Any, feature: str | None = None, user_id: str | None = None, **kwargs: Any
    ) -> Any:
        call = self._ct_call(kwargs, feature, user_id)
        try:
            manager = self._ct_inner.stream(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            call.finish()
            raise
        if isinstance(manager, MessageStreamManager):
            return _LoggedStreamManager(manager, call)
        return manager  # pragma: no cover - an SDK we do not know; pass it through unlogged


class _AsyncMessages(_Messages):
    async def create(
        self, *args: Any, feature: str | None = None, user_id: str | None = None, **kwargs: Any
    ) -> Any:
        call = self._ct_call(kwargs, feature, user_id)
        raw_api = getattr(self._ct_inner, "with_raw_response", None)
        try:
            if raw_api is None:
                raw = None
                result = await self._ct_inner.create(*args, **kwargs)
            else:
                raw = await raw_api.create(*args, **kwargs)
                result = await raw.parse()
        except BaseException as exc:
            call.fail(exc)
            call.finish()
            raise
        if isinstance(result, AsyncStream):
            call.headers(getattr(result.response, "headers", None))
            return _LoggedAsyncStream(result, call, log_at_end=True)
        call.mark_end()
        if raw is not None:
            call.headers(getattr(raw, "headers", None))
        call.message(result)
        call.finish()
        return result

    def stream(
        self, *args: Any, feature: str | None = None, user_id: str | None = None, **kwargs: Any
    ) -> Any:
        call = self._ct_call(kwargs, feature, user_id)
        try:
            manager = self._ct_inner.stream(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            call.finish()
            raise
        if isinstance(manager, AsyncMessageStreamManager):
            return _LoggedAsyncStreamManager(manager, call)
        return manager  # pragma: no cover


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

    ``log`` is a file path (appended to, created if missing) or a ``logging.Logger`` (each line
    goes to ``logger.info``). ``feature`` is the default for calls that do not pass ``feature=``.
    """
    sink = log if isinstance(log, LogSink) else LogSink(log)
    return InstrumentedClient(client, sink, feature)
