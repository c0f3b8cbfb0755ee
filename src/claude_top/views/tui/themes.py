"""Themes as data: TOML files turned into ``textual.theme.Theme`` objects.

The shipped themes live in ``themes/`` at the repository root and in the wheel as
``claude_top/themes/``; a user can name their own file in the config (``ui.theme_file``). Colours
are only ever written in these files: the ``.tcss`` and the panels use theme variables.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from textual.theme import Theme

import claude_top
from claude_top.core.errors import ThemeError

DEFAULT_THEME = "claude-dark"
SHIPPED = ("claude-dark", "claude-light", "claude-high-contrast")
_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


def themes_dir() -> Path:
    """The installed ``claude_top/themes``, else the source tree's ``themes/``."""
    installed = resources.files("claude_top") / "themes"
    if installed.is_dir():
        return Path(str(installed))
    return Path(claude_top.__file__).parents[2] / "themes"


def load_theme(path: str | Path) -> Theme:
    p = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ThemeError(f"{p}: cannot read theme: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ThemeError(f"{p}: not valid TOML: {e}") from None
    if "primary" not in data:
        raise ThemeError(f"{p}: a theme needs at least 'primary'")
    kwargs: dict[str, Any] = {k: str(data[k]) for k in _FIELDS if k in data}
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"{p}: [variables] must be a table")
    try:
        return Theme(
            name=str(data.get("name", p.stem)),
            dark=bool(data.get("dark", True)),
            luminosity_spread=float(data.get("luminosity_spread", 0.15)),
            variables={str(k): str(v) for k, v in variables.items()},
            **kwargs,
        )
    except Exception as e:  # Textual's colour parser raises its own errors
        raise ThemeError(f"{p}: {e}") from None


def shipped_themes() -> list[Theme]:
    d = themes_dir()
    order = {name: i for i, name in enumerate(SHIPPED)}
    themes = [load_theme(f) for f in sorted(d.glob("*.toml"))] if d.is_dir() else []
    return sorted(themes, key=lambda t: (order.get(t.name, len(order)), t.name))


def resolve_name(name: str | None, available: list[str]) -> str:
    """``dark`` means ``claude-dark``; unknown names fall back to the default."""
    if not name:
        return DEFAULT_THEME
    for candidate in (name, f"claude-{name}"):
        if candidate in available:
            return candidate
    return DEFAULT_THEME
