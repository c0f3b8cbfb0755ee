"""Price tables from TOML: the packaged ``data/prices.toml`` and the user's ``[prices]``.

Every value is checked, and a bad one raises ``PriceConfigError`` naming its key, so a typo in a
config never turns into a silent $0 or a wrong bill.
"""

from __future__ import annotations

import datetime
import functools
import math
import os
import tomllib
from collections.abc import Mapping
from typing import Any, Final

from claude_top.core.errors import PriceConfigError
from claude_top.core.schema import SERVER_TOOLS
from claude_top.engine.pricing.families import normalize_model
from claude_top.engine.pricing.rates import ModelPrice, Modifier, Rates, ToolPrice

_RATE_KEYS: Final = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
_OVERRIDE_KEYS: Final = frozenset(
    {
        *_RATE_KEYS,
        "effective",
        "tier_threshold",
        "tier_input",
        "tier_output",
        "tier_cache_write_5m",
        "tier_cache_write_1h",
        "tier_cache_read",
    }
)


def _number(value: object, where: str) -> float:
    # bool is an int subclass; "input = true" is a mistake, not 1 USD.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise PriceConfigError(f"{where}: must be a non-negative number")
    return float(value)


def _opt_number(table: Mapping[str, Any], key: str, where: str) -> float | None:
    return _number(table[key], f"{where}.{key}") if key in table else None


def _date(value: object, where: str) -> datetime.date:
    # TOML bare dates arrive as datetime.date; quoted ones as str.
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise PriceConfigError(f"{where}: must be a date like 2026-01-01")


