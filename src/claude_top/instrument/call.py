"""One call's observation, turned into exactly one log line.

The proxies and stream wrappers only report what they see (headers, usage, a message, a stream
event, an exception); ``Call`` collects it and, once, builds the line as a ``CallLine`` (so the
type checker holds every key to the schema) and hands it to the sink. Observing must never break
the app's call, so no observer method raises.
"""

from __future__ import annotations

import email.utils
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from claude_top.core.schema import CallLine

from .sink import LogSink

__all__ = ["Call"]

HeaderCount = Literal[
    "ratelimit_requests_limit",
    "ratelimit_requests_remaining",
    "ratelimit_input_tokens_limit",
    "ratelimit_input_tokens_remaining",
    "ratelimit_output_tokens_limit",
    "ratelimit_output_tokens_remaining",
    "ratelimit_tokens_remaining",
]

_COUNT_HEADERS: tuple[tuple[str, HeaderCount], ...] = (
    ("anthropic-ratelimit-requests-limit", "ratelimit_requests_limit"),
    ("anthropic-ratelimit-requests-remaining", "ratelimit_requests_remaining"),
    ("anthropic-ratelimit-input-tokens-limit", "ratelimit_input_tokens_limit"),
    ("anthropic-ratelimit-input-tokens-remaining", "ratelimit_input_tokens_remaining"),
    ("anthropic-ratelimit-output-tokens-limit", "ratelimit_output_tokens_limit"),
    ("anthropic-ratelimit-output-tokens-remaining", "ratelimit_output_tokens_remaining"),
    ("anthropic-ratelimit-tokens-remaining", "ratelimit_tokens_remaining"),
)
"""Response header -> log key, in the order the keys are written."""


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


def _text(value: object) -> str:
    """``value`` as text JSON can carry: a lone surrogate (which orjson refuses, and which would
    cost the whole line) becomes U+FFFD; a surrogate pair becomes the character it encodes."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


class Call:
    """What one call has shown so far; ``finish()`` writes its line once."""

    def __init__(self, sink: LogSink, model: Any, feature: Any, user_id: Any) -> None:
        self.t0 = time.perf_counter()
        self.timestamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.sink = sink
        self.request_id = str(uuid.uuid4())
        self.api_request_id: str | None = None
        self.user_id = None if user_id is None else _text(user_id)
        self.feature = "unknown" if feature is None else _text(feature)
        self.model = None if model is None else _text(model)
        self.input_tokens = 0
        self.output_tokens = 0
        self.cached_tokens = 0
        self.cache_creation_tokens = 0
        self.cache_creation_1h_tokens = 0
        self._cache_split_seen = False
        self.stop_reason: str | None = None
        self.error: str | None = None
        self.error_status: int | None = None
        self.header_counts: dict[HeaderCount, int] = {}
        self.retry_after_s: float | None = None
        self.service_tier: str | None = None
        self.speed: str | None = None
        self.inference_geo: str | None = None
        self.web_search_requests = 0
        self.web_fetch_requests = 0
        self.t_first: float | None = None
        """When a stream's first content arrived (``ttft_ms``); None for a whole message."""
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
            counts: dict[HeaderCount, int] = {}
            for header, key in _COUNT_HEADERS:
                value = _int_or_none(headers.get(header))
                if value is not None:
                    counts[key] = value
            self.header_counts = counts
            self.retry_after_s = _retry_after_s(headers.get("retry-after"))
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
            for attr in ("service_tier", "speed", "inference_geo"):
                text = getattr(usage, attr, None)
                if isinstance(text, str):
                    setattr(self, attr, text)
            tools = getattr(usage, "server_tool_use", None)
            for attr in ("web_search_requests", "web_fetch_requests"):
                n = getattr(tools, attr, None)
                if isinstance(n, int) and not isinstance(n, bool):
                    setattr(self, attr, n)
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

    def snapshot(self, message: Any) -> None:
        """What a stream helper accumulated (when its raw events could not be observed)."""
        try:
            if message is not None:
                self.usage(getattr(message, "usage", None))
                self.stop_reason = getattr(message, "stop_reason", None)
        except Exception:
            pass

    def event(self, event: Any) -> None:
        try:
            kind = getattr(event, "type", None)
            if kind == "content_block_delta" and self.t_first is None:
                self.t_first = time.perf_counter()  # the first token: time to first token
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

    @contextmanager
    def failing_ends_it(self) -> Iterator[None]:
        """Around the SDK's own call: if it raises, the call failed and its line is written."""
        try:
            yield
        except BaseException as exc:
            self.fail(exc)
            self.finish()
            raise

    def mark_end(self) -> None:
        if self.t_end is None:
            self.t_end = time.perf_counter()

    # -- the line --

    def line(self) -> CallLine:
        """The log line for what has been seen (the end time is taken now if not yet)."""
        self.mark_end()
        assert self.t_end is not None
        line: CallLine = {
            "timestamp": self.timestamp,
            "request_id": self.request_id,
            "api_request_id": self.api_request_id,
            "user_id": self.user_id,
            "feature": self.feature,
            "model": "unknown" if self.model is None else self.model,
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
        for key, value in self.header_counts.items():
            line[key] = value
        if self.service_tier is not None:
            line["service_tier"] = self.service_tier
        if self.speed is not None:
            line["speed"] = self.speed
        if self.inference_geo is not None:
            line["inference_geo"] = self.inference_geo
        if self.web_search_requests:
            line["web_search_requests"] = self.web_search_requests
        if self.web_fetch_requests:
            line["web_fetch_requests"] = self.web_fetch_requests
        if self.t_first is not None:
            line["ttft_ms"] = round((self.t_first - self.t0) * 1000)
        if self.retry_after_s is not None:
            line["retry_after_s"] = self.retry_after_s
        return line

    def finish(self) -> None:
        """Write the line, the first time only (a stream may end, close and be dropped)."""
        with self._lock:
            if self._done:
                return
            self._done = True
        try:
            line = self.line()
        except Exception:
            self.sink.count_failure()
            return
        self.sink.write(line)

    @property
    def done(self) -> bool:
        return self._done
