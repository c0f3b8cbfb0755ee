"""The log format, spelled once: every field a call line may carry, its type and its aliases.

The article's app writes one JSON object per Claude call. Everything that reads such a line (the
reference reader, the fast decoder) or writes one (the instrument wrapper, the demo, the tests'
builders) takes the names from here, so a field renamed or added here is renamed or added
everywhere, and a writer that misspells a key fails type checking (``CallLine`` is a TypedDict).

``FIELDS`` says, per key, what kind of value it holds, whether a record needs it, which other
spellings mean the same, and which ``Record`` slot it fills. ``LIMITS`` says, per kind of number,
the range a value must lie in (both decoders enforce it). An import-time check keeps ``FIELDS``
and ``CallLine`` in step.
"""

from enum import StrEnum
from typing import NamedTuple, NotRequired, TypedDict


class Kind(StrEnum):
    """How a value is read: each kind has one validation rule in the reader."""

    TIMESTAMP = "timestamp"
    """ISO 8601 (offset or Z; naive means UTC), or epoch seconds or milliseconds."""
    TEXT = "text"
    """A string, or null."""
    COUNT = "count"
    """A token count: an integer in ``LIMITS`` (an integral float is accepted)."""
    INT = "int"
    """A rate-limit header value: an integer in ``LIMITS``, or a string of digits (header
    values are sometimes logged as text)."""
    STATUS = "status"
    """An HTTP status: an integer in ``LIMITS``, or a string of digits."""
    NUMBER = "number"
    """Seconds to wait (``retry-after``): a number in ``LIMITS``, or a string holding one."""
    DURATION_MS = "duration_ms"
    """A number of milliseconds in ``LIMITS`` (floats are truncated)."""
    USD = "usd"
    """An amount in US dollars the app computed itself (``cost_usd``): a number in ``LIMITS``."""
    FLAG = "flag"
    """A JSON boolean."""
    IGNORED = "ignored"
    """Known and written by our own writers, but not aggregated (``api_request_id``)."""


COUNT_MAX = 2**30 - 1
"""The most tokens of one kind one call may count: 1,073,741,823, a thousand times the largest
context window. A row's sums stay exact in JSON (below 2**53) for 8 million calls at this bound,
and for centuries of any real traffic (a million calls a day of 200,000 tokens is 2**53 in 120
years). One less than a power of two, so the fast decoder tests five counts with one ``|``."""
DURATION_MS_MAX = 2**32 - 1
"""The longest latency: 4,294,967,295 ms, about 49.7 days (a batch's results are kept 29)."""
HEADER_MAX = 2**53
"""The largest rate-limit header value: every integer up to it is exact in JSON and a float."""
RETRY_AFTER_MAX_S = 86_400.0
"""The longest ``retry-after``: one day (the API asks for seconds)."""


class Limit(NamedTuple):
    low: float
    high: float
    """Both bounds are allowed values."""


LIMITS: dict[Kind, Limit] = {
    Kind.COUNT: Limit(0, COUNT_MAX),
    Kind.INT: Limit(0, HEADER_MAX),
    Kind.STATUS: Limit(100, 599),
    Kind.NUMBER: Limit(0.0, RETRY_AFTER_MAX_S),
    Kind.DURATION_MS: Limit(0, DURATION_MS_MAX),
    Kind.USD: Limit(0.0, 1e6),
}
"""The range of each kind of number; a value outside it is rejected as ``bad <field>``.

Why bounds at all: a log line is input, and a count of 2**64 (or a latency of 1e30) would be
summed into rows that JSON output, the TUI's export and every consumer must then carry. Within
these bounds every value, and every sum of them over any real log, is an exact 64-bit integer."""


class Field(NamedTuple):
    key: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    slot: str | None = None
    """The ``Record`` attribute the value lands in (None for ignored keys)."""


class CallLine(TypedDict):
    """One call line as written: the article's twelve keys, then the optional ones."""

    timestamp: str | float
    request_id: str | None
    user_id: str | None
    feature: str
    model: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    latency_ms: int
    stop_reason: str | None
    error: str | None
    error_status: int | None
    cache_creation_tokens: NotRequired[int]
    cache_creation_1h_tokens: NotRequired[int]
    api_request_id: NotRequired[str | None]
    batch: NotRequired[bool]
    retry_after_s: NotRequired[float]
    ratelimit_requests_remaining: NotRequired[int]
    ratelimit_tokens_remaining: NotRequired[int]
    ratelimit_requests_limit: NotRequired[int]
    ratelimit_input_tokens_limit: NotRequired[int]
    ratelimit_input_tokens_remaining: NotRequired[int]
    ratelimit_output_tokens_limit: NotRequired[int]
    ratelimit_output_tokens_remaining: NotRequired[int]
    service_tier: NotRequired[str | None]
    speed: NotRequired[str | None]
    inference_geo: NotRequired[str | None]
    web_search_requests: NotRequired[int]
    web_fetch_requests: NotRequired[int]
    ttft_ms: NotRequired[int | None]
    cost_usd: NotRequired[float | None]


