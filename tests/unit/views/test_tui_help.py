"""The command line's help: the main usage first, every option with its default, one list of
theme names for the README, --help and the error messages."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from claude_top.commands.main import main
from claude_top.commands.parser import build_parser, build_tui_parser
from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.themes import short_name, theme_names

README = Path(__file__).parents[3] / "README.md"


def test_top_level_help_is_the_live_views_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: claude-top LOG...")
    for option in ("--since", "--window", "--theme", "--export-dir", "--poll", "--tz", "--now"):
        assert option in out
    for command in ("summary", "check", "prices", "config", "demo"):
        assert re.search(rf"^  {command} +\S", out, re.M), command


def _parsers() -> list[argparse.ArgumentParser]:
    top = build_parser()
    subs = [
        p
        for a in top._actions
        if isinstance(a, argparse._SubParsersAction)
        for p in a.choices.values()
    ]
    return [build_tui_parser(), *subs]


@pytest.mark.parametrize("parser", _parsers(), ids=lambda p: p.prog)
def test_every_option_says_what_it_does_and_its_default(parser: argparse.ArgumentParser) -> None:
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction)) or not a.option_strings:
            continue
        assert a.help, f"{parser.prog} {a.option_strings[0]}: no help"
        assert "default" in a.help, f"{parser.prog} {a.option_strings[0]}: no default said"


def _words(text: str) -> str:
    return " ".join(text.split())


def test_theme_names_agree_between_files_help_readme_and_errors(engine: Engine) -> None:
    names = theme_names()
    assert names[0] == "dark" and set(names) == {"dark", "light", "high-contrast"}
    assert ", ".join(names) in _words(build_tui_parser().format_help())
    readme = _words(README.read_text()).replace("`dark` (default)", "`dark`")
    assert ", ".join(f"`{n}`" for n in names) in readme
    # The unknown-theme error lists the app's themes by these same names.
    app = ClaudeTopApp(engine, None, FixedClock(0))
    assert [short_name(n) for n in app.theme_names] == names
