"""The OpenTelemetry Collector's file exporter: one OTLP/JSON line holds many spans.

``tests/fixtures/formats/otlp-file.jsonl`` holds the five calls of the other preset fixtures
(``test_presets.py`` works out their totals by hand: $0.0332, p50 1000 ms, p95 4000 ms) as
GenAI spans, written from the documented OTLP/JSON shape (``intValue`` as strings, nanosecond
times as strings, ``status.code`` 2 for the 429, ``arrayValue`` finish reasons):

1. line 1: an export of calls 1 and 2 with an HTTP server's span between them (not GenAI);
2. line 2: another logger's JSON line;
3. line 3: an export of two resources, calls 3 and 4 in one, call 5 in the other;
4. line 4: an empty export (``{"resourceSpans": []}``);
5. line 5: a traceback line.

Line health counts spans: 5 records and 4 foreign (the HTTP span, the other logger, the empty
export, the traceback) from 5 lines. With the native format active, the four GenAI spans with
token counts are unmapped (hint otel-genai); the 429 carries none, so it is foreign there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_top.commands.main import main

PATH = str(Path(__file__).parent.parent / "fixtures" / "formats" / "otlp-file.jsonl")
NOW = "2026-11-28T00:00:00Z"
TOTAL = {
    "calls": 5,
    "errors": 1,
    "rate_limited": 0,  # the span carries no HTTP status: an error, not a 429
    "errors_by_type": {"RateLimitError": 1},
    "max_tokens_stops": 1,
    "total_input_tokens": 4300,
    "total_output_tokens": 1450,
    "total_cached_tokens": 6000,
    "total_cache_write_tokens": 1000,
    "cost_usd": 0.0332,
    "unpriced_calls": 0,
    "no_user_calls": 0,
}


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["summary", PATH, *args, "--now", NOW, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def check(doc: dict[str, Any]) -> None:
    total = doc["total"]
    for key, want in TOTAL.items():
        assert total[key] == (pytest.approx(want) if isinstance(want, float) else want), key
    assert total["p50_latency_ms"] == pytest.approx(1000, rel=0.01)
    assert total["p95_latency_ms"] == pytest.approx(4000, rel=0.01)
    features = {k: (g["calls"], g["cost_usd"]) for k, g in doc["features"].items()}
    assert features == {"chat": (3, pytest.approx(0.0297)), "search": (2, pytest.approx(0.0035))}
    users = summary_users(doc)
    assert users is None or users == {"u1", "u2", "u3"}
    lines = doc["lines"]
    assert (lines["records"], lines["foreign"], lines["rejected"], lines["unmapped"]) == (
        5,
        4,
        0,
        0,
    )


def summary_users(doc: dict[str, Any]) -> set[str] | None:
    return set(doc["users"]) if "users" in doc else None


def test_read_with_the_preset(capsys: pytest.CaptureFixture[str]) -> None:
    doc = summary(capsys, "--preset", "otel-genai")
    check(doc)
    assert doc["lines"]["formats"] == {PATH: "otel-genai"}


def test_read_by_detection(capsys: pytest.CaptureFixture[str]) -> None:
    doc = summary(capsys)
    check(doc)
    assert doc["lines"]["formats"] == {PATH: "otel-genai"}
    assert doc["lines"]["format_detected"] is True


def test_every_span_is_a_user_call(capsys: pytest.CaptureFixture[str]) -> None:
    doc = summary(capsys, "--by", "user")
    assert {u: g["calls"] for u, g in doc["users"].items()} == {"u1": 3, "u2": 1, "u3": 1}


def test_the_native_format_counts_genai_spans_as_unmapped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = summary(capsys, "--preset", "claude-top")
    lines = doc["lines"]
    assert (lines["records"], lines["unmapped"], lines["foreign"]) == (0, 4, 5)
    assert lines["unmapped_by_preset"] == {"otel-genai": 4}
