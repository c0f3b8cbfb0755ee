"""Server tool use: the web searches and fetches the API ran for a call, counted per feature and
model, and priced per request where the table has a price for the tool.

The API reports them in ``usage.server_tool_use`` (``web_search_requests``,
``web_fetch_requests``); they are billed per request on top of the call's tokens (the results
the model reads are input tokens, priced as the call's). They live in a tiered store of their
own, keyed like the group rows by (feature, model, price variant), because few calls use them:
the group rows, their window caches and the state file stay as they are, and a call without
server tools costs nothing here. A tool with requests but no price is named, never billed at $0.
"""

from __future__ import annotations

from msgspec import Struct, field

from claude_top.core.schema import SERVER_TOOLS
from claude_top.core.timeutil import utc_date
from claude_top.engine.pricing import PriceTable
from claude_top.engine.store import Bucket, Row, TieredStore

T_CALLS, T_SEARCH, T_FETCH = range(3)
_SLOTS = 3


def new_row() -> Row:
    return [0, 0, 0]


def merge_row(acc: Row, row: Row) -> None:
    for i in range(_SLOTS):
        acc[i] += row[i]


def add(bucket: Bucket, key: tuple[str, str, int], searches: int, fetches: int) -> None:
    """One call's server tool requests (a call with none is never added)."""
    row = bucket.get(key)
    if row is None:
        row = bucket[key] = new_row()
    row[T_CALLS] += 1
    row[T_SEARCH] += searches
    row[T_FETCH] += fetches


class ToolUse(Struct):
    """Server tool requests of a group of calls, and what the priced ones cost."""

    calls: int = 0
    """Calls that used a server tool at least once."""
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    cost_usd: float = 0.0
    """The priced requests' cost (``PriceTable.tool_price``), beside the tokens' cost."""
    unpriced: set[str] = field(default_factory=set)
    """Tools (``SERVER_TOOLS`` keys) with requests but no price on some day: not in the cost."""


def query(
    store: TieredStore, prices: PriceTable, start: float | None, end: float | None, by: str
) -> tuple[ToolUse, dict[str, ToolUse]]:
    """The total and each model's (``by="model"``) or feature's server tool use."""
    index = 1 if by == "model" else 0
    total = ToolUse()
    groups: dict[str, ToolUse] = {}
    for bstart, bucket in store.buckets_in(start, end):
        day = utc_date(bstart)
        each = [(tool, prices.tool_price(tool, day)) for tool in SERVER_TOOLS]
        for key, row in bucket.items():
            name = key[index]
            g = groups.get(name)
            if g is None:
                g = groups[name] = ToolUse()
            for acc in (g, total):
                acc.calls += row[T_CALLS]
                acc.web_search_requests += row[T_SEARCH]
                acc.web_fetch_requests += row[T_FETCH]
                for (tool, usd), n in zip(each, (row[T_SEARCH], row[T_FETCH]), strict=True):
                    if not n:
                        continue
                    if usd is None:
                        acc.unpriced.add(tool)
                    else:
                        acc.cost_usd += n * usd
    return total, groups
