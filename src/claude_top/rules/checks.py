"""Each rule's computation: the value it measures, whether that value fires, and its message.

Pure functions of a rule and the engine's answers (``GroupStats``, a baseline, a headroom
class), so the live view colours a cell with exactly the test an alert uses: a cell is past
its rule when ``group_check`` answers a value for that cell's numbers. Numbers in messages go
through ``core.format``, like every view's.
"""

from __future__ import annotations

from collections.abc import Callable

from claude_top.core import format as fmt
from claude_top.core.stats import GroupStats
from claude_top.core.text import safe_text
from claude_top.engine.headroom import DIM_LABELS, ClassHeadroom
from claude_top.engine.streaming import StreamStats
from claude_top.rules.baseline import Baseline, Costed, cost_ratio
from claude_top.rules.spec import ALL, Rule


def who(scope: str) -> str:
    """The scope as messages start with it: "all traffic" or the (made visible) feature."""
    return "all traffic" if scope == ALL else safe_text(scope, 60)


def _calls(n: int) -> str:
    return "1 call" if n == 1 else f"{n} calls"


# -- the per-group rules: what each measures, then what it says -------------------------------

MEASURES: dict[str, Callable[[GroupStats], float | None]] = {
    "error_rate": lambda g: g.error_rate_pct,
    "rate_limit": lambda g: float(g.rate_limited),
    "p95_latency": lambda g: None if g.p95_ms is None else float(g.p95_ms),
    # The share of all calls, as the article's summary defines it (successes would exceed 100%).
    "max_tokens": lambda g: g.max_tokens_rate_pct,
    "cache_hit": lambda g: g.cache_hit_rate_pct if g.prompt_tokens else None,
    "unpriced": lambda g: float(g.unpriced_calls),
}
"""The value of each per-group rule in its unit (``spec.UNITS``); None: nothing to measure."""
LATENCY_RULE = "p95_latency"
"""The one rule that reads latency histograms: the rest need only the counters."""


def group_check(rule: Rule, g: GroupStats) -> float | None:
    """The rule's value for ``g`` when it fires (enough calls, past the threshold), else None."""
    measure = MEASURES.get(rule.id)
    if measure is None or not rule.enabled:
        return None
    if rule.min_calls and not rule.trusts(g.calls):
        return None
    value = measure(g) if g.calls else None
    if value is None or not rule.past(value):
        return None
    return value


def group_message(rule: Rule, scope: str, g: GroupStats, value: float) -> str:
    """What a firing per-group rule says, after "scope: "."""
    over, limit = rule.window_words, rule.limit_text
    if rule.id == "error_rate":
        text = f"{fmt.percent(value)} errors over {over} ({g.errors}/{g.calls}), {limit}"
    elif rule.id == "rate_limit":
        text = (
            f"{_calls(g.rate_limited)} rate-limited (HTTP 429) over {over} (of {g.calls}), {limit}"
        )
    elif rule.id == "p95_latency":
        text = f"p95 latency {fmt.ms(value)} over {over} ({_calls(g.calls)}), {limit}"
    elif rule.id == "max_tokens":
        text = (
            f"{fmt.percent(value)} of calls stopped at max_tokens (truncated answers) over "
            f"{over} ({g.max_tokens_stops}/{g.calls}), {limit}"
        )
    elif rule.id == "cache_hit":
        text = f"cache hit rate {fmt.percent(value)} over {over} ({_calls(g.calls)}), {limit}"
    else:
        models = ", ".join(safe_text(m, 60) for m in g.unpriced_models)
        text = (
            f"{_calls(g.unpriced_calls)} over {over} to models with no price ({models}); "
            "their cost is not counted. Add them under [prices]"
        )
    return f"{who(scope)}: {text}"


# -- the cost rules -----------------------------------------------------------------------------


