"""Dotted paths into a logged object, compiled once: where a mapping finds a field.

A path is ``usage.input_tokens``, ``metadata.user_id`` or ``request_tags.0``; a key that itself
holds dots, as OpenTelemetry's ``gen_ai.usage.input_tokens`` does, is found too (the longest
key made of the next segments is tried first, then shorter ones); a constant (``"=chat"``,
``"=5"``, a TOML number or boolean) finds itself. Nothing in an object can make a path raise:
one that meets the wrong type finds ``MISSING``. ``ingest.mapping`` reads every field of a
mapped line through these, some thirty paths a line, so what a path tries at each segment is
worked out when it is compiled.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from claude_top.core.errors import ConfigError

MISSING: Final[Any] = object()
"""What a path finds when the object has nothing there (told apart from a JSON null)."""

PATH_MAX_SEGMENTS = 16
PATH_MAX_CHARS = 256


def _constant(text: str) -> Any:
    """A constant's value: ``"=5"`` is the number 5 (a count or a latency), ``"=chat"`` text."""
    if _NUMBER.fullmatch(text):
        f = float(text)
        return int(f) if f.is_integer() and "." not in text and "e" not in text.lower() else f
    return text


_NUMBER: Final = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")


class Path:
    """A compiled dotted path, or a constant. Calling it on an object finds the value.

    What ``walk`` tries at each segment is worked out here, once: the longer keys an object
    there may hold (the next segments joined by dots, longest first, each with the segment
    after it) and the segment as an array index, so reading a path joins no strings."""

    __slots__ = ("const", "indexes", "longer", "segments", "text")

    def __init__(self, text: str, segments: tuple[str, ...], const: Any = MISSING) -> None:
        self.text = text
        self.segments = segments
        self.const = const
        n = len(segments)
        self.longer = tuple(
            tuple((j, ".".join(segments[i:j])) for j in range(n, i + 1, -1)) for i in range(n)
        )
        self.indexes = tuple(int(s) if s.isascii() and s.isdigit() else -1 for s in segments)

    def __repr__(self) -> str:
        return f"Path({self.text!r})"

    def __call__(self, obj: Any) -> Any:
        if self.const is not MISSING:
            return self.const
        return walk(obj, self, 0)


def walk(v: Any, path: Path, i: int) -> Any:
    """The value at segment ``i`` on of ``path`` under ``v``: in an object the longest key made
    of the next segments joined by dots is tried first (``gen_ai.usage.input_tokens`` is one
    key in OTel's attributes), then shorter ones, down to the segment alone; in an array a
    segment must be an index. The last choice at a segment, the segment alone, is stepped into
    in the loop (nothing is left to try there if it finds nothing); only a longer key that is
    present recurses."""
    segments, longer, indexes = path.segments, path.longer, path.indexes
    n = len(segments)
    while i < n:
        if type(v) is dict:
            for j, key in longer[i]:
                if key in v:
                    found = walk(v[key], path, j)
                    if found is not MISSING:
                        return found
            key = segments[i]
            if key not in v:
                return MISSING
            v = v[key]
        elif type(v) is list:
            at = indexes[i]
            if not 0 <= at < len(v):
                return MISSING
            v = v[at]
        else:
            return MISSING
        i += 1
    return v


def compile_path(spec: Any, where: str) -> Path:
    """A path (``"a.b.0"``), a constant (``"=chat"``; a number or a boolean), or a ConfigError."""
    if isinstance(spec, bool) or (isinstance(spec, int | float) and math.isfinite(spec)):
        return Path(repr(spec), (), spec)
    if not isinstance(spec, str):
        raise ConfigError(f'{where}: must be a dotted path, a "=constant", or a list of them')
    if spec.startswith("="):
        text = spec[1:]
        return Path(spec, (), _constant(text))
    segs = tuple(spec.split("."))
    if not spec or len(spec) > PATH_MAX_CHARS or len(segs) > PATH_MAX_SEGMENTS or "" in segs:
        raise ConfigError(f"{where}: {spec!r} is not a dotted path (a.b.0, at most 16 parts)")
    return Path(spec, segs)


def compile_paths(spec: Any, where: str) -> tuple[Path, ...]:
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(f"{where}: an empty list of paths")
        return tuple(compile_path(s, f"{where}[{i}]") for i, s in enumerate(spec))
    return (compile_path(spec, where),)