K = Kind
FIELDS: tuple[Field, ...] = (
    Field("timestamp", K.TIMESTAMP, True, (), "ts"),
    Field("request_id", K.TEXT, False, (), "request_id"),
    Field("user_id", K.TEXT, False, (), "user_id"),
    Field("feature", K.TEXT, True, (), "feature"),
    Field("model", K.TEXT, True, (), "model"),
    Field("input_tokens", K.COUNT, True, (), "input_tokens"),
    Field("output_tokens", K.COUNT, True, (), "output_tokens"),
    Field("cached_tokens", K.COUNT, False, ("cache_read_input_tokens",), "cache_read_tokens"),
    Field("latency_ms", K.DURATION_MS, True, (), "latency_ms"),
    Field("stop_reason", K.TEXT, False, (), "stop_reason"),
    Field("error", K.TEXT, False, (), "error"),
    Field("error_status", K.STATUS, False, (), "error_status"),
    Field(
        "cache_creation_tokens",
        K.COUNT,
        False,
        ("cache_creation_input_tokens",),
        "cache_write_5m_tokens",
    ),
    Field("cache_creation_1h_tokens", K.COUNT, False, (), "cache_write_1h_tokens"),
    Field("api_request_id", K.IGNORED),
    Field("batch", K.FLAG, False, (), "batch"),
    Field("retry_after_s", K.NUMBER, False, (), "retry_after_s"),
    Field("ratelimit_requests_remaining", K.INT, False, (), "ratelimit_requests_remaining"),
    Field("ratelimit_tokens_remaining", K.INT, False, (), "ratelimit_tokens_remaining"),
    Field("ratelimit_requests_limit", K.INT, False, (), "ratelimit_requests_limit"),
    Field("ratelimit_input_tokens_limit", K.INT, False, (), "ratelimit_input_tokens_limit"),
    Field("ratelimit_input_tokens_remaining", K.INT, False, (), "ratelimit_input_tokens_remaining"),
    Field("ratelimit_output_tokens_limit", K.INT, False, (), "ratelimit_output_tokens_limit"),
    Field(
        "ratelimit_output_tokens_remaining", K.INT, False, (), "ratelimit_output_tokens_remaining"
    ),
    # What the bill depends on besides the tokens (see ``BILLED``): they make the call's billed
    # model id, e.g. "claude-opus-5-5 (fast)", priced only where a published price exists.
    Field("service_tier", K.TEXT, False, (), "service_tier"),
    Field("speed", K.TEXT, False, (), "speed"),
    Field("inference_geo", K.TEXT, False, (), "inference_geo"),
    # Server tool use, flat: the API's own names from ``usage.server_tool_use``.
    Field("web_search_requests", K.COUNT, False, (), "web_search_requests"),
    Field("web_fetch_requests", K.COUNT, False, (), "web_fetch_requests"),
    Field("ttft_ms", K.DURATION_MS, False, (), "ttft_ms"),
    Field("cost_usd", K.USD, False, ("total_cost_usd",), "app_cost_usd"),
)
del K

BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
KEYS: frozenset[str] = frozenset(BY_KEY)
ALIASES: dict[str, str] = {a: f.key for f in FIELDS for a in f.aliases}
"""Other spellings (the API's own names) -> our key."""

ARTICLE_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS[:12])
"""The twelve keys the article's app logs on every call, in the order it writes them."""

REQUIRED: tuple[str, ...] = tuple(f.key for f in FIELDS if f.required)

MARKER_KEYS: tuple[str, ...] = (
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "stop_reason",
    "cached_tokens",
)
"""A JSON object with any of these keys claims to be a call record (valid or not); an object
with none of them is another logger's line (foreign)."""

BILLED: tuple[str, ...] = ("service_tier", "speed", "inference_geo")
"""Keys read into the billed model id, not into a ``Record`` slot of their own."""

SERVER_TOOLS: tuple[str, ...] = ("web_search_requests", "web_fetch_requests")
"""Server tool use billed per request (``usage.server_tool_use``): counted in ``Record`` slots of
their own, per feature and model, and priced per request where a price is published. The
call's tokens (search results read as input) bill at the model's own rates."""

STANDARD_VALUES: dict[str, frozenset[str]] = {
    "service_tier": frozenset({"standard", "batch"}),
    "speed": frozenset({"standard"}),
    "inference_geo": frozenset({"global"}),
}
"""Values that bill at the standard rates (``batch`` at the Batch API discount). Any other value
(``priority``, ``fast``, ``us`` ...) names a modifier in the billed model id."""

MODIFIER_NAMES: dict[tuple[str, str], str] = {
    ("service_tier", "priority"): "priority",
    ("speed", "fast"): "fast",
    ("inference_geo", "us"): "us-only",
}
"""How a known modifier is spelled in the billed model id; an unknown one is ``key=value``."""


