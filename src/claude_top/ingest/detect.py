"""Which format a source is written in, from its first call.

With no preset named (``--preset`` / ``[log] preset``), the engine asks this module about each
source's lines until it is decided: the first JSON object that some format (the native one or a
preset, with the user's ``[log.fields]`` over it) reads as a call record -- with token counts of
its own, not a failed call's zeros -- decides. Of several formats that read it, the one that
finds the most of its fields wins (the native format first among equals). Deciding on the first
call, not on a vote over many, makes the choice the same however the lines arrive: a one-shot
read, a follower's line-at-a-time batches and a two-core split all pick the same format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from claude_top.core.record import Record
from claude_top.ingest import otlp
from claude_top.ingest.fieldpath import MISSING
from claude_top.ingest.mapping import Mapping
from claude_top.ingest.presets import NAMES
from claude_top.ingest.reader import mapped_judge, parse_line

COUNTS = ("input_tokens", "output_tokens")


def _fit(m: Mapping | None, found: list[int]) -> Callable[[dict[str, Any]], Any]:
    """A judge that also says how much of the object ``m`` finds (into ``found``), and reads
    an object only if it holds token counts itself."""
    judge = mapped_judge(m)

    def fit(d: dict[str, Any]) -> Any:
        if m is None:
            found.append(sum(k in d for k in ("timestamp", "feature", "model", *COUNTS)))
        else:
            if not any(type(m.find(d, k)) is int for k in COUNTS):
                return None
            found.append(sum(m.find(d, name) is not MISSING for name in m.paths))
        return judge(d)

    return fit


def detect(lines: list[bytes], mapping_of: Callable[[str], Mapping | None]) -> str | None:
    """The format of the first object of ``lines`` that a format reads as a call, or None when
    there is none yet (``mapping_of`` gives each format's mapping by name)."""
    found: list[int] = []
    judges = [(name, _fit(mapping_of(name), found)) for name in NAMES]
    for raw in _calls(lines):
        best, score = None, -1
        for name, judge in judges:
            found.clear()
            if type(parse_line(raw, 0, judge)) is Record and found and found[-1] > score:
                best, score = name, found[-1]
        if best is not None:
            return best
    return None


def _calls(lines: list[bytes]) -> Iterator[bytes]:
    """The lines that may hold a call, an OTLP/JSON export's spans each on its own (flattened,
    as the reader judges them: ``ingest.otlp``)."""
    for raw in lines:
        if b"{" not in raw:
            continue
        if otlp.KEY.encode() in raw:
            try:
                obj = orjson.loads(raw[raw.find(b"{") :])
            except orjson.JSONDecodeError:
                obj = None
            if type(obj) is dict and otlp.is_export(obj):
                yield from (orjson.dumps(span) for span in otlp.spans(obj))
                continue
        yield raw
