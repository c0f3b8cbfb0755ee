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
from typing import Any, NoReturn

from claude_top import __version__
from claude_top.core.errors import TimeArgError, UserError
from claude_top.core.timeutil import parse_seconds
from claude_top.ingest.presets import NAMES as PRESETS

COMMANDS = ("summary", "check", "prices", "config", "demo", "serve", "rules", "grafana", "state")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one-line ``UserError``s (subparsers inherit it).

    Building a parser asks argparse for a help formatter at every option, each of which asks
    the terminal its width (importing ``shutil``: a few milliseconds of every ``check`` from
    cron); the width matters only when help is shown, so only then is it asked.
    """

    _showing = False

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see: {self.prog} --help)")

    def format_help(self) -> str:
        return self._shown(super().format_help)

    def format_usage(self) -> str:
        return self._shown(super().format_usage)

    def _shown(self, fmt: Callable[[], str]) -> str:
        self._showing = True
        try:
            return fmt()
        finally:
            self._showing = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self._showing:
            return super()._get_formatter()
        make: Any = self.formatter_class  # every HelpFormatter takes a width
        formatter: argparse.HelpFormatter = make(prog=self.prog, width=80)  # not shown
        return formatter


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


_CONFIG_HELP = "TOML config file (default: $XDG_CONFIG_HOME/claude-top/config.toml)"
_TZ_HELP = "time zone for days (default: the config's ui.tz, else UTC)"


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help=_CONFIG_HELP,
    )
    p.add_argument("--tz", metavar="ZONE", help=_TZ_HELP)
    p.add_argument(
        "--now",
        metavar="TIME",
        help="evaluate as of this time, ISO 8601 or epoch (default: the clock)",
    )
    p.add_argument(
        "--preset",
        choices=(*PRESETS, "auto"),
        help="the log's format (default: [log] preset, else detected from each source's first "
        "lines)",
    )


def _add_state(p: argparse.ArgumentParser, default: str) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--state",
        metavar="FILE",
        help=f"keep rollups and read positions in this SQLite file ({default}); "
        "a restart reads only what is new",
    )
    g.add_argument(
        "--no-state", action="store_true", help="use no state file (default: as --state says)"
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
    g.add_argument(
        "--day", metavar="YYYY-MM-DD", help="one calendar day in --tz (default: not one day)"
    )
    s.add_argument(
        "--since",
        metavar="TIME",
        help="start: ISO 8601, epoch, or a duration ago such as 2h (default: all of the log)",
    )
    s.add_argument("--until", metavar="TIME", help="end, exclusive (default: no end)")
    s.add_argument(
        "--by",
        choices=("feature", "model", "user", "host"),
        default="feature",
        help="one row per feature, model, user or host (default feature)",
    )
    s.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="output format (default table)",
    )
    s.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=2,
        help="processes for a big plain file: 2 reads it on two cores (faster, about 1.7x the "
        "memory in all), 1 in this process only (default 2)",
    )
    s.add_argument(
        "--follow",
        action="store_true",
        help="keep reading and print every --interval (default: read once and exit)",
    )
    s.add_argument(
        "--interval",
        type=_seconds(0.01, 86400),
        default=2.0,
        metavar="SECONDS",
        help="seconds between prints with --follow (0.01 to 86400; default 2)",
    )
    _add_state(s, "default: none")
    _add_common(s)


def _add_metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="serve Prometheus metrics at /metrics (default: none)",
    )
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
    sv.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="log files, globs, - for stdin, ssh://host/path or cmd://command",
    )
    _add_metrics(sv)
    sv.add_argument(
        "--alertmanager",
        metavar="URL",
        help="push firing alerts to this Alertmanager (default: none)",
    )
    sv.add_argument("--since", default="8d", metavar="TIME", help="history to read (default 8d)")
    sv.add_argument(
        "--interval",
        type=_seconds(0.1, 3600),
        default=1.0,
        metavar="SECONDS",
        help="seconds between rule evaluations (default 1)",
    )
    sv.add_argument(
        "--poll",
        type=_seconds(0.01, 3600),
        default=1.0,
        metavar="SECONDS",
        help="fallback poll interval for files (0.01 to 3600; default 1)",
    )
    sv.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    sv.add_argument("--tz", metavar="ZONE", help=_TZ_HELP)
    sv.add_argument(
        "--preset",
        choices=(*PRESETS, "auto"),
        help="the log's format (default: [log] preset, else detected)",
    )
    _add_state(sv, "default: one per source under $XDG_STATE_HOME/claude-top")
    r = sub.add_parser("rules", help="print the alert rules for another system")
    r.add_argument(
        "--format", choices=("prometheus",), default="prometheus", help="(default prometheus)"
    )
    r.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    gf = sub.add_parser("grafana", help="print a Grafana dashboard over the exported metrics")
    gf.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)


def build_parser() -> argparse.ArgumentParser:
    """The subcommands: summary, check, prices, config, demo, state."""
    p = _Parser(
        prog="claude-top",
        description="Live view of a Claude-powered app's call log. "
        "Subcommands: summary, check, prices, config, demo, serve, rules, grafana, state.",
    )
    p.add_argument("--version", action="version", version=f"claude-top {__version__}")
    sub = p.add_subparsers(dest="command")
    _add_summary(sub)

    c = sub.add_parser("check", help="evaluate alert rules once (for cron); exit 0/1/2/3")
    c.add_argument("logs", nargs="+", metavar="LOG", help="log files, globs, or - for stdin")
    c.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    c.add_argument(
        "--alertmanager",
        metavar="URL",
        help="also push the firing alerts there once (default: no push)",
    )
    _add_state(c, "default: none")
    _add_common(c)
    _add_fleet(sub)

    st = sub.add_parser("state", help="what a state file holds")
    st.add_argument("action", choices=("info",))
    st.add_argument("logs", nargs="*", metavar="LOG", help="the logs whose default state to show")
    st.add_argument(
        "--state", metavar="FILE", help="the state file to show (default: the one of the LOGs)"
    )

    pr = sub.add_parser("prices", help="print the price table in use")
    pr.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    pr.add_argument(
        "--now", metavar="TIME", help="the clock, for the table's age, ISO 8601 (default: now)"
    )

    cf = sub.add_parser("config", help="print the effective configuration as TOML")
    cf.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)

    d = sub.add_parser("demo", help="generate a realistic live log and watch it")
    d.add_argument("--out", metavar="FILE", help="write the stream here (default: a temp file)")
    d.add_argument(
        "--rate", type=_rate, default=5.0, help="live calls per second (0 to 1000; default 5)"
    )
    d.add_argument("--seed", type=int, default=7, help="seed of the generated traffic (default 7)")
    d.add_argument(
        "--no-tui", action="store_true", help="only write the stream (default: watch it)"
    )
    d.add_argument("--theme", metavar="NAME", action=_ThemeOption)
    return p


class _ThemeOption(argparse._StoreAction):
    """``--theme NAME``, its help (which lists the theme files) made only when shown: listing
    them on every start cost each ``check`` from cron a few milliseconds of imports."""

    @property
    def help(self) -> str:
        return _theme_help()

    @help.setter
    def help(self, value: str | None) -> None:
        pass


def _theme_help() -> str:
    from claude_top.views.tui.themes import theme_names  # no Textual: the files' names

    names = theme_names()
    default = names[0] if names else "dark"
    return (
        f"colour theme: {', '.join(names)}, or the config's ui.theme_file (default: the last "
        f"one picked with t, else the config's ui.theme, else {default})"
    )


def _subcommands_epilog() -> str:
    """The subcommands and their one-line help, taken from the subcommands' parser."""
    lines = ["commands (claude-top COMMAND --help for each):"]
    for action in build_parser()._subparsers._group_actions:  # type: ignore[union-attr]
        for choice in getattr(action, "_choices_actions", []):
            lines.append(f"  {choice.dest:<9} {choice.help}")
    return "\n".join(lines)


