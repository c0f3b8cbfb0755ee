"""Server tool use: web searches and fetches counted per feature and model from the SDK's nested
``usage.server_tool_use`` (the ``anthropic`` preset) and from the flat keys of our own format,
shown by ``summary`` (JSON and table), and priced per request only where the price table has a
price for the tool (none is published in the built-in table: such requests are named).

Hand-worked: the calls are Sonnet 4.6 ($3 in, $15 out per million), 1000 in and 100 out each:
$0.0045 a call. Searches: chat 3 + 2 = 5 (call 1 also fetches 1 page), research 4 (and 2
fetches); call 4 uses no tool. With a configured $10 per 1,000 searches and nothing for
fetches: chat $0.05, research $0.04, $0.09 in all, with web fetch named as not priced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_top.commands.main import main

NOW = "2026-11-28T00:00:00Z"


def sdk_line(i: int, feature: str, searches: int | None, fetches: int | None) -> dict[str, Any]:
    tools = None
    if searches is not None:
        tools = {"web_search_requests": searches, "web_fetch_requests": fetches}
    return {
        "timestamp": f"2026-11-27T10:0{i}:00Z",
        "feature": feature,
        "latency_ms": 1000,
        "metadata": {"user_id": "u1"},
        "id": f"msg_0{i}",
        "type": "message",
        "model": "claude-sonnet-4-6",
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 1000,
            "output_tokens": 100,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
            "server_tool_use": tools,
            "service_tier": "standard",
        },
    }


CALLS = [("chat", 3, 1), ("chat", 2, 0), ("research", 4, 2), ("chat", None, None)]


def flat_line(i: int, feature: str, searches: int | None, fetches: int | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "timestamp": f"2026-11-27T10:0{i}:00Z",
        "request_id": f"r{i}",
        "user_id": "u1",
        "feature": feature,
        "model": "claude-sonnet-4-6",
        "input_tokens": 1000,
        "output_tokens": 100,
        "cached_tokens": 0,
        "latency_ms": 1000,
        "stop_reason": "end_turn",
        "error": None,
        "error_status": None,
    }
    if searches:
        line["web_search_requests"] = searches
    if fetches:
        line["web_fetch_requests"] = fetches
    return line


def write(tmp_path: Path, make: Any) -> str:
    path = tmp_path / "app.log"
    path.write_text("".join(json.dumps(make(i, *c)) + "\n" for i, c in enumerate(CALLS)))
    return str(path)


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["summary", *args, "--now", NOW, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("shape", ["sdk", "flat"])
def test_counted_per_feature_and_model_and_unpriced_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shape: str
) -> None:
    path = write(tmp_path, sdk_line if shape == "sdk" else flat_line)
    doc = summary(capsys, path)
    got = {
        k: (g["web_search_requests"], g["web_fetch_requests"]) for k, g in doc["features"].items()
    }
    assert got == {"chat": (5, 1), "research": (4, 2)}
    total = doc["total"]
    assert (total["web_search_requests"], total["web_fetch_requests"]) == (9, 3)
    # The tokens bill at the model's rates: the tools do not make the call unpriced.
    assert (total["cost_usd"], total["unpriced_calls"]) == (pytest.approx(0.018), 0)
    assert total["server_tool_cost_usd"] == 0
    assert total["unpriced_server_tools"] == ["web_fetch_requests", "web_search_requests"]
    model = summary(capsys, path, "--by", "model")["models"]["claude-sonnet-4-6"]
    assert (model["web_search_requests"], model["web_fetch_requests"]) == (9, 3)


def test_priced_where_the_table_has_a_price(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, sdk_line)
    config = tmp_path / "config.toml"
    config.write_text("[prices.server_tools]\nweb_search_requests = 10\n")
    doc = summary(capsys, path, "--config", str(config))
    costs = {k: g["server_tool_cost_usd"] for k, g in doc["features"].items()}
    assert costs == {"chat": pytest.approx(0.05), "research": pytest.approx(0.04)}
    total = doc["total"]
    assert total["server_tool_cost_usd"] == pytest.approx(0.09)
    assert total["unpriced_server_tools"] == ["web_fetch_requests"]
    assert total["cost_usd"] == pytest.approx(0.018)  # the tokens' cost, as before
    assert main(["summary", path, "--config", str(config), "--now", NOW]) == 0
    table = capsys.readouterr().out
    assert "server tools: research: 4 web searches, 2 web fetches; $0.0400" in table
    assert "server tools: TOTAL: 9 web searches, 3 web fetches; $0.0900" in table
    assert "web fetch not priced" in table


def test_a_bad_tool_price_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[prices.server_tools]\nweb_crawl_requests = 10\n")
    log = tmp_path / "app.log"
    log.write_text("")
    assert main(["summary", str(log), "--config", str(config), "--now", NOW]) != 0
    assert "prices.server_tools.web_crawl_requests" in capsys.readouterr().err
