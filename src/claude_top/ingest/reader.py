"""Classifying log lines: a call record, a foreign line, or a rejected line with its reason.

Real logs mix our JSON lines with other loggers' output, tracebacks and blank lines, and wrap
them in prefixes (``INFO:root:``, asctime, syslog, CRI) or in docker's json-file envelope. Every
line lands in exactly one class, so nothing read is silently lost: foreign lines are expected
noise, rejected lines are call records we could not use, counted by reason.

A line in another shape is read through a mapping (``ingest.mapping``): its object is projected
onto the native keys and judged by the same rules (``record_from_mapped``). A line that looks like
a call (a model and token counts) but that the active mapping does not read is **unmapped**,
counted apart with the preset that would read it as a hint, never silently foreign.

This is the reference verdict for a line. Field names, aliases and kinds come from
``core.schema``; each kind has one validation rule (``ingest.kinds.RULES``). ``ingest.fast``
decodes the common shape faster and hands every other line to ``parse_line``; a differential test
(``tests/property/test_differential.py``) checks that both give the same verdict and values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from claude_top.core.record import Record
from claude_top.core.schema import (
    BILLED,
    FIELDS,
    MARKER_KEYS,
    SERVER_TOOLS,
    Field,
    Kind,
    billed_model,
)
from claude_top.core.stats import LineStats
from claude_top.ingest import otlp
from claude_top.ingest.kinds import ABSENT, BAD, RULES
from claude_top.ingest.mapping import PRESET_MAPPINGS, Mapping
from claude_top.ingest.otlp import Many
from claude_top.ingest.presets import NATIVE

BOM = b"\xef\xbb\xbf"


# Rejection reasons, stable strings: they are keys of the JSON summary's `rejected_by_reason`.
R_JSON = "invalid JSON"
R_UTF8 = "invalid UTF-8"
R_NOT_OBJECT = "not a JSON object"
R_TIMESTAMP = "bad timestamp"
R_TOO_LONG = "line too long"
R_INTERNAL = "internal error"
"""A bug met on this line: the line is rejected (its example kept) and reading goes on."""


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


class Unmapped:
    """A line that looks like a call record the active mapping does not read: ``hint`` names
    the preset that reads it (or fits it best)."""

    __slots__ = ("hint",)

    def __init__(self, hint: str) -> None:
        self.hint = hint

    def __repr__(self) -> str:
        return f"Unmapped({self.hint!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unmapped) and other.hint == self.hint

    def __hash__(self) -> int:
        return hash(self.hint)


FOREIGN = None
"""``parse_line`` returns None for a foreign line."""

Verdict = Record | Rejected | Unmapped | Many | None
Judge = Callable[[dict[str, Any]], Verdict]
"""What turns a decoded object into a verdict: ``record_from_dict`` (native) or a mapping's."""

_EXTRA_KEYS = frozenset((*BILLED, *SERVER_TOOLS, "ttft_ms", "cost_usd", "total_cost_usd"))
"""Keys a native line seldom has (the bill's dimensions, server tools, TTFT, the app's cost): read only when
the object holds one, so a line without them costs what it did before they existed."""


def _step(f: Field) -> tuple[str, tuple[str, ...], str, bool, Callable[[Any], Any], str, Any]:
    """What ``_native`` does with a field, as a plain tuple read once per line: its key, its
    aliases, its ``Record`` slot, whether it is required, its kind's rule, the reason its
    unusable value gives, and its value when absent."""
    assert f.slot is not None
    bad = R_TIMESTAMP if f.kind is Kind.TIMESTAMP else r_type(f.key)
    return f.key, f.aliases, f.slot, f.required, RULES[f.kind], bad, ABSENT.get(f.kind)


_READ = tuple(_step(f) for f in FIELDS if f.slot is not None and f.key not in _EXTRA_KEYS)
_READ_ALL = _READ + tuple(_step(f) for f in FIELDS if f.slot is not None and f.key in _EXTRA_KEYS)


