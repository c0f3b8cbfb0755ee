"""The normalized shape of one Claude call, as every part of claude-top sees it.

A log line can spell a call many ways (prefixes, aliases, epoch or ISO timestamps); the reader
turns each into one ``Record``. It is a ``NamedTuple`` rather than a dataclass because the
engine's hot path builds plain tuples of the same layout for the common case, and a tuple is the
cheapest object Python can make; the slow path and the tests get names for the same slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class Record(NamedTuple):
    """One call to the Claude API, normalized."""

    ts: float
    """Event time, epoch seconds (UTC)."""
    request_id: str
    user_id: str
    """Empty string when the log line has no user (the app should always log one)."""
    feature: str
    model: str
    input_tokens: int
    """Uncached input tokens (the API's ``input_tokens``)."""
    output_tokens: int
    cache_read_tokens: int
    """The API's ``cache_read_input_tokens``; the article's ``cached_tokens``."""
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    latency_ms: int
    stop_reason: str | None
    error: str | None
    """Error type (``RateLimitError`` ...) or None on success."""
    error_status: int | None
    batch: bool = False
    ratelimit_requests_remaining: int | None = None
    ratelimit_tokens_remaining: int | None = None
    retry_after_s: float | None = None
    # The rate-limit headers of the response (``instrument`` logs them on every call). They come
    # after the older fields so that positional construction elsewhere keeps working.
    ratelimit_requests_limit: int | None = None
    ratelimit_input_tokens_limit: int | None = None
    ratelimit_input_tokens_remaining: int | None = None
    ratelimit_output_tokens_limit: int | None = None
    ratelimit_output_tokens_remaining: int | None = None
    ttft_ms: int | None = None
    """A stream's time to first token (``instrument`` logs it for streams)."""
    app_cost_usd: float | None = None
    """The cost the app logged itself (``cost_usd``, LiteLLM's ``response_cost``)."""
    web_search_requests: int = 0
    """Server tool use billed per request (the API's ``usage.server_tool_use``): searches..."""
    web_fetch_requests: int = 0
    """... and fetches. Their tokens are billed as the call's; the requests are counted apart."""

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the request, whatever its cache category (tier rules use it)."""
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
        )


# Slot numbers, for code that works on plain tuples of the same layout.
TS, REQUEST_ID, USER, FEATURE, MODEL = 0, 1, 2, 3, 4
INPUT, OUTPUT, CACHE_READ, CACHE_W5, CACHE_W1H = 5, 6, 7, 8, 9
LATENCY, STOP, ERROR, STATUS, BATCH = 10, 11, 12, 13, 14
RL_REQ, RL_TOK, RETRY_AFTER = 15, 16, 17
RL_REQ_LIMIT, RL_IN_LIMIT, RL_IN, RL_OUT_LIMIT, RL_OUT = 18, 19, 20, 21, 22
TTFT, APP_COST, WEB_SEARCH, WEB_FETCH = 23, 24, 25, 26

LONG = 23
"""The fast decoder's full tuples stop before ``ttft_ms`` (a line with one goes to the reader):
the accumulate step reads the first ``LONG`` slots of any longer record alike."""
FULL = len(Record._fields)


SHORT = 12
"""A plain tuple of a record's first 12 slots stands for a successful call with nothing
optional: no error or status, not batch, no rate-limit values (the fast decoder's common case;
a short tuple costs less to build than all 23 slots)."""
SHORT_TAIL: tuple[
    None, None, bool, None, None, None, None, None, None, None, None, None, None, int, int
] = (
    None, None, False, None, None, None, None, None, None, None, None, None, None, 0, 0,
)  # fmt: skip
"""The slots a short record leaves out, as ``reader.record_from_dict`` fills them."""


def as_named(rec: Sequence[Any]) -> Record:
    """A record in ``Record`` layout, full or short (see ``SHORT``), as a ``Record``."""
    if type(rec) is Record:
        return rec
    n = len(rec)
    if n == SHORT:
        return Record._make((*rec, *SHORT_TAIL))
    if n == LONG:
        return Record._make(rec + _LONG_PAD)  # type: ignore[operator]  # a tuple: one C concatenation
    if n >= FULL:
        return Record._make(rec)
    pad = _LONG_PAD[n - LONG :] if n > LONG else (None,) * (LONG - n) + _LONG_PAD
    return Record._make((*rec, *pad))


_LONG_PAD = (None, None, 0, 0)
"""The slots past the fast decoder's full tuple (``LONG``), as the reader fills them for a line
without them: no TTFT, no app cost, no server tool requests."""
if len(_LONG_PAD) != FULL - LONG or len(SHORT_TAIL) != FULL - SHORT:  # pragma: no cover
    raise AssertionError("Record grew: pad its short and long tuples to match")
