"""``claude_top.instrument`` against the real ``anthropic`` SDK talking to a local stub server."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")

from anthropic.lib.streaming import (  # noqa: E402
    AsyncMessageStream,
    AsyncMessageStreamManager,
    MessageStream,
    MessageStreamManager,
)

from claude_top import instrument as ins  # noqa: E402
from claude_top.instrument import LogSink, instrument  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from stub_messages_api import (  # noqa: E402
    StubMessagesAPI,
    StubResponse,
    error_body,
    message_body,
    sse_events,
)

MODEL = "claude-haiku-4-5"
KW: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi"}],
}
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
RL_HEADERS = {
    "anthropic-ratelimit-requests-limit": "50",
    "anthropic-ratelimit-requests-remaining": "49",
    "anthropic-ratelimit-input-tokens-limit": "40000",
    "anthropic-ratelimit-input-tokens-remaining": "39000",
    "anthropic-ratelimit-output-tokens-limit": "8000",
    "anthropic-ratelimit-output-tokens-remaining": "7990",
}
RL_FIELDS = {
    "ratelimit_requests_limit": 50,
    "ratelimit_requests_remaining": 49,
    "ratelimit_input_tokens_limit": 40000,
    "ratelimit_input_tokens_remaining": 39000,
    "ratelimit_output_tokens_limit": 8000,
    "ratelimit_output_tokens_remaining": 7990,
}


@pytest.fixture
def stub() -> Any:
    with StubMessagesAPI() as server:
        yield server


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "app.log"


def plain_client(stub: StubMessagesAPI, **kw: Any) -> Any:
    return anthropic.Anthropic(base_url=stub.base_url, api_key="test", max_retries=0, **kw)


def plain_async(stub: StubMessagesAPI) -> Any:
    return anthropic.AsyncAnthropic(base_url=stub.base_url, api_key="test", max_retries=0)


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def expected(**fields: Any) -> dict[str, Any]:
    """A whole line minus its volatile fields (timestamp, request_id, latency_ms)."""
    base: dict[str, Any] = {
        "api_request_id": None,
        "user_id": None,
        "feature": "unknown",
        "model": MODEL,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_tokens": 0,
        "cache_creation_tokens": 0,
        "cache_creation_1h_tokens": 0,
        "stop_reason": None,
        "error": None,
        "error_status": None,
    }
    base.update(fields)
    return base


def stable(line: dict[str, Any]) -> dict[str, Any]:
    """Check the volatile fields' shape, return the rest for an exact dict comparison."""
    assert TS_RE.match(line["timestamp"]), line["timestamp"]
    assert uuid.UUID(line["request_id"]).version == 4
    assert isinstance(line["latency_ms"], int) and line["latency_ms"] >= 0
    if "ttft_ms" in line:  # a stream's time to first token: within its latency
        assert isinstance(line["ttft_ms"], int) and 0 <= line["ttft_ms"] <= line["latency_ms"]
    volatile = ("timestamp", "request_id", "latency_ms", "ttft_ms")
    return {k: v for k, v in line.items() if k not in volatile}


def assert_no_extra_keys(stub: StubMessagesAPI) -> None:
    for body in stub.bodies():
        assert "feature" not in body and "user_id" not in body, body
        assert "feature" not in json.dumps(body)


# --------------------------------------------------------------------------------------------------
# Non-streaming


