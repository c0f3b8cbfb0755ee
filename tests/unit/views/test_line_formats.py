"""The live view says which format the logs are read in, and counts unmapped lines with a hint."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.ingest.mapping import LogFormat
from claude_top.views.live.dashboard import build_dashboard
from claude_top.views.tui import panels

FIXTURE = Path(__file__).parents[2] / "fixtures" / "formats" / "litellm.jsonl"
NOW = 1795776000.0  # 2026-11-27T11:00Z


def text(renderable: object) -> str:
    c = Console(width=120, record=True, color_system=None)
    c.print(renderable)
    return c.export_text()


def engine(preset: str | None) -> Engine:
    e = Engine(clock=FixedClock(NOW), log_format=LogFormat(preset))
    e.ingest_lines(FIXTURE.read_bytes().splitlines(), str(FIXTURE))
    return e


def test_a_detected_format_is_named_in_the_header() -> None:
    d = build_dashboard(engine(None), None, now=NOW, window_name="all")
    assert d.lines.format_label == "litellm (detected)" and d.lines.unmapped == 0
    assert "litellm (detected)" in text(panels.header(d))
    assert "unmapped" not in text(panels.line_health(d))


def test_unmapped_lines_are_counted_with_the_preset_that_reads_them() -> None:
    d = build_dashboard(engine("claude-top"), None, now=NOW, window_name="all")
    assert (d.lines.records, d.lines.unmapped, d.lines.unmapped_hint) == (0, 5, "litellm")
    health = text(panels.line_health(d))
    assert "unmapped" in health and "--preset litellm" in health
    assert d.lines.format_label == ""  # the native format is not announced


def test_the_detail_screen_shows_a_features_streams() -> None:
    from claude_top.views.live.detail import feature_detail

    fd = feature_detail(engine(None), "chat", None, None)
    assert fd.streaming is not None and fd.streaming[0] == 3
    shown = text(panels.detail(fd, "UTC"))
    assert "time to first token p50 501ms" in shown and "267 tokens/s" in shown
    native = Engine(clock=FixedClock(NOW))
    native.ingest_lines((FIXTURE.parent / "claude-top.jsonl").read_bytes().splitlines())
    assert feature_detail(native, "chat", None, None).streaming is None
