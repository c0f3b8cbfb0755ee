"""The user's TOML configuration: price overrides, alert rules, limits, theme, time zone.

Defaults live in code; a file (``--config``, else ``$XDG_CONFIG_HOME/claude-top/config.toml``)
overrides them section by section. Every mistake in the file is reported as one line naming the
key, so a typo never turns into a traceback or a silently ignored setting.

Without a file (a ``check`` from cron, as often as not) nothing here imports ``pathlib``
(3 ms at a start, with the ``urllib.parse`` it imports): the default location is looked up
with ``os.path``, and ``Path`` is imported by ``load`` once a file is there to be read.
"""

from __future__ import annotations

import errno
import os
import tomllib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct, field

from claude_top.config.toml_out import section, table_body
from claude_top.core.errors import ConfigError, TimeArgError
from claude_top.core.text import safe_text
from claude_top.core.timeutil import parse_duration
from claude_top.core.windows import check_window
from claude_top.engine.pricing import PriceConfigError, PriceTable
from claude_top.ingest.mapping import LogFormat
from claude_top.rules.spec import rule_comment, rule_table, rules_from_config

if TYPE_CHECKING:
    from pathlib import Path

    from claude_top.engine.headroom import HeadroomConfig

SECTIONS = ("prices", "alerts", "limits", "ui", "log", "state")
UI_DEFAULTS: dict[str, Any] = {"tz": "UTC", "window": "10m"}
"""``ui`` keys with a default; ``theme`` and ``theme_file`` default to the TUI's own choice."""
UI_STRINGS = ("theme", "theme_file", "tz", "window", "export_dir")
CONFIG_MAX_BYTES = 1 << 20
"""A config file is a few KiB of TOML; a bigger "file" is a mistake (a device, a log)."""


def default_path() -> Path:
    from pathlib import Path

    return Path(_default_location())


def _default_location() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "claude-top", "config.toml")


def _exists(path: str) -> bool:
    """``Path(path).exists()`` without ``pathlib``: False for a path that is not there (as it
    ignores them: no such file, not a directory on the way, a bad descriptor, a symlink loop);
    any other failure (a directory it may not read) raises, as it does."""
    try:
        os.stat(path)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return False
        raise
    except ValueError:  # a NUL byte in the name
        return False
    return True


