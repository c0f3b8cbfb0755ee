"""What importing each module really loads, checked in a fresh process per module.

import-linter checks the imports written in the source; this checks what an import pulls in at
run time (through ``__init__`` files and everything imported on the way), for every module the
package has, found by walking it: a new module is covered without anyone adding it to a list.
Only ``claude_top.views.tui`` may load Textual or Rich; ``instrument`` and ``demo`` may load
nothing of claude_top but ``core`` (and themselves). Importing each module alone also shows an
import cycle that only breaks when that module is imported first.

Each module is imported in a child forked from a probe process that has loaded nothing of
claude_top: a fresh process for what is measured, without an interpreter start per module. The
probe for the TUI's own modules preloads Textual and Rich (they may use them; only what they
load of claude_top, and that they import alone, is checked), which keeps the test a few seconds.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grimp
import pytest

import claude_top

PROBE = """
import importlib, json, os, sys
for name in filter(None, sys.argv[1].split(",")):
    importlib.import_module(name)
for module in sys.argv[2:]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            importlib.import_module(module)
            out = {"module": module, "loaded": sorted(sys.modules)}
        except BaseException as e:
            out = {"module": module, "error": repr(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        line = f.read()
    os.waitpid(pid, 0)
    print(line.decode(), flush=True)
"""
UI_PACKAGES = ("textual", "rich")
STANDALONE = ("instrument", "demo")
"""Layers that depend on the schema alone (``claude_top.core``)."""
INSTRUMENTED = ("anthropic",)
"""Preloaded for the standalone layers: the SDK ``instrument`` wraps takes a second to import."""


def _walk(path: list[str], prefix: str) -> Iterator[str]:
    """Module names under ``path``, read from the file system (importing nothing here)."""
    for info in pkgutil.iter_modules(path, prefix):
        yield info.name
        if info.ispkg:
            yield from _walk([str(Path(path[0]) / info.name.rsplit(".", 1)[-1])], info.name + ".")


def _modules() -> list[str]:
    # __main__ runs the command line when imported; it imports commands.main, walked anyway.
    found = ["claude_top", *_walk(list(claude_top.__path__), "claude_top.")]
    return sorted(m for m in found if not m.endswith(".__main__"))


MODULES = _modules()


def _probe(job: tuple[tuple[str, ...], list[str]]) -> dict[str, dict[str, Any]]:
    preload, modules = job
    argv = [sys.executable, "-c", PROBE, ",".join(preload), *modules]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    return {d["module"]: d for d in map(json.loads, out.stdout.splitlines())}


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """Module name -> every module in sys.modules after importing it alone."""
    tui = [m for m in MODULES if is_tui(m)]
    standalone = [m for m in MODULES if layer(m) in STANDALONE]
    rest = [m for m in MODULES if m not in tui and m not in standalone]
    jobs = [((), rest), (UI_PACKAGES, tui), (INSTRUMENTED, standalone)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = {k: v for part in pool.map(_probe, jobs) for k, v in part.items()}
    failed = {m: d["error"] for m, d in results.items() if "error" in d}
    assert not failed, f"modules that fail to import alone: {failed}"
    return {m: set(d["loaded"]) for m, d in results.items()}


def is_tui(module: str) -> bool:
    return module == "claude_top.views.tui" or module.startswith("claude_top.views.tui.")


def layer(module: str) -> str:
    """``claude_top.engine.store`` -> ``engine``; the package itself has none."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def ui_modules(mods: set[str]) -> list[str]:
    return sorted(m for m in mods if m.split(".")[0] in UI_PACKAGES)


def foreign_layers(module: str, mods: set[str]) -> list[str]:
    """Modules of claude_top outside ``core`` and ``module``'s own layer."""
    allowed = {"core", layer(module)}
    return sorted(m for m in mods if m.startswith("claude_top.") and layer(m) not in allowed)


def test_the_walk_finds_every_layer() -> None:
    layers = {layer(m) for m in MODULES}
    assert {"core", "sources", "ingest", "engine", "rules", "config", "views", "commands"} <= layers
    assert {"instrument", "demo"} <= layers
    assert "claude_top.views.tui.app" in MODULES and "claude_top.commands.main" in MODULES


def test_every_module_imports_alone(loaded: dict[str, set[str]]) -> None:
    assert sorted(loaded) == MODULES


@pytest.mark.parametrize("module", [m for m in MODULES if not is_tui(m)])
def test_only_the_tui_loads_textual_or_rich(module: str, loaded: dict[str, set[str]]) -> None:
    assert ui_modules(loaded[module]) == []


@pytest.mark.parametrize("module", [m for m in MODULES if layer(m) in STANDALONE])
def test_instrument_and_demo_load_only_core(module: str, loaded: dict[str, set[str]]) -> None:
    assert foreign_layers(module, loaded[module]) == []


def test_the_checks_see_a_violation() -> None:
    """The predicates above flag what they must (the probe's own output is shaped like this)."""
    assert ui_modules({"claude_top.engine", "rich", "rich.text"}) == ["rich", "rich.text"]
    assert ui_modules({"richer", "textualize"}) == []
    mods = {"claude_top", "claude_top.core.schema", "claude_top.demo.writer", "claude_top.engine"}
    assert foreign_layers("claude_top.demo.writer", mods) == ["claude_top.engine"]


def test_no_import_cycle() -> None:
    """Statically, function-level imports included: no module reaches back to one importing it."""
    graph = grimp.build_graph("claude_top", cache_dir=None)
    cycles = sorted(
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if graph.chain_exists(importer=b, imported=a)
    )
    assert cycles == []
