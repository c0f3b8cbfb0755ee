"""A small TOML writer: enough for the values a config holds (``claude-top config`` prints one).

``tomllib`` only reads; the effective configuration must be written back so that ``load``
reads it to the same settings, so keys and strings are quoted by TOML's own rules here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_string(s: str) -> str:
    out = ['"']
    for c in s:
        o = ord(c)
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def toml_value(v: Any) -> str:
    """One value inline; tables inside arrays become inline tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        inner = ", ".join(f"{toml_key(str(k))} = {toml_value(x)}" for k, x in v.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def table_body(table: Mapping[str, Any], path: str) -> list[str]:
    """The ``key = value`` lines of one table, then its sub-tables as ``[path.key]``."""
    lines = [
        f"{toml_key(str(k))} = {toml_value(v)}"
        for k, v in table.items()
        if not isinstance(v, Mapping)
    ]
    for k, v in table.items():
        if isinstance(v, Mapping):
            sub = f"{path}.{toml_key(str(k))}"
            lines += ["", f"[{sub}]", *table_body(v, sub)]
    return lines


def section(table: Mapping[str, Any], path: str) -> list[str]:
    """A section written as sub-tables; a section with plain values gets its own header."""
    if not table:
        return []
    return ["", f"[{path}]", *table_body(table, path)]
