"""The price table: every model's entries by family and date, looked up once per model.

Prices live in ``data/prices.toml`` rather than in code because they change often and a user must
be able to add or override a model from their config without upgrading. Neither Textual nor Rich
is imported, so the engine, ``summary`` and ``check`` can use the table cheaply.
"""

from __future__ import annotations

import datetime
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from typing import Any, Final

from msgspec.structs import replace

from claude_top.core import format as fmt
from claude_top.core.digest import blake2b_hex
from claude_top.core.errors import PriceConfigError
from claude_top.core.schema import SERVER_TOOLS
from claude_top.core.text import cell_width, fit, safe_text
from claude_top.engine.pricing.families import is_family_of, normalize_model
from claude_top.engine.pricing.parse import (
    SERVER_TOOLS_KEY,
    builtin_data,
    builtin_modifiers,
    builtin_tools,
    parse_override,
    parse_tool_overrides,
)
from claude_top.engine.pricing.rates import ModelPrice, Modifier, ToolPrice

STALE_DAYS: Final = 90
"""A built-in table older than this is said to be stale (``claude-top prices``)."""
PRICING: Final = 1
"""Bumped when the code that prices a row from the table changes (``digest``)."""
_CACHE_MAX: Final = 16_384  # bounds the per-model caches against a log full of odd model ids


