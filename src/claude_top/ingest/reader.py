"""Classifying log lines: a call record, a foreign line, or a rejected line with its reason.

Real logs mix our JSON lines with other loggers' output, tracebacks and blank lines, and wrap
them in prefixes (``INFO:root:``, asctime, syslog, CRI) or in docker's json-file envelope. Every
line lands in exactly one class, so nothing read is silently lost: foreign lines are expected
noise, rejected lines are call records we could not use, counted by reason.

This is the general (slow) path. ``engine.Engine.ingest`` has a fast path for the common shape
(a bare JSON object with the article's fields) and falls back to ``parse_line`` for anything else;
a test checks that both agree.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from claude_top.core.record import Record
from claude_top.core.schema import MARKER_KEYS, RATELIMIT_HEADER_KEYS
from claude_top.core.timeutil import parse_timestamp

BOM = b"\xef\xbb\xbf"


# Rejection reasons, stable strings: they are keys of the JSON summary's `rejected_by_reason`.
R_JSON = "invalid JSON"
R_UTF8 = "invalid UTF-8"
R_NOT_OBJECT = "not a JSON object"
R_TIMESTAMP = "bad timestamp"
R_TOO_LONG = "line too long"


def r_missing(field: str) -> str:
    return f"missing {field}"


def r_type(field: str) -> str:
    return f"bad {field}"


class Rejected:
    """A line that claims to be a call record but cannot be used."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Rejected({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rejected) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(self.reason)


FOREIGN = None
"""``parse_line`` returns None for a foreign line."""


def _count(d: dict[str, Any], key: str, *aliases: str, required: bool = False) -> int | str:
    """A token count: a non-negative integer (integral floats allowed). Returns a reason on error."""
    v = d.get(key)
    if v is None:
        for a in aliases:
            v = d.get(a)
            if v is not None:
                break
    if v is None:
        return r_missing(key) if required else 0
    if type(v) is int:
        return v if v >= 0 else r_type(key)
    if type(v) is float and v.is_integer() and v >= 0:
        return int(v)
    return r_type(key)


def _opt_int(d: dict[str, Any], key: str) -> int | str | None:
    v = d.get(key)
    if v is None:
        return None
    if type(v) is int:
        return v
    if type(v) is float and v.is_integer():
        return int(v)
    if type(v) is str and v.strip().isdigit():
        return int(v)
    return r_type(key)


def _opt_float(d: dict[str, Any], key: str) -> float | str | None:
    v = d.get(key)
    if v is None:
        return None
    if (type(v) is int or type(v) is float) and math.isfinite(v):
        return float(v)
    if type(v) is str:
        try:
            f = float(v)
        except ValueError:
            return r_type(key)
        return f if math.isfinite(f) else r_type(key)
    return r_type(key)


def _opt_str(d: dict[str, Any], key: str) -> str | Rejected | None:
    v = d.get(key)
    if v is None or type(v) is str:
        return v
    return Rejected(r_type(key))


def record_from_dict(d: dict[str, Any]) -> Record | Rejected | None:
    """Validate a decoded JSON object; None when it is not a call record at all."""
    if not any(k in d for k in MARKER_KEYS):
        return FOREIGN
    ts_raw = d.get("timestamp")
    if ts_raw is None:
        return Rejected(r_missing("timestamp"))
    ts = parse_timestamp(ts_raw)
    if ts is None:
        return Rejected(R_TIMESTAMP)
    strings: list[str] = []
    for key in ("feature", "model"):
        v = d.get(key)
        if v is None:
            return Rejected(r_missing(key))
        if type(v) is not str:
            return Rejected(r_type(key))
        strings.append(v)
    counts: list[int] = []
    for key, aliases, required in (
        ("input_tokens", (), True),
        ("output_tokens", (), True),
        ("cached_tokens", ("cache_read_input_tokens",), False),
        ("cache_creation_tokens", ("cache_creation_input_tokens",), False),
        ("cache_creation_1h_tokens", (), False),
    ):
        c = _count(d, key, *aliases, required=required)
        if type(c) is str:
            return Rejected(c)
        counts.append(c)  # type: ignore[arg-type]
    lat = d.get("latency_ms")
    if lat is None:
        return Rejected(r_missing("latency_ms"))
    if (type(lat) is not int and type(lat) is not float) or not math.isfinite(lat) or lat < 0:
        return Rejected(r_type("latency_ms"))
    opt_s: list[str | None] = []
    for key in ("request_id", "user_id", "stop_reason", "error"):
        s = _opt_str(d, key)
        if isinstance(s, Rejected):
            return s
        opt_s.append(s)
    status = _opt_int(d, "error_status")
    if type(status) is str:
        return Rejected(status)
    rl_req = _opt_int(d, "ratelimit_requests_remaining")
    if type(rl_req) is str:
        return Rejected(rl_req)
    rl_tok = _opt_int(d, "ratelimit_tokens_remaining")
    if type(rl_tok) is str:
        return Rejected(rl_tok)
    limits: list[int | None] = []
    for key in RATELIMIT_HEADER_KEYS:
        v = _opt_int(d, key)
        if type(v) is str:
            return Rejected(v)
        limits.append(v)  # type: ignore[arg-type]
    retry = _opt_float(d, "retry_after_s")
    if type(retry) is str:
        return Rejected(retry)
    batch = d.get("batch")
    if batch is not None and type(batch) is not bool:
        return Rejected(r_type("batch"))
    request_id, user_id, stop_reason, error = opt_s
    # An error status without an error name is still an error.
    if error is None and status is not None and status >= 400:  # type: ignore[operator]
        error = f"HTTP {status}"
    return Record(
        ts,
        request_id or "",
        user_id or "",
        strings[0],
        strings[1],
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        int(lat),
        stop_reason,
        error,
        status,  # type: ignore[arg-type]
        bool(batch),
        rl_req,  # type: ignore[arg-type]
        rl_tok,  # type: ignore[arg-type]
        retry,  # type: ignore[arg-type]
        *limits,
    )


def _looks_like_record(raw: bytes) -> bool:
    return any(k.encode() in raw for k in MARKER_KEYS)


def parse_line(raw: bytes, _depth: int = 0) -> Record | Rejected | None:
    """Classify one line (no newline). Never raises."""
    if raw.startswith(BOM):
        raw = raw[3:]
    raw = raw.strip()
    if not raw:
        return FOREIGN
    start = raw.find(b"{")
    if start < 0:
        return Rejected(R_UTF8) if not _is_utf8(raw) and _looks_like_record(raw) else FOREIGN
    body = raw[start:] if start else raw
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        if not _is_utf8(raw):
            return Rejected(R_UTF8)
        if _looks_like_record(body):
            return Rejected(R_JSON)
        return FOREIGN
    if type(obj) is not dict:
        return FOREIGN
    inner = obj.get("log")
    if type(inner) is str and _depth == 0 and ("stream" in obj or "time" in obj):
        # docker json-file: the app's line is the "log" string.
        return parse_line(inner.encode("utf-8", "surrogatepass"), 1)
    try:
        return record_from_dict(obj)
    except Exception:  # pragma: no cover - defensive: a reader must never crash the tool
        return Rejected(R_JSON)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def timestamp_of(raw: bytes) -> float | None:
    """A line's event time, if it is a call record (used to seek in time-ordered files)."""
    r = parse_line(raw)
    return r.ts if isinstance(r, Record) else None
