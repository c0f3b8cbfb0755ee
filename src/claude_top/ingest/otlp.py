"""The OpenTelemetry Collector's file exporter shape: one line, many spans, each span one call.

The Collector's ``file`` exporter writes each export request as one line of OTLP/JSON:
``{"resourceSpans": [{"resource": {"attributes": [...]}, "scopeSpans": [{"spans": [...]}]}]}``,
where a span has ``name``, ``traceId``/``spanId`` (hex), ``startTimeUnixNano`` /
``endTimeUnixNano`` (nanoseconds, as JSON strings: proto3's int64), ``attributes`` as a list of
``{"key": ..., "value": {"stringValue" | "intValue" | "doubleValue" | "boolValue" | "arrayValue"
| "kvlistValue" | "bytesValue": ...}}`` and ``status`` ``{"code": 0 | 1 | 2, "message": ...}``
(UNSET, OK, ERROR; enums are integers in OTLP/JSON, names are accepted too).

``spans`` flattens each span into the shape the OpenTelemetry SDK's JSON exporters write one
span in (``attributes`` a plain object, ``start_time`` an ISO time, ``status.status_code`` a
name), which the ``otel-genai`` preset reads; the reader then judges every span on its own, so a
line of N spans gives N verdicts (``reader.Many``): GenAI spans are records (or rejected, or
unmapped), other spans foreign. Nothing here raises on a strange value: a value that is not
what OTLP says is passed on as it is, for the reader to reject or ignore by its usual rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

KEY: Final = "resourceSpans"
"""The key that marks an object as an OTLP/JSON trace export."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_STATUS_NAMES: Final = {0: "UNSET", 1: "OK", 2: "ERROR"}
_STATUS_PREFIX: Final = "STATUS_CODE_"
_DIGITS: Final = 20
"""An int64 has at most 19 digits and a sign: a longer string is no OTLP integer (and Python
refuses to convert one of over 4,300 digits)."""
_MAX_DEPTH: Final = 32
"""How deep nested array / kvlist values are unwrapped (a hostile line cannot recurse more)."""


class Many:
    """A line that holds several calls (an OTLP/JSON export: ``ingest.otlp``): one verdict per
    call it holds, each counted on its own. A line holding none is one foreign line."""

    __slots__ = ("verdicts",)

    def __init__(self, verdicts: list[Any]) -> None:
        self.verdicts = verdicts

    def __repr__(self) -> str:
        return f"Many({self.verdicts!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Many) and other.verdicts == self.verdicts

    def __hash__(self) -> int:
        return hash(tuple(self.verdicts))


def judge_spans(
    obj: dict[str, Any], judge: Callable[[dict[str, Any]], Any], failed: Any
) -> Many | None:
    """An export's verdict: each GenAI span judged on its own (the native format finds one
    unmapped, with ``otel-genai`` as the hint), every other span foreign (None), a span the
    judge fails on ``failed`` (rejected alone); a ``Many``, or None for an export of no span."""
    verdicts: list[Any] = []
    for span in spans(obj):
        if not is_genai(span):
            verdicts.append(None)
            continue
        try:
            v = judge(span)
        except Exception:
            v = failed
        if type(v) is Many:  # a judge never returns one for a span; counted whole if it did
            verdicts.extend(v.verdicts)
        else:
            verdicts.append(v)
    return Many(verdicts) if verdicts else None


def is_export(obj: dict[str, Any]) -> bool:
    return type(obj.get(KEY)) is list


def is_genai(span: dict[str, Any]) -> bool:
    """Whether a flattened span is a GenAI operation: it carries a ``gen_ai.*`` attribute (the
    semantic conventions' namespace). Any other span (an HTTP server's, a database's) is another
    instrumentation's, foreign however its attributes look."""
    return any(k.startswith("gen_ai.") for k in span["attributes"])


