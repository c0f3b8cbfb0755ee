"""``--state`` / ``--no-state`` wiring for the commands, and ``claude-top state info``.

The TUI uses a state by default (one file per source spec, ``state.session.default_path``),
except for standard input, a pipe or a remote source (none can be resumed: its lines would be
counted again on every start) and with ``--now`` (a view of the past would count later lines as read without
aggregating them). ``summary`` and ``check`` use one only when ``--state FILE`` names it.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from msgspec.structs import replace

from claude_top.commands.failing import say
from claude_top.config.load import Config
from claude_top.core.errors import ConfigError, TimeArgError, UserError
from claude_top.core.format import grouped
from claude_top.core.text import safe_text
from claude_top.core.windows import check_window
from claude_top.engine.engine import Engine
from claude_top.rules.checks import LATENCY_RULE
from claude_top.rules.spec import rules_from_config
from claude_top.sources.paths import is_regular
from claude_top.sources.remote import is_url
from claude_top.state.db import APPLICATION_ID, SCHEMA
from claude_top.state.load import Horizon
from claude_top.state.session import Session, default_path, open_session


def state_path(a: argparse.Namespace, specs: list[str], *, by_default: bool) -> str | None:
    """The state file a command uses, or None."""
    if getattr(a, "no_state", False):
        return None
    if getattr(a, "state", None):
        return str(a.state)
    if not by_default or getattr(a, "now", None):
        return None
    if any(s == "-" or is_url(s) or (os.path.exists(s) and not is_regular(s)) for s in specs):
        return None  # a pipe or a remote source is read again from its start on every run
    return default_path(specs)


def session_for(
    a: argparse.Namespace,
    engine: Engine,
    cfg: Config,
    prog: str,
    *,
    by_default: bool = False,
    horizon: Horizon | None = None,
) -> Session | None:
    """Open and load the command's state into ``engine``; problems are one line on stderr."""
    path = state_path(a, list(a.logs), by_default=by_default)
    if path is None:
        return None
    if any(is_url(s) for s in a.logs):
        raise UserError("--state: remote sources (ssh://, cmd://) cannot be resumed; use none")
    try:
        keep = cfg.state_keep_days()
    except ConfigError as e:
        raise UserError(str(e)) from None
    return open_session(
        path, engine, lambda line: say(prog, line), retention_days=keep, horizon=horizon
    )


STREAM_RULE = "p95_ttft"
"""The one rule that reads the streamed calls' store (the rest read the group rows)."""


