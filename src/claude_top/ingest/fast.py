"""The fast decoder: the common line shape, decoded without building a ``Record`` or a datetime.

Almost every line of a real log is a bare JSON object of one successful call, with the article's
twelve keys (plus the cache writes, request ids and rate-limit headers ``instrument`` adds) and
a UTC timestamp as ``isoformat()`` writes it. For such a line this module yields a plain tuple
in ``Record`` layout (short, ``core.record.SHORT``, when nothing optional is set) holding
exactly the values ``reader.parse_line`` would give; any other line it hands to the reader
(``reader.take_line``), which decides, and so is a line on which this module itself fails (the
reference verdict stands; a failure there too rejects the line as "internal error"). It never
judges a line itself: it only takes the lines whose verdict it can be sure of, so both
decoders always agree (``tests/property/test_differential.py`` checks it on arbitrary lines).

Why it is fast: a timestamp's minute (``2026-11-20T14:05``) is validated once and cached as
float microseconds, and a line of the same minute as the line before is recognised by two string
comparisons; its seconds (``:07``) and the rest (``.123+00:00``) come from two small tables. The
parts are exact integers in a float, so their sum divided by 10**6 is, bit for bit, what
``datetime.timestamp()`` computes (an exact integer of microseconds, divided once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson

from claude_top.core.schema import (
    ARTICLE_FIELDS,
    BY_KEY,
    LIMITS,
    RATELIMIT_HEADER_KEYS,
    Kind,
)
from claude_top.core.stats import LineStats
from claude_top.ingest.reader import TS_MAX, TS_MIN, take_line

EXTRA_COUNTS = ("cache_creation_tokens", "cache_creation_1h_tokens")
EXTRA_INTS = ("ratelimit_requests_remaining", "ratelimit_tokens_remaining", *RATELIMIT_HEADER_KEYS)
EXTRA_IGNORED = ("api_request_id",)

ARTICLE_KEYS = frozenset(ARTICLE_FIELDS)
FAST_EXTRA = frozenset((*EXTRA_COUNTS, *EXTRA_INTS, *EXTRA_IGNORED))
"""Keys besides the article's twelve that this decoder reads (or, for ignored ones, skips).
A line with any other key (an alias, ``batch``, ``retry_after_s``, a docker envelope, a key we
do not know) goes to the reader."""

_EXPECTED_KINDS = {
    "timestamp": Kind.TIMESTAMP,
    "request_id": Kind.TEXT,
    "user_id": Kind.TEXT,
    "feature": Kind.TEXT,
    "model": Kind.TEXT,
    "input_tokens": Kind.COUNT,
    "output_tokens": Kind.COUNT,
    "cached_tokens": Kind.COUNT,
    "latency_ms": Kind.DURATION_MS,
    "stop_reason": Kind.TEXT,
    "error": Kind.TEXT,
    "error_status": Kind.STATUS,
    **dict.fromkeys(EXTRA_COUNTS, Kind.COUNT),
    **dict.fromkeys(EXTRA_INTS, Kind.INT),
    **dict.fromkeys(EXTRA_IGNORED, Kind.IGNORED),
}
"""The kinds the checks below are written for: a schema change to any of them must revisit this
module, so it fails at import instead of decoding silently by an old rule."""
_changed = [k for k, kind in _EXPECTED_KINDS.items() if BY_KEY[k].kind is not kind]
if _changed:  # pragma: no cover - a developer's mistake, caught at import
    raise AssertionError(f"schema kinds changed for the fast decoder: {_changed}")

COUNT_BITS = 30
"""Counts are checked as ``(a | b | ...) >> COUNT_BITS == 0``: true exactly when every one is in
``LIMITS[Kind.COUNT]`` (a negative one keeps its sign, a larger one sets a higher bit)."""
DURATION_BITS = 32
"""Likewise for a latency, against ``LIMITS[Kind.DURATION_MS]``."""
HEADER_MAX = int(LIMITS[Kind.INT].high)
if (
    LIMITS[Kind.COUNT] != (0, 2**COUNT_BITS - 1)
    or LIMITS[Kind.DURATION_MS] != (0, 2**DURATION_BITS - 1)
    or LIMITS[Kind.INT].low != 0
):  # pragma: no cover - a developer's mistake, caught at import
    raise AssertionError("schema limits changed for the fast decoder")


def _decoder_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The same key strings as the objects ``orjson`` puts in the dicts it decodes.

    orjson keeps one object per short key and reuses it in every dict, so looking a key up by
    that very object skips comparing the strings: a few hundred instructions a line. Should
    orjson ever hand out another object, a lookup compares the text and finds the same value.
    """
    return tuple(orjson.loads(orjson.dumps(dict.fromkeys(keys))))


_GET12 = itemgetter(*_decoder_keys(ARTICLE_FIELDS))
(_CW5_KEY,) = _decoder_keys(("cache_creation_tokens",))
_NO_EXTRAS = (None,) * len(EXTRA_INTS)
_SUCCESS_TYPES = tuple(
    (*(str,) * 5, int, int, int, int, stop, type(None), type(None)) for stop in (str, type(None))
)
"""The types of the twelve values (``ARTICLE_FIELDS`` order) of a successful call that the
decoder takes: texts, counts and a latency, a stop reason or none, no error and no status. One
tuple of their types compared with these costs less than a test of each value."""
CACHE_MAX = 100_000

_minutes: dict[str, tuple[float, str]] = {}
"""``YYYY-MM-DDTHH:MM`` -> (epoch microseconds of that minute, UTC, as an exact float; the
smallest string above every time of that minute), for valid minutes of 1685 .. 2255 only."""
_rests: dict[str, int] = {}
"""``:SS+00:00``, ``:SS.fff+00:00`` or ``:SS.ffffff+00:00`` -> microseconds past the minute."""