def record_from_dict(d: dict[str, Any]) -> Verdict:
    """Validate a decoded JSON object; None when it is not a call record at all.

    Fields are checked in ``FIELDS`` order; the first unusable one gives the reason.
    """
    if not any(k in d for k in MARKER_KEYS):
        return unread(d, NATIVE)
    verdict = _native(d)
    if type(verdict) is Rejected and verdict.reason.startswith("missing "):
        return unread(d, NATIVE) or verdict
    return verdict


def _native(d: dict[str, Any]) -> Record | Rejected:
    values: dict[str, Any] = {}
    extra = not _EXTRA_KEYS.isdisjoint(d)
    for key, aliases, slot, required, rule, bad, absent in _READ_ALL if extra else _READ:
        v = d.get(key)
        if v is None:
            for alias in aliases:  # the first alias with a value stands for the key
                v = d.get(alias)
                if v is not None:
                    break
            else:
                if required:
                    return Rejected(r_missing(key))
                values[slot] = absent
                continue
        got = rule(v)
        if got is BAD:
            return Rejected(bad)
        values[slot] = got
    values["request_id"] = values["request_id"] or ""
    values["user_id"] = values["user_id"] or ""
    if extra:
        billed = {k: values.pop(k) for k in BILLED}
        if billed["service_tier"] == "batch":
            values["batch"] = True  # the Batch API's tier: its published discount
        values["model"] = billed_model(values["model"], billed)
    status = values["error_status"]
    # An error status without an error name is still an error.
    if values["error"] is None and status is not None and status >= 400:
        values["error"] = f"HTTP {status}"
    return Record(**values)


def record_from_mapped(d: dict[str, Any], mapping: Mapping) -> Verdict:
    """The verdict on an object read through ``mapping``: its projection judged as native."""
    projected = mapping.project(d)
    if type(projected) is str:
        return Rejected(projected)
    assert type(projected) is dict
    if not any(k in projected for k in MARKER_KEYS):
        return unread(d, mapping.name)
    verdict = _native(projected)
    if type(verdict) is Rejected and verdict.reason.startswith("missing "):
        return unread(d, mapping.name) or verdict
    return verdict


def mapped_judge(mapping: Mapping | None) -> Judge:
    """The judge of objects read through ``mapping`` (None: the native format)."""
    if mapping is None:
        return record_from_dict
    return lambda d: record_from_mapped(d, mapping)


def unread(d: dict[str, Any], active: str) -> Unmapped | None:
    """An object the ``active`` format does not read as a record: ``Unmapped`` with the preset
    that does (or that finds the most of it) if it looks like a call -- a model and a token
    count -- else None (foreign). Runs for foreign and incomplete objects only, never for a
    record."""
    best, score = None, (False, 0)
    if (
        active != NATIVE
        and type(d.get("model")) is str
        and (type(d.get("input_tokens")) is int or type(d.get("output_tokens")) is int)
    ):
        best, score = NATIVE, (type(_native(d)) is Record, len(d))
    for name, m in PRESET_MAPPINGS.items():
        if name == active:
            continue
        # Counts the object itself holds (a failed call's counts default to 0 in ``project``).
        if not any(type(m.find(d, k)) is int for k in ("input_tokens", "output_tokens")):
            continue
        p = m.project(d)
        if type(p) is not dict or type(p.get("model")) is not str:
            continue
        # The preset that reads it as a record wins; of several, the one that finds the most.
        fit = (type(_native(p)) is Record, len(p))
        if fit > score:
            best, score = name, fit
    return Unmapped(best) if best is not None else FOREIGN


_MARKERS = tuple(k.encode() for k in MARKER_KEYS)
_ARTICLE_HINTS = tuple(f'"{k}"'.encode() for k in ("timestamp", "feature", "model"))


def _looks_like_record(raw: bytes) -> bool:
    """Whether bytes that are not a JSON object we can read claim to be a call record.

    The test for a broken line (invalid JSON or UTF-8): it holds a marker key
    (``core.schema.MARKER_KEYS``, anywhere), or one of the article's ``"timestamp"``,
    ``"feature"`` or ``"model"`` keys, quoted as a JSON key is. A truncated line of ours
    (``{"timestamp": "2026-``) has at least its first key. The price: a broken line of another
    JSON logger that has a ``"timestamp"`` key counts as rejected, not foreign, which says
    more than hiding a broken record of ours would.
    """
    return any(k in raw for k in _MARKERS) or any(k in raw for k in _ARTICLE_HINTS)


