"""How a command fails: one line on stderr, made safe, and a status; never a traceback.

``main`` sends every way a run can end badly through here: a user's mistake, an output that
cannot be written (a full disk, ``/dev/full``, a closed pipe) and an internal error. The line
goes through ``safe_text`` because it often quotes what a user typed or a file name, which may
hold terminal escapes. Set ``CLAUDE_TOP_TRACEBACK=1`` to get the traceback of an internal error
instead, when reporting one.
"""

from __future__ import annotations

import os
import sys

from claude_top.core.text import safe_text

TRACEBACK_ENV = "CLAUDE_TOP_TRACEBACK"
REPORT = "please report it, with the command line and the output of claude-top --version"


def say(prog: str, message: str) -> None:
    """Write ``prog: message`` as one line on stderr, control characters made visible (also
    for the few notes a command writes there, such as where ``demo`` keeps its log)."""
    line = safe_text(" ".join(message.split()) or "failed")
    try:
        sys.stderr.write(f"{prog}: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr itself is gone: the status is all that is left to say it


def internal_error(prog: str, error: BaseException) -> None:
    """Say that ``error`` is a bug (its type and message) and where to report it."""
    detail = f": {error}" if str(error) else ""
    say(prog, f"internal error: {type(error).__name__}{detail} ({REPORT})")


def want_traceback() -> bool:
    return os.environ.get(TRACEBACK_ENV, "") not in ("", "0")


def drop_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what could not be
    written neither fails nor prints (the recipe in Python's ``signal`` documentation)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real file (a test's StringIO): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