EXACT_US = 2**53 - 60_000_000
"""A minute below this many microseconds from the epoch (either way) plus its seconds is an
integer a float holds exactly, so float sums of the parts below are exact too."""

_SECONDS_US = {f":{s:02d}": s * 1e6 for s in range(60)}
"""``:SS`` of a time -> its microseconds (a float); a missing key is not a valid second."""
_FRACTIONS_US = {f".{ms:03d}+00:00": ms * 1e3 for ms in range(1000)} | {"+00:00": 0.0}
"""The rest after the seconds, ``.fff+00:00`` or ``+00:00``, -> microseconds: the common shapes
of a time, each from a small table (a table of every ``:SS.fff`` would be large, and a log's
times never repeat one soon). Anything else takes ``rest_us`` through the ``_rests`` cache."""


def _digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def minute_us(prefix: str) -> int | None:
    """Epoch microseconds of a ``YYYY-MM-DDTHH:MM`` minute in UTC, or ``None``."""
    if not (
        len(prefix) == 16
        and prefix[4] == "-"
        and prefix[7] == "-"
        and prefix[10] == "T"
        and prefix[13] == ":"
        and _digits(prefix[:4] + prefix[5:7] + prefix[8:10] + prefix[11:13] + prefix[14:])
    ):
        return None
    try:
        dt = datetime(
            int(prefix[:4]),
            int(prefix[5:7]),
            int(prefix[8:10]),
            int(prefix[11:13]),
            int(prefix[14:16]),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    t = int(dt.timestamp())
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


def rest_us(rest: str) -> int | None:
    """Microseconds of ``:SS[.fff|.ffffff]+00:00`` past the minute, or ``None``."""
    if rest[:1] != ":" or rest[-6:] != "+00:00":
        return None
    sec, frac = rest[1:3], rest[3:-6]
    if not _digits(sec) or sec >= "60":
        return None
    us = int(sec) * 1_000_000
    if not frac:
        return us
    if frac[0] != "." or len(frac) not in (4, 7) or not _digits(frac[1:]):
        return None
    return us + int(frac[1:].ljust(6, "0"))


def _remember(cache: dict[str, int], key: str, value: int | None) -> int:
    """Keep a valid part of a timestamp; an invalid one raises (the reader will judge it)."""
    if value is None:
        raise ValueError(key)
    if len(cache) > CACHE_MAX:
        cache.clear()
    cache[key] = value
    return value


def decode_batch(lines: list[bytes], source: str, first_lineno: int, stats: LineStats) -> list[Any]:
    """Every record of a batch, in line order: the common shape decoded here, the rest by the
    reader. Counts every line in ``stats`` as the reader would."""
    out: list[Any] = []
    append = out.append
    loads = orjson.loads
    get12, cw5_key, success = _GET12, _CW5_KEY, _SUCCESS_TYPES
    minutes, rests, secs, fractions = _minutes, _rests, _SECONDS_US, _FRACTIONS_US
    lo = hi = ""  # the minute of the last time: ``lo <= ts < hi`` means ``ts[:16] == lo``
    m = 0.0
    extra_ok = FAST_EXTRA.issuperset
    handed = 0  # lines the reader judged (it counts them itself)
    for i, line in enumerate(lines):
        try:
            d = loads(line)
            n = len(d)  # a list, string or number fails below: get12 takes only a dict
            ts, rid, user, feature, model, inp, out_, cr, lat, stop, err, status = get12(d)
            if (type(ts), type(rid), type(user), type(feature), type(model), type(inp),
                type(out_), type(cr), type(lat), type(stop), type(err), type(status)
            ) not in success:  # fmt: skip
                raise TypeError
            extras = _NO_EXTRAS
            if n == 12:
                cw5 = cw1 = 0
            elif n == 13:
                cw5 = d[cw5_key]
                cw1 = 0
                if type(cw5) is not int:
                    raise TypeError
            else:
                if not extra_ok(d.keys() - ARTICLE_KEYS):
                    raise KeyError
                cw5 = d.get("cache_creation_tokens", 0)
                cw1 = d.get("cache_creation_1h_tokens", 0)
                if not type(cw5) is type(cw1) is int:
                    raise TypeError
                extras = tuple(map(d.get, EXTRA_INTS))
                for v in extras:
                    if v is not None and (type(v) is not int or not 0 <= v <= HEADER_MAX):
                        raise TypeError
            if (inp | out_ | cr | cw5 | cw1) >> COUNT_BITS or lat >> DURATION_BITS:
                raise TypeError
            if not lo <= ts < hi:  # two comparisons cost less than a slice and a look-up
                m, hi = minutes.get(ts[:16]) or _minute(ts[:16])
                lo = ts[:16]
            try:
                r = secs[ts[16:19]] + fractions[ts[19:]]
            except KeyError:
                cached = rests.get(ts[16:])
                r = _remember(rests, ts[16:], rest_us(ts[16:])) if cached is None else cached
        except Exception:  # not the common shape (or a bug here): the reader judges the line
            take_line(line, first_lineno + i, source, stats, out)
            handed += 1
            continue
        if extras is _NO_EXTRAS:  # a short record (core.record.SHORT)
            append(((m + r) / 1e6, rid, user, feature, model, inp, out_, cr, cw5, cw1, lat,
                    stop))  # fmt: skip
        else:
            append(((m + r) / 1e6, rid, user, feature, model, inp, out_, cr, cw5, cw1, lat,
                    stop, None, None, False, extras[0], extras[1], None, extras[2], extras[3],
                    extras[4], extras[5], extras[6]))  # fmt: skip
    stats.records += len(lines) - handed
    return out