def build_tui_parser() -> argparse.ArgumentParser:
    """``claude-top LOG...``: the live view (``claude-top --help`` prints its help)."""
    p = _Parser(
        prog="claude-top",
        usage="claude-top LOG... [options]\n       claude-top COMMAND [options]",
        description="Live view of a Claude-powered app's call log (keys: ? in the app).",
        epilog=_subcommands_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="log files, globs, - for stdin (keys are then read from the terminal), "
        "ssh://host/path or cmd://command",
    )
    p.add_argument(
        "--since",
        default="8d",
        metavar="TIME",
        help="read history from this far back (default 8d: the 7-day baseline)",
    )
    p.add_argument(
        "--window",
        metavar="WINDOW",
        help="the view's window: 5m, 10m, 1h, 24h, today, all, or a duration (default: the "
        "last one picked with w, else the config's ui.window, else 10m)",
    )
    p.add_argument("--theme", metavar="NAME", action=_ThemeOption)
    p.add_argument(
        "--export-dir",
        metavar="DIR",
        help="where e (JSON export) and ctrl+s (SVG screenshot) write "
        "(default: the config's ui.export_dir, else the current directory)",
    )
    p.add_argument(
        "--poll",
        type=_seconds(0.01, 3600),
        default=1.0,
        metavar="SECONDS",
        help="fallback poll interval for files (0.01 to 3600; default 1)",
    )
    _add_metrics(p)
    p.add_argument("--version", action="version", version=f"claude-top {__version__}")
    _add_state(p, "default: one per source under $XDG_STATE_HOME/claude-top")
    _add_common(p)
    return p
