"""Themes as data: TOML files turned into ``textual.theme.Theme`` objects.

The shipped themes live in ``themes/`` at the repository root and in the wheel as
``claude_top/themes/``; a user can name their own file in the config (``ui.theme_file``). Colours
are only ever written in these files: the ``.tcss`` and the panels use theme variables.

A theme's name to the user is its file's stem (``dark`` for ``themes/dark.toml``, whose theme is
``claude-dark`` inside Textual): ``theme_names`` lists them for ``--help``, the README and error
messages alike. Textual is imported only to build a theme, so ``--help`` and the headless
commands never load it.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import claude_top
from claude_top.core.errors import ThemeError

if TYPE_CHECKING:
    from textual.theme import Theme

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


def theme_names() -> list[str]:
    """The shipped themes as the user names them, default first: the files in ``themes/``."""
    d = themes_dir()
    stems = sorted(f.stem for f in d.glob("*.toml")) if d.is_dir() else []
    order = {short_name(n): i for i, n in enumerate(SHIPPED)}
    return sorted(stems, key=lambda n: (order.get(n, len(order)), n))


def short_name(name: str) -> str:
    """``claude-dark`` -> ``dark``: the name the user types (a user's own theme keeps its)."""
    return name.removeprefix("claude-") if name in SHIPPED else name


def load_theme(path: str | Path) -> Theme:
    from textual.theme import Theme

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
