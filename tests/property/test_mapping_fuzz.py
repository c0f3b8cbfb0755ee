"""No mapping can crash the reader: random paths and constants over hostile objects.

A mapping is the user's config, an object is the log's: whatever either holds, a line is judged
(record, foreign, unmapped, or rejected with a reason) and never an "internal error", and a
record it yields goes through the engine's accumulate step without one either.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.errors import ConfigError
from claude_top.core.record import Record
from claude_top.core.schema import MAPPABLE
from claude_top.engine.engine import Engine
from claude_top.ingest import mapping as M
from claude_top.ingest.presets import NAMES
from claude_top.ingest.reader import R_INTERNAL, Rejected, Unmapped, mapped_judge, parse_line

KEYS = st.sampled_from(
    ["usage", "input_tokens", "model", "a", "0", "1", "gen_ai.usage", "x.y", "", "metadata",
     "prompt_tokens", "timestamp", "status", "error", "startTime", "endTime", "é", "\x00"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "HTTP 429",
            "failure",
            "success",
            "ERROR",
            "2026-11-27T10:00:00Z",
            "claude-sonnet-4-6",
            "length",
            "429",
            "1e400",
            "-5",
        ]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=30,
)
PATH = st.lists(KEYS, min_size=1, max_size=5).map(".".join)
SPEC = st.one_of(
    PATH,
    st.text(max_size=8).map(lambda s: "=" + s),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(PATH, max_size=3),
    st.none(),
    st.dictionaries(KEYS, SCALARS, max_size=2),
)
FIELDS = st.dictionaries(st.sampled_from([m.name for m in MAPPABLE] + ["nope"]), SPEC, max_size=8)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "input_includes_cache": st.one_of(st.booleans(), SCALARS),
        "latency_unit": st.sampled_from(["ms", "s", "h", 3]),
        "null_is_zero": st.booleans(),
        "values": st.dictionaries(
            st.sampled_from(["stop_reason", "error", "model", "x"]),
            st.one_of(st.dictionaries(st.text(max_size=5), st.text(max_size=5)), SCALARS),
            max_size=2,
        ),
    },
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    preset=st.sampled_from(NAMES),
    fields=FIELDS,
    options=OPTIONS,
    objects=st.lists(st.dictionaries(KEYS, JSON, max_size=8), min_size=1, max_size=6),
)
def test_no_mapping_crashes_the_reader(
    preset: str, fields: dict[str, Any], options: dict[str, Any], objects: list[Any]
) -> None:
    try:
        m = M.build(preset, fields, options)
    except ConfigError:
        return  # a mistake in the config is said as one line before anything is read
    judge = mapped_judge(m)
    lines = [json.dumps(o).encode() for o in objects]
    for raw in lines:
        verdict = parse_line(raw, 0, judge)
        assert verdict is None or type(verdict) in (Record, Rejected, Unmapped)
        assert verdict != Rejected(R_INTERNAL), raw
    e = Engine(log_format=M.LogFormat(preset, fields, options))
    e.ingest_lines(lines)
    assert R_INTERNAL not in e.lines.by_reason
    assert e.lines.lines == len(lines)
    e.query()
