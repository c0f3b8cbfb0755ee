"""Wiring for ``claude-top LOG...`` and ``claude-top demo``: config, clock, engine, alerts,
follower, then the app. Kept apart from ``app`` so the app itself stays constructible in tests
from ready-made parts.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from claude_top.commands.common import load_config, log_format, make_clock, time_zone
from claude_top.commands.failing import say
from claude_top.config.load import Config
from claude_top.config.state import load_ui_state
from claude_top.core.clock import Clock
from claude_top.core.errors import ConfigError, UserError
from claude_top.core.format import grouped
from claude_top.core.text import safe_text
from claude_top.core.timeutil import TimeArgError, parse_time
from claude_top.core.windows import check_window
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import Headroom
from claude_top.engine.hosts import ByHost
from claude_top.rules.evaluate import Alerts
from claude_top.rules.spec import rules_from_config


def _alerts(engine: Engine, cfg: Config, tz: Any, clock: Clock) -> Alerts:
    try:
        rules = rules_from_config(cfg.alerts)
    except (ValueError, ConfigError) as e:
        raise UserError(f"{cfg.path or 'config'}: {e}") from None
    return Alerts(engine, rules, tz=tz, clock=clock)


def _check_window(name: str) -> str:
    try:
        return check_window(name).name
    except TimeArgError as e:
        raise UserError(f"--window: {e}") from None


def _window(args: argparse.Namespace, state: dict[str, Any], cfg: Config) -> str:
    """``--window``, else the one last used (if still valid), else the config's, else 10m."""
    if args.window:
        return _check_window(args.window)
    remembered = state.get("window")
    if remembered:
        try:
            return check_window(remembered).name
        except TimeArgError:
            pass
    return _check_window(str(cfg.ui.get("window", "10m")))


def _export_dir(args: argparse.Namespace, cfg: Config) -> Path:
    """``--export-dir``, else ``[ui] export_dir``, else the current directory (checked now)."""
    given = getattr(args, "export_dir", None)
    name = given or cfg.ui.get("export_dir") or "."
    where = "--export-dir" if given else f"{cfg.path}: ui.export_dir"
    p = Path(str(name)).expanduser().absolute()
    if name != "." and not p.is_dir():
        raise UserError(f"{where}: {safe_text(str(p))}: not a directory")
    return p


def _anchored_since(logs: list[str], since: float, now: float, ts_of: Any) -> float:
    """``since``, or the same span back from the newest event if the whole log is older.

    An old log (last week's, read with the default ``--since 8d``) then shows its last days as a
    replay, anchored at its newest event, rather than an empty dashboard.
    """
    from claude_top.core.errors import InputError
    from claude_top.sources.newest import newest_event
    from claude_top.sources.paths import expand

    try:
        newest = newest_event(expand(logs), ts_of)
    except InputError:
        return since  # the follower reports it, with its own words
    if newest is None or newest >= since:
        return since
    return newest - (now - since)


def _terminal() -> Any:
    """The controlling terminal, opened before anything is read; one line and out if none."""
    from claude_top.views.tui.terminal import NoTerminal, open_terminal

    try:
        return open_terminal()
    except NoTerminal as e:
        raise UserError(
            f"no terminal for the live view: {e}; for text output use: claude-top summary --follow"
        ) from None


def run_tui(args: argparse.Namespace, terminal: Any = None) -> int:
    """The live view; ``terminal`` already opened by the caller, or opened here."""
    if terminal is None:
        terminal = _terminal()
    # A hang-up ends the live view even when it was started with SIGHUP ignored (``nohup``,
    # some session managers): without its terminal it shows nothing, and a process left
    # behind would keep its state's writer lock (the state is crash-safe: no commit is lost
    # but the last few seconds', which the next start reads again).
    if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    # The cyclic GC is off from here (imports, the state's load) until the first frame with
    # the history in, when the app freezes the heap and turns it on (``RefreshingApp``): the
    # ~50,000 rows a warm start builds hold no cycles, and collections rescanning them were a
    # sixth of the load.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_tui(args, terminal)
    finally:
        if was_enabled:
            gc.enable()
        terminal.close()


