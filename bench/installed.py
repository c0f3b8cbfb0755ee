"""How the benchmarks run ``claude-top``: as an installed package runs, its bytecode compiled.

``pip install`` compiles every module to ``.pyc`` as it installs, so a user's process never
compiles the sources. A checkout's editable install under ``PYTHONDONTWRITEBYTECODE`` (as on
the machines this project is measured on) has no ``.pyc`` and compiles every module it imports
at each start, which costs a few hundred milliseconds no user pays. The benchmarks' processes
therefore run with the bytecode compiled into a cache of their own (``PYTHONPYCACHEPREFIX``:
nothing is written into the source tree), before anything is timed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path


def compiled_env(cache: Path) -> dict[str, str]:
    """This environment, with ``claude_top`` compiled into ``cache`` and read from there."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    spec = importlib.util.find_spec("claude_top")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("claude_top is not installed in this Python")
    package = next(iter(spec.submodule_search_locations))
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], env=env, check=True)
    return env
