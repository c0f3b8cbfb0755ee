"""Price table and per-call cost.

Prices live in ``data/prices.toml`` rather than in code because they change often and a user must
be able to add or override a model from their config without upgrading. The module imports
neither Textual nor Rich so the engine, ``summary`` and ``check`` can use it cheaply.

Billing rules encoded here (from the published pricing):

* every input token is billed in exactly one category (uncached input, cache read, 5m cache
  write, 1h cache write), never again as input;
* a prompt-length tier, when exceeded, bills the WHOLE request at the tier's rates;
* an unknown model has no price (``None``), never a silent $0.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from claude_top.core.errors import PriceConfigError

__all__ = ["ModelPrice", "PriceConfigError", "PriceTable", "Rates", "normalize_model"]

MTOK: Final = 1_000_000.0

# Anthropic's cache multipliers of the input price, used when an override omits a cache rate.
WRITE_5M_FACTOR: Final = 1.25
WRITE_1H_FACTOR: Final = 2.0
READ_FACTOR: Final = 0.1

_CACHE_MAX: Final = 16_384  # bounds the per-model caches against a log full of odd model ids


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens, one rate per billing category."""

    input: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    output: float

    @classmethod
    def from_input(
        cls,
        input: float,
        output: float,
        *,
        cache_write_5m: float | None = None,
        cache_write_1h: float | None = None,
        cache_read: float | None = None,
    ) -> Rates:
        """Fill missing cache rates with the standard multipliers, as the pricing page does."""
        return cls(
            input=input,
            cache_write_5m=input * WRITE_5M_FACTOR if cache_write_5m is None else cache_write_5m,
            cache_write_1h=input * WRITE_1H_FACTOR if cache_write_1h is None else cache_write_1h,
            cache_read=input * READ_FACTOR if cache_read is None else cache_read,
            output=output,
        )


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """The prices of one model family from one effective date on."""

    family: str
    effective: datetime.date | None
    """First day this entry applies; None = since the beginning."""
    rates: Rates
    tier_threshold: int | None
    """Prompt tokens above which the whole request uses ``tier_rates``."""
    tier_rates: Rates | None
    batch_discount: float
    """Fraction taken off for Batch API calls (0.5 = half price)."""

    def cost(
        self,
        input_tokens: int,
        cache_read: int,
        cache_write_5m: int,
        cache_write_1h: int,
        output_tokens: int,
        *,
        tier: int = 0,
        batch: bool = False,
    ) -> float:
        """USD for one call. ``input_tokens`` is the API's uncached input only.

        ``tier`` comes from ``PriceTable.tier_of`` (the engine computes it once per call). Tier 1
        on an entry without tier rates falls back to the base rates: the threshold is looked up
        per family, so an older dated entry may lack the tier a newer one has.
        """
        if tier == 1 and self.tier_rates is not None:
            r = self.tier_rates
        elif tier in (0, 1):
            r = self.rates
        else:
            raise ValueError(f"tier must be 0 or 1, got {tier!r}")
        usd = (
            input_tokens * r.input
            + cache_read * r.cache_read
            + cache_write_5m * r.cache_write_5m
            + cache_write_1h * r.cache_write_1h
            + output_tokens * r.output
        ) / MTOK
        if batch:
            # Batch discount applies to every category (cache rates too): the Batch API docs
            # say "50% of standard prices"; prices.md only mentions input and output.
            usd *= 1.0 - self.batch_discount
        return usd


# --- family matching ---------------------------------------------------------------------------

# Bedrock prefixes: "anthropic.", "us.anthropic.", "global.anthropic." ...
_CLOUD_PREFIX: Final = re.compile(r"^(?:[a-z]{2,8}\.)?anthropic\.")
# "claude-sonnet-4.5" (OpenRouter style) -> "claude-sonnet-4-5"
_VERSION_DOT: Final = re.compile(r"(?<=[0-9])\.(?=[0-9])")
_SEGMENT_END: Final = re.compile(r"[-@:\[]")
_MINOR_VERSION: Final = re.compile(r"[0-9]{1,2}")


def normalize_model(model: str) -> str:
    """Reduce a model id as logged by any client or cloud to the API's own spelling."""
    s = model.strip().lower()
    s = s.rsplit("/", 1)[-1]  # "anthropic/claude-…", Bedrock ARNs
    s = _CLOUD_PREFIX.sub("", s)
    return _VERSION_DOT.sub("-", s)