def spans(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Every span of an OTLP/JSON export (``is_export``), flattened, in order."""
    out: list[dict[str, Any]] = []
    for rs in obj[KEY]:
        if type(rs) is not dict:
            continue
        resource = rs.get("resource")
        res_attrs = attributes(resource.get("attributes")) if type(resource) is dict else {}
        scopes = rs.get("scopeSpans")
        if type(scopes) is not list:
            scopes = rs.get("instrumentationLibrarySpans")  # the name before OTLP 1.0
        for ss in scopes if type(scopes) is list else ():
            if type(ss) is not dict or type(ss.get("spans")) is not list:
                continue
            for span in ss["spans"]:
                if type(span) is dict:
                    out.append(flatten(span, res_attrs))
    return out


def flatten(span: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    """One OTLP/JSON span in the SDK exporter's shape (see the module's docstring)."""
    status = span.get("status")
    flat: dict[str, Any] = {
        "name": span.get("name"),
        "context": {"trace_id": span.get("traceId"), "span_id": span.get("spanId")},
        "parent_id": span.get("parentSpanId"),
        "attributes": attributes(span.get("attributes")),
        "resource": {"attributes": resource},
        "status": _status(status) if type(status) is dict else {},
    }
    for key, name in (("startTimeUnixNano", "start_time"), ("endTimeUnixNano", "end_time")):
        if key in span:
            flat[name] = iso_time(span[key])
    return flat


def iso_time(nanos: Any) -> Any:
    """Nanoseconds since the epoch (a string of digits or an integer) as an ISO time with
    microseconds, as the SDK exporter writes it; anything else is passed on unchanged."""
    if type(nanos) is str and len(nanos) <= _DIGITS and nanos.isascii() and nanos.isdigit():
        nanos = int(nanos)
    if type(nanos) is not int or nanos < 0:
        return nanos
    seconds, micros = divmod(nanos // 1000, 1_000_000)
    try:
        return (_EPOCH + timedelta(seconds=seconds, microseconds=micros)).isoformat()
    except OverflowError:
        return str(nanos)  # past year 9999: the reader rejects it as a bad time


def _status(status: dict[str, Any]) -> dict[str, Any]:
    code = status.get("code")
    if type(code) is int:
        code = _STATUS_NAMES.get(code, str(code))
    elif type(code) is str:
        code = code.removeprefix(_STATUS_PREFIX)
    return {"status_code": code, "description": status.get("message")}


def attributes(kvs: Any) -> dict[str, Any]:
    """OTLP's ``[{"key": k, "value": AnyValue}]`` as a plain object (later keys win)."""
    out: dict[str, Any] = {}
    if type(kvs) is not list:
        return out
    for kv in kvs:
        if type(kv) is dict and type(kv.get("key")) is str:
            out[kv["key"]] = any_value(kv.get("value"), 0)
    return out


def any_value(v: Any, depth: int) -> Any:
    """An OTLP ``AnyValue`` as the JSON value it holds: ``intValue`` (a string, as proto3 writes
    an int64) as an integer, arrays and kvlists unwrapped; an empty or unknown one is None."""
    if type(v) is not dict or depth > _MAX_DEPTH:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        i = v["intValue"]
        if type(i) is str and len(i) <= _DIGITS:
            try:
                return int(i)
            except ValueError:
                pass
        return i
    if "doubleValue" in v:
        return v["doubleValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "arrayValue" in v:
        arr = v["arrayValue"]
        values = arr.get("values") if type(arr) is dict else None
        return [any_value(x, depth + 1) for x in values] if type(values) is list else []
    if "kvlistValue" in v:
        kv = v["kvlistValue"]
        values = kv.get("values") if type(kv) is dict else None
        if type(values) is not list:
            return {}
        return {
            x["key"]: any_value(x.get("value"), depth + 1)
            for x in values
            if type(x) is dict and type(x.get("key")) is str
        }
    if "bytesValue" in v:
        return v["bytesValue"]
    return None
