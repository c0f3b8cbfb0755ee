"""The wrapper logs what the bill depends on: service tier, speed, inference geo, server tool use,
and a stream's time to first token; the reader turns them into the call's billed model id."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")

from claude_top.core.clock import FixedClock  # noqa: E402
from claude_top.engine.engine import Engine  # noqa: E402
from claude_top.instrument import instrument  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stub_messages_api import (  # noqa: E402
    StubMessagesAPI,
    StubResponse,
    message_body,
    sse_events,
)

KW: dict[str, Any] = {
    "model": "claude-opus-5-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi"}],
}
BILLED = {
    "service_tier": "priority",
    "speed": "fast",
    "inference_geo": "us",
    "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
}


@pytest.fixture
def stub() -> Any:
    with StubMessagesAPI() as s:
        yield s


def client(stub: StubMessagesAPI, log: Path) -> Any:
    plain = anthropic.Anthropic(base_url=stub.base_url, api_key="test", max_retries=0)
    return instrument(plain, log=str(log))


def lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in log.read_text().splitlines()]


def test_the_bill_dimensions_are_logged_and_name_the_billed_model(
    stub: StubMessagesAPI, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    stub.default = StubResponse(body=message_body(model="claude-opus-5-5", **BILLED))
    client(stub, log).messages.create(**KW, feature="chat")
    [line] = lines(log)
    assert (line["service_tier"], line["speed"], line["inference_geo"]) == (
        "priority",
        "fast",
        "us",
    )
    assert (line["web_search_requests"], line["web_fetch_requests"]) == (2, 1)
    assert "ttft_ms" not in line  # a whole message has no first token of its own
    e = Engine(clock=FixedClock(0))
    e.ingest_lines([log.read_bytes().strip()])
    [model] = e.query(by="model").groups
    # Server tools are no modifier of the token rates: counted apart, per model.
    assert model == "claude-opus-5-5 (priority, fast, us-only)"
    total = e.query().total
    assert (total.calls, total.unpriced_calls) == (1, 1)  # no published price: never guessed
    assert total.unpriced_models == (model,)
    tools, per_model = e.server_tools(by="model")
    assert (tools.calls, tools.web_search_requests, tools.web_fetch_requests) == (1, 2, 1)
    assert set(per_model) == {model}


def test_standard_values_and_the_batch_tier(stub: StubMessagesAPI, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    stub.default = StubResponse(
        body=message_body(
            model="claude-haiku-4-5", service_tier="batch", speed="standard", inference_geo="global"
        )
    )
    client(stub, log).messages.create(**{**KW, "model": "claude-haiku-4-5"}, feature="chat")
    e = Engine(clock=FixedClock(0))
    e.ingest_lines([log.read_bytes().strip()])
    total = e.query(by="model").groups["claude-haiku-4-5"]
    assert total.unpriced_calls == 0
    # 10 in, 5 out at Haiku 4.5's $1 / $5, half price on the Batch tier
    assert total.cost_usd == pytest.approx((10 * 1 + 5 * 5) / 1e6 * 0.5)


def test_a_stream_records_its_time_to_first_token(stub: StubMessagesAPI, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    start = {"input_tokens": 25, "output_tokens": 1, "speed": "fast", "service_tier": "standard"}
    stub.default = StubResponse(events=sse_events(model="claude-opus-5-5", start_usage=start))
    stream = client(stub, log).messages.create(**KW, stream=True, feature="stream")
    for _ in stream:
        pass
    [line] = lines(log)
    assert isinstance(line["ttft_ms"], int) and 0 <= line["ttft_ms"] <= line["latency_ms"]
    assert line["speed"] == "fast" and line["service_tier"] == "standard"
    e = Engine(clock=FixedClock(0))
    e.ingest_lines([log.read_bytes().strip()])
    total, per_feature = e.streaming()
    assert total.streams == 1 and set(per_feature) == {"stream"}
    assert total.p50_ttft_ms == pytest.approx(max(line["ttft_ms"], 1), rel=0.01)
    assert e.query(by="model").groups.keys() == {"claude-opus-5-5 (fast)"}