def _is_family_of(name: str, family: str) -> bool:
    """True if ``name`` is ``family`` plus only a date / alias / cloud suffix.

    A following 1-2 digit segment is a newer minor version ("claude-opus-4-9" is not
    "claude-opus-4"), except "-0": "claude-opus-4-0" is the alias of "claude-opus-4".
    """
    if not name.startswith(family):
        return False
    rest = name[len(family) :]
    if not rest or rest[0] in "@:[":
        return True
    if rest[0] != "-":
        return False
    segment = _SEGMENT_END.split(rest[1:], maxsplit=1)[0]
    return segment == "0" or _MINOR_VERSION.fullmatch(segment) is None


# --- parsing and validation --------------------------------------------------------------------

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


def _parse_override(name: str, spec: object, batch_discount: float) -> ModelPrice:
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
    rates = Rates.from_input(
        _number(spec["input"], f"{where}.input"),
        _number(spec["output"], f"{where}.output"),
        cache_write_5m=_opt_number(spec, "cache_write_5m", where),
        cache_write_1h=_opt_number(spec, "cache_write_1h", where),
        cache_read=_opt_number(spec, "cache_read", where),
    )
    effective = _date(spec["effective"], f"{where}.effective") if "effective" in spec else None
    tier_keys = [k for k in spec if k.startswith("tier_")]
    threshold: int | None = None
    tier_rates: Rates | None = None
    if tier_keys:
        missing = [k for k in ("tier_threshold", "tier_input", "tier_output") if k not in spec]
        if missing:
            raise PriceConfigError(f"{where}.{missing[0]}: required when any tier_* key is given")
        threshold = _threshold(spec["tier_threshold"], f"{where}.tier_threshold")
        tier_rates = Rates.from_input(
            _number(spec["tier_input"], f"{where}.tier_input"),
            _number(spec["tier_output"], f"{where}.tier_output"),
            cache_write_5m=_opt_number(spec, "tier_cache_write_5m", where),
            cache_write_1h=_opt_number(spec, "tier_cache_write_1h", where),
            cache_read=_opt_number(spec, "tier_cache_read", where),
        )
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


_BUILTIN: tuple[str, float, tuple[ModelPrice, ...]] | None = None


def _builtin_data() -> tuple[str, float, tuple[ModelPrice, ...]]:
    """Parse the packaged table once per process; PriceTable instances share the entries."""
    global _BUILTIN
    if _BUILTIN is None:
        text = (resources.files("claude_top") / "data" / "prices.toml").read_text("utf-8")
        collected, discount, entries = _parse_builtin(tomllib.loads(text))
        _BUILTIN = (collected, discount, tuple(entries))
    return _BUILTIN


def _sort_key(p: ModelPrice) -> datetime.date:
    return datetime.date.min if p.effective is None else p.effective


# --- the table ---------------------------------------------------------------------------------


