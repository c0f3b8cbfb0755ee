"""A tiny scripted stand-in for the Messages API, for tests that drive the real ``anthropic`` SDK.

``StubMessagesAPI`` is a threaded ``http.server`` on ``127.0.0.1:<ephemeral port>`` that answers
``POST /v1/messages``. Each request's decoded JSON body and headers are recorded in ``requests``;
the answer comes from ``responder(body)`` when one is set, else from the queue filled by ``push``
(first in, first out), else from ``default``. A ``StubResponse`` is either a JSON body with a status
and headers, or a list of SSE events sent as chunks; ``delay_s`` makes the server sleep before
answering (for client timeouts).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["StubMessagesAPI", "StubResponse", "error_body", "message_body", "sse_events"]


@dataclass
class StubResponse:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] | None = None
    """When set, the response is ``text/event-stream`` with these ``(event, data)`` pairs."""
    delay_s: float = 0.0


def message_body(
    *,
    model: str = "claude-haiku-4-5",
    text: str = "hi",
    input_tokens: int = 10,
    output_tokens: int = 5,
    stop_reason: str = "end_turn",
    msg_id: str = "msg_stub",
    **usage_extra: Any,
) -> dict[str, Any]:
    usage: dict[str, Any] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    usage.update(usage_extra)
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def error_body(error_type: str, message: str = "stub error") -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def sse_events(
    *,
    model: str = "claude-haiku-4-5",
    text_parts: tuple[str, ...] = ("Hel", "lo"),
    start_usage: dict[str, Any] | None = None,
    delta_usage: dict[str, Any] | None = None,
    stop_reason: str = "end_turn",
) -> list[tuple[str, dict[str, Any]]]:
    """A complete, well-formed Messages stream."""
    start = dict(start_usage or {"input_tokens": 25, "output_tokens": 1})
    delta = dict(delta_usage or {"output_tokens": 12})
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_stream",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start,
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    for part in text_parts:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": part},
                },
            )
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": delta,
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping for a timeout test must not hold up stop()
    stub: StubMessagesAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping an idle keep-alive connection (or a timed-out one) is normal here.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        stub = self.server.stub
        resp = stub._record_and_pick(self.path, dict(self.headers.items()), body)
        try:
            if resp.delay_s:
                time.sleep(resp.delay_s)
            self._send(resp)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True

    def _send(self, resp: StubResponse) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if resp.events is None:
            payload = json.dumps(resp.body if resp.body is not None else {}).encode()
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            return
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for name, data in resp.events:
            chunk = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class StubMessagesAPI:
    """``with StubMessagesAPI() as stub: ... base_url=stub.base_url ...``"""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.default = StubResponse(body=message_body())
        self.responder: Callable[[Any], StubResponse] | None = None
        self._queue: deque[StubResponse] = deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def push(self, *responses: StubResponse) -> None:
        with self._lock:
            self._queue.extend(responses)

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r["body"] for r in self.requests]

    def _record_and_pick(self, path: str, headers: dict[str, str], body: Any) -> StubResponse:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            if path.split("?")[0] != "/v1/messages":
                return StubResponse(status=404, body=error_body("not_found_error"))
            if self.responder is not None:
                return self.responder(body)
            if self._queue:
                return self._queue.popleft()
            return self.default

    def start(self) -> StubMessagesAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StubMessagesAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
