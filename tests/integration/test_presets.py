"""Every preset on its fixture: read with ``--preset``, by detection, and through ``[log.fields]``.

The fixtures (``tests/fixtures/formats/``) are the same five calls written in each documented
shape, with another logger's JSON line and a traceback line among them. The totals below were
worked out by hand from the calls and the published prices (Sonnet 4.6: $3 in, $3.75 5m write,
$0.30 cache read, $15 out; Haiku 4.5: $1, $1.25, $0.10, $5 per million):

1. chat, sonnet, u1: 1000 uncached in, 4000 cache reads, 500 out, 2000 ms: $0.0117
2. chat, sonnet, u2: 200 in, 1000 cache writes (5m), 800 out, 4000 ms, max_tokens: $0.01635
3. search, haiku, u1: 3000 in, 100 out, 500 ms: $0.0035
4. search, haiku, u3: a 429 (RateLimitError), no tokens, 300 ms: $0
5. chat, sonnet, u1: 100 in, 2000 cache reads, 50 out, 1000 ms: $0.00165

Total $0.0332; p50 1000 ms and p95 4000 ms (nearest rank of 300, 500, 1000, 2000, 4000). The
OpenAI shape has no cache writes: its call 2 costs $0.0126 and the total is $0.02945. The OTel
span carries no HTTP status: its error is counted, but not as a 429.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_top.commands.main import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
NOW = "2026-11-28T00:00:00Z"

BASE = {
    "calls": 5,
    "errors": 1,
    "rate_limited": 1,
    "max_tokens_stops": 1,
    "total_input_tokens": 4300,
    "total_output_tokens": 1450,
    "total_cached_tokens": 6000,
    "total_cache_write_tokens": 1000,
    "total_cache_write_1h_tokens": 0,
    "cost_usd": 0.0332,
    "p50_latency_ms": 1000,
    "p95_latency_ms": 4000,
    "unpriced_calls": 0,
    "no_user_calls": 0,
}
EXPECTED: dict[str, dict[str, Any]] = {
    "claude-top": BASE,
    "anthropic": BASE | {"errors_by_type": {"rate_limit_error 429": 1}},
    "openai-style": BASE
    | {
        "total_cache_write_tokens": 0,
        "cost_usd": 0.02945,
        "errors_by_type": {"rate_limit_error 429": 1},
    },
    "otel-genai": BASE | {"rate_limited": 0, "errors_by_type": {"RateLimitError": 1}},
    "litellm": BASE | {"errors_by_type": {"RateLimitError 429": 1}},
}
FEATURES = {"chat": (3, 0.0297), "search": (2, 0.0035)}
FEATURES_OPENAI = {"chat": (3, 0.02595), "search": (2, 0.0035)}

FIELDS: dict[str, str] = {
    "anthropic": """
[log]
preset = "claude-top"
null_is_zero = true
[log.fields]
request_id = "id"
user_id = "metadata.user_id"
input_tokens = "usage.input_tokens"
output_tokens = "usage.output_tokens"
cache_read_tokens = "usage.cache_read_input_tokens"
cache_write_tokens = "usage.cache_creation_input_tokens"
cache_write_5m_tokens = "usage.cache_creation.ephemeral_5m_input_tokens"
cache_write_1h_tokens = "usage.cache_creation.ephemeral_1h_input_tokens"
error = ["error.error.type", "error"]
""",
    "openai-style": """
[log]
preset = "claude-top"
input_includes_cache = true
[log.fields]
request_id = "id"
user_id = "user"
input_tokens = "usage.prompt_tokens"
output_tokens = "usage.completion_tokens"
cache_read_tokens = "usage.prompt_tokens_details.cached_tokens"
stop_reason = "choices.0.finish_reason"
error = "error.type"
error_status = "status_code"
[log.values.stop_reason]
length = "max_tokens"
stop = "end_turn"
""",
    "otel-genai": """
