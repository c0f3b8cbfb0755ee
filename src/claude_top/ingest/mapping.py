"""Field mapping: reading a call logged in another shape as if it were a native line.

A mapping says, for each canonical field (``core.schema.MAPPABLE``), where the value sits in the
object: a dotted path or a constant (``ingest.fieldpath``), or a list of them tried in order.
It also states what the values mean, because apps disagree:

* ``input_includes_cache``: OpenAI, OTel GenAI and LiteLLM count cache reads and writes inside
  the input; the Anthropic API does not. With it set, the cached parts are taken out of the
  input, so each token is billed in exactly one category (never a cached token twice);
* ``latency_unit``: ``ms`` or ``s``; with no latency field, ``end_time - start_time``;
* ``null_is_zero``: a token count logged as null counts 0;
* ``error_status`` may be a number, a string of digits or a text holding one (``"HTTP 429"``),
  and ``outcome`` a word (``success`` / ``failure``, OTel's ``OK`` / ``ERROR``); a failed call
  that logs no token counts used none (0);
* ``[log.values.FIELD]`` renames values (OpenAI's finish reason ``length`` is ``max_tokens``).

``project`` turns an object into the native flat dict; ``ingest.reader`` judges that dict by the
native rules, so a mapped line gets the same verdicts, reasons and accounting as a native one.
Nothing in an object can make this module raise: a path that meets the wrong type finds nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping as AnyMapping
from typing import Any, Final

from msgspec import Struct, field
from msgspec.structs import force_setattr

from claude_top.core.errors import ConfigError
from claude_top.core.schema import (
    FAILURE_WORDS,
    LATENCY_UNITS,
    MAPPABLE,
    MAPPABLE_BY_NAME,
    SUCCESS_WORDS,
)
from claude_top.core.timeutil import parse_timestamp
from claude_top.ingest.fieldpath import MISSING, Path, compile_paths, walk
from claude_top.ingest.presets import NAMES, NATIVE, PRESETS

_STATUS_IN_TEXT: Final = re.compile(r"(?<![0-9])([1-5][0-9][0-9])(?![0-9])")


class Mapping(Struct, frozen=True):
    """A compiled mapping: where each canonical field is, and what its values mean."""

    name: str
    """The preset it starts from, or ``custom``."""
    paths: dict[str, tuple[Path, ...]]
    input_includes_cache: bool = False
    latency_unit: str = "ms"
    null_is_zero: bool = True
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    plan: tuple[tuple[str, str | None, tuple[Path, ...], bool, dict[str, str] | None], ...] = ()
    """What ``project`` reads, worked out from the fields above when the mapping is made: for
    each mapped field in ``MAPPABLE`` order, its name, native key, paths, whether a null counts
    0 and its renames."""

    def __post_init__(self) -> None:
        plan = tuple(
            (m.name, m.key, self.paths[m.name], m.is_count and self.null_is_zero,
             self.values.get(m.name) or None)
            for m in MAPPABLE
            if m.name in self.paths
        )  # fmt: skip
        force_setattr(self, "plan", plan)

    def find(self, obj: dict[str, Any], name: str) -> Any:
        """The first present, non-null value of a field's paths; else None if one was a null,
        else ``MISSING``."""
        got = MISSING
        for p in self.paths.get(name, ()):
            v = p.const
            if v is MISSING:
                v = walk(obj, p, 0)
            if v is None:
                got = None
            elif v is not MISSING:
                return v
        return got

    def project(self, obj: dict[str, Any]) -> dict[str, Any] | str:
        """The object as a native line (``core.schema`` keys), or a rejection reason."""
        found: dict[str, Any] = {}
        out: dict[str, Any] = {}
        for name, key, paths, zero_null, renames in self.plan:
            v = MISSING  # as ``find``, inlined: the first present, non-null value
            for p in paths:
                got = p.const
                if got is MISSING:
                    got = walk(obj, p, 0)
                if got is None:
                    v = None
                elif got is not MISSING:
                    v = got
                    break
            if v is None and zero_null:
                v = 0
            if v is not MISSING:
                if renames and type(v) is str:
                    v = renames.get(v, v)
                found[name] = v
                if key is not None:
                    out[key] = v
        reason = (
            self._latency(found, out)
            or self._ttft(found, out)
            or self._writes(found, out)
            or self._uncached_input(out)
            or self._status(found, out)
        )
        return reason or out

    def _ttft(self, found: dict[str, Any], out: dict[str, Any]) -> str | None:
        ttft = found.get("ttft")
        if ttft is not None:
            if (type(ttft) is int or type(ttft) is float) and self.latency_unit != "ms":
                out["ttft_ms"] = _ms(ttft * LATENCY_UNITS[self.latency_unit])
            return None
        start, first = found.get("start_time"), found.get("first_token_time")
        if start is None or first is None:
            return None
        t0, t1 = parse_timestamp(start), parse_timestamp(first)
        if t0 is None or t1 is None:
            return "bad first_token_time"
        end = parse_timestamp(found.get("end_time"))
        if end is not None and t1 >= end:
            return None  # LiteLLM sets it to the end time for a call that did not stream
        out["ttft_ms"] = _ms((t1 - t0) * 1000.0)
        return None

    def _latency(self, found: dict[str, Any], out: dict[str, Any]) -> str | None:
        lat = found.get("latency")
        if lat is not None:
            if (type(lat) is int or type(lat) is float) and self.latency_unit != "ms":
                out["latency_ms"] = _ms(lat * LATENCY_UNITS[self.latency_unit])
            return None
        start, end = found.get("start_time"), found.get("end_time")
        if start is None or end is None:
            return None
        t0, t1 = parse_timestamp(start), parse_timestamp(end)
        if t0 is None:
            return "bad start_time"
        if t1 is None:
            return "bad end_time"
        out["latency_ms"] = _ms((t1 - t0) * 1000.0)  # negative: rejected as "bad latency_ms"
        return None

    @staticmethod
    def _writes(found: dict[str, Any], out: dict[str, Any]) -> str | None:
        total = found.get("cache_write_tokens")
        if total is None or "cache_creation_tokens" in out:
            return None
        w1 = out.get("cache_creation_1h_tokens", 0)
        if type(total) is not int or type(w1) is not int:
            out["cache_creation_tokens"] = total  # the native rule says what is wrong
            return None
        if w1 > total:
            return "bad cache_write_tokens"
        out["cache_creation_tokens"] = total - w1
        return None

    def _uncached_input(self, out: dict[str, Any]) -> str | None:
        """With ``input_includes_cache``, the input less its cache reads and writes."""
        if not self.input_includes_cache or "input_tokens" not in out:
            return None
        parts = [out.get(k, 0) for k in ("cached_tokens", "cache_creation_tokens",
                                          "cache_creation_1h_tokens")]  # fmt: skip
        total = out["input_tokens"]
        if not all(type(p) is int for p in (total, *parts)):
            return None  # the native rules reject the one that is not a count
        rest = total - sum(parts)
        if rest < 0:
            return "bad input_tokens"  # fewer input tokens than its cached part
        out["input_tokens"] = rest
        return None

    @staticmethod
    def _status(found: dict[str, Any], out: dict[str, Any]) -> str | None:
        failed = False
        outcome = found.get("outcome")
        if outcome is not None:
            word = str(outcome).strip().lower() if type(outcome) in (str, int) else None
            if word in FAILURE_WORDS or word == "2":  # OTLP's STATUS_CODE_ERROR is 2
                failed = True
            elif word not in SUCCESS_WORDS and word not in ("0", "1"):
                return "bad outcome"
        status = out.get("error_status")
        if type(status) is str and not status.strip().isdigit():
            word = status.strip().lower()
            m = _STATUS_IN_TEXT.search(status)
            if m is not None:
                out["error_status"] = int(m.group(1))
            elif word in FAILURE_WORDS:
                failed = True
                del out["error_status"]
            elif word in SUCCESS_WORDS or not word:
                del out["error_status"]
        st = out.get("error_status")
        if failed and out.get("error") is None:
            out["error"] = f"HTTP {st}" if type(st) is int else "error"
        if out.get("error") is not None or (type(st) is int and st >= 400):
            # A failed call often logs no usage at all: it used no tokens.
            out.setdefault("input_tokens", 0)
            out.setdefault("output_tokens", 0)
        return None


def _ms(x: float) -> float:
    """Milliseconds computed from seconds, to the nearest one (0.3 s is 300 ms, not 299)."""
    return float(round(x)) if math.isfinite(x) and abs(x) < 2**53 else x


def build(preset: str, fields: AnyMapping[str, Any], options: AnyMapping[str, Any]) -> Mapping:
    """A preset (a name from ``presets.NAMES``) with the user's fields and options over it.

    ``claude-top`` with fields starts from the native keys: ``[log.fields] feature = "=chat"``
    on a native log fills the one field it lacks."""
    if preset not in NAMES:
        raise ConfigError(f"log.preset: unknown preset {preset!r} (known: {', '.join(NAMES)})")
    base = PRESETS.get(preset) or _native_spec()
    spec_fields = {**base["fields"], **fields}
    paths: dict[str, tuple[Path, ...]] = {}
    for name, spec in spec_fields.items():
        if name not in MAPPABLE_BY_NAME:
            known = ", ".join(m.name for m in MAPPABLE)
            raise ConfigError(f"log.fields.{name}: not a field claude-top reads (known: {known})")
        paths[name] = compile_paths(spec, f"log.fields.{name}")
    opts = {k: v for k, v in base.items() if k not in ("fields", "values")} | dict(options)
    includes = opts.get("input_includes_cache", False)
    if not isinstance(includes, bool):
        raise ConfigError("log.input_includes_cache: must be true or false")
    unit = opts.get("latency_unit", "ms")
    if unit not in LATENCY_UNITS:
        raise ConfigError(f"log.latency_unit: must be one of {', '.join(LATENCY_UNITS)}")
    nulls = opts.get("null_is_zero", True)
    if not isinstance(nulls, bool):
        raise ConfigError("log.null_is_zero: must be true or false")
    values = {k: dict(v) for k, v in base.get("values", {}).items()}
    for name, renames in (opts.get("values") or {}).items():
        if name not in MAPPABLE_BY_NAME or not isinstance(renames, AnyMapping):
            raise ConfigError(f"log.values.{name}: must be a table of logged value = our value")
        if not all(isinstance(v, str) for v in renames.values()):
            raise ConfigError(f"log.values.{name}: every value must be a string")
        values.setdefault(name, {}).update(renames)
    name = preset if not fields and not options.get("values") else f"{preset}+fields"
    return Mapping(name, paths, includes, str(unit), nulls, values)


def _native_spec() -> dict[str, Any]:
    """The native format written as a mapping: each field at its own key (with aliases)."""
    return {
        "fields": {
            "timestamp": "timestamp",
            "request_id": "request_id",
            "user_id": "user_id",
            "feature": "feature",
            "model": "model",
            "input_tokens": "input_tokens",
            "output_tokens": "output_tokens",
            "cache_read_tokens": ["cached_tokens", "cache_read_input_tokens"],
            "cache_write_5m_tokens": ["cache_creation_tokens", "cache_creation_input_tokens"],
            "cache_write_1h_tokens": "cache_creation_1h_tokens",
            "latency": "latency_ms",
            "stop_reason": "stop_reason",
            "error": "error",
            "error_status": "error_status",
            "batch": "batch",
            **{m.name: m.name for m in MAPPABLE if m.key == m.name and m.name != "batch"},
        },
        "null_is_zero": False,
    }


PRESET_MAPPINGS: Final[dict[str, Mapping]] = {name: build(name, {}, {}) for name in PRESETS}
"""Every mapped preset, compiled once (auto-detection and the unmapped hint try them all)."""


class LogFormat(Struct, frozen=True):
    """The ``[log]`` choice: a preset (None: detect it per source) and the fields over it."""

    preset: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def custom(self) -> bool:
        return bool(self.fields or self.options)

    def mapping(self, preset: str) -> Mapping | None:
        """The mapping to read a source in ``preset`` with; None for the native format."""
        if preset == NATIVE and not self.custom:
            return None
        if not self.custom:
            return PRESET_MAPPINGS[preset]
        return build(preset, self.fields, self.options)

    @classmethod
    def from_config(cls, raw: AnyMapping[str, Any], cli_preset: str | None) -> LogFormat:
        """``[log]`` (already a table) and ``--preset``, which wins; a ConfigError names the key."""
        raw = dict(raw)
        preset = raw.pop("preset", None)
        if preset is not None and not isinstance(preset, str):
            raise ConfigError("log.preset: must be a string")
        if cli_preset is not None:
            preset = cli_preset
        if preset == "auto":
            preset = None
        fields = raw.pop("fields", {})
        if not isinstance(fields, AnyMapping):
            raise ConfigError("log.fields must be a table ([log.fields])")
        known = ("input_includes_cache", "latency_unit", "null_is_zero", "values")
        for key in raw:
            if key not in known:
                raise ConfigError(
                    f"log.{key}: unknown key (known: preset, fields, {', '.join(known)})"
                )
        fmt = cls(preset, dict(fields), raw)
        build(preset or NATIVE, fmt.fields, fmt.options)  # validate now
        return fmt