def _run_tui(args: argparse.Namespace, terminal: Any) -> int:
    from claude_top.commands.following import follow_logs
    from claude_top.core.errors import ThemeError
    from claude_top.views.tui.app import ClaudeTopApp
    from claude_top.views.tui.handoff import LatestProgress
    from claude_top.views.tui.themes import short_name

    cfg = load_config(getattr(args, "config", None))
    tz = time_zone(cfg, getattr(args, "tz", None))
    clock = make_clock(getattr(args, "now", None), tz)
    try:
        since = parse_time(args.since, clock.now(), tz) if args.since is not None else None
    except TimeArgError as e:
        raise UserError(f"--since: {e}") from None
    state, note = load_ui_state()
    if note:
        say("claude-top", note)
    win = _window(args, state, cfg)
    try:
        headroom = Headroom(cfg.headroom_config())
    except ConfigError as e:
        raise UserError(str(e)) from None
    # --now views the log as of that moment: later lines are counted but not aggregated.
    until = clock.now() + 1 if getattr(args, "now", None) else None
    fmt = log_format(cfg, getattr(args, "preset", None))

    def make_engine(since: float | None) -> Engine:
        return Engine(
            cfg.price_table(),
            clock,
            tz,
            since=since,
            until=until,
            headroom=headroom,
            log_format=fmt,
        )

    engine = make_engine(since)
    if since is not None and getattr(args, "now", None) is None:
        anchored = _anchored_since(list(args.logs), since, clock.now(), engine.timestamp_of)
        if anchored != since:  # an old log: read its last span, as a replay
            since = anchored
            engine = make_engine(since)
    alerts = _alerts(engine, cfg, tz, clock)
    box = LatestProgress()
    poll = float(getattr(args, "poll", 1.0) or 1.0)
    following = follow_logs(
        args, engine, cfg, since, "claude-top", poll=poll, on_progress=box.set, shown=win
    )
    follower, by_host = following.follower, following.by_host
    alerts.sources = follower  # the source rule reads its statuses and heartbeat
    try:
        app = ClaudeTopApp(
            engine,
            alerts,
            clock,
            follower,
            cfg,
            window=win,
            theme=args.theme,
            progress=box,
            terminal=terminal,
            ui_state=state,
            remember=True,
            export_dir=_export_dir(args, cfg),
        )
    except ThemeError as e:
        raise UserError(str(e)) from None
    app.by_host = by_host if by_host.single is None else None
    if args.theme and app.theme != args.theme and f"claude-{args.theme}" != app.theme:
        names = ", ".join(short_name(n) for n in app.theme_names)
        raise UserError(f"--theme: unknown theme {args.theme!r} (known: {names})")
    exporter = _metrics(args, engine, alerts, tz, clock, follower, by_host)
    following.start(app.first_screen)
    try:
        app.run()
    finally:
        following.stop()
        if exporter is not None:
            exporter.stop()
    if follower.error is not None:
        say("claude-top", f"reading stopped: {follower.error}")
        return 1
    return 0


def _metrics(
    args: argparse.Namespace,
    engine: Engine,
    alerts: Alerts,
    tz: Any,
    clock: Clock,
    follower: Any,
    by_host: ByHost | None = None,
) -> Any:
    """``--metrics``: the exporter ``serve`` runs, beside the TUI (``commands.exporter``)."""
    if not getattr(args, "metrics", None):
        return None
    from claude_top.commands.exporter import count_after_history, serve_metrics

    exporter = serve_metrics(
        args.metrics,
        engine,
        alerts.rules,
        tz,
        clock,
        health=follower,
        firing=lambda: list(alerts.firing.values()),
        users=getattr(args, "metrics_users", 0),
        hosts=by_host.engines if by_host is not None else None,
    )
    count_after_history(exporter, follower.wait_history)
    return exporter


def run_demo(args: argparse.Namespace) -> int:
    from claude_top.demo import DemoConfig, run_live, write_history

    config = DemoConfig(seed=args.seed, rate=args.rate)
    terminal = None if args.no_tui else _terminal()
    if args.out:
        path = args.out
    else:
        fd, path = tempfile.mkstemp(prefix="claude-top-demo-", suffix=".log")
        os.close(fd)
    try:
        n = write_history(path, time.time(), config)
    except OSError as e:
        raise UserError(f"--out: cannot write {path}: {e.strerror or e}") from None
    stop = threading.Event()
    live = threading.Thread(
        target=run_live, args=(path, config, stop), name="claude-top-demo", daemon=True
    )
    live.start()
    try:
        if args.no_tui:
            say(
                "claude-top demo",
                f"wrote {grouped(n)} lines of history to {path}; "
                "appending live calls (Ctrl-C to stop)",
            )
            while live.is_alive():
                live.join(0.5)
            return 0
        tui_args = argparse.Namespace(
            logs=[path],
            since="8d",
            window=None,
            theme=args.theme,
            poll=1.0,
            config=None,
            tz=None,
            now=None,
            export_dir=None,
        )
        return run_tui(tui_args, terminal)
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        live.join(2.0)
        if terminal is not None:
            terminal.close()
        if not args.out:
            say("claude-top demo", f"the log is kept at {path}")
