"""The fast decoder: the common line shape, decoded without building a ``Record`` or a datetime.

Almost every line of a real log is a JSON object of one call, with the article's twelve keys
(plus the cache writes, request ids, rate-limit headers and ``retry_after_s`` ``instrument``
adds),
maybe after a prefix (``INFO:root:``), and a UTC timestamp as ``isoformat()`` writes it. For
such a line this module yields a plain tuple in ``Record`` layout (short,
``core.record.SHORT``, when nothing optional is set) holding exactly the values
``reader.parse_line`` would give; any other line it hands to the reader (``reader.take_line``),
which decides, and so is a line on which this module itself fails (the reference verdict
stands; a failure there too rejects the line as "internal error"). It never judges a line
itself: it only takes the lines whose verdict it can be sure of, so both decoders always agree
(``tests/property/test_differential.py`` checks it on arbitrary lines).

Why it is fast: ``msgspec`` parses a line straight into a ``Line`` struct and checks every
value's type and range while it parses (in C, and faster than ``orjson`` builds a dict), so no
Python code tests the values. A timestamp's minute (``2026-11-20T14:05``) is validated once and
cached as float microseconds, and a line of the same minute as the line before is recognised by
two string comparisons; its seconds (``:07``) and the rest come from small tables. The rest is
read in the shapes apps write: milliseconds or none (``.123+00:00``, ``+00:00``: ``instrument``,
Python's ``isoformat`` of a whole second), microseconds (``.123456+00:00``: Python's
``isoformat()``, the article's own lines), each with ``Z`` (JavaScript's ``toISOString()``) or
no offset (naive, which the reader reads as UTC) instead of ``+00:00``. Any other rest (another
offset, 1, 2, 4, 5 or 7+ digits, a comma) goes to the reader. The parts are exact integers in a
float, so their sum divided by 10**6 is, bit for bit, what ``datetime.timestamp()`` computes
(an exact integer of microseconds, divided once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias

import msgspec

from claude_top.core.schema import (
    ARTICLE_FIELDS,
    BY_KEY,
    COUNT_MAX,
    DURATION_MS_MAX,
    HEADER_MAX,
    LIMITS,
    RATELIMIT_HEADER_KEYS,
    RETRY_AFTER_MAX_S,
    Kind,
)
from claude_top.core.stats import LineStats
from claude_top.ingest.kinds import TS_MAX, TS_MIN
from claude_top.ingest.reader import take_line

EXTRA_COUNTS = ("cache_creation_tokens", "cache_creation_1h_tokens")
EXTRA_INTS = ("ratelimit_requests_remaining", "ratelimit_tokens_remaining", *RATELIMIT_HEADER_KEYS)
EXTRA_NUMBERS = ("retry_after_s",)
EXTRA_IGNORED = ("api_request_id",)

ARTICLE_KEYS = frozenset(ARTICLE_FIELDS)
FAST_EXTRA = frozenset((*EXTRA_COUNTS, *EXTRA_INTS, *EXTRA_NUMBERS, *EXTRA_IGNORED))
"""Keys besides the article's twelve that this decoder reads (or, for ignored ones, skips).
A line with any other key (an alias, ``batch``, a docker envelope, a key we do not know) goes
to the reader."""

_EXPECTED = {
    "timestamp": (Kind.TIMESTAMP, True),
    "request_id": (Kind.TEXT, False),
    "user_id": (Kind.TEXT, False),
    "feature": (Kind.TEXT, True),
    "model": (Kind.TEXT, True),
    "input_tokens": (Kind.COUNT, True),
    "output_tokens": (Kind.COUNT, True),
    "cached_tokens": (Kind.COUNT, False),
    "latency_ms": (Kind.DURATION_MS, True),
    "stop_reason": (Kind.TEXT, False),
    "error": (Kind.TEXT, False),
    "error_status": (Kind.STATUS, False),
    **dict.fromkeys(EXTRA_COUNTS, (Kind.COUNT, False)),
    **dict.fromkeys(EXTRA_INTS, (Kind.INT, False)),
    **dict.fromkeys(EXTRA_NUMBERS, (Kind.NUMBER, False)),
    **dict.fromkeys(EXTRA_IGNORED, (Kind.IGNORED, False)),
}
"""The kinds (and whether required) the ``Line`` type below is written for: a schema change to
any of them must revisit this module, so it fails at import instead of decoding silently by an
old rule."""
_changed = [
    k for k, (kind, req) in _EXPECTED.items() if (BY_KEY[k].kind, BY_KEY[k].required) != (kind, req)
]
if _changed or set(_EXPECTED) != ARTICLE_KEYS | FAST_EXTRA:  # pragma: no cover - caught at import
    raise AssertionError(f"schema kinds changed for the fast decoder: {_changed}")


Count: TypeAlias = Annotated[int, msgspec.Meta(ge=0, le=COUNT_MAX)]
Duration: TypeAlias = Annotated[int, msgspec.Meta(ge=0, le=DURATION_MS_MAX)]
Header: TypeAlias = Annotated[int, msgspec.Meta(ge=0, le=HEADER_MAX)]
Status: TypeAlias = Annotated[int, msgspec.Meta(ge=100, le=599)]
Seconds: TypeAlias = Annotated[float, msgspec.Meta(ge=0.0, le=RETRY_AFTER_MAX_S)]
if (
    LIMITS[Kind.COUNT] != (0, COUNT_MAX)
    or LIMITS[Kind.DURATION_MS] != (0, DURATION_MS_MAX)
    or LIMITS[Kind.INT] != (0, HEADER_MAX)
    or LIMITS[Kind.STATUS] != (100, 599)
    or LIMITS[Kind.NUMBER] != (0.0, RETRY_AFTER_MAX_S)
):  # pragma: no cover - a developer's mistake, caught at import
    raise AssertionError("schema limits changed for the fast decoder")


class Line(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The common shape of a call line, as ``msgspec`` validates it while it parses.

    Exactly what the reader would take, with the values it would give: JSON strings for texts
    (``null`` is left to the reader, which reads it as empty), integers within
    ``core.schema.LIMITS`` for counts, latencies, statuses and header values (a float, a string
    of digits or a bool goes to the reader), a number of seconds for ``retry_after_s``, and no
    key besides these (an alias, ``batch`` or an envelope goes to the reader). A status with no
    error name goes to the reader too, which names the error (``HTTP 500``). A key the line does
    not carry takes the reader's value for an absent field. Values hold no containers, so the
    structs need no garbage collection (``gc=False``).
    """

    timestamp: str
    feature: str
    model: str
    input_tokens: Count
    output_tokens: Count
    latency_ms: Duration
    request_id: str = ""
    user_id: str = ""
    cached_tokens: Count = 0
    stop_reason: str | None = None
    error: str | None = None
    error_status: Status | None = None
    retry_after_s: Seconds | None = None
    cache_creation_tokens: Count = 0
    cache_creation_1h_tokens: Count = 0
    api_request_id: str | None = None
    ratelimit_requests_remaining: Header | None = None
    ratelimit_tokens_remaining: Header | None = None
    ratelimit_requests_limit: Header | None = None
    ratelimit_input_tokens_limit: Header | None = None
    ratelimit_input_tokens_remaining: Header | None = None
    ratelimit_output_tokens_limit: Header | None = None
    ratelimit_output_tokens_remaining: Header | None = None