def cost_check(rule: Rule, today: Costed, base: Baseline) -> float | None:
    """Today's cost in percent of the baseline when it fires (enough calls today), else None."""
    if not rule.enabled or not rule.trusts(today.calls):
        return None
    ratio = cost_ratio(today, base)
    if ratio is None or not rule.past(ratio):
        return None
    return ratio


def cost_message(
    rule: Rule, scope: str, today: Costed, base: Baseline, ratio: float, by: str
) -> str:
    """What a firing cost rule says; ``by`` is today's time of day for the pace rule."""
    avg = f"the {base.days}-day average"
    if rule.id == "cost_pace":
        text = (
            f"cost so far today {fmt.usd(today.cost_usd)} is {fmt.percent(ratio)} of {avg} "
            f"by {by} {fmt.usd(base.average)}, {rule.limit_text}"
        )
    else:
        text = (
            f"cost today {fmt.usd(today.cost_usd)} is {fmt.percent(ratio)} of {avg} daily "
            f"cost {fmt.usd(base.average)}, {rule.limit_text}"
        )
    return f"{who(scope)}: {text}"


# -- headroom -----------------------------------------------------------------------------------


def headroom_check(rule: Rule, c: ClassHeadroom, span_s: float) -> float | None:
    """The highest used share (percent of its limit) of a model class when it fires."""
    if rule.min_calls and c.rpm.used * span_s / 60.0 < rule.min_calls:
        return None  # rpm.used is per minute; min_calls counts calls in the window
    ratios = [d.ratio * 100.0 for d in c.dimensions if d.ratio is not None]
    worst = max(ratios, default=None)
    return worst if worst is not None and rule.past(worst) else None


def headroom_message(rule: Rule, c: ClassHeadroom) -> str:
    over = [d for d in c.dimensions if d.ratio is not None and rule.past(d.ratio * 100.0)]
    over.sort(key=lambda d: -(d.ratio or 0.0))
    parts = [
        f"{DIM_LABELS[d.name]} at {fmt.percent((d.ratio or 0.0) * 100)} of its limit "
        f"({fmt.grouped(d.used)}/{fmt.grouped(d.limit or 0)} per min, limit from {d.source})"
        for d in over
    ]
    return f"{who(c.model_class)}: {'; '.join(parts)} over {rule.window_words}, {rule.limit_text}"


# -- rejected lines -----------------------------------------------------------------------------


def rejected_check(rule: Rule, lines: int, rejected: int) -> float | None:
    """The rejected share of ``lines`` (percent) when it fires."""
    if not rule.trusts(lines):
        return None
    ratio = rejected / lines * 100.0
    return ratio if rule.past(ratio) else None


def rejected_message(
    rule: Rule, ratio: float, rejected: int, lines: int, over: str, reasons: list[str]
) -> str:
    text = (
        f"all lines: {fmt.percent(ratio)} of lines rejected over {over} ({rejected}/{lines}), "
        f"{rule.limit_text}"
    )
    if reasons:
        text += "; most: " + ", ".join(safe_text(k, 40) for k in reasons)
    return text


# -- time to first token: the streamed calls (``engine.streaming``) ---------------------------


def ttft_check(rule: Rule, st: StreamStats | None) -> float | None:
    """The p95 time to first token (ms) of ``st``'s streamed calls when it fires (enough
    streams, past the threshold), else None."""
    if st is None or not rule.enabled or not st.streams:
        return None
    if rule.min_calls and not rule.trusts(st.streams):
        return None
    value = st.p95_ttft_ms
    if value is None or not rule.past(float(value)):
        return None
    return float(value)


def ttft_message(rule: Rule, st: StreamStats, value: float) -> str:
    """What a firing ``p95_ttft`` says, after "scope: "."""
    streams = "1 streamed call" if st.streams == 1 else f"{st.streams} streamed calls"
    return (
        f"p95 time to first token {fmt.ms(value)} over {rule.window_words} ({streams}),"
        f" {rule.limit_text}"
    )