def live_session(
    a: argparse.Namespace,
    engine: Engine,
    cfg: Config,
    since: float | None,
    prog: str,
    shown: str | None = None,
) -> Session | None:
    """The state of the TUI and ``serve`` (by default one per source spec): loaded back to
    ``--since``, today's and yesterday's users by day (what its windows read per user by
    day), and the older days' sums and older histograms once the history is read
    (``Session.start_later``). With ``shown`` (the TUI's window), the histograms loaded first
    are only those its first screen reads (``first_screen_hists``), else the last 25 hours',
    and yesterday's user rows are added with the rest."""
    if getattr(a, "now", None) or not hasattr(a, "state"):
        return None  # --now, or a caller without the options (``demo``)
    now = engine.clock.now()
    horizon = Horizon(
        groups_from=since,
        users=True,
        user_days_from=engine.day_start(now - 86400),
        user_days_kept=True,
        hists_from=float(min(now - 25 * 3600, engine.day_start(now)) // 900 * 900),
        later=True,
    )
    if shown is not None:
        # Today's users are on the first screen; yesterday's are added after it.
        horizon = replace(
            horizon,
            user_days_from=engine.day_start(now),
            user_days_later_from=engine.day_start(now - 86400),
        )
        try:
            rules = rules_from_config(cfg.alerts)
        except (ValueError, ConfigError):
            rules = None  # the app says what is wrong; load every histogram meanwhile
        if rules is not None:
            horizon = replace(horizon, hists_for=first_screen_hists(shown, rules, engine, now))
        else:
            horizon = replace(horizon, hists_from=None)
    return session_for(a, engine, cfg, prog, by_default=True, horizon=horizon)


HIST_SLACK_S = 3600.0
"""Histograms loaded before the first screen's earliest window start (rounded down to a
quarter hour): its windows are aligned to bucket edges and start later on each frame."""


def first_screen_hists(
    window: str, rules: list[Any], engine: Engine, now: float
) -> Callable[[float | None], float | None]:
    """Where the latency histograms the TUI's first screen reads begin, given the newest call
    in the state: those of the shown window and of the p95 rule's (the only rule reading
    them), back from now or, for an old log shown as a replay, from that call (None: all of
    them, for "all" or a date). Decoding histograms is most of a warm load: the default 10m
    screen reads about an hour of them out of 26, the rest are added after it is painted."""
    windows = [window]
    windows += [r.window for r in rules if r.enabled and r.id == LATENCY_RULE and r.window]

    def hists_from(newest: float | None) -> float | None:
        ref = now if newest is None else min(now, newest)
        start = ref
        for name in windows:
            try:
                seconds = check_window(name).seconds
            except TimeArgError:
                return None
            if seconds is not None:
                start = min(start, ref - seconds)
            elif name == "today":
                start = min(start, engine.day_start(ref))
            elif name == "yesterday":
                start = min(start, engine.day_start(engine.day_start(ref) - 1))
            else:
                return None  # "all", or a date
        return float((start - HIST_SLACK_S) // 900 * 900)

    return hists_from


MEMORY_SLACK_S = 300
"""How much earlier than its rules' windows ``check`` loads buckets when the older ones are
summed from the file: the rules are evaluated after the read, at a later clock, so their
windows start later than at the load (5 minutes more for a clock stepped back)."""
BASELINE_DAYS = 9
"""Days before today the cost rules read (7 full days, with a day's slack each side)."""


def rules_horizon(rules: list[Any], engine: Engine, now: float) -> Horizon:
    """What ``check`` needs of a state: buckets back as far as its longest rule window (or
    the cost baseline), no users; in memory only those of the rules that read histograms
    or streamed calls, when the older ones can be summed from the file (``older_before``)."""
    back: float = engine.day_start(now) - BASELINE_DAYS * 86400
    hists: float | None = now
    memory: float = now - MEMORY_SLACK_S
    for rule in rules:
        if not rule.enabled or not rule.window:
            continue  # ``source`` and ``stale_log`` read the readers' health, not buckets
        try:
            seconds = check_window(rule.window).seconds
        except TimeArgError:
            return Horizon(groups_from=None, users=False)
        if seconds is None and rule.window not in ("today", "yesterday"):
            return Horizon(groups_from=None, users=False)  # "all", or a date
        start = now - seconds - 3600 if seconds is not None else engine.day_start(now) - 86400
        back = min(back, start)
        if rule.id == LATENCY_RULE and hists is not None:
            hists = min(hists, start)
        if rule.id in (LATENCY_RULE, STREAM_RULE) and seconds is not None:
            memory = min(memory, now - seconds - MEMORY_SLACK_S)
        elif rule.id in (LATENCY_RULE, STREAM_RULE):
            memory = min(memory, start)
    fine = engine.agg.groups.tiers[0].keep  # minutes this old may move up a tier
    return Horizon(
        groups_from=back,
        users=False,
        hists_from=hists,
        older_before=float(int(memory) // 60 * 60),
        fine_before=now - fine,
    )


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _size(path: str) -> int:
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def info(path: str) -> list[str]:
    """What a state holds, as lines: its schema, span, rows, lines and sources (read only: a
    state of an older schema is upgraded by the next command that writes it)."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such state file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return _info(conn, path)
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise UserError(f"{path}: not a readable state ({e})") from None


def _info(conn: sqlite3.Connection, path: str) -> list[str]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise UserError(f"{path}: not a claude-top state (another program's SQLite database)")
    if version != SCHEMA:
        raise UserError(f"{path}: schema {version}; this claude-top reads schema {SCHEMA}")
    meta: dict[str, Any] = dict(conn.execute("SELECT key, value FROM meta"))
    one = conn.execute
    span = one("SELECT min(start), max(start + width) FROM calls").fetchone()
    n_calls, calls = one("SELECT count(*), coalesce(sum(calls), 0) FROM calls").fetchone()
    n_hist = one("SELECT count(*) FROM histograms").fetchone()[0]
    n_users, days, users = one(
        "SELECT count(*), count(DISTINCT day), count(DISTINCT user) FROM users"
    ).fetchone()
    streams = one("SELECT count(*), coalesce(sum(streams), 0) FROM streams").fetchone()
    app = one("SELECT count(*), coalesce(sum(calls), 0) FROM app_costs").fetchone()
    health = dict(one("SELECT what, n FROM line_health"))
    lines = sum(health.get(k, 0) for k in ("records", "foreign", "rejected"))
    out = [
        f"state {safe_text(path)}",
        f"  schema {version}, time zone {meta.get('tz', '?')}, {_size(path) / 2**20:.1f} MiB",
        f"  span {_when(span[0])} .. {_when(span[1])}"
        + (f" ({(span[1] - span[0]) / 86400:.1f} days)" if span[0] is not None else ""),
        f"  calls {grouped(calls)} in {grouped(n_calls)} rows ({grouped(n_hist)} histograms); "
        f"users {grouped(users)} in {grouped(n_users)} day rows over {days} days",
        f"  streamed calls {grouped(streams[1])} in {grouped(streams[0])} rows; calls with the "
        f"app's own cost {grouped(app[1])} in {grouped(app[0])} rows",
        f"  lines {grouped(lines)}: {grouped(health.get('records', 0))} records, "
        f"{grouped(health.get('foreign', 0))} foreign, {grouped(health.get('rejected', 0))} "
        "rejected",
    ]
    sources = one("SELECT path, digest, offset, lineno, seen FROM sources ORDER BY seen").fetchall()
    out.append(f"  sources ({len(sources)}):")
    for p, digest, offset, lineno, seen in sources:
        out.append(
            f"    {safe_text(p)}  read to byte {grouped(offset)} (line {grouped(lineno)}), "
            f"start {digest}, last seen {_when(seen)}"
        )
    return out


def cmd_state(a: argparse.Namespace) -> int:
    """``claude-top state info [LOG...] [--state FILE]``."""
    if a.state:
        path = a.state
    elif a.logs:
        path = default_path(list(a.logs))
    else:
        raise UserError("state info: name the logs (as given to claude-top) or --state FILE")
    sys.stdout.write("\n".join(info(path)) + "\n")
    return 0
