"""The command line: the live TUI by default, and headless commands over the same engine.

``claude-top LOG...`` opens the TUI; ``summary``, ``check``, ``prices``, ``config`` and ``demo``
are subcommands. This module only parses and dispatches: each command lives in its own module,
imported when it runs, so ``claude-top summary`` never loads Textual. Mistakes a user can make (a
missing file, a bad date, a bad config) end with one line on stderr and status 2 (3 for
``check``, whose 2 means "critical"), never a traceback; so do an output that cannot be written
and an internal error (``failing``).
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable, Sequence

from claude_top.commands.failing import drop_stdout, internal_error, say, want_traceback
from claude_top.commands.parser import COMMANDS, build_parser, build_tui_parser
from claude_top.core.errors import UserError

EXIT_USAGE = 2
EXIT_FAILED = 1
"""An output that could not be written, or an internal error (``check``: 3, "unknown")."""
EXIT_CHECK_UNKNOWN = 3


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs subcommand ``name`` (its module imported only now)."""
    if name == "summary":
        from claude_top.commands.summary import cmd_summary

        return cmd_summary
    if name == "prices":
        from claude_top.commands.prices import cmd_prices

        return cmd_prices
    if name == "check":
        from claude_top.commands.check import cmd_check

        return cmd_check
    if name in ("serve", "rules", "grafana"):
        from claude_top.commands import fleet

        return fleet.COMMANDS[name]
    if name == "state":
        from claude_top.commands.state import cmd_state

        return cmd_state
    if name == "config":
        from claude_top.commands.config import cmd_config

        return cmd_config
    from claude_top.commands.live import run_demo

    return run_demo


def _dispatch(args: list[str]) -> int:
    if args[:1] in (["-h"], ["--help"]):
        build_tui_parser().print_help()  # the main usage: claude-top LOG..., then the commands
        return 0
    if (args and args[0] in COMMANDS) or any(x == "--version" for x in args[:1]):
        a = build_parser().parse_args(args)
        if a.command is None:
            build_parser().print_help()
            return EXIT_USAGE
        return _command(a.command)(a)
    if not args:
        build_tui_parser().print_usage(sys.stderr)
        sys.stderr.write("claude-top: name a log file, or try: claude-top demo\n")
        return EXIT_USAGE
    from claude_top.commands.live import run_tui

    return run_tui(build_tui_parser().parse_args(args))


def _flushed(status: int) -> int:
    """``status``, once what the command wrote has reached stdout (a failure raises here)."""
    sys.stdout.flush()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """The ``claude-top`` script: returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = bool(args) and args[0] == "check"
    prog = "claude-top check" if check else "claude-top"
    try:
        return _flushed(_dispatch(args))
    except UserError as e:
        say(prog, str(e))
        return EXIT_CHECK_UNKNOWN if check else EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        drop_stdout()  # the reader left (``| head``): done, quietly
        return EXIT_CHECK_UNKNOWN if check else 0
    except OSError as e:
        drop_stdout()
        where = f"{e.filename}: " if e.filename else "output: "
        say(prog, f"{where}{e.strerror or errno.errorcode.get(e.errno or 0, str(e))}")
        return EXIT_CHECK_UNKNOWN if check else EXIT_FAILED
    except Exception as e:
        if want_traceback():
            raise
        internal_error(prog, e)
        return EXIT_CHECK_UNKNOWN if check else EXIT_FAILED