[log]
preset = "claude-top"
input_includes_cache = true
[log.fields]
timestamp = "start_time"
start_time = "start_time"
end_time = "end_time"
request_id = "attributes.gen_ai.response.id"
user_id = "attributes.user.id"
feature = "attributes.app.feature"
model = "attributes.gen_ai.request.model"
input_tokens = "attributes.gen_ai.usage.input_tokens"
output_tokens = "attributes.gen_ai.usage.output_tokens"
cache_read_tokens = "attributes.gen_ai.usage.cache_read.input_tokens"
cache_write_tokens = "attributes.gen_ai.usage.cache_creation.input_tokens"
stop_reason = "attributes.gen_ai.response.finish_reasons.0"
error = "attributes.error.type"
outcome = "status.status_code"
""",
    "litellm": """
[log]
preset = "claude-top"
input_includes_cache = true
[log.fields]
timestamp = "startTime"
start_time = "startTime"
end_time = "endTime"
request_id = "id"
user_id = "end_user"
feature = "request_tags.0"
input_tokens = "prompt_tokens"
output_tokens = "completion_tokens"
cache_read_tokens = "metadata.usage_object.cache_read_input_tokens"
cache_write_tokens = "metadata.usage_object.cache_creation_input_tokens"
stop_reason = "response.choices.0.finish_reason"
error = "error_information.error_class"
error_status = "error_information.error_code"
outcome = "status"
[log.values.stop_reason]
length = "max_tokens"
""",
}


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["summary", *args, "--now", NOW, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def check_totals(doc: dict[str, Any], preset: str) -> None:
    total = doc["total"]
    for key, want in EXPECTED[preset].items():
        got = total[key]
        if key.endswith("_latency_ms"):  # HdrHistogram buckets: within 1%
            assert got == pytest.approx(want, rel=0.01), key
        else:
            assert got == (pytest.approx(want) if isinstance(want, float) else want), key
    features = FEATURES_OPENAI if preset == "openai-style" else FEATURES
    got = {k: (g["calls"], g["cost_usd"]) for k, g in doc["features"].items()}
    assert got == {k: (n, pytest.approx(c)) for k, (n, c) in features.items()}
    assert doc["lines"]["records"] == 5
    assert doc["lines"]["foreign"] == 2  # another logger's JSON, a traceback
    assert doc["lines"]["rejected"] == 0
    assert doc["lines"]["unmapped"] == 0


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_read_with_the_preset(capsys: pytest.CaptureFixture[str], preset: str) -> None:
    path = str(FIXTURES / f"{preset}.jsonl")
    doc = summary(capsys, path, "--preset", preset)
    check_totals(doc, preset)
    assert doc["lines"]["formats"] == {path: preset}
    assert doc["lines"]["format_detected"] is False


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_read_by_detection(capsys: pytest.CaptureFixture[str], preset: str) -> None:
    path = str(FIXTURES / f"{preset}.jsonl")
    doc = summary(capsys, path)
    check_totals(doc, preset)
    assert doc["lines"]["formats"] == {path: preset}
    assert doc["lines"]["format_detected"] is True


@pytest.mark.parametrize("preset", sorted(FIELDS))
def test_read_through_log_fields(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, preset: str
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(FIELDS[preset])
    path = str(FIXTURES / f"{preset}.jsonl")
    doc = summary(capsys, path, "--config", str(cfg))
    check_totals(doc, preset)
    assert doc["lines"]["formats"] == {path: "claude-top"}


@pytest.mark.parametrize("preset", sorted(FIELDS))
def test_a_wrong_preset_counts_unmapped_lines_with_the_right_hint(
    capsys: pytest.CaptureFixture[str], preset: str
) -> None:
    doc = summary(capsys, str(FIXTURES / f"{preset}.jsonl"), "--preset", "claude-top")
    # The 429 logs no token counts in three shapes: it does not look like a call there (the
    # native rules reject it for its missing input_tokens, or it is foreign: it has no marker).
    calls = 5 if preset == "litellm" else 4
    assert doc["lines"]["records"] == 0
    assert doc["lines"]["unmapped"] == calls
    assert doc["lines"]["unmapped_by_preset"] == {preset: calls}
    assert doc["total"]["calls"] == 0


def test_the_table_names_the_format_and_the_hint(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "litellm.jsonl")
    assert main(["summary", path, "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "format: litellm (detected)" in out
    assert main(["summary", path, "--now", NOW, "--preset", "anthropic"]) == 0
    out = capsys.readouterr().out
    assert "5 unmapped lines look like litellm: run with --preset litellm" in out


def test_check_says_the_format_and_the_unmapped_hint(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "otel-genai.jsonl")
    main(["check", path, "--now", NOW, "--preset", "claude-top"])
    out = capsys.readouterr().out
    assert "4 unmapped lines look like otel-genai: run with --preset otel-genai" in out
    main(["check", path, "--now", NOW])
    assert "format: otel-genai (detected)" in capsys.readouterr().out


def test_a_bad_preset_or_field_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = str(FIXTURES / "litellm.jsonl")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[log.fields]\nfeaturre = "x"\n')
    assert main(["summary", path, "--config", str(cfg)]) != 0
    err = capsys.readouterr().err
    assert "log.fields.featurre: not a field claude-top reads" in err
    cfg.write_text('[log]\nlatency_unit = "minutes"\n')
    assert main(["summary", path, "--config", str(cfg)]) != 0
    assert "log.latency_unit" in capsys.readouterr().err


def test_litellm_streams_give_ttft_and_output_rate(capsys: pytest.CaptureFixture[str]) -> None:
    """``completionStartTime`` - ``startTime`` is the TTFT: a quarter of each call's latency in
    the fixture (500, 1000, 125, 75, 250 ms), so p50 250 and p95 1000 ms; output tokens over the
    rest of the call: 500/1.5 s = 333, 800/3 s = 267, 100/0.375 s = 267, 50/0.75 s = 67 (the 429
    has no output): median 267 tokens/s."""
    doc = summary(capsys, str(FIXTURES / "litellm.jsonl"))
    t = doc["total"]
    assert t["streamed_calls"] == 5
    assert t["p50_ttft_ms"] == pytest.approx(250, rel=0.01)
    assert t["p95_ttft_ms"] == pytest.approx(1000, rel=0.01)
    assert t["output_tokens_per_s"] == pytest.approx(267, rel=0.01)
    chat = doc["features"]["chat"]
    assert (chat["streamed_calls"], chat["p50_ttft_ms"]) == (3, pytest.approx(500, rel=0.01))
    # A shape without first-token times has no streams.
    anthropic = summary(capsys, str(FIXTURES / "anthropic.jsonl"))["total"]
    assert (anthropic["streamed_calls"], anthropic["p50_ttft_ms"]) == (0, None)


def test_the_apps_own_cost_is_shown_beside_ours(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """LiteLLM's ``response_cost`` matches ours on the fixture; an app that bills call 1 at
    $0.02 instead of $0.0117 shows a difference of -$0.0083 on Sonnet 4.6, and none on Haiku."""
    path = str(FIXTURES / "litellm.jsonl")
    doc = summary(capsys, path, "--by", "model")
    sonnet = doc["models"]["claude-sonnet-4-6"]
    assert (sonnet["app_cost_calls"], sonnet["app_cost_usd"]) == (3, pytest.approx(0.0297))
    assert sonnet["cost_diff_usd"] == pytest.approx(0.0, abs=1e-9)
    lines = (
        (FIXTURES / "litellm.jsonl")
        .read_bytes()
        .replace(b'"response_cost": 0.0117', b'"response_cost": 0.02')
    )
    wrong = tmp_path / "litellm.jsonl"
    wrong.write_bytes(lines)
    doc = summary(capsys, str(wrong), "--by", "model")
    assert doc["models"]["claude-sonnet-4-6"]["cost_diff_usd"] == pytest.approx(-0.0083)
    assert doc["models"]["claude-haiku-4-5"]["cost_diff_usd"] == pytest.approx(0.0, abs=1e-9)
    assert doc["total"]["cost_diff_usd"] == pytest.approx(-0.0083)
    assert main(["summary", str(wrong), "--by", "model", "--now", NOW]) == 0
    assert "ours -$0.0083" in capsys.readouterr().out
    # A shape without the app's cost has none to compare.
    anthropic = summary(capsys, str(FIXTURES / "anthropic.jsonl"), "--by", "model")["total"]
    assert (anthropic["app_cost_calls"], anthropic["cost_diff_usd"]) == (0, None)