def _holds_record(value: Any) -> bool:
    """Whether a decoded JSON value other than an object holds an object with a marker key
    (``[{...a record...}]``): a record in a shape we do not read, rejected as not an object.
    A value without one (``[1, 2, 3]``, a string) is foreign."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is dict:
            if any(k in v for k in MARKER_KEYS):
                return True
            stack.extend(v.values())
        elif type(v) is list:
            stack.extend(v)
    return False


_INTERNAL = Rejected(R_INTERNAL)

_NOT_JSON = Rejected("")
"""``_not_an_object``'s answer for a line that is not one JSON value (the brace path judges);
told apart by identity, never returned by ``parse_line``."""


def _not_an_object(raw: bytes) -> Rejected | None:
    """The verdict on a line that is a whole JSON value but not an object."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _NOT_JSON
    return Rejected(R_NOT_OBJECT) if _holds_record(value) else FOREIGN


def parse_line(raw: bytes, _depth: int = 0, judge: Judge | None = None) -> Verdict:
    """Classify one line (no newline), its object judged by ``judge``. Never raises."""
    if raw.startswith(BOM):
        raw = raw[3:]
    raw = raw.strip()
    if not raw:
        return FOREIGN
    start = raw.find(b"{")
    if start != 0 and raw[:1] in b'["-0123456789tfn':
        # A whole JSON value that is not an object: an array, a string, a number...
        verdict = _not_an_object(raw)
        if verdict is not _NOT_JSON:
            return verdict
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
        return parse_line(inner.encode("utf-8", "surrogatepass"), 1, judge)
    try:
        if otlp.is_export(obj):
            many: Many | None = otlp.judge_spans(obj, judge or record_from_dict, _INTERNAL)
            return many
        return record_from_dict(obj) if judge is None else judge(obj)
    except Exception:  # a bug: a reader must never crash the tool
        return Rejected(R_INTERNAL)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def timestamp_of(raw: bytes, judge: Judge | None = None) -> float | None:
    """A line's event time, if it is a call record (used to seek in time-ordered files); a
    line in another shape is read by the preset its unmapped verdict names."""
    r = _first(parse_line(raw, 0, judge))
    if type(r) is Unmapped:
        r = _first(parse_line(raw, 0, mapped_judge(PRESET_MAPPINGS.get(r.hint))))
    return r.ts if isinstance(r, Record) else None


def _first(r: Verdict) -> Verdict:
    """A line's first record (or its first verdict) when it holds several."""
    if type(r) is not Many:
        return r
    return next((v for v in r.verdicts if type(v) is Record), r.verdicts[0])


def take_line(
    raw: bytes,
    lineno: int,
    source: str,
    stats: LineStats,
    out: list[Any],
    judge: Judge | None = None,
) -> None:
    """Classify one line: count it in ``stats``, and append it to ``out`` if it is a record.

    Whatever goes wrong in classifying it rejects this line alone ("internal error")."""
    try:
        r = parse_line(raw) if judge is None else parse_line(raw, 0, judge)
    except Exception:
        r = Rejected(R_INTERNAL)
    if type(r) is Many:
        for v in r.verdicts:
            _tally(v, raw, lineno, source, stats, out)
        return
    _tally(r, raw, lineno, source, stats, out)


def _tally(
    r: Verdict, raw: bytes, lineno: int, source: str, stats: LineStats, out: list[Any]
) -> None:
    if r is None:
        stats.foreign += 1
    elif type(r) is Rejected:
        stats.reject(source, lineno, r.reason, raw)
    elif type(r) is Unmapped:
        stats.unmap(r.hint)
    else:
        stats.records += 1
        out.append(r)


def decode_batch(
    lines: list[bytes],
    source: str,
    first_lineno: int,
    stats: LineStats,
    judge: Judge | None = None,
) -> list[Any]:
    """Every record of a batch of lines, in order, by the reference verdict alone."""
    out: list[Any] = []
    for i, raw in enumerate(lines):
        take_line(raw, first_lineno + i, source, stats, out, judge)
    return out