def _threshold(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PriceConfigError(f"{where}: must be a positive integer (prompt tokens)")
    return value


def _override_rates(spec: Mapping[str, Any], where: str, prefix: str) -> Rates:
    """The rates named ``<prefix>input`` ... in an override; missing cache rates derived."""
    return Rates.from_input(
        _number(spec[f"{prefix}input"], f"{where}.{prefix}input"),
        _number(spec[f"{prefix}output"], f"{where}.{prefix}output"),
        cache_write_5m=_opt_number(spec, f"{prefix}cache_write_5m", where),
        cache_write_1h=_opt_number(spec, f"{prefix}cache_write_1h", where),
        cache_read=_opt_number(spec, f"{prefix}cache_read", where),
    )


def parse_override(name: str, spec: object, batch_discount: float) -> ModelPrice:
    """Turn one ``[prices.NAME]`` table into an entry, naming the bad key on error."""
    where = f"prices.{name}"
    if not isinstance(spec, Mapping):
        raise PriceConfigError(f"{where}: must be a table like {{ input = 3, output = 15 }}")
    for key in spec:
        if key not in _OVERRIDE_KEYS:
            allowed = ", ".join(sorted(_OVERRIDE_KEYS))
            raise PriceConfigError(f"{where}.{key}: unknown key (expected one of: {allowed})")
    for key in ("input", "output"):
        if key not in spec:
            raise PriceConfigError(f"{where}.{key}: required")
    rates = _override_rates(spec, where, "")
    effective = _date(spec["effective"], f"{where}.effective") if "effective" in spec else None
    tier_keys = [k for k in spec if k.startswith("tier_")]
    threshold: int | None = None
    tier_rates: Rates | None = None
    if tier_keys:
        missing = [k for k in ("tier_threshold", "tier_input", "tier_output") if k not in spec]
        if missing:
            raise PriceConfigError(f"{where}.{missing[0]}: required when any tier_* key is given")
        threshold = _threshold(spec["tier_threshold"], f"{where}.tier_threshold")
        tier_rates = _override_rates(spec, where, "tier_")
    return ModelPrice(
        family=normalize_model(name),
        effective=effective,
        rates=rates,
        tier_threshold=threshold,
        tier_rates=tier_rates,
        batch_discount=batch_discount,
    )


def _full_rates(table: object, where: str) -> Rates:
    """The built-in table states every rate explicitly, so none is derived."""
    if not isinstance(table, Mapping):
        raise PriceConfigError(f"{where}: must be a table")
    missing = [k for k in _RATE_KEYS if k not in table]
    if missing:
        raise PriceConfigError(f"{where}.{missing[0]}: required")
    v = {k: _number(table[k], f"{where}.{k}") for k in _RATE_KEYS}
    return Rates(v["input"], v["cache_write_5m"], v["cache_write_1h"], v["cache_read"], v["output"])


def _parse_builtin(doc: Mapping[str, Any]) -> tuple[str, float, list[ModelPrice]]:
    where = "prices.toml"
    collected = doc.get("collected")
    if not isinstance(collected, str):
        raise PriceConfigError(f"{where}.collected: required string")
    discount = _number(doc.get("batch_discount"), f"{where}.batch_discount")
    if discount > 1:
        raise PriceConfigError(f"{where}.batch_discount: must be at most 1")
    entries: list[ModelPrice] = []
    for i, entry in enumerate(doc.get("entry", [])):
        at = f"{where}.entry[{i}]"
        families = entry.get("families")
        if not isinstance(families, list) or not all(isinstance(f, str) for f in families):
            raise PriceConfigError(f"{at}.families: must be a list of model id prefixes")
        rates = _full_rates(entry, at)
        effective = _date(entry["effective"], f"{at}.effective") if "effective" in entry else None
        threshold: int | None = None
        tier_rates: Rates | None = None
        if "tier_threshold" in entry or "tier" in entry:
            threshold = _threshold(entry.get("tier_threshold"), f"{at}.tier_threshold")
            tier_rates = _full_rates(entry.get("tier"), f"{at}.tier")
        entries.extend(
            ModelPrice(normalize_model(f), effective, rates, threshold, tier_rates, discount)
            for f in families
        )
    return collected, discount, entries


@functools.cache
def _packaged() -> dict[str, Any]:
    """``data/prices.toml``, parsed once for the entries, the tools and the modifiers. Read
    beside the package's modules, as it is installed (``importlib.resources``, or even
    ``pathlib``, would add milliseconds of imports to every ``check`` from cron)."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    with open(os.path.join(package, "data", "prices.toml"), "rb") as f:
        return tomllib.load(f)


@functools.cache
def builtin_data() -> tuple[str, float, tuple[ModelPrice, ...]]:
    """Parse the packaged table once per process; PriceTable instances share the entries."""
    collected, discount, entries = _parse_builtin(_packaged())
    return collected, discount, tuple(entries)


SERVER_TOOLS_KEY: Final = "server_tools"
"""``[prices.server_tools]``: a user's prices of server tools, USD per 1,000 requests, by tool
(``web_search_requests = 10``); not a model family."""


def _tool_name(value: object, where: str) -> str:
    if value not in SERVER_TOOLS:
        raise PriceConfigError(f"{where}: must be one of {', '.join(SERVER_TOOLS)}")
    return str(value)


def parse_tool_overrides(spec: object) -> list[ToolPrice]:
    """``[prices.server_tools]``: ``tool = USD per 1,000 requests``, in force from the start."""
    where = f"prices.{SERVER_TOOLS_KEY}"
    if not isinstance(spec, Mapping):
        raise PriceConfigError(f"{where}: must be a table like {{ web_search_requests = 10 }}")
    return [
        ToolPrice(_tool_name(k, f"{where}.{k}"), None, _number(v, f"{where}.{k}") / 1000, "config")
        for k, v in spec.items()
    ]


def _parse_tools(doc: Mapping[str, Any]) -> list[ToolPrice]:
    """The built-in ``[[server_tool]]`` entries: each a tool, its price per 1,000 requests, its
    effective date and the page that publishes it (required: no price without a source)."""
    out = []
    for i, entry in enumerate(doc.get("server_tool", [])):
        at = f"prices.toml.server_tool[{i}]"
        if not isinstance(entry, Mapping):
            raise PriceConfigError(f"{at}: must be a table")
        source = entry.get("source")
        if not isinstance(source, str) or not source.startswith("https://"):
            raise PriceConfigError(f"{at}.source: required URL of the published price")
        effective = _date(entry["effective"], f"{at}.effective") if "effective" in entry else None
        per_1000 = _number(entry.get("usd_per_1000"), f"{at}.usd_per_1000")
        out.append(ToolPrice(_tool_name(entry.get("tool"), f"{at}.tool"), effective,
                             per_1000 / 1000, source))  # fmt: skip
    return out


@functools.cache
def builtin_tools() -> tuple[ToolPrice, ...]:
    """The packaged table's server tool prices, parsed once per process."""
    return tuple(_parse_tools(_packaged()))


def _parse_modifiers(doc: Mapping[str, Any]) -> list[Modifier]:
    """The built-in ``[[modifier]]`` entries: a modifier's multiplier of the standard rates, the
    families it applies to, and the page that states it (required: no price without a source)."""
    out = []
    for i, entry in enumerate(doc.get("modifier", [])):
        at = f"prices.toml.modifier[{i}]"
        if not isinstance(entry, Mapping):
            raise PriceConfigError(f"{at}: must be a table")
        name, source, families = entry.get("name"), entry.get("source"), entry.get("families")
        if not isinstance(name, str) or not name:
            raise PriceConfigError(f"{at}.name: required, as the billed model spells it")
        if not isinstance(source, str) or not source.startswith("https://"):
            raise PriceConfigError(f"{at}.source: required URL of the published multiplier")
        if not isinstance(families, list) or not all(isinstance(f, str) for f in families):
            raise PriceConfigError(f"{at}.families: must be a list of model id prefixes")
        effective = _date(entry["effective"], f"{at}.effective") if "effective" in entry else None
        multiplier = _number(entry.get("multiplier"), f"{at}.multiplier")
        fams = tuple(normalize_model(f) for f in families)
        out.append(Modifier(name, multiplier, fams, effective, source))
    return out


@functools.cache
def builtin_modifiers() -> tuple[Modifier, ...]:
    """The packaged table's modifier multipliers, parsed once per process."""
    return tuple(_parse_modifiers(_packaged()))