def test_success_line_return_value_and_headers(stub: StubMessagesAPI, log_path: Path) -> None:
    body = message_body(
        input_tokens=11,
        output_tokens=22,
        cache_read_input_tokens=7,
        cache_creation_input_tokens=10,
        cache_creation={"ephemeral_5m_input_tokens": 4, "ephemeral_1h_input_tokens": 6},
    )
    headers = {"request-id": "req_ok", **RL_HEADERS}
    stub.default = StubResponse(body=body, headers=headers, delay_s=0.25)
    client = instrument(plain_client(stub), log=str(log_path))

    before = datetime.now(UTC)
    got = client.messages.create(**KW, feature="search", user_id="u_1")
    after = datetime.now(UTC)
    want = plain_client(stub).messages.create(**KW)

    assert type(got) is type(want) is anthropic.types.Message
    assert got.model_dump() == want.model_dump()
    assert got._request_id == want._request_id == "req_ok"
    assert_no_extra_keys(stub)

    [line] = read_lines(log_path)
    assert stable(line) == expected(
        api_request_id="req_ok",
        user_id="u_1",
        feature="search",
        input_tokens=11,
        output_tokens=22,
        cached_tokens=7,
        cache_creation_tokens=4,
        cache_creation_1h_tokens=6,
        stop_reason="end_turn",
        **RL_FIELDS,
    )
    ts = datetime.fromisoformat(line["timestamp"])
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= ts <= after
    # The timestamp is the call's start: the 250 ms answer came after it, so it is nearer the
    # start than the end; the latency spans the answer and at most the whole call.
    assert (ts - before) < (after - ts)
    assert 240 <= line["latency_ms"] <= (after - before).total_seconds() * 1000 + 1
    assert client.log_failures == 0


def test_cache_creation_total_without_split_and_defaults(
    stub: StubMessagesAPI, log_path: Path
) -> None:
    stub.default = StubResponse(body=message_body(cache_creation_input_tokens=9))
    client = instrument(plain_client(stub), log=log_path, feature="chat")
    client.messages.create(**KW)
    client.messages.create(**KW, feature=None, user_id=None)
    lines = read_lines(log_path)
    assert [stable(x) for x in lines] == [
        expected(
            feature="chat",
            input_tokens=10,
            output_tokens=5,
            cache_creation_tokens=9,
            stop_reason="end_turn",
        )
    ] * 2
    assert lines[0]["request_id"] != lines[1]["request_id"]


ERRORS = [
    (
        429,
        "rate_limit_error",
        {
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-tokens-remaining": "1234",
            "retry-after": "2.5",
            "request-id": "req_429",
        },
        "RateLimitError",
        {
            "api_request_id": "req_429",
            "ratelimit_requests_remaining": 0,
            "ratelimit_tokens_remaining": 1234,
            "retry_after_s": 2.5,
        },
    ),
    (
        529,
        "overloaded_error",
        {"request-id": "req_529"},
        "OverloadedError",
        {"api_request_id": "req_529"},
    ),
    (500, "api_error", {}, "InternalServerError", {}),
]


@pytest.mark.parametrize(("status", "etype", "headers", "name", "extra"), ERRORS)
def test_http_errors(
    stub: StubMessagesAPI,
    log_path: Path,
    status: int,
    etype: str,
    headers: dict[str, str],
    name: str,
    extra: dict[str, Any],
) -> None:
    stub.default = StubResponse(status=status, body=error_body(etype), headers=headers)
    client = instrument(plain_client(stub), log=log_path)
    with pytest.raises(anthropic.APIStatusError) as wrapped:
        client.messages.create(**KW, feature="f", user_id="u")
    with pytest.raises(anthropic.APIStatusError) as plain:
        plain_client(stub).messages.create(**KW)
    assert type(wrapped.value) is type(plain.value)
    assert type(wrapped.value).__name__ == name
    assert wrapped.value.status_code == status
    assert_no_extra_keys(stub)
    [line] = read_lines(log_path)
    assert stable(line) == expected(
        user_id="u", feature="f", error=name, error_status=status, **extra
    )


def test_timeout(stub: StubMessagesAPI, log_path: Path) -> None:
    stub.default = StubResponse(body=message_body(), delay_s=1.0)
    client = instrument(plain_client(stub), log=log_path)
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        client.messages.create(**KW, timeout=0.2)
    ended = time.monotonic()
    [line] = read_lines(log_path)
    assert stable(line) == expected(error="APITimeoutError")
    assert 150 <= line["latency_ms"] <= (ended - started) * 1000 + 1


def test_connection_error(log_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    raw = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="t", max_retries=0)
    client = instrument(raw, log=log_path)
    with pytest.raises(anthropic.APIConnectionError) as info:
        client.messages.create(**KW)
    assert type(info.value) is anthropic.APIConnectionError
    [line] = read_lines(log_path)
    assert stable(line) == expected(error="APIConnectionError")


