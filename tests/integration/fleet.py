"""``claude-top serve`` as the fleet tests run it: a real process on a free port, and logs for it.

``Serve`` is ready once ``/metrics`` answers with the counters (the history is loaded and
counting started); ``fixture_lines`` is traffic with several features, models, errors and
latencies either side of the histogram's bounds, stamped near now so every window holds it.
"""

from __future__ import annotations

import random
import sys
import time
import urllib.request
from pathlib import Path

import orjson

from integration.processes import Process
from integration.servers import HOST, free_port
from loggen import call, iso

READY_SERIES = "claude_top_counting_since_timestamp_seconds"
FEATURES = ("chat", "rag", "doc_summary")
MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-1")
LATENCIES = (90, 400, 1200, 4800, 9000, 14990, 15100, 21000, 45000, 70000, 130000)


def fixture_lines(
    n: int, seed: int, now: float | None = None, span_s: float = 300.0
) -> list[bytes]:
    rng = random.Random(seed)
    end = time.time() if now is None else now
    out = []
    for i in range(n):
        ts = end - span_s + span_s * i / n
        over: dict[str, object] = {
            "timestamp": iso(ts),
            "request_id": f"fx-{seed}-{i}",
            "user_id": f"u{rng.randrange(7)}",
            "feature": rng.choice(FEATURES),
            "model": rng.choice(MODELS),
            "input_tokens": rng.randrange(10, 5000),
            "output_tokens": rng.randrange(1, 2000),
            "cached_tokens": rng.choice((0, 0, 1200)),
            "latency_ms": rng.choice(LATENCIES),
        }
        roll = rng.random()
        if roll < 0.06:
            over.update(error="RateLimitError", error_status=429, stop_reason=None)
        elif roll < 0.12:
            over.update(error="InternalServerError", error_status=500, stop_reason=None)
        elif roll < 0.16:
            over.update(stop_reason="max_tokens")
        out.append(orjson.dumps(call(ts, **over)))
    return out


def append(path: Path, lines: list[bytes]) -> None:
    with path.open("ab") as f:
        f.write(b"".join(x + b"\n" for x in lines))


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


class Serve:
    """One ``claude-top serve`` process on ``port`` (a free one if not given); a restart keeps
    the port."""

    def __init__(
        self, workdir: Path, logs: list[str], *extra: str, port: int | None = None
    ) -> None:
        self.workdir, self.logs, self.extra = workdir, logs, list(extra)
        self.port = free_port() if port is None else port
        self.target = f"{HOST}:{self.port}"
        self.url = f"http://{self.target}/metrics"
        self.process: Process | None = None
        self.starts = 0

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", "claude_top", "serve", *self.logs,
            "--metrics", self.target, "--interval", "0.2", "--poll", "0.1", *self.extra,
        ]  # fmt: skip

    def _ready(self) -> bool:
        try:
            return READY_SERIES in scrape(self.url)
        except OSError:
            return False

    def start(self, *extra: str) -> None:
        self.starts += 1
        log = self.workdir / f"serve-{self.starts}.log"
        self.process = Process([*self.argv(), *extra], log)
        self.process.wait_ready(self._ready, "claude-top serve")

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def output(self) -> str:
        return self.process.log_tail(200) if self.process else ""


def sample_sum(text: str, name: str) -> float:
    """The sum of every sample named ``name`` in an exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name
    )