def billed_model(model: str, values: dict[str, object]) -> str:
    """``model`` with the modifiers its call was billed under: ``claude-opus-5-5 (fast)``.

    A call with no modifier keeps its model id. The price table prices such an id only where a
    price for it is published (or configured), so a modifier is never billed at a guessed rate.
    Server tool use (``SERVER_TOOLS``) is no modifier: it is billed per request, beside the
    tokens, which bill at the model's rates."""
    mods: list[str] = []
    for key in BILLED:
        v = values.get(key)
        if type(v) is str and v not in STANDARD_VALUES[key]:
            mods.append(MODIFIER_NAMES.get((key, v)) or f"{key}={v}")
    return f"{model} ({', '.join(mods)})" if mods else model


RATELIMIT_HEADER_KEYS: tuple[str, ...] = (
    "ratelimit_requests_limit",
    "ratelimit_input_tokens_limit",
    "ratelimit_input_tokens_remaining",
    "ratelimit_output_tokens_limit",
    "ratelimit_output_tokens_remaining",
)
"""Header values the headroom tracker reads limits from, in ``Record`` order after
``retry_after_s`` (``instrument`` writes them on every response that had them)."""


def _check() -> None:
    declared = set(CallLine.__annotations__)
    if declared != KEYS:  # pragma: no cover - a developer's mistake, caught at import
        raise AssertionError(f"CallLine and FIELDS disagree: {sorted(declared ^ KEYS)}")
    if set(CallLine.__required_keys__) != set(ARTICLE_FIELDS):  # pragma: no cover
        raise AssertionError("CallLine's required keys must be the article's twelve")


_check()


# -- Mapped formats --------------------------------------------------------------------------
# Logs in another shape (the SDK's nested ``usage``, OpenAI-style counts, OpenTelemetry GenAI
# attributes, LiteLLM's payload) are read through a mapping (``ingest.mapping``): each canonical
# field below is found at a path of the object and lands under the native key it names, so a
# mapped line is judged by the very rules (kinds, limits, rejection reasons) of a native one.


class Mappable(NamedTuple):
    name: str
    """How ``[log.fields]`` and the presets spell it."""
    key: str | None
    """The native key (``FIELDS``) it fills; None for one a rule below derives a key from."""
    is_count: bool = False
    """A token count: null means 0 (``[log] null_is_zero``)."""
    doc: str = ""


MAPPABLE: tuple[Mappable, ...] = (
    Mappable("timestamp", "timestamp"),
    Mappable("request_id", "request_id"),
    Mappable("user_id", "user_id"),
    Mappable("feature", "feature"),
    Mappable("model", "model"),
    Mappable("input_tokens", "input_tokens", True),
    Mappable("output_tokens", "output_tokens", True),
    Mappable("cache_read_tokens", "cached_tokens", True),
    Mappable(
        "cache_write_tokens",
        None,
        True,
        "all cache writes, 5m and 1h (the API's cache_creation_input_tokens): the 5m part is "
        "this less the 1h part when the split itself is not logged",
    ),
    Mappable("cache_write_5m_tokens", "cache_creation_tokens", True),
    Mappable("cache_write_1h_tokens", "cache_creation_1h_tokens", True),
    Mappable(
        "latency", "latency_ms", doc="in [log] latency_unit (ms or s); else end_time - start_time"
    ),
    Mappable("start_time", None),
    Mappable("end_time", None),
    Mappable("stop_reason", "stop_reason"),
    Mappable("error", "error"),
    Mappable(
        "error_status",
        "error_status",
        doc='a number, a string of digits, or a text holding one ("HTTP 429")',
    ),
    Mappable("outcome", None, doc="success / failure (OTel: OK / ERROR); a failure is an error"),
    Mappable("batch", "batch"),
    *(Mappable(k, k) for k in ("retry_after_s", "ratelimit_requests_remaining",
                               "ratelimit_tokens_remaining", *RATELIMIT_HEADER_KEYS)),
    *(Mappable(k, k) for k in BILLED),
    *(Mappable(k, k, True, "server tool requests of the call") for k in SERVER_TOOLS),
    Mappable("ttft", "ttft_ms", doc="ms to the first token, in [log] latency_unit"),
    Mappable("first_token_time", None, doc="when the first token came: ttft = it - start_time"),
    Mappable("cost_usd", "cost_usd", doc="the app's own cost of the call, compared with ours"),
)  # fmt: skip
"""Every field a mapping may name, in the order a mapping resolves them."""

MAPPABLE_BY_NAME: dict[str, Mappable] = {m.name: m for m in MAPPABLE}

LATENCY_UNITS: dict[str, float] = {"ms": 1.0, "s": 1000.0}
"""``[log] latency_unit``: milliseconds per unit of a mapped ``latency``."""

FAILURE_WORDS: frozenset[str] = frozenset({"failure", "failed", "error", "fail"})
SUCCESS_WORDS: frozenset[str] = frozenset({"success", "succeeded", "ok", "unset"})
"""``outcome`` values, compared in lower case (LiteLLM's ``status``; OTel's status code)."""


def _check_mappable() -> None:
    for m in MAPPABLE:
        if m.key is not None and m.key not in KEYS:  # pragma: no cover - a developer's mistake
            raise AssertionError(f"MAPPABLE {m.name} names an unknown key {m.key}")


_check_mappable()