# --------------------------------------------------------------------------------------------------
# Streaming

STREAM_START_USAGE = {
    "input_tokens": 25,
    "output_tokens": 1,
    "cache_read_input_tokens": 3,
    "cache_creation_input_tokens": 8,
    "cache_creation": {"ephemeral_5m_input_tokens": 5, "ephemeral_1h_input_tokens": 3},
}
STREAM_LINE = expected(
    api_request_id="req_s",
    user_id="u_s",
    feature="stream",
    input_tokens=25,
    output_tokens=12,
    cached_tokens=3,
    cache_creation_tokens=5,
    cache_creation_1h_tokens=3,
    stop_reason="max_tokens",
    **RL_FIELDS,
)


def stream_response(**kw: Any) -> StubResponse:
    events = sse_events(start_usage=STREAM_START_USAGE, stop_reason="max_tokens", **kw)
    return StubResponse(events=events, headers={"request-id": "req_s", **RL_HEADERS})


def test_create_stream_true(stub: StubMessagesAPI, log_path: Path) -> None:
    stub.default = stream_response()
    client = instrument(plain_client(stub), log=log_path)
    stream = client.messages.create(**KW, stream=True, feature="stream", user_id="u_s")
    assert isinstance(stream, anthropic.Stream)
    assert not log_path.exists() or read_lines(log_path) == []  # not before the stream ends
    got = [event.type for event in stream]
    want = [event.type for event in plain_client(stub).messages.create(**KW, stream=True)]
    assert got == want and got[-1] == "message_stop"
    [line] = read_lines(log_path)
    assert stable(line) == STREAM_LINE
    stream.close()  # closing after the end does not log again
    assert len(read_lines(log_path)) == 1
    assert_no_extra_keys(stub)


def test_create_stream_closed_early_and_dropped(stub: StubMessagesAPI, log_path: Path) -> None:
    stub.default = stream_response()
    client = instrument(plain_client(stub), log=log_path)
    with client.messages.create(**KW, stream=True, feature="stream", user_id="u_s") as stream:
        first = next(iter(stream))
        assert first.type == "message_start"
    dropped = client.messages.create(**KW, stream=True, feature="stream", user_id="u_s")
    next(dropped)
    del dropped
    gc.collect()
    partial = {**STREAM_LINE, "output_tokens": 1, "stop_reason": None}
    assert [stable(x) for x in read_lines(log_path)] == [partial, partial]


def test_stream_error_event(stub: StubMessagesAPI, log_path: Path) -> None:
    events = sse_events(start_usage={"input_tokens": 4, "output_tokens": 1})[:2]
    events.append(("error", error_body("overloaded_error", "Overloaded")))
    stub.default = StubResponse(events=events, headers={"request-id": "req_e"})
    client = instrument(plain_client(stub), log=log_path)
    with pytest.raises(anthropic.APIStatusError) as wrapped:
        list(client.messages.create(**KW, stream=True))
    with pytest.raises(anthropic.APIStatusError) as plain:
        list(plain_client(stub).messages.create(**KW, stream=True))
    assert type(wrapped.value) is type(plain.value)
    [line] = read_lines(log_path)
    # The SDK raises a bare APIStatusError carrying the stream's HTTP status (200).
    assert stable(line) == expected(
        api_request_id="req_e",
        input_tokens=4,
        output_tokens=1,
        error="APIStatusError",
        error_status=200,
    )


def test_messages_stream_helper(stub: StubMessagesAPI, log_path: Path) -> None:
    stub.default = stream_response(text_parts=("Hel", "lo", "!"))
    client = instrument(plain_client(stub), log=log_path)
    started = time.monotonic()
    manager = client.messages.stream(**KW, feature="stream", user_id="u_s")
    assert isinstance(manager, MessageStreamManager)
    with manager as stream:
        assert type(stream) is MessageStream
        assert manager._ct_watch.observed  # the raw events are seen as they arrive
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
        ended = time.monotonic()
        assert not log_path.exists() or read_lines(log_path) == []  # logged on exit
        time.sleep(0.3)  # after the end of the stream: not part of the latency
    with plain_client(stub).messages.stream(**KW) as plain_stream:
        want = plain_stream.get_final_message()
    assert text == "Hello!"
    assert final.model_dump() == want.model_dump()
    [line] = read_lines(log_path)
    assert stable(line) == STREAM_LINE
    # The stream had ended before the pause: its latency is at most what passed until then,
    # however slow the machine (a bound from the clock, not a guess at its speed).
    assert line["latency_ms"] <= (ended - started) * 1000 + 1
    assert_no_extra_keys(stub)


