"""The user's TOML configuration: price overrides, alert rules, limits, theme, time zone.

Defaults live in code; a file (``--config``, else ``$XDG_CONFIG_HOME/claude-top/config.toml``)
overrides them section by section. Every mistake in the file is reported as one line naming the
key, so a typo never turns into a traceback or a silently ignored setting.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from claude_top.prices import PriceConfigError, PriceTable

SECTIONS = ("prices", "alerts", "limits", "ui")


class ConfigError(ValueError):
    """A problem in the configuration file; the message names the file and the key."""


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "claude-top" / "config.toml"


@dataclass(frozen=True)
class Config:
    """The effective configuration: defaults merged with the user's file."""

    path: str | None = None
    prices: dict[str, Any] = field(default_factory=dict)
    """The raw ``[prices]`` table: per-model overrides (see ``PriceTable.with_overrides``)."""
    alerts: dict[str, Any] = field(default_factory=dict)
    """The raw ``[alerts]`` table, validated by ``alerts.rules_from_config``."""
    limits: dict[str, Any] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    """``theme``, ``theme_file``, ``tz``, ``window``."""

    def price_table(self) -> PriceTable:
        try:
            return PriceTable.builtin().with_overrides(self.prices)
        except PriceConfigError as e:
            raise ConfigError(f"{self.path or 'config'}: {e}") from None

    def timezone(self, override: str | None = None) -> ZoneInfo:
        name = override or self.ui.get("tz") or "UTC"
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            where = "--tz" if override else f"{self.path}: ui.tz"
            raise ConfigError(f"{where}: unknown time zone {name!r}") from None


def load(path: str | None = None) -> Config:
    """Read the config file; a missing default file means defaults, a missing named one is an error."""
    if path is None:
        p = default_path()
        if not p.exists():
            return Config()
    else:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"{p}: config file not found")
    try:
        with open(p, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{p}: unknown section {unknown[0]!r} (known: {', '.join(SECTIONS)})")
    for name in SECTIONS:
        if name in data and not isinstance(data[name], dict):
            raise ConfigError(f"{p}: {name} must be a table ([{name}])")
    cfg = Config(
        path=str(p),
        prices=dict(data.get("prices", {})),
        alerts=dict(data.get("alerts", {})),
        limits=dict(data.get("limits", {})),
        ui=dict(data.get("ui", {})),
    )
    cfg.price_table()  # validate now, so errors surface before any log is read
    return cfg
