"""Field mapping: paths, constants and what each value means, judged by the native rules."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.core.errors import ConfigError
from claude_top.core.record import Record
from claude_top.ingest.fieldpath import MISSING, compile_path
from claude_top.ingest.mapping import LogFormat, build
from claude_top.ingest.reader import Rejected, Unmapped, mapped_judge, parse_line

BASE = {"timestamp": "=2026-11-27T10:00:00Z", "feature": "=chat", "model": "=claude-haiku-4-5"}


def judge(obj: dict[str, Any], preset: str = "claude-top", **opts: Any) -> Any:
    fields = {**BASE, **opts.pop("fields", {})}
    return parse_line(orjson.dumps(obj), 0, mapped_judge(build(preset, fields, opts)))


def test_paths_find_nested_keys_indexes_and_keys_with_dots() -> None:
    obj = {"a": {"b": [{"c": 1}, {"c": 2}]}, "attributes": {"gen_ai.usage.input_tokens": 7}}
    assert compile_path("a.b.1.c", "x")(obj) == 2
    assert compile_path("attributes.gen_ai.usage.input_tokens", "x")(obj) == 7
    assert compile_path("a.b.9.c", "x")(obj) is MISSING
    assert compile_path("a.b.c", "x")(obj) is MISSING  # a list is indexed, not keyed
    assert compile_path("=chat", "x")(obj) == "chat"
    assert compile_path(3, "x")(obj) == 3


def test_bad_paths_are_config_errors() -> None:
    for bad in ("", "a..b", ".".join("a" * 17), None, {"a": 1}, float("nan")):
        with pytest.raises(ConfigError):
            compile_path(bad, "log.fields.feature")


def test_a_mapped_line_is_judged_by_the_native_rules() -> None:
    fields = {"input_tokens": "u.i", "output_tokens": "u.o", "latency": "ms"}
    r = judge({"u": {"i": 10, "o": 5}, "ms": 1200}, fields=fields)
    assert type(r) is Record and (r.input_tokens, r.output_tokens, r.latency_ms) == (10, 5, 1200)
    r = judge({"u": {"i": -1, "o": 5}, "ms": 1200}, fields=fields)
    assert r == Rejected("bad input_tokens")
    r = judge({"u": {"o": 5}, "ms": 1200}, fields=fields)
    assert r == Rejected("missing input_tokens")


def test_input_that_includes_the_cache_is_billed_once() -> None:
    fields = {"input_tokens": "p", "output_tokens": "o", "cache_read_tokens": "c",
              "cache_write_tokens": "w", "latency": "=5"}  # fmt: skip
    r = judge({"p": 5000, "c": 4000, "w": 600, "o": 1}, fields=fields, input_includes_cache=True)
    assert type(r) is Record
    assert (r.input_tokens, r.cache_read_tokens, r.cache_write_5m_tokens) == (400, 4000, 600)
    r = judge({"p": 5000, "c": 4000, "w": 600, "o": 1}, fields=fields)
    assert type(r) is Record and r.input_tokens == 5000  # the Anthropic API's convention
    r = judge({"p": 100, "c": 4000, "o": 1}, fields=fields, input_includes_cache=True)
    assert r == Rejected("bad input_tokens")  # fewer input tokens than its cached part


def test_cache_writes_split_into_5m_and_1h() -> None:
    fields = {"input_tokens": "=1", "output_tokens": "=1", "latency": "=5",
              "cache_write_tokens": "w", "cache_write_1h_tokens": "h"}  # fmt: skip
    r = judge({"w": 1000, "h": 300}, fields=fields)
    assert type(r) is Record and (r.cache_write_5m_tokens, r.cache_write_1h_tokens) == (700, 300)
    assert judge({"w": 100, "h": 300}, fields=fields) == Rejected("bad cache_write_tokens")


def test_latency_in_seconds_or_as_end_minus_start() -> None:
    fields = {"input_tokens": "=1", "output_tokens": "=1", "latency": "d"}
    r = judge({"d": 1.25}, fields=fields, latency_unit="s")
    assert type(r) is Record and r.latency_ms == 1250
    fields = {"input_tokens": "=1", "output_tokens": "=1", "start_time": "s", "end_time": "e"}
    r = judge({"s": 1764237600.0, "e": 1764237602.5}, fields=fields)
    assert type(r) is Record and r.latency_ms == 2500
    r = judge({"s": "2026-11-27T10:00:00Z", "e": "2026-11-27T10:00:00.300Z"}, fields=fields)
    assert type(r) is Record and r.latency_ms == 300
    assert judge({"s": 10.0, "e": 5.0}, fields=fields) == Rejected("bad latency_ms")
    assert judge({"s": "soon", "e": 5.0}, fields=fields) == Rejected("bad start_time")


@pytest.mark.parametrize(
    ("status", "outcome", "want"),
    [
        (429, None, ("HTTP 429", 429)),
        ("429", None, ("HTTP 429", 429)),
        ("HTTP 529", None, ("HTTP 529", 529)),
        ("failure", None, ("error", None)),
        (None, "failure", ("error", None)),
        (None, "ERROR", ("error", None)),
        (None, "success", (None, None)),
        ("success", "OK", (None, None)),
    ],
)
def test_status_as_a_number_a_text_or_an_outcome(status: Any, outcome: Any, want: Any) -> None:
    fields = {"latency": "=5", "error_status": "st", "outcome": "oc"}
    obj = {k: v for k, v in (("st", status), ("oc", outcome)) if v is not None}
    r = judge({**obj, "in": 1}, fields={**fields, "input_tokens": "in", "output_tokens": "=0"})
    assert type(r) is Record and (r.error, r.error_status) == want


def test_a_failed_call_without_counts_used_no_tokens() -> None:
    r = judge({"e": "RateLimitError"}, fields={"latency": "=5", "error": "e", "input_tokens": "i"})
    assert type(r) is Record and (r.input_tokens, r.output_tokens, r.error) == (
        0,
        0,
        "RateLimitError",
    )


def test_null_counts_are_zero_unless_the_mapping_says_otherwise() -> None:
    fields = {"input_tokens": "i", "output_tokens": "o", "cache_read_tokens": "c", "latency": "=5"}
    r = judge({"i": 3, "o": 4, "c": None}, fields=fields, null_is_zero=True)
    assert type(r) is Record and r.cache_read_tokens == 0
    r = judge({"i": None, "o": 4}, fields=fields, null_is_zero=False)
    assert r == Rejected("missing input_tokens")


def test_values_are_renamed() -> None:
    fields = {"input_tokens": "=1", "output_tokens": "=1", "latency": "=5", "stop_reason": "f"}
    r = judge({"f": "length"}, "openai-style", fields=fields)
    assert type(r) is Record and r.stop_reason == "max_tokens"


def test_a_call_in_another_shape_is_unmapped_with_a_hint() -> None:
    line = orjson.dumps(
        {
            "model": "claude-haiku-4-5",
            "prompt_tokens": 10,
            "completion_tokens": 2,
            "startTime": 1764237600.0,
            "endTime": 1764237601.0,
            "request_tags": ["chat"],
            "status": "success",
        }
    )
    assert parse_line(line) == Unmapped("litellm")
    assert parse_line(b'{"model": "x", "msg": "no tokens here"}') is None  # foreign
    assert parse_line(b'{"prompt_tokens": 3}') is None  # no model: foreign


def test_log_format_from_config() -> None:
    fmt = LogFormat.from_config({"preset": "litellm", "fields": {"feature": "=x"}}, None)
    assert fmt.preset == "litellm" and fmt.custom
    assert LogFormat.from_config({"preset": "litellm"}, "auto").preset is None
    assert LogFormat.from_config({}, "anthropic").preset == "anthropic"
    with pytest.raises(ConfigError, match="unknown preset"):
        LogFormat.from_config({"preset": "nope"}, None)
    with pytest.raises(ConfigError, match=r"log\.colour: unknown key"):
        LogFormat.from_config({"colour": 1}, None)


def test_the_sdk_usage_gives_the_billed_model() -> None:
    obj = {
        "timestamp": "2026-11-27T10:00:00Z",
        "feature": "chat",
        "latency_ms": 900,
        "model": "claude-opus-5-5",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "service_tier": "priority",
            "speed": "fast",
            "inference_geo": "global",
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": None},
        },
    }
    r = parse_line(orjson.dumps(obj), 0, mapped_judge(build("anthropic", {}, {})))
    assert type(r) is Record and r.model == "claude-opus-5-5 (priority, fast)" and not r.batch
    obj["usage"] = {"input_tokens": 10, "output_tokens": 5, "service_tier": "batch"}
    r = parse_line(orjson.dumps(obj), 0, mapped_judge(build("anthropic", {}, {})))
    assert type(r) is Record and r.model == "claude-opus-5-5" and r.batch


def _spec_walk(v: Any, segs: tuple[str, ...], i: int) -> Any:
    """What a path finds, as the README states it: at an object the longest key made of the
    next segments joined by dots first, then shorter ones; at an array an index."""
    if i == len(segs):
        return v
    if type(v) is dict:
        for j in range(len(segs), i, -1):
            key = ".".join(segs[i:j])
            if key in v:
                found = _spec_walk(v[key], segs, j)
                if found is not MISSING:
                    return found
        return MISSING
    if type(v) is list and segs[i].isascii() and segs[i].isdigit() and int(segs[i]) < len(v):
        return _spec_walk(v[int(segs[i])], segs, i + 1)
    return MISSING


_SEGS = st.sampled_from(["a", "b", "c", "0", "1", "00", "²"])
_LEAVES = st.one_of(st.none(), st.integers(0, 9), st.just("x"), st.just([]), st.just({}))


@st.composite
def _along(draw: st.DrawFn, segs: tuple[str, ...], i: int) -> Any:
    """A value under which ``segs[i:]`` may or may not lead somewhere: at each level keys made
    of one or more of the next segments (some of which lead on, some to a dead end), an
    array where the segment is an index, or a leaf."""
    if i == len(segs) or draw(st.integers(0, 5)) == 0:
        return draw(_LEAVES)
    seg = segs[i]
    if seg.isdigit() and draw(st.booleans()):
        size = draw(st.integers(0, 3))
        return [draw(_along(segs, i + 1)) for _ in range(size)]
    out: dict[str, Any] = {}
    for j in range(i + 1, len(segs) + 1):
        if draw(st.booleans()):
            out[".".join(segs[i:j])] = draw(_along(segs, j))
    return out


@settings(max_examples=800, deadline=None)
@given(st.lists(_SEGS, min_size=1, max_size=4).map(tuple).flatmap(
    lambda segs: st.tuples(st.just(segs), _along(segs, 0))))  # fmt: skip
def test_a_compiled_path_finds_what_the_spec_finds(case: tuple[tuple[str, ...], Any]) -> None:
    """Keys with dots that shadow a path, a longer key whose value misses and a shorter one
    that hits, indexes, nulls: the compiled walk (``fieldpath.walk``) finds what the spec
    does."""
    segs, obj = case
    path = compile_path(".".join(segs), "x")
    assert path(obj) is _spec_walk(obj, segs, 0)
