"""What a ``check`` run loads: cron starts it every minute, so its imports are most of a warm run.

A warm ``check --state`` reads only the new lines, and Python's start and imports are then most
of its time (README, "State"). ``tests/unit/test_layers.py`` checks what importing each module
loads; this runs the command itself (cold, then with a state: built, then warm) in a fresh
process, so a module imported late, inside a function on check's path, is caught too. None of
the modules below serves a check: the TUI's toolkit, the metrics exporter, the followers, the
charts' series; a heavy one creeping back onto this path fails here.

Nor does it make a dataclass: each costs about 1.4 ms to create at import (its methods are
generated source, compiled by ``exec``), where a ``msgspec.Struct`` costs about 0.03 ms, and
check's path holds some 40 value types. So the modules check imports declare them as
structs (the followers, views and commands, which check does not import, keep dataclasses).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from statekit import chunk

NOT_FOR_CHECK = (
    "textual",
    "rich",
    "prometheus_client",
    "claude_top.views.tui",
    "claude_top.views.live",
    "claude_top.views.metrics",
    "claude_top.sources.follow",
    "claude_top.engine.series",
    "claude_top.commands.live",
    "claude_top.commands.serve",
    "claude_top.commands.summary",
    # Standard modules a check of a plain log has no use for, each a millisecond or more:
    # OpenSSL's digests (BLAKE2b comes from ``_blake2``, ``core.digest``), ``pathlib`` (and the
    # ``urllib.parse`` it imports), and the readers of ``.gz`` files and ``cmd://`` lines.
    "hashlib",
    "_hashlib",
    "pathlib",
    "urllib",
    "gzip",
    "shlex",
)
"""Module names (and their submodules) a check must not load."""

PROBE = """
import contextlib, dataclasses, io, json, sys
made = []
_process = dataclasses._process_class
def _count(cls, *args):
    made.append(f"{cls.__module__}.{cls.__qualname__}")
    return _process(cls, *args)
dataclasses._process_class = _count
from claude_top.commands.main import main
log, state = sys.argv[1], sys.argv[2]
codes = []
for argv in (["check", log], ["check", "--state", state, log], ["check", "--state", state, log]):
    with contextlib.redirect_stdout(io.StringIO()):
        codes.append(main(argv))
ours = [m for m in made if m.startswith("claude_top.")]
print(json.dumps({"codes": codes, "loaded": sorted(sys.modules), "dataclasses": ours}))
"""


def test_check_loads_nothing_it_does_not_use(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(chunk(300, seed=15))
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(log), str(tmp_path / "state.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(out.stdout)
    assert all(code in (0, 1, 2) for code in doc["codes"]), (doc["codes"], out.stderr)
    loaded = [
        m for m in doc["loaded"] if any(m == n or m.startswith(n + ".") for n in NOT_FOR_CHECK)
    ]
    assert loaded == []
    assert doc["dataclasses"] == [], "check's path makes dataclasses: declare them as structs"


SUMMARY_PROBE = """
import contextlib, io, json, sys
from claude_top.commands.main import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["summary", sys.argv[1]])
print(json.dumps({"code": code, "loaded": sorted(sys.modules)}))
"""


def test_summary_without_a_state_loads_no_state(tmp_path: Path) -> None:
    """A plain ``summary app.log`` keeps no state: the state layer and sqlite3 stay unloaded."""
    log = tmp_path / "app.log"
    log.write_bytes(chunk(300, seed=15))
    out = subprocess.run(
        [sys.executable, "-c", SUMMARY_PROBE, str(log)],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(out.stdout)
    assert doc["code"] == 0, out.stderr
    unused = ("claude_top.state", "claude_top.commands.state", "sqlite3", "_sqlite3")
    loaded = [m for m in doc["loaded"] if any(m == n or m.startswith(n + ".") for n in unused)]
    assert loaded == []
