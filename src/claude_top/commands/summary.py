"""``claude-top summary``: numbers per feature, model or user over a window, once or followed.

Parses the window options into engine bounds, reads the logs (on two cores when it can) and
prints the document ``views.summary`` builds, as a table, JSON or CSV.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from claude_top.commands.common import load_config, log_format, make_clock, read_all, time_zone
from claude_top.core.errors import InputError, UserError
from claude_top.core.format import iso
from claude_top.core.stats import GroupStats, Summary
from claude_top.core.timeutil import TimeArgError, day_bounds, parse_date, parse_time
from claude_top.engine.engine import Engine
from claude_top.engine.hosts import ByHost, hosts_of, read_by_host
from claude_top.views.summary import summary_dict, summary_json, to_csv, to_table


def _bounds(a: argparse.Namespace, now: float, tz: Any) -> tuple[float | None, float | None]:
    """``--day`` / ``--since`` / ``--until`` as epoch bounds (a later option wins)."""
    since = until = None
    option = "--day"
    try:
        if a.day is not None:
            since, until = day_bounds(parse_date(a.day), tz)
        option = "--since"
        if a.since is not None:
            since = parse_time(a.since, now, tz)
        option = "--until"
        if a.until is not None:
            until = parse_time(a.until, now, tz)
    except TimeArgError as e:
        raise UserError(f"{option}: {e}") from None
    if since is not None and until is not None and until <= since:
        raise UserError("--until must be after --since")
    return since, until


def cmd_summary(a: argparse.Namespace) -> int:
    cfg = load_config(a.config)
    tz = time_zone(cfg, a.tz)
    clock = make_clock(a.now, tz)
    since, until = _bounds(a, clock.now(), tz)
    if a.state and (a.follow or a.by == "host"):
        raise UserError(f"--state does not combine with {'--follow' if a.follow else '--by host'}")
    if a.state:
        return _summary_with_state(a, cfg, tz, clock, since, until)
    engine = Engine(
        cfg.price_table(),
        clock,
        tz,
        since=since,
        until=until,
        track_users=a.by == "user",
        # Read once and answered from the user rows alone: group rows would cost a third of
        # the read for nothing (``--follow`` checks alerts over them).
        track_groups=not (a.by == "user" and not a.follow),
        cache_costs=a.follow,  # read once, asked once: no later query reuses a row's cost
        # Asked about the whole read only (its bounds filter at ingest): rows per UTC day
        # from the start, with no minute rows to merge (``--follow`` checks 10-minute alerts).
        whole_read=not a.follow,
        log_format=log_format(cfg, a.preset),
    )
    window = {"start": iso(since), "end": iso(until), "tz": str(tz), "day": a.day}
    by_host: ByHost | None = ByHost(engine, hosts_of(a.logs)) if a.by == "host" else None
    read_hosts: dict[str, GroupStats] | None = None

    def query() -> Summary:
        if by_host is None:
            return engine.query(by=a.by)
        groups = read_hosts if read_hosts is not None else by_host.summary().groups
        return Summary(None, None, "host", engine.total(None, None), groups)

    def emit() -> None:
        _print(a, query(), engine.lines, window, *_side_stats(engine, a.by))

    if a.follow:
        from claude_top.commands.follow_summary import follow_summary

        try:
            return follow_summary(
                engine,
                a.logs,
                a.interval,
                emit,
                table=a.format == "table",
                alerts_config=cfg.alerts,
                by_host=by_host,
            )
        except InputError as e:
            raise UserError(str(e)) from None
    if by_host is not None:
        read_hosts = read_by_host(engine, a.logs, lambda e, s: read_all(e, s, split=a.jobs > 1))
    else:
        read_all(engine, a.logs, split=a.jobs > 1)
    emit()
    return 0


def _summary_with_state(
    a: argparse.Namespace, cfg: Any, tz: Any, clock: Any, since: float | None, until: float | None
) -> int:
    """The state, then what is new in the logs; the window is answered from the buckets (so
    aligned to their minutes, or quarter hours before the last 26 hours)."""
    # Here, not at the top: a summary without a state (most of them) need not import the state
    # layer and sqlite3 (7 ms of its start).
    from claude_top.commands.state import session_for
    from claude_top.state.load import Horizon
    from claude_top.state.session import keep_user_days, read_new

    # unbounded: the state keeps everything
    engine = Engine(cfg.price_table(), clock, tz, log_format=log_format(cfg, a.preset))
    by_user = a.by == "user"
    horizon = Horizon(
        groups_from=since,
        users=by_user,
        user_days_from=None if since is None else engine.day_start(since),
    )
    if by_user:
        keep_user_days(engine)
    session = session_for(a, engine, cfg, "claude-top summary", horizon=horizon)
    try:
        if session is None:
            read_all(engine, a.logs)
        else:
            read_new(engine, a.logs, session)
    except InputError as e:
        raise UserError(str(e)) from None
    finally:
        if session is not None:
            session.close()
    window = {"start": iso(since), "end": iso(until), "tz": str(tz), "day": a.day}
    _print(
        a,
        engine.query(since, until, by=a.by),
        engine.lines,
        window,
        *_side_stats(engine, a.by, since, until),
    )
    return 0


def _side_stats(
    engine: Engine, by: str, since: float | None = None, until: float | None = None
) -> tuple[Any, Any, Any]:
    """Streamed calls, the app's own cost and server tool use over the window, for the views
    that show them (per feature or model); the window's bounds for an engine that kept more (a
    state's)."""
    if by not in ("feature", "model"):
        return None, None, None
    return (
        engine.streaming(since, until, by=by),
        engine.app_costs(since, until, by=by),
        engine.server_tools(since, until, by=by),
    )


def _print(
    a: argparse.Namespace, s: Summary, lines: Any, window: dict[str, Any], *more: Any
) -> None:
    if a.format == "json":
        _write_json(summary_json(s, lines, window, *more))
        return
    doc = summary_dict(s, lines, window, *more)
    if a.format == "csv":
        sys.stdout.write(to_csv(doc, a.by, for_terminal=sys.stdout.isatty()))
    else:
        sys.stdout.write(to_table(doc, a.by))
    sys.stdout.flush()


def _write_json(pieces: Any) -> None:
    """The document's pieces as bytes, a few hundred at a time, and its newline."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text-only stream (a test's StringIO)
        sys.stdout.write(b"".join(pieces).decode() + "\n")
        return
    sys.stdout.flush()
    chunk: list[bytes] = []
    for piece in pieces:
        chunk.append(piece)
        if len(chunk) >= 512:
            out.write(b"".join(chunk))
            chunk.clear()
    chunk.append(b"\n")
    out.write(b"".join(chunk))
    out.flush()
