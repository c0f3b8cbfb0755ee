"""One validation rule per kind of log value: what a ``Record`` holds, or ``BAD``.

The reference reader (``ingest.reader``) applies these to every field it reads, and the fast
decoder (``ingest.fast``) takes its time bounds from here, so a value is judged by one rule
whichever decoder met it. The bounds themselves (``core.schema.LIMITS``) keep every count, time
and status within what the engine, JSON output and Prometheus can hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from claude_top.core.schema import LIMITS, Kind
from claude_top.core.timeutil import parse_timestamp

BAD: Any = object()
"""What a kind's rule returns for a value it cannot use."""


TS_MIN = -62135510400.0
"""0001-01-02T00:00Z: a time must be a date in every zone (the engine buckets it by day)."""
TS_MAX = 253402128000.0
"""9999-12-30T00:00Z, likewise (later times overflow ``datetime``)."""


def _timestamp(v: Any) -> Any:
    ts = parse_timestamp(v)
    return ts if ts is not None and TS_MIN <= ts < TS_MAX else BAD


def _text(v: Any) -> Any:
    return v if type(v) is str else BAD


_COUNT = LIMITS[Kind.COUNT]
_INT = LIMITS[Kind.INT]
_STATUS = LIMITS[Kind.STATUS]
_NUMBER = LIMITS[Kind.NUMBER]
_DURATION = LIMITS[Kind.DURATION_MS]


def _count(v: Any) -> Any:
    if type(v) is int or (type(v) is float and v.is_integer()):
        return int(v) if _COUNT.low <= v <= _COUNT.high else BAD
    return BAD


def _integer(v: Any) -> Any:
    """An integer, an integral float, or a string of ASCII digits, as an ``int``."""
    if type(v) is int:
        return v
    if type(v) is float and v.is_integer():
        return int(v)
    if type(v) is str:
        digits = v.strip()
        if digits.isascii() and digits.isdigit():
            return int(digits)
    return BAD


def _int(v: Any) -> Any:
    i = _integer(v)
    return i if i is not BAD and _INT.low <= i <= _INT.high else BAD


def _status(v: Any) -> Any:
    i = _integer(v)
    return i if i is not BAD and _STATUS.low <= i <= _STATUS.high else BAD


def _number(v: Any) -> Any:
    if type(v) is int or type(v) is float:
        f = float(v)
    elif type(v) is str:
        try:
            f = float(v)
        except ValueError:
            return BAD
    else:
        return BAD
    return f if _NUMBER.low <= f <= _NUMBER.high else BAD  # NaN fails both


def _duration_ms(v: Any) -> Any:
    if (type(v) is int or type(v) is float) and _DURATION.low <= v <= _DURATION.high:
        return int(v)
    return BAD


_USD = LIMITS[Kind.USD]


def _usd(v: Any) -> Any:
    if (type(v) is int or type(v) is float) and _USD.low <= v <= _USD.high:
        return float(v)
    return BAD


def _flag(v: Any) -> Any:
    return v if type(v) is bool else BAD


RULES: dict[Kind, Callable[[Any], Any]] = {
    Kind.TIMESTAMP: _timestamp,
    Kind.TEXT: _text,
    Kind.COUNT: _count,
    Kind.INT: _int,
    Kind.STATUS: _status,
    Kind.NUMBER: _number,
    Kind.DURATION_MS: _duration_ms,
    Kind.FLAG: _flag,
    Kind.USD: _usd,
}
"""One validation rule per kind of value (``core.schema.Kind``): the value a ``Record`` holds,
or ``BAD``. ``Kind.IGNORED`` has none: such keys are never read."""

ABSENT: dict[Kind, Any] = {Kind.COUNT: 0, Kind.FLAG: False}
"""The value of an optional field the line does not carry (None for the other kinds)."""
