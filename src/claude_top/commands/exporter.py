"""Serving ``/metrics``: the HTTP server of ``serve`` and of the TUI's ``--metrics``.

The server is ``prometheus_client``'s own, on a daemon thread; each scrape runs the collector
(``views.metrics.collector``), which reads one engine snapshot. Counting starts once the
history is loaded (``views.metrics.counts`` says why), on a thread of its own so the TUI is
never held up by it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from claude_top.core.clock import Clock
from claude_top.core.errors import UserError
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alert
from claude_top.rules.sources import SourceHealth
from claude_top.rules.spec import Rule
from claude_top.views.metrics.collector import PREFIX, EngineCollector


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9464``, ``:9464`` for every interface) as (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UserError(f"--metrics: {text!r} is not HOST:PORT (like 127.0.0.1:9464)")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


@dataclass
class Exporter:
    """A running ``/metrics`` endpoint over one engine."""

    collector: EngineCollector
    registry: CollectorRegistry
    address: tuple[str, int]
    server: Any

    @property
    def url(self) -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/metrics"

    def push_results(self) -> Callable[[bool], None]:
        """A callback counting Alertmanager pushes in this registry (``commands.alertpush``)."""
        failures = Counter(
            PREFIX + "alertmanager_push_failures",
            "Pushes to Alertmanager that failed.",
            registry=self.registry,
        )
        up = Gauge(
            PREFIX + "alertmanager_up",
            "1 when the last push to Alertmanager worked.",
            registry=self.registry,
        )
        up.set(1)

        def result(ok: bool) -> None:
            up.set(1 if ok else 0)
            if not ok:
                failures.inc()

        return result

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(
    address: str,
    engine: Engine,
    rules: Sequence[Rule],
    tz: tzinfo,
    clock: Clock,
    *,
    health: SourceHealth | None,
    firing: Callable[[], Iterable[Alert]] | None,
    users: int = 0,
    hosts: Mapping[str, Engine] | None = None,
) -> Exporter:
    """Start serving; a port that cannot be bound is a ``UserError``."""
    host, port = parse_address(address)
    collector = EngineCollector(
        engine, rules, tz, clock, health=health, firing=firing, users=users, hosts=hosts
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    try:
        server, _thread = start_http_server(port, host, registry=registry)
    except OSError as e:
        raise UserError(f"--metrics: cannot listen on {address}: {e.strerror or e}") from None
    bound = server.server_address
    return Exporter(collector, registry, (host, int(bound[1])), server)


def count_after_history(exporter: Exporter, wait_history: Callable[[], bool]) -> None:
    """Start counting once ``wait_history`` returns, on its own daemon thread."""

    def run() -> None:
        wait_history()
        exporter.collector.start_counting()

    threading.Thread(target=run, name="claude-top-metrics", daemon=True).start()
