"""``claude-top serve``: headless, for a fleet -- follow, evaluate the rules, export, push.

What the TUI does minus the screen: the follower reads the history and follows the logs, the
rules run every ``--interval`` seconds (with the ``source`` rule, from the follower's health),
``/metrics`` serves the engine to Prometheus (``--metrics``) and the firing alerts go to
Alertmanager (``--alertmanager``). A source that fails is said on stderr once per change, as
``summary --follow`` does; a push that fails likewise (``alertpush``). SIGTERM and Ctrl-C stop
it cleanly; it exits 1 when the reader died.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from types import FrameType

from claude_top.commands.alertpush import AlertPusher
from claude_top.commands.common import load_config, log_format, time_zone
from claude_top.commands.exporter import Exporter, serve_metrics
from claude_top.commands.failing import say
from claude_top.commands.follow_summary import HealthReport
from claude_top.commands.following import follow_logs
from claude_top.core.clock import SystemClock
from claude_top.core.errors import ConfigError, UserError
from claude_top.core.timeutil import TimeArgError, parse_time
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import Headroom
from claude_top.rules.evaluate import Alerts
from claude_top.rules.spec import rules_from_config

PROG = "claude-top serve"


def cmd_serve(a: argparse.Namespace) -> int:
    if not a.metrics and not a.alertmanager:
        raise UserError("serve: give --metrics HOST:PORT, --alertmanager URL, or both")
    cfg = load_config(a.config)
    tz = time_zone(cfg, a.tz)
    clock = SystemClock()
    try:
        rules = rules_from_config(cfg.alerts)
        headroom = Headroom(cfg.headroom_config())
    except ConfigError as e:
        raise UserError(str(e)) from None
    try:
        since = parse_time(a.since, clock.now(), tz)
    except TimeArgError as e:
        raise UserError(f"--since: {e}") from None
    engine = Engine(
        cfg.price_table(),
        clock,
        tz,
        since=since,
        headroom=headroom,
        log_format=log_format(cfg, a.preset),
    )
    following = follow_logs(a, engine, cfg, since, PROG, poll=a.poll)
    follower, by_host = following.follower, following.by_host
    alerts = Alerts(engine, rules, tz, sources=follower, clock=clock)
    exporter: Exporter | None = None
    if a.metrics:
        exporter = serve_metrics(
            a.metrics,
            engine,
            rules,
            tz,
            clock,
            health=follower,
            firing=lambda: list(alerts.firing.values()),
            users=a.metrics_users,
            hosts=by_host.engines,
        )
    pusher = None
    if a.alertmanager:
        results = exporter.push_results() if exporter else None
        pusher = AlertPusher(a.alertmanager, PROG, on_result=results)
    source_rule = next(r for r in rules if r.id == "source")
    health = HealthReport(follower, source_rule.threshold if source_rule.enabled else None, PROG)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    following.start()
    try:
        while not follower.wait_history(0.2):
            if stop.is_set():
                return 0
        if exporter is not None:
            exporter.collector.start_counting()
            say(PROG, f"serving {exporter.url} (counting from now; history loaded)")
        while not stop.is_set():
            health.report()
            firing = alerts.evaluate(clock.now())
            if pusher is not None:
                pusher.update(firing, time.time())
            if follower.error is not None:
                say(PROG, f"reading stopped: {follower.error}")
                return 1
            stop.wait(a.interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        following.stop()
        if exporter is not None:
            exporter.stop()
    return 0