def test_messages_stream_not_consumed_and_error(stub: StubMessagesAPI, log_path: Path) -> None:
    stub.push(
        stream_response(),
        StubResponse(status=429, body=error_body("rate_limit_error"), headers={"retry-after": "3"}),
    )
    client = instrument(plain_client(stub), log=log_path)
    with client.messages.stream(**KW, feature="stream", user_id="u_s"):
        pass  # never read: the wrapper must not read it on the user's behalf
    with pytest.raises(anthropic.RateLimitError), client.messages.stream(**KW):
        pass
    first, second = (stable(x) for x in read_lines(log_path))
    assert first == {
        **STREAM_LINE,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_tokens": 0,
        "cache_creation_tokens": 0,
        "cache_creation_1h_tokens": 0,
        "stop_reason": None,
    }
    assert second == expected(error="RateLimitError", error_status=429, retry_after_s=3.0)


# --------------------------------------------------------------------------------------------------
# Async


def test_async_parallel_calls_streams_and_errors(stub: StubMessagesAPI, log_path: Path) -> None:
    def responder(body: Any) -> StubResponse:
        content = body["messages"][0]["content"]
        if content == "stream":
            return stream_response()
        if content == "boom":
            return StubResponse(status=529, body=error_body("overloaded_error"))
        i = int(content)
        return StubResponse(
            body=message_body(input_tokens=i + 1, output_tokens=2 * i, msg_id=f"msg_{i}"),
            headers={"request-id": f"req_{i}"},
            delay_s=0.05,
        )

    stub.responder = responder

    def kw(content: str) -> dict[str, Any]:
        return {**KW, "messages": [{"role": "user", "content": content}]}

    async def main() -> None:
        client = instrument(plain_async(stub), log=log_path)
        results = await asyncio.gather(
            *(client.messages.create(**kw(str(i)), user_id=f"u{i}", feature="a") for i in range(10))
        )
        for i, msg in enumerate(results):
            assert type(msg) is anthropic.types.Message and msg.id == f"msg_{i}"
            assert msg._request_id == f"req_{i}"
        stream = await client.messages.create(
            **kw("stream"), stream=True, feature="stream", user_id="u_s"
        )
        assert isinstance(stream, anthropic.AsyncStream)
        assert [e.type async for e in stream][-1] == "message_stop"
        manager = client.messages.stream(**kw("stream"), feature="stream", user_id="u_s")
        assert isinstance(manager, AsyncMessageStreamManager)
        async with manager as s:
            assert type(s) is AsyncMessageStream
            assert await s.get_final_text() == "Hello"
        with pytest.raises(anthropic.OverloadedError):
            await client.messages.create(**kw("boom"))
        await client.close()

    asyncio.run(main())
    lines = read_lines(log_path)
    assert len(lines) == 13
    by_user = {line["user_id"]: line for line in lines[:10]}
    for i in range(10):
        assert stable(by_user[f"u{i}"]) == expected(
            api_request_id=f"req_{i}",
            user_id=f"u{i}",
            feature="a",
            input_tokens=i + 1,
            output_tokens=2 * i,
            stop_reason="end_turn",
        )
    assert [stable(x) for x in lines[10:12]] == [STREAM_LINE, STREAM_LINE]
    assert stable(lines[12]) == expected(error="OverloadedError", error_status=529)
    assert len({line["request_id"] for line in lines}) == 13
    assert_no_extra_keys(stub)


# --------------------------------------------------------------------------------------------------
# Sinks, proxying, failures