if set(Line.__struct_fields__) != ARTICLE_KEYS | FAST_EXTRA:  # pragma: no cover
    raise AssertionError("the fast decoder's Line and its key sets disagree")

_decode = msgspec.json.Decoder(Line).decode


class Common(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The commonest shape of all, for the block path (``engine.block``): a ``Line`` with no
    rate-limit header. Any line it takes, ``Line`` takes too, with the same values and a short
    record; a line with a header fails here and takes the per-line path, which reads it."""

    timestamp: str
    feature: str
    model: str
    input_tokens: Count
    output_tokens: Count
    latency_ms: Duration
    request_id: str = ""
    user_id: str = ""
    cached_tokens: Count = 0
    stop_reason: str | None = None
    error: None = None
    error_status: None = None
    cache_creation_tokens: Count = 0
    cache_creation_1h_tokens: Count = 0
    api_request_id: str | None = None


if set(Common.__struct_fields__) != set(Line.__struct_fields__) - {*EXTRA_INTS, *EXTRA_NUMBERS}:
    raise AssertionError("Common must be Line without its headers")  # pragma: no cover

_decode_common = msgspec.json.Decoder(Common).decode
CACHE_MAX = 100_000

_minutes: dict[str, tuple[float, str]] = {}
"""``YYYY-MM-DDTHH:MM`` -> (epoch microseconds of that minute, UTC, as an exact float; the
smallest string above every time of that minute), for valid minutes of 1685 .. 2255 only."""

EXACT_US = 2**53 - 60_000_000
"""A minute below this many microseconds from the epoch (either way) plus its seconds is an
integer a float holds exactly, so float sums of the parts below are exact too."""

UTC_SUFFIXES = ("+00:00", "Z", "")
"""How a time says UTC in the shapes read here: ``isoformat``'s offset, ``Z``, or none (naive
times are UTC to the reader, ``core.timeutil.parse_timestamp``)."""

_SECONDS_US = {f":{s:02d}": s * 1e6 for s in range(60)}
"""``:SS`` of a time -> its microseconds (a float); a missing key is not a valid second."""
_MILLIS_US = {f".{ms:03d}": ms * 1e3 for ms in range(1000)}
"""``.fff`` -> its microseconds: milliseconds, or the first three digits of six."""
_FRACTIONS_US = {
    f"{frac}{tz}": us for tz in UTC_SUFFIXES for frac, us in [("", 0.0), *_MILLIS_US.items()]
}
"""The rest after the seconds with milliseconds or no fraction (``.fff+00:00``, ``+00:00``,
``.fffZ``, ``Z``, ``.fff``, nothing) -> microseconds."""
_MICROS_US = {f"{us:03d}{tz}": float(us) for tz in UTC_SUFFIXES for us in range(1000)}
"""The rest after those three digits (``456+00:00``, ``456Z``, ``456``) -> microseconds. A rest
whose first four characters are in ``_MILLIS_US`` and whose others are in here is exactly a
six-digit fraction with a UTC suffix; two tables of a few thousand keys stand for a million."""


def _digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


_HOUR_MINUTE_S = {f"T{h:02d}:{m:02d}": h * 3600 + m * 60 for h in range(24) for m in range(60)}
"""``THH:MM`` -> seconds since midnight: a minute's time of day, valid ones only."""
_days: dict[str, int | None] = {}
"""``YYYY-MM-DD`` -> epoch seconds of its midnight, UTC (``None``: not a date). A log's minutes
change about as often as its lines (a minute of sparse traffic holds a line or two), so a new
minute costs two look-ups here rather than a ``datetime`` each."""


