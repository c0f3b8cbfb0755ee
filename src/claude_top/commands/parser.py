"""The command line's grammar: the subcommands' parser and the TUI's own.

Two parsers because ``claude-top LOG...`` takes log names where the subcommands take a command
name: ``main`` picks one by the first argument. A mistake on the command line is a
``UserError`` (one line, printed by ``main`` with the command's own status) rather than
argparse's usage block and status 2, which ``check`` must never exit with for its own failure.
Numbers are checked here, before anything runs: an interval of nan, inf, zero or 1e308 would
spin or sleep forever.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn

from claude_top import __version__
from claude_top.core.errors import TimeArgError, UserError
from claude_top.core.timeutil import parse_seconds
from claude_top.ingest.presets import NAMES as PRESETS

COMMANDS = ("summary", "check", "prices", "config", "demo", "serve", "rules", "grafana")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one-line ``UserError``s (subparsers inherit it)."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see: {self.prog} --help)")


def _seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: seconds (``2``, ``0.5``, ``10s``) in [low, high], or a one-line error."""

    def parse(text: str) -> float:
        try:
            return parse_seconds(text, low, high)
        except TimeArgError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = "seconds"
    return parse


def _rate(text: str) -> float:
    """``demo --rate``: calls per second, a finite number in [0, 1000]."""
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0 <= rate <= 1000:  # also false for nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate between 0 and 1000 calls/s")
    return rate


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file (default: $XDG_CONFIG_HOME/claude-top/config.toml)",
    )
    p.add_argument("--tz", metavar="ZONE", help="time zone for days (default UTC)")
    p.add_argument("--now", metavar="TIME", help="evaluate as of this time (ISO 8601 or epoch)")
    p.add_argument(
        "--preset",
        choices=(*PRESETS, "auto"),
        help="the log's format (default: [log] preset, else detected from each source's first "
        "lines)",
    )


def _add_summary(sub: argparse._SubParsersAction[_Parser]) -> None:
    s = sub.add_parser("summary", help="numbers per feature/model/user over a window")
    s.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="log files, globs, - for stdin, ssh://host/path or cmd://command",
    )
    g = s.add_mutually_exclusive_group()
    g.add_argument("--day", metavar="YYYY-MM-DD", help="one calendar day (in --tz)")
    s.add_argument("--since", metavar="TIME", help="start (ISO 8601, epoch, or a duration ago: 2h)")
    s.add_argument("--until", metavar="TIME", help="end, exclusive")
    s.add_argument("--by", choices=("feature", "model", "user", "host"), default="feature")
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
    s.add_argument(
        "--interval",
        type=_seconds(0.01, 86400),
        default=2.0,
        metavar="SECONDS",
        help="seconds between prints with --follow (0.01 to 86400; default 2)",
    )
    _add_common(s)


def _add_metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metrics", metavar="HOST:PORT", help="serve Prometheus metrics at /metrics")
    p.add_argument(
        "--metrics-users",
        type=_count(0, 1000),
        default=0,
        metavar="N",
        help="also export today's top N users as gauges (default 0: no user label)",
    )


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)

    parse.__name__ = "count"
    return parse


def _add_fleet(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``serve``, ``rules`` and ``grafana``: claude-top inside Prometheus and Alertmanager."""
    sv = sub.add_parser(
        "serve", help="headless: follow, evaluate rules, export metrics, push alerts"
    )
    sv.add_argument("logs", nargs="+", metavar="LOG", help="log files, globs, or - for stdin")
    _add_metrics(sv)
    sv.add_argument("--alertmanager", metavar="URL", help="push firing alerts to this Alertmanager")
    sv.add_argument("--since", default="8d", metavar="TIME", help="history to read (default 8d)")
    sv.add_argument(
        "--interval",
        type=_seconds(0.1, 3600),
        default=1.0,
        metavar="SECONDS",
        help="seconds between rule evaluations (default 1)",
    )
    sv.add_argument("--poll", type=_seconds(0.01, 3600), default=1.0, metavar="SECONDS")
    sv.add_argument("--config", metavar="FILE")
    sv.add_argument("--tz", metavar="ZONE")
    sv.add_argument("--preset", choices=(*PRESETS, "auto"), help="the log's format (see --help)")
    r = sub.add_parser("rules", help="print the alert rules for another system")
    r.add_argument("--format", choices=("prometheus",), default="prometheus")
    r.add_argument("--config", metavar="FILE")
    gf = sub.add_parser("grafana", help="print a Grafana dashboard over the exported metrics")
    gf.add_argument("--config", metavar="FILE")


def build_parser() -> argparse.ArgumentParser:
    """The subcommands: summary, check, prices, config, demo."""
    p = _Parser(
        prog="claude-top",
        description="Live view of a Claude-powered app's call log. "
        "Subcommands: summary, check, prices, config, demo, serve, rules, grafana.",
    )
    p.add_argument("--version", action="version", version=f"claude-top {__version__}")
    sub = p.add_subparsers(dest="command")
    _add_summary(sub)

    c = sub.add_parser("check", help="evaluate alert rules once (for cron); exit 0/1/2/3")
    c.add_argument("logs", nargs="+", metavar="LOG")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--alertmanager", metavar="URL", help="also push the firing alerts there once")
    _add_common(c)
    _add_fleet(sub)

    pr = sub.add_parser("prices", help="print the price table in use")
    pr.add_argument("--config", metavar="FILE")
    pr.add_argument("--now", metavar="TIME", help="the clock, for the table's age (ISO 8601)")

    cf = sub.add_parser("config", help="print the effective configuration as TOML")
    cf.add_argument("--config", metavar="FILE")

    d = sub.add_parser("demo", help="generate a realistic live log and watch it")
    d.add_argument("--out", metavar="FILE", help="write the stream here (default: a temp file)")
    d.add_argument(
        "--rate", type=_rate, default=5.0, help="live calls per second (0 to 1000; default 5)"
    )
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--no-tui", action="store_true", help="only write the stream")
    d.add_argument("--theme", metavar="NAME")
    return p


def build_tui_parser() -> argparse.ArgumentParser:
    """``claude-top LOG...``: the live view."""
    p = _Parser(
        prog="claude-top",
        description="Live view of a Claude-powered app's call log. Other commands: "
        "claude-top {summary,check,prices,config,demo,serve,rules,grafana} --help",
    )
    p.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="log files, globs, - for stdin, ssh://host/path or cmd://command",
    )
    p.add_argument(
        "--since",
        default="8d",
        metavar="TIME",
        help="read history from this far back (default 8d: the 7-day baseline)",
    )
    p.add_argument("--window", default="10m", metavar="WINDOW")
    p.add_argument("--theme", metavar="NAME")
    p.add_argument(
        "--poll",
        type=_seconds(0.01, 3600),
        default=1.0,
        metavar="SECONDS",
        help="fallback poll interval (0.01 to 3600; default 1)",
    )
    _add_metrics(p)
    _add_common(p)
    return p
