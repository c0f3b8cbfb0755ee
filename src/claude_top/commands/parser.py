"""The command line's grammar: the subcommands' parser and the TUI's own.

Two parsers because ``claude-top LOG...`` takes log names where the subcommands take a command
name: ``main`` picks one by the first argument.
"""

from __future__ import annotations

import argparse

from claude_top import __version__

COMMANDS = ("summary", "check", "prices", "config", "demo")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file (default: $XDG_CONFIG_HOME/claude-top/config.toml)",
    )
    p.add_argument("--tz", metavar="ZONE", help="time zone for days (default UTC)")
    p.add_argument("--now", metavar="TIME", help="evaluate as of this time (ISO 8601 or epoch)")


def _add_summary(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    _add_common(s)


def build_parser() -> argparse.ArgumentParser:
    """The subcommands: summary, check, prices, config, demo."""
    p = argparse.ArgumentParser(
        prog="claude-top",
        description="Live view of a Claude-powered app's call log. "
        "Subcommands: summary, check, prices, config, demo.",
    )
    p.add_argument("--version", action="version", version=f"claude-top {__version__}")
    sub = p.add_subparsers(dest="command")
    _add_summary(sub)

    c = sub.add_parser("check", help="evaluate alert rules once (for cron); exit 0/1/2/3")
    c.add_argument("logs", nargs="+", metavar="LOG")
    c.add_argument("--format", choices=("text", "json"), default="text")
    _add_common(c)

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
    """``claude-top LOG...``: the live view."""
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
    _add_common(p)
    return p