def _day_s(date: str) -> int | None:
    if not (len(date) == 10 and date[4] == "-" and date[7] == "-"):
        return None
    if not _digits(date[:4] + date[5:7] + date[8:]):
        return None
    try:
        return int(datetime(int(date[:4]), int(date[5:7]), int(date[8:]), tzinfo=UTC).timestamp())
    except ValueError:
        return None


def minute_us(prefix: str) -> int | None:
    """Epoch microseconds of a ``YYYY-MM-DDTHH:MM`` minute in UTC, or ``None``."""
    if len(prefix) != 16:
        return None
    hm = _HOUR_MINUTE_S.get(prefix[10:])
    if hm is None:
        return None
    date = prefix[:10]
    if date in _days:
        day = _days[date]
    else:
        if len(_days) > CACHE_MAX:
            _days.clear()
        day = _days[date] = _day_s(date)
    if day is None:
        return None
    t = day + hm
    if not (t >= TS_MIN and t + 60 <= TS_MAX):
        return None  # the reader's range of times, which both bounds are minutes of
    return t * 1_000_000


def _minute(prefix: str) -> tuple[float, str]:
    """A valid minute's cache entry (see ``_minutes``); any other raises (the reader judges)."""
    us = minute_us(prefix)
    if us is None or not -EXACT_US < us < EXACT_US:
        raise ValueError(prefix)
    if len(_minutes) > CACHE_MAX:
        _minutes.clear()
    # Strings from ``prefix`` up to this one (excluded) are exactly those starting with it.
    entry = _minutes[prefix] = (float(us), prefix[:15] + chr(ord(prefix[15]) + 1))
    return entry


