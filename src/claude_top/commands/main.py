"""The command line: the live TUI by default, and headless commands over the same engine.

``claude-top LOG...`` opens the TUI; ``summary``, ``check``, ``prices``, ``config`` and ``demo``
are subcommands. Mistakes a user can make (a missing file, a bad date, a bad config) end with one
line on stderr and a non-zero status, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import Any

import orjson

from claude_top import __version__
from claude_top.config.load import Config, load
from claude_top.core.clock import Clock, FixedClock, SystemClock
from claude_top.core.errors import ConfigError, InputError, UserError
from claude_top.core.timeutil import TimeArgError, day_bounds, parse_date, parse_time
from claude_top.engine import merge as parallel
from claude_top.engine.engine import Engine
from claude_top.sources.paths import expand, read_batches

COMMANDS = ("summary", "check", "prices", "config", "demo")
EXIT_USAGE = 2


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file (default: $XDG_CONFIG_HOME/claude-top/config.toml)",
    )
    p.add_argument("--tz", metavar="ZONE", help="time zone for days (default UTC)")
    p.add_argument("--now", metavar="TIME", help="evaluate as of this time (ISO 8601 or epoch)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="claude-top",
        description="Live view of a Claude-powered app's call log. "
        "Subcommands: summary, check, prices, config, demo.",
    )
    p.add_argument("--version", action="version", version=f"claude-top {__version__}")
    sub = p.add_subparsers(dest="command")

    s = sub.add_parser("summary", help="numbers per feature/model/user over a window")
    s.add_argument("logs", nargs="+", metavar="LOG", help="log files, globs, or - for stdin")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--day", metavar="YYYY-MM-DD", help="one calendar day (in --tz)")
    s.add_argument("--since", metavar="TIME", help="start (ISO 8601, epoch, or a duration ago: 2h)")
    s.add_argument("--until", metavar="TIME", help="end, exclusive")
    s.add_argument("--by", choices=("feature", "model", "user"), default="feature")
    s.add_argument("--format", choices=("table", "json", "csv"), default="table")
    s.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=2,
        help="processes for a big plain file: 2 reads it on two cores (faster, about 1.7x the "
        "memory in all), 1 in this process only (default 2)",
    )
    s.add_argument("--follow", action="store_true", help="keep reading; print every --interval")
    s.add_argument("--interval", type=float, default=2.0, metavar="SECONDS")
    _common(s)

    c = sub.add_parser("check", help="evaluate alert rules once (for cron); exit 0/1/2/3")
    c.add_argument("logs", nargs="+", metavar="LOG")
    c.add_argument("--format", choices=("text", "json"), default="text")
    _common(c)

    pr = sub.add_parser("prices", help="print the price table in use")
    pr.add_argument("--config", metavar="FILE")

    cf = sub.add_parser("config", help="print the effective configuration as TOML")
    cf.add_argument("--config", metavar="FILE")

    d = sub.add_parser("demo", help="generate a realistic live log and watch it")
    d.add_argument("--out", metavar="FILE", help="write the stream here (default: a temp file)")
    d.add_argument("--rate", type=float, default=5.0, help="live calls per second")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--no-tui", action="store_true", help="only write the stream")
    d.add_argument("--theme", metavar="NAME")
    return p


def build_tui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="claude-top",
        description="Live view of a Claude-powered app's call log. Other commands: "
        "claude-top {summary,check,prices,config,demo} --help",
    )
    p.add_argument("logs", nargs="+", metavar="LOG", help="log files, globs, or - for stdin")
    p.add_argument(
        "--since",
        default="8d",
        metavar="TIME",
        help="read history from this far back (default 8d: the 7-day baseline)",
    )
    p.add_argument("--window", default="10m", metavar="WINDOW")
    p.add_argument("--theme", metavar="NAME")
    p.add_argument(
        "--poll", type=float, default=1.0, metavar="SECONDS", help="fallback poll interval"
    )
    _common(p)
    return p


def make_clock(now: str | None, tz: Any) -> Clock:
    if now is None:
        return SystemClock()
    try:
        return FixedClock(parse_time(now, SystemClock().now(), tz))
    except TimeArgError as e:
        raise UserError(f"--now: {e}") from None


def load_config(path: str | None) -> Config:
    try:
        return load(path)
    except ConfigError as e:
        raise UserError(str(e)) from None


def read_all(engine: Engine, specs: list[str], *, split: bool = False) -> None:
    """Feed every named input to the engine, oldest rotated file first.

    With ``split`` a big plain file is read on two cores (``parallel``); only for views that
    need no per-call state besides the counts (``summary``: not the headroom tracker).
    """
    try:
        paths = expand(specs)
    except InputError as e:
        raise UserError(str(e)) from None
    # The engine's rows are long-lived containers: the cyclic GC rescanning them while a
    # big log loads costs more than the loading itself, and they hold no cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for path in paths:
            try:
                if split and parallel.can_split(path):
                    parallel.read_split(engine, path)
                    continue
                for batch in read_batches(path):
                    engine.ingest(batch)
            except InputError as e:
                raise UserError(str(e)) from None
        engine.compact()
    finally:
        if gc_was_enabled:
            gc.enable()


def cmd_summary(a: argparse.Namespace) -> int:
    from claude_top.views.summary import iso, summary_dict, to_csv, to_table

    cfg = load_config(a.config)
    tz = _tz(cfg, a.tz)
    clock = make_clock(a.now, tz)
    since = until = None
    try:
        if a.day:
            since, until = day_bounds(parse_date(a.day), tz)
        if a.since:
            since = parse_time(a.since, clock.now(), tz)
        if a.until:
            until = parse_time(a.until, clock.now(), tz)
    except TimeArgError as e:
        raise UserError(str(e)) from None
    if since is not None and until is not None and until <= since:
        raise UserError("--until must be after --since")
    engine = Engine(
        cfg.price_table(), clock, tz, since=since, until=until, track_users=a.by == "user"
    )
    window = {"start": iso(since), "end": iso(until), "tz": str(tz), "day": a.day}

    def emit() -> None:
        doc = summary_dict(engine.query(by=a.by), engine.lines, window)
        if a.format == "json":
            sys.stdout.write(orjson.dumps(doc).decode() + "\n")
        elif a.format == "csv":
            sys.stdout.write(to_csv(doc, a.by))
        else:
            sys.stdout.write(to_table(doc, a.by))
        sys.stdout.flush()

    if a.follow:
        from claude_top.commands.follow_summary import follow_summary

        try:
            return follow_summary(engine, a.logs, a.interval, emit, table=a.format == "table")
        except InputError as e:
            raise UserError(str(e)) from None
    read_all(engine, a.logs, split=a.jobs > 1)
    emit()
    return 0


def _tz(cfg: Config, name: str | None) -> Any:
    try:
        return cfg.timezone(name)
    except ConfigError as e:
        raise UserError(str(e)) from None


def cmd_prices(a: argparse.Namespace) -> int:
    cfg = load_config(a.config)
    sys.stdout.write(cfg.price_table().format_table())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if (args and args[0] in COMMANDS) or any(
            x in ("-h", "--help", "--version") for x in args[:1]
        ):
            a = build_parser().parse_args(args)
            if a.command == "summary":
                return cmd_summary(a)
            if a.command == "prices":
                return cmd_prices(a)
            if a.command in ("check", "config"):
                from claude_top.commands import check

                return check.cmd_check(a) if a.command == "check" else check.cmd_config(a)
            if a.command == "demo":
                from claude_top.commands.live import run_demo

                return run_demo(a)
            build_parser().print_help()
            return EXIT_USAGE
        if not args:
            build_tui_parser().print_usage(sys.stderr)
            sys.stderr.write("claude-top: name a log file, or try: claude-top demo\n")
            return EXIT_USAGE
        from claude_top.commands.live import run_tui

        return run_tui(build_tui_parser().parse_args(args))
    except UserError as e:
        sys.stderr.write(f"claude-top: {e}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