def test_logger_target_and_proxying(stub: StubMessagesAPI) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("claude_top.test_instrument")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(Keep())
    raw = plain_client(stub)
    client = instrument(raw, log=logger)
    assert client.api_key == "test" and client.base_url == raw.base_url
    assert client.messages.batches is raw.messages.batches
    assert client.messages.count_tokens == raw.messages.count_tokens
    other = client.with_options(timeout=5.0)
    assert other.unwrapped is not raw and other.timeout == 5.0
    other.messages.create(**KW, user_id="x")
    with client as entered:  # (closes the HTTP client, which with_options shares)
        assert entered is client
        entered.messages.create(**KW, feature="lg")
    lines = [json.loads(r.getMessage()) for r in records]
    assert [r.levelno for r in records] == [logging.INFO] * 2
    assert [stable(x) for x in lines] == [
        expected(user_id="x", input_tokens=10, output_tokens=5, stop_reason="end_turn"),
        expected(feature="lg", input_tokens=10, output_tokens=5, stop_reason="end_turn"),
    ]


def test_log_failure_is_counted_never_raised(stub: StubMessagesAPI, tmp_path: Path) -> None:
    before = ins.total_log_failures()
    client = instrument(plain_client(stub), log=tmp_path)  # a directory: cannot be opened
    msg = client.messages.create(**KW)
    assert msg.usage.input_tokens == 10
    stub.default = StubResponse(status=500, body=error_body("api_error"))
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(**KW)
    assert client.log_failures == 2
    assert ins.total_log_failures() == before + 2


def test_threads_through_the_stub(stub: StubMessagesAPI, log_path: Path) -> None:
    client = instrument(plain_client(stub), log=log_path)

    def work(t: int) -> None:
        for i in range(10):
            client.messages.create(**KW, user_id=f"{t}:{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    users = sorted(line["user_id"] for line in read_lines(log_path))
    assert users == sorted(f"{t}:{i}" for t in range(4) for i in range(10))


CHILD = """
import sys
from claude_top.instrument import LogSink
sink = LogSink(sys.argv[1])
pad = "y" * 3000
for i in range(int(sys.argv[3])):
    assert sink.write({"writer": sys.argv[2], "seq": i, "pad": pad})
"""


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "shared.log"
    per_proc = 400
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(path), f"p{n}", str(per_proc)])
        for n in range(2)
    ]
    sink = LogSink(path)
    pad = "x" * 2500

    def work(t: int) -> None:
        for i in range(200):
            sink.write({"writer": f"t{t}", "seq": i, "pad": pad})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        assert p.wait(timeout=30) == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    parsed = [json.loads(line) for line in lines[:-1]]
    assert len(parsed) == 8 * 200 + 2 * per_proc
    seen = {(r["writer"], r["seq"]) for r in parsed}
    assert seen == {(f"t{t}", i) for t in range(8) for i in range(200)} | {
        (f"p{n}", i) for n in range(2) for i in range(per_proc)
    }
    assert sink.failures == 0


def test_importing_claude_top_does_not_import_anthropic() -> None:
    code = (
        "import sys, claude_top, claude_top.core.record, claude_top.core.clock, claude_top.sources.paths\n"
        "assert 'anthropic' not in sys.modules\n"
        "import claude_top.instrument\n"
        "assert 'anthropic' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=30)


def test_header_fields_reach_the_record(stub: StubMessagesAPI, log_path: Path) -> None:
    """Every response's limit/remaining headers land in the engine's optional Record fields."""
    from claude_top.core.record import Record
    from claude_top.ingest.reader import parse_line

    stub.default = StubResponse(body=message_body(), headers=RL_HEADERS)
    client = instrument(plain_client(stub), log=str(log_path))
    client.messages.create(**KW, feature="search", user_id="u_1")
    [raw] = log_path.read_bytes().splitlines()
    r = parse_line(raw)
    assert isinstance(r, Record)
    assert (r.ratelimit_requests_limit, r.ratelimit_requests_remaining) == (50, 49)
    assert (r.ratelimit_input_tokens_limit, r.ratelimit_input_tokens_remaining) == (40000, 39000)
    assert (r.ratelimit_output_tokens_limit, r.ratelimit_output_tokens_remaining) == (8000, 7990)