def decode_batch(lines: list[bytes], source: str, first_lineno: int, stats: LineStats) -> list[Any]:
    """Every record of a batch, in line order: the common shape decoded here, the rest by the
    reader. Counts every line in ``stats`` as the reader would."""
    out: list[Any] = []
    append = out.append
    decode = _decode
    minutes, secs, fractions, millis, micros = (
        _minutes, _SECONDS_US, _FRACTIONS_US, _MILLIS_US, _MICROS_US)  # fmt: skip
    lo = hi = ""  # the minute of the last time: ``lo <= ts < hi`` means ``ts[:16] == lo``
    m = 0.0
    handed = 0  # lines the reader judged (it counts them itself)
    for i, line in enumerate(lines):
        try:
            # A line with a prefix (``INFO:root:``, asctime, syslog, a BOM or blanks) is read
            # from its first brace, as the reader reads it: a line that starts like another
            # JSON value (``[``, a string, a number) and ends with an object is never one
            # valid value, so the reader too reads it from the brace. No brace: the last byte
            # alone fails to decode and the reader judges.
            c = decode(line if line[:1] == b"{" else line[line.find(b"{") :])
            ts = c.timestamp
            if not lo <= ts < hi:  # two comparisons cost less than a slice and a look-up
                m, hi = minutes.get(ts[:16]) or _minute(ts[:16])
                lo = ts[:16]
            r = fractions.get(ts[19:])
            if r is None:  # six digits, or a KeyError: another shape, which the reader judges
                r = millis[ts[19:23]] + micros[ts[23:]]
            r += secs[ts[16:19]]
        except Exception:  # not the common shape (or a bug here): the reader judges the line
            take_line(line, first_lineno + i, source, stats, out)
            handed += 1
            continue
        if (
            c.error is None
            and c.error_status is None
            and c.retry_after_s is None
            and c.ratelimit_requests_remaining is None
            and c.ratelimit_tokens_remaining is None
            and c.ratelimit_requests_limit is None
            and c.ratelimit_input_tokens_limit is None
            and c.ratelimit_input_tokens_remaining is None
            and c.ratelimit_output_tokens_limit is None
            and c.ratelimit_output_tokens_remaining is None
        ):  # a short record (core.record.SHORT)
            append(((m + r) / 1e6, c.request_id, c.user_id, c.feature, c.model, c.input_tokens,
                    c.output_tokens, c.cached_tokens, c.cache_creation_tokens,
                    c.cache_creation_1h_tokens, c.latency_ms, c.stop_reason))  # fmt: skip
        elif c.error is None and c.error_status is not None:  # the reader names the error
            take_line(line, first_lineno + i, source, stats, out)
            handed += 1
        else:
            append(((m + r) / 1e6, c.request_id, c.user_id, c.feature, c.model, c.input_tokens,
                    c.output_tokens, c.cached_tokens, c.cache_creation_tokens,
                    c.cache_creation_1h_tokens, c.latency_ms, c.stop_reason, c.error,
                    c.error_status, False, c.ratelimit_requests_remaining,
                    c.ratelimit_tokens_remaining, c.retry_after_s,
                    c.ratelimit_requests_limit, c.ratelimit_input_tokens_limit,
                    c.ratelimit_input_tokens_remaining, c.ratelimit_output_tokens_limit,
                    c.ratelimit_output_tokens_remaining))  # fmt: skip
    stats.records += len(lines) - handed
    return out


def common_minute(prefix: str) -> tuple[float, str]:
    """The cache entry of a valid minute (see ``_minutes``); an invalid minute raises. With
    ``decode_common`` and the four tables below, what the block path (``engine.block``) reads
    ``Common`` lines by: the rules of ``decode_batch``, spelled once."""
    return _minutes.get(prefix) or _minute(prefix)


decode_common = _decode_common
SECONDS_US = _SECONDS_US
FRACTIONS_US = _FRACTIONS_US
MILLIS_US = _MILLIS_US
MICROS_US = _MICROS_US