def _sort_key(p: ModelPrice) -> datetime.date:
    return datetime.date.min if p.effective is None else p.effective


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
        tools: Iterable[ToolPrice] = (),
        modifiers: Iterable[Modifier] = (),
    ) -> None:
        self.collected = collected
        self.tools = sorted(tools, key=lambda t: (t.tool, t.effective or datetime.date.min))
        """Server tools' prices per request (``tool_price``), oldest first per tool."""
        self.modifiers = sorted(modifiers, key=lambda m: (m.name, m.effective or datetime.date.min))
        """Published multipliers of the standard rates, by modifier (``lookup``)."""
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
        self._digest: str | None = None
        self._changes = sorted(
            {p.effective for lst in by_family.values() for p in lst if p.effective is not None}
            | {m.effective for m in self.modifiers if m.effective is not None}
        )
        """Every date from which some entry or modifier applies (``price_epoch``)."""

    @classmethod
    def builtin(cls) -> PriceTable:
        """The table shipped in ``data/prices.toml``."""
        collected, discount, entries = builtin_data()
        return cls(
            collected,
            entries,
            batch_discount=discount,
            tools=builtin_tools(),
            modifiers=builtin_modifiers(),
        )

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
        tools = list(self.tools)
        for name, spec in overrides.items():
            if name == SERVER_TOOLS_KEY:
                mine = parse_tool_overrides(spec)
                named = {t.tool for t in mine}
                tools = [t for t in tools if t.tool not in named] + mine
                continue
            new = parse_override(str(name), spec, self.batch_discount)
            if new.family.endswith("-0") and new.family[:-2] in self._by_family:
                # "claude-opus-4-0" is the alias of "claude-opus-4": override that family.
                new = replace(new, family=new.family[:-2])
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
            self.collected,
            entries,
            batch_discount=self.batch_discount,
            overridden=overridden,
            tools=tools,
            modifiers=self.modifiers,
        )

    def family_of(self, model: str) -> str | None:
        """The table family a logged model id belongs to, or None if unknown. Never raises."""
        cache = self._family_cache
        if model in cache:
            return cache[model]
        name = normalize_model(model)
        found = next((f for f in self._families if is_family_of(name, f)), None)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[model] = found
        return found

    def lookup(self, model: str, day: datetime.date) -> ModelPrice | None:
        """The entry in force for ``model`` on ``day``; None if the model is unknown or no
        entry is in force yet (a price is never guessed).

        A billed model with modifiers (``claude-sonnet-4-6 (us-only)``) is priced by an entry
        for that very id (a user's ``[prices]``), else by its family's standard entry times the
        published multiplier of every modifier it names (``[[modifier]]`` in the table, for
        that family, in force on ``day``); one modifier without a multiplier leaves it unpriced."""
        if isinstance(day, datetime.datetime):  # datetime < date raises TypeError
            day = day.date()
        key = (model, day)
        cache = self._lookup_cache
        if key in cache:
            return cache[key]
        found = self._entry(model, day)
        if found is None and model.endswith(")") and " (" in model:
            found = self._modified(model, day)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = found
        return found

    def price_epoch(self, day: datetime.date) -> int:
        """A number shared by exactly the days on which every model has the same price.

        ``lookup`` reads a day only to compare it with the entries' and modifiers' effective
        dates, so days with as many of those dates on or before them get equal prices: a
        query can then price a week's rows of one model with one lookup (``column_fold``).
        """
        return bisect_right(self._changes, day)

    def _entry(self, model: str, day: datetime.date) -> ModelPrice | None:
        found: ModelPrice | None = None
        family = self.family_of(model)
        if family is not None:
            for p in self._by_family[family]:  # sorted by effective date
                if p.effective is None or p.effective <= day:
                    found = p
                else:
                    break
        return found

    def _modified(self, model: str, day: datetime.date) -> ModelPrice | None:
        """A modifier-billed model's price from its base family's and the multipliers."""
        base, _, mods = model.rpartition(" (")
        price = self._entry(base, day)
        family = self.family_of(base)
        if price is None or family is None:
            return None
        for name in mods[:-1].split(", "):
            mod = self.modifier(name, family, day)
            if mod is None:
                return None
            price = mod.scaled(price, f"{price.family} ({name})")
        return replace(price, family=f"{family} ({mods}")

    def modifier(self, name: str, family: str, day: datetime.date) -> Modifier | None:
        """The multiplier of modifier ``name`` for table family ``family`` in force on ``day``."""
        found = None
        for m in self.modifiers:
            if m.name == name and family in m.families and (m.effective or day) <= day:
                found = m
        return found

    def tool_price(self, tool: str, day: datetime.date) -> float | None:
        """USD per request of server tool ``tool`` (a ``SERVER_TOOLS`` key) on ``day``; None when
        no published (or configured) price is in force: such requests are named, not billed."""
        found = None
        for t in self.tools:
            if t.tool == tool and (t.effective is None or t.effective <= day):
                found = t.usd_per_request
        return found

    def tier_threshold(self, model: str) -> int | None:
        """Threshold of the family's latest entry; None (no tiering) for most models, so the
        engine can skip summing the prompt."""
        family = self.family_of(model)
        if family is None and model.endswith(")") and " (" in model:
            family = self.family_of(model.rpartition(" (")[0])  # its base's tier, if priced
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

    def digest(self) -> str:
        """A name for what this table charges: equal tables, equal digests.

        A state keeps each bucket row's cost as priced (``state.schema``), valid only under
        the table it was priced with; this names that table. Every entry, modifier and tool
        price is in it (their reprs are plain dates and numbers), and ``PRICING`` for the
        rule that turns them into a row's cost.
        """
        if self._digest is None:
            facts = (PRICING, self.batch_discount, self.rows(), self.modifiers, self.tools)
            self._digest = blake2b_hex(repr(facts).encode(), 8)
        return self._digest

    def rows(self) -> list[ModelPrice]:
        """Every entry, grouped by family in table order, oldest first within a family."""
        return [p for lst in self._by_family.values() for p in lst]

    def age_days(self, now: float) -> int | None:
        """Whole days from the day the built-in facts were collected to ``now`` (the clock), or
        None if ``collected`` is not a date."""
        try:
            collected = datetime.date.fromisoformat(self.collected)
        except ValueError:
            return None
        today = datetime.datetime.fromtimestamp(now, datetime.UTC).date()
        return (today - collected).days

    def staleness(self, now: float) -> str | None:
        """A warning when the table is older than ``STALE_DAYS`` at ``now``, else None."""
        age = self.age_days(now)
        if age is None or age <= STALE_DAYS:
            return None
        return (
            f"! the built-in prices were collected {age} days ago (more than {STALE_DAYS}):"
            " prices change often; check the published pricing and add or override models"
            " under [prices] in the config."
        )

    def format_table(self, now: float | None = None) -> str:
        """Plain aligned text for ``claude-top prices``, so users can check what they're billed
        (with ``now``, the clock's time: a warning when the table is stale)."""
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
                tier = f"> {fmt.grouped(p.tier_threshold)}: {fmt.price(t.input)} / {fmt.price(t.output)}"
            family = safe_text(p.family, 60) + (" *" if self.is_override(p) else "")
            body.append(
                (
                    family,
                    p.effective.isoformat() if p.effective else "-",
                    fmt.price(r.input),
                    fmt.price(r.cache_write_5m),
                    fmt.price(r.cache_write_1h),
                    fmt.price(r.cache_read),
                    fmt.price(r.output),
                    tier,
                )
            )
        widths = [max(cell_width(row[i]) for row in (header, *body)) for i in range(len(header))]
        left = {0, 1, 7}  # text columns; numbers right-aligned

        def line(row: tuple[str, ...]) -> str:
            cells = (
                fit(c, w, right=i not in left)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            return "  ".join(cells).rstrip()

        pct = f"{fmt.number(self.batch_discount * 100)}%"
        tools = []
        for tool in SERVER_TOOLS:
            mine = [tp for tp in self.tools if tp.tool == tool]
            if not mine:
                tools.append(f"  {tool}: not priced (no published price in the table)")
            for tp in mine:
                since = f" from {tp.effective.isoformat()}" if tp.effective else ""
                src = f" ({safe_text(tp.source, 100)})" if tp.source else ""
                usd = fmt.price(tp.usd_per_request * 1000)
                tools.append(f"  {tool}: {usd} per 1,000 requests{since}{src}")
        lines = [
            f"Claude prices, USD per million tokens (collected {self.collected})",
            line(header),
            *(line(row) for row in body),
            "",
            f"Batch API: {pct} off every category. * = user override from [prices] config.",
            "Unknown models are not priced (shown as unknown, never $0), nor are calls billed",
            "under a modifier no entry prices (claude-opus-5-5 (fast), (priority) ...).",
            "Modifiers priced at a published multiplier of the standard rates (others unpriced):",
            *(
                f"  ({m.name}): {fmt.number(m.multiplier)}x"
                + (f" from {m.effective.isoformat()}" if m.effective else "")
                + f", {len(m.families)} families ({safe_text(m.source, 100)})"
                for m in self.modifiers
            ),
            "Server tools, billed per request beside the tokens ([prices.server_tools] sets them):",
            *tools,
        ]
        warning = self.staleness(now) if now is not None else None
        if warning:
            lines.append(warning)
        return "\n".join(lines)
