"""The JSON documents claude-top writes (``summary``, ``check``, the TUI's export), as bytes.

orjson writes them fast, but refuses an integer past 64 bits. The schema's limits
(``core.schema.LIMITS``) keep every value of a line, and every sum of any real log, far below
that; a sum could still pass it after some four billion lines at the limit of every count.
Such a document is then written by the standard library, which writes every integer exactly:
a number from a log can never stop the tool from writing its answer.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson


def dumps(doc: Any, *, indent: bool = False) -> bytes:
    """``doc`` as JSON; integers of any size exactly, non-finite floats as null (as orjson)."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else None)
    except orjson.JSONEncodeError:
        pass
    layout: dict[str, Any] = {"indent": 2} if indent else {"separators": (",", ":")}
    return json.dumps(_finite(doc), ensure_ascii=False, allow_nan=False, **layout).encode()


def _finite(v: Any) -> Any:
    """``v`` with NaN and infinities as None, as orjson writes them."""
    if type(v) is float:
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v
