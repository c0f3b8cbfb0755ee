"""Shared fixtures: an engine filled from the deterministic fixture log, at a frozen clock."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from make_fixture import END, fixture_lines, hostile_lines

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine


@pytest.fixture(autouse=True)
def _isolated_xdg(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the developer's own config, state or cache."""
    home = tmp_path_factory.mktemp("xdg")
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        (home / var).mkdir()
        monkeypatch.setenv(var, str(home / var))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NO_COLOR", raising=False)


def _engine(lines: list[str], now: float) -> Engine:
    # As of ``now``: lines after it are not read, as with ``claude-top --now``.
    engine = Engine(clock=FixedClock(now), since=END - 8 * 86400 - 60, until=now + 1)
    engine.ingest_lines(lines, source="app.log")
    engine.compact()
    return engine


@pytest.fixture(scope="session")
def fixture_text() -> list[str]:
    return fixture_lines()


@pytest.fixture
def make_engine(fixture_text: list[str]) -> Callable[..., Engine]:
    """``make_engine(now=END, hostile=False)``: a fresh engine over the fixture log."""

    def make(now: float = END, hostile: bool = False) -> Engine:
        return _engine(hostile_lines() if hostile else fixture_text, now)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()