class PriceTable:
    """All known prices: built-in entries plus the user's ``[prices]`` overrides."""

    collected: str
    """Date the built-in table's facts were collected."""

    def __init__(
        self,
        collected: str,
        entries: Iterable[ModelPrice],
        *,
        batch_discount: float = 0.5,
        overridden: Iterable[tuple[str, datetime.date | None]] = (),
    ) -> None:
        self.collected = collected
        self.batch_discount = batch_discount
        self._overridden = frozenset(overridden)
        by_family: dict[str, list[ModelPrice]] = {}
        for p in entries:  # dict keeps first-seen order: the table file's order
            by_family.setdefault(p.family, []).append(p)
        for lst in by_family.values():
            lst.sort(key=_sort_key)
        self._by_family = by_family
        # Longest first so "claude-opus-4-1" wins over "claude-opus-4".
        self._families = sorted(by_family, key=len, reverse=True)
        self._family_cache: dict[str, str | None] = {}
        self._lookup_cache: dict[tuple[str, datetime.date], ModelPrice | None] = {}

    @classmethod
    def builtin(cls) -> PriceTable:
        """The table shipped in ``data/prices.toml``."""
        collected, discount, entries = _builtin_data()
        return cls(collected, entries, batch_discount=discount)

    def with_overrides(self, overrides: Mapping[str, Any]) -> PriceTable:
        """A new table with the user's ``[prices]`` entries applied.

        ``overrides`` is the parsed ``[prices]`` table of the user's TOML config, e.g.
        ``{"claude-sonnet-4-6": {"input": 3, "output": 15, "cache_read": 0.3}}``. Keys:
        input, output (required), cache_write_5m, cache_write_1h, cache_read (default 1.25x /
        2x / 0.1x input), effective (date), tier_threshold + tier_input + tier_output (together;
        tier_cache_* optional). An override is a complete entry: it does not inherit the
        replaced entry's tier. It replaces the family's entries from its effective date on
        (entries dated on/after it are dropped, earlier ones kept), or all of them when it has
        no date. A bad value raises PriceConfigError naming the key.
        """
        if not isinstance(overrides, Mapping):
            raise PriceConfigError("prices: must be a table of model -> rates")
        entries = [p for lst in self._by_family.values() for p in lst]
        overridden = set(self._overridden)
        for name, spec in overrides.items():
            new = _parse_override(str(name), spec, self.batch_discount)
            if new.family.endswith("-0") and new.family[:-2] in self._by_family:
                # "claude-opus-4-0" is the alias of "claude-opus-4": override that family.
                new = dataclasses.replace(new, family=new.family[:-2])
            if new.effective is None:
                entries = [p for p in entries if p.family != new.family]
                overridden = {k for k in overridden if k[0] != new.family}
            else:
                cut = new.effective
                entries = [
                    p
                    for p in entries
                    if p.family != new.family or p.effective is None or p.effective < cut
                ]
                overridden = {
                    k for k in overridden if k[0] != new.family or k[1] is None or k[1] < cut
                }
            entries.append(new)
            overridden.add((new.family, new.effective))
        return PriceTable(
            self.collected, entries, batch_discount=self.batch_discount, overridden=overridden
        )

    def family_of(self, model: str) -> str | None:
        """The table family a logged model id belongs to, or None if unknown. Never raises."""
        cache = self._family_cache
        if model in cache:
            return cache[model]
        name = normalize_model(model)
        found = next((f for f in self._families if _is_family_of(name, f)), None)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[model] = found
        return found

    def lookup(self, model: str, day: datetime.date) -> ModelPrice | None:
        """The entry in force for ``model`` on ``day``; None if the model is unknown or no
        entry is in force yet (a price is never guessed)."""
        if isinstance(day, datetime.datetime):  # datetime < date raises TypeError
            day = day.date()
        key = (model, day)
        cache = self._lookup_cache
        if key in cache:
            return cache[key]
        found: ModelPrice | None = None
        family = self.family_of(model)
        if family is not None:
            for p in self._by_family[family]:  # sorted by effective date
                if p.effective is None or p.effective <= day:
                    found = p
                else:
                    break
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = found
        return found

    def tier_threshold(self, model: str) -> int | None:
        """Threshold of the family's latest entry; None (no tiering) for most models, so the
        engine can skip summing the prompt."""
        family = self.family_of(model)
        if family is None:
            return None
        return self._by_family[family][-1].tier_threshold

    def tier_of(self, model: str, prompt_tokens: int) -> int:
        """1 if the prompt (uncached input + cache reads + cache writes) EXCEEDS the threshold."""
        threshold = self.tier_threshold(model)
        return 1 if threshold is not None and prompt_tokens > threshold else 0

    def is_override(self, price: ModelPrice) -> bool:
        """Whether an entry came from the user's config rather than the built-in table."""
        return (price.family, price.effective) in self._overridden

    def rows(self) -> list[ModelPrice]:
        """Every entry, grouped by family in table order, oldest first within a family."""
        return [p for lst in self._by_family.values() for p in lst]

    def format_table(self) -> str:
        """Plain aligned text for ``claude-top prices``, so users can check what they're billed."""
        header = (
            "family",
            "effective",
            "input",
            "5m write",
            "1h write",
            "cache read",
            "output",
            "tier (prompt > N: all at in / out)",
        )
        body: list[tuple[str, ...]] = []
        for p in self.rows():
            r = p.rates
            tier = ""
            if p.tier_threshold is not None and p.tier_rates is not None:
                t = p.tier_rates
                tier = f"> {p.tier_threshold:,}: {_fmt(t.input)} / {_fmt(t.output)}"
            family = p.family + (" *" if self.is_override(p) else "")
            body.append(
                (
                    family,
                    p.effective.isoformat() if p.effective else "-",
                    _fmt(r.input),
                    _fmt(r.cache_write_5m),
                    _fmt(r.cache_write_1h),
                    _fmt(r.cache_read),
                    _fmt(r.output),
                    tier,
                )
            )
        widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
        left = {0, 1, 7}  # text columns; numbers right-aligned

        def line(row: tuple[str, ...]) -> str:
            cells = (
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            return "  ".join(cells).rstrip()

        pct = f"{self.batch_discount * 100:g}%"
        lines = [
            f"Claude prices, USD per million tokens (collected {self.collected})",
            line(header),
            *(line(row) for row in body),
            "",
            f"Batch API: {pct} off every category. * = user override from [prices] config.",
            "Unknown models are not priced (shown as unknown, never $0).",
        ]
        return "\n".join(lines)


def _fmt(x: float) -> str:
    """At least 2 decimals (money), up to 4 so 0.125 or a user's 0.0375 isn't rounded away."""
    s = f"{x:.4f}".rstrip("0")
    whole, _, frac = s.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"
