"""``claude-top check``: the alert rules once, for cron and monitors.

The exit status follows the monitoring-plugin convention (0 OK, 1 warning, 2 critical, 3 could
not check) so the command drops into cron, systemd timers, Nagios or Icinga unchanged. "Could not
check" must never look like "critical": a missing log is a broken check, not a broken app, so
every user mistake is caught here and mapped to 3 instead of the CLI's usual status 2 (``main``
does the same for a bad argument, an unwritable output and an internal error). The text output
quotes feature names and models from the log, which the rules make safe (``rules.checks``).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import sys
from datetime import tzinfo

from claude_top.commands.common import load_config, log_format, make_clock, read_all, time_zone
from claude_top.commands.failing import say
from claude_top.commands.state import rules_horizon, session_for
from claude_top.config.load import Config
from claude_top.core import jsondoc
from claude_top.core.clock import Clock
from claude_top.core.errors import ConfigError, InputError, UserError
from claude_top.core.format import iso
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import Headroom
from claude_top.rules.evaluate import Alerts
from claude_top.rules.spec import rules_from_config
from claude_top.state.db import StateError
from claude_top.state.session import Session, read_new
from claude_top.views.check import EXIT_UNKNOWN, alert_dict, exit_status
from claude_top.views.summary import format_notes, lines_dict


def _engine(a: argparse.Namespace, cfg: Config, tz: tzinfo, clock: Clock) -> Engine:
    return Engine(
        cfg.price_table(),
        clock,
        tz,
        headroom=Headroom(cfg.headroom_config()),
        track_users=bool(a.state),  # a state keeps every user row it is given
        log_format=log_format(cfg, a.preset),
    )


def _cold(a: argparse.Namespace, cfg: Config, tz: tzinfo, clock: Clock) -> Engine:
    """Every log read from its start, without the state."""
    engine = _engine(a, cfg, tz, clock)
    read_all(engine, a.logs)
    return engine


def _older(
    a: argparse.Namespace, cfg: Config, tz: tzinfo, clock: Clock, engine: Engine, session: Session
) -> Engine:
    """The engine the rules read after a read from the state: its older buckets summed from
    the file when only the newest were loaded (``Session.older``); if the file cannot answer
    for them (its commit failed), the logs read again from their start."""
    if session.older_before is None:
        return engine  # loaded all the rules need
    older = session.older()
    if older is None:
        return _cold(a, cfg, tz, clock)
    engine.answer_older(older)
    return engine


def cmd_check(a: argparse.Namespace) -> int:
    """Read every log, evaluate every rule at now, print the firing alerts; exit 0/1/2/3."""
    # One shot: every row built lives until the command ends, so the cyclic GC (which rescans
    # the rows of a state as they load) would only cost time.
    was_enabled = gc.isenabled()
    gc.disable()
    # And at the process's exit, the collector's last pass over everything the run left (the
    # engine's rows, every module's objects) took ~10 ms, a tenth of a warm check from cron:
    # frozen, they are freed with the process instead. Nothing of check's needs that pass to
    # be right: its logs, lock and state are closed explicitly (``finally``) and written out
    # by then. Only at exit (``atexit``): a caller that goes on (a test) keeps its collector.
    atexit.unregister(gc.freeze)  # registered once, however many checks a process runs
    atexit.register(gc.freeze)
    try:
        return _check(a)
    finally:
        if was_enabled:
            gc.enable()


def _check(a: argparse.Namespace) -> int:
    session: Session | None = None
    try:
        cfg = load_config(a.config)
        tz = time_zone(cfg, a.tz)
        clock = make_clock(a.now, tz)
        rules = rules_from_config(cfg.alerts)
        engine = _engine(a, cfg, tz, clock)
        horizon = rules_horizon(rules, engine, clock.now())
        session = session_for(a, engine, cfg, "claude-top check", horizon=horizon)
        if session is None:
            read_all(engine, a.logs)
        else:
            try:
                read_new(engine, a.logs, session)
            except InputError as e:
                raise UserError(str(e)) from None
            engine = _older(a, cfg, tz, clock, engine, session)
        now = clock.now()
        try:
            firing = Alerts(engine, rules, tz).evaluate(now)
        except StateError as e:  # the file failed under the older buckets' sums
            say("claude-top check", f"state {session.path if session else ''}: {e}")
            engine = _cold(a, cfg, tz, clock)
            firing = Alerts(engine, rules, tz).evaluate(now)
    except (UserError, ConfigError) as e:
        say("claude-top check", str(e))
        return EXIT_UNKNOWN
    finally:
        if session is not None:
            if session.older_before is None and horizon.older_before is not None:
                session.fill_hours(horizon.older_before)  # read from the logs: for the next
            session.close()
    if a.format == "json":
        doc = {
            "status": ("ok", "warning", "critical")[exit_status(firing)],
            "alerts": [alert_dict(x) for x in firing],
            "checked_at": iso(now),
            "lines": lines_dict(engine.lines),
        }
        sys.stdout.write(jsondoc.dumps(doc).decode() + "\n")
    elif firing:
        for x in firing:
            sys.stdout.write(f"{x.severity.upper()} {x.rule} {x.message}\n")
    else:
        sys.stdout.write(f"OK: no alerts ({engine.lines.records} records, checked at {iso(now)})\n")
    if a.format != "json":
        for note in format_notes(lines_dict(engine.lines)):
            sys.stdout.write(note + "\n")
    sys.stdout.flush()
    if getattr(a, "alertmanager", None):
        from claude_top.commands.alertpush import push_once

        push_once(a.alertmanager, firing, "claude-top check")  # a failure is said, not fatal
    return exit_status(firing)