class Config(Struct, frozen=True):
    """The effective configuration: defaults merged with the user's file."""

    path: str | None = None
    prices: dict[str, Any] = field(default_factory=dict)
    """The raw ``[prices]`` table: per-model overrides (see ``PriceTable.with_overrides``)."""
    alerts: dict[str, Any] = field(default_factory=dict)
    """The raw ``[alerts]`` table, validated by ``rules.spec.rules_from_config``."""
    limits: dict[str, Any] = field(default_factory=dict)
    """The raw ``[limits]`` table, validated by ``headroom.HeadroomConfig.from_raw``."""
    ui: dict[str, Any] = field(default_factory=dict)
    """``theme``, ``theme_file``, ``tz``, ``window``, ``export_dir``."""
    log: dict[str, Any] = field(default_factory=dict)
    """The raw ``[log]`` table: ``preset``, ``[log.fields]`` and what the values mean
    (``ingest.mapping``)."""

    def log_format(self, cli_preset: str | None = None) -> LogFormat:
        """How the logs are read: ``--preset`` over ``[log] preset``, ``[log.fields]`` over both."""
        try:
            return LogFormat.from_config(self.log, cli_preset)
        except ConfigError as e:
            where = "--preset" if cli_preset is not None and "log.preset" in str(e) else None
            raise ConfigError(f"{where or self.path or 'config'}: {e}") from None

    state: dict[str, Any] = field(default_factory=dict)
    """``keep``: how long a state file keeps rollups (a duration, default 35d)."""

    def state_keep_days(self) -> float:
        """Days of rollups a state keeps (``[state] keep``, default 35 days)."""
        keep = self.state.get("keep", "35d")
        try:
            seconds = parse_duration(keep) if isinstance(keep, str) else float("nan")
        except TimeArgError:
            seconds = float("nan")
        if not 86400 <= seconds <= 3660 * 86400:  # also false for nan
            raise ConfigError(f"{self.path or 'config'}: state.keep: a duration from 1d to 10y")
        return seconds / 86400

    def price_table(self) -> PriceTable:
        try:
            return PriceTable.builtin().with_overrides(self.prices)
        except PriceConfigError as e:
            raise ConfigError(f"{self.path or 'config'}: {e}") from None

    def headroom_config(self) -> HeadroomConfig:
        """Rate limits per model class and the ITPM counting rule, for the headroom tracker."""
        from claude_top.core.errors import HeadroomConfigError
        from claude_top.engine.headroom import HeadroomConfig

        try:
            return HeadroomConfig.from_raw(self.limits)
        except HeadroomConfigError as e:
            raise ConfigError(f"{self.path or 'config'}: {e}") from None

    def timezone(self, override: str | None = None) -> ZoneInfo:
        # An empty name is a mistake to say, not a reason to fall back to UTC unannounced.
        name = override if override is not None else self.ui.get("tz", "UTC")
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            where = "--tz" if override is not None else f"{self.path}: ui.tz"
            raise ConfigError(f"{where}: unknown time zone {name!r}") from None

    def to_toml(self) -> str:
        """The effective configuration as TOML that ``load`` reads back to the same settings.

        Every alert rule is written out with all its values, so the output doubles as the
        reference of what can be set; prices are the user's overrides only (the built-in table
        is data, shown by ``claude-top prices``).
        """
        rules = rules_from_config(self.alerts)
        out = [
            "# claude-top configuration (effective: defaults merged with "
            + safe_text(self.path or "no config file")
            + ")",
            "# Save as $XDG_CONFIG_HOME/claude-top/config.toml, or pass with --config.",
            "",
            "[ui]",
        ]
        ui = {**UI_DEFAULTS, **self.ui}
        out += table_body(ui, "ui")
        out += [
            "",
            "# Alert rules. threshold is in the rule's unit (below); window is a duration",
            '# ("10m", "1h") or "today"; severity "warning" or "critical"; min_calls is the',
            "# smallest number of calls (lines for rejected_lines) the rule trusts.",
        ]
        for r in rules:
            out += ["", rule_comment(r), f"[alerts.{r.id}]"]
            out += table_body(rule_table(r), f"alerts.{r.id}")
        out += [
            "",
            "# Price overrides, USD per million tokens (the built-in table: claude-top prices).",
            "# [prices.claude-sonnet-4-6]",
            "# input = 3.0",
            "# output = 15.0",
        ]
        out += section(self.prices, "prices")
        out += [
            "",
            "# Rate limits per model class (the headroom panel and alert). Without them, the",
            "# newest anthropic-ratelimit-* header values in the log are used (the config wins).",
            "# A class is the model family and major version: sonnet-4, opus-4, haiku-4 ...",
            "# [limits]",
            "# itpm_counts_cache_reads = false   # true for older models that count cache reads",
            "# [limits.classes]                  # model-id prefix = class, to override the rule",
            '# "claude-3-5-haiku" = "haiku-3.5"',
            "# [limits.sonnet-4]",
            "# rpm = 50",
            "# itpm = 30000",
            "# otpm = 8000",
        ]
        out += section(self.limits, "limits")
        out += [
            "",
            "# How the logs are read (README: The log it reads). Without a preset, each source's",
            "# format is detected from its first lines. [log.fields] maps a field to a dotted",
            '# path or a "=constant", over the preset.',
            "# [log]",
            '# preset = "litellm"            # claude-top, anthropic, openai-style, otel-genai, litellm',
            "# input_includes_cache = true   # the input count holds cache reads and writes",
            '# latency_unit = "s"            # ms or s',
            "# [log.fields]",
            '# feature = "metadata.requester_metadata.feature"',
        ]
        out += section(self.log, "log")
        return "\n".join(out) + "\n"


def load(path: str | None = None) -> Config:
    """Read the config file; a missing default file means defaults, a missing named one is an error."""
    if path is None:
        if not _exists(_default_location()):
            return Config()
        p = default_path()
    else:
        from pathlib import Path

        p = Path(path)
        if not p.exists():
            raise ConfigError(f"{p}: config file not found")
    data = _read_toml(p)
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
        log=dict(data.get("log", {})),
        state=dict(data.get("state", {})),
    )
    cfg.log_format()
    cfg.state_keep_days()
    cfg.price_table()  # validate now, so errors surface before any log is read
    cfg.headroom_config()
    _validate_ui(cfg.ui, str(p))
    try:
        rules_from_config(cfg.alerts)
    except ConfigError as e:
        raise ConfigError(f"{p}: {e}") from None
    return cfg


def _read_toml(p: Path) -> dict[str, Any]:
    """The file's TOML, or a ConfigError naming the file: unreadable, larger than
    ``CONFIG_MAX_BYTES`` (``--config /dev/zero`` would fill the memory), not UTF-8, not TOML,
    or nested too deep for the parser (``tomllib`` recurses once per level)."""
    try:
        with open(p, "rb") as f:
            raw = f.read(CONFIG_MAX_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{p}: cannot read: {e.strerror or e}") from None
    if len(raw) > CONFIG_MAX_BYTES:
        raise ConfigError(f"{p}: larger than 1 MiB: not a config file")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 (byte {e.start}): a config file is UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{p}: not valid TOML: nested too deep") from None


def _validate_ui(ui: Mapping[str, Any], where: str) -> None:
    """Type-check the ``ui`` keys we know; other keys are left to the views that read them."""
    for key in UI_STRINGS:
        if key in ui and not isinstance(ui[key], str):
            raise ConfigError(f"{where}: ui.{key}: must be a string")
    if "window" in ui:
        try:
            check_window(ui["window"])
        except TimeArgError as e:
            raise ConfigError(f"{where}: ui.window: {e}") from None
