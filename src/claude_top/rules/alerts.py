"""Alert rules evaluated by the core, so the TUI, ``check`` and any later view agree on what fires.

The article names four alerts (error rate, 429s, p95 latency, daily cost). Those four miss the
failures it describes elsewhere -- truncated answers (max_tokens), prompt caching that silently
stopped working, models the price table does not know (cost shown too low), a log the reader
cannot parse, and a runaway loop that has not yet made *today* expensive but is on its way -- so
five more rules cover them. Every rule runs per feature and over all traffic (scope ``"*"``),
because a 2% global error rate can be 15% errors in one feature.

Windows come from ``windows.window`` and the engine's minute buckets: a bucket is in a window when
its start minute is >= the window's start and < its end. A rolling window therefore covers whole
minutes, dropping the partial minute at its start and including the whole minute that holds
``now``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from claude_top.core.errors import ConfigError
from claude_top.core.stats import GroupStats, Summary
from claude_top.core.text import safe_text
from claude_top.core.timeutil import TimeArgError, parse_duration
from claude_top.core.windows import previous_days, window
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import DIM_LABELS

SEVERITIES = ("warning", "critical")
ALL = "*"
"""The scope of an alert over all traffic."""
TRANSITIONS_KEPT = 200
BASELINE_DAYS = 7
HEADROOM_MAX_WINDOW_S = 120.0


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule; ``threshold`` is in the rule's own unit (see ``UNITS``).

    ``min_calls`` is the smallest denominator the rule trusts: calls in the window for the rate
    rules (successful calls for max_tokens), today's calls for the cost rules, lines for
    rejected_lines. It exists so that 1 error in 2 calls is not a page.
    """

    id: str
    threshold: float
    window: str
    severity: str
    min_calls: int = 20
    enabled: bool = True


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("error_rate", 5.0, "10m", "critical"),
    Rule("rate_limit", 0.0, "5m", "warning", min_calls=0),
    Rule("p95_latency", 15000.0, "10m", "warning"),
    Rule("daily_cost", 150.0, "today", "critical"),
    Rule("cost_pace", 150.0, "today", "warning"),
    Rule("max_tokens", 3.0, "1h", "warning"),
    Rule("cache_hit", 30.0, "1h", "warning"),
    Rule("unpriced", 0.0, "24h", "warning", min_calls=0),
    Rule("rejected_lines", 1.0, "10m", "warning"),
    Rule("headroom", 80.0, "1m", "warning", min_calls=0),
)
"""The defaults, in the issue's order. The cost rules keep a minimum of 20 calls today: at
00:05 a handful of calls can be "150% of the usual pace" without meaning anything."""

UNITS: dict[str, str] = {
    "error_rate": "percent of calls that failed",
    "rate_limit": "number of calls that got HTTP 429",
    "p95_latency": "milliseconds",
    "daily_cost": "percent of the average daily cost of the 7 days before today",
    "cost_pace": "percent of the average cost of the same hours on the 7 days before today",
    "max_tokens": "percent of successful calls stopped by max_tokens",
    "cache_hit": "percent of prompt tokens read from cache (fires BELOW the threshold)",
    "unpriced": "number of calls of models without a price",
    "rejected_lines": "percent of lines rejected",
    "headroom": "percent of a model class's rate limit (RPM, ITPM or OTPM) used",
}
"""What each threshold counts; ``claude-top config`` prints it next to the value."""

COST_RULES = ("daily_cost", "cost_pace")
_KEYS = ("threshold", "window", "severity", "min_calls", "enabled")


def rules_from_config(raw: Mapping[str, Any]) -> list[Rule]:
    """The defaults with the user's ``[alerts.<id>]`` tables applied; errors name the key."""
    if not isinstance(raw, Mapping):
        raise ConfigError("alerts: must be a table of rules ([alerts.error_rate] ...)")
    known = {r.id: r for r in DEFAULT_RULES}
    for rid in raw:
        if rid not in known:
            raise ConfigError(f"alerts.{rid}: unknown rule (known: {', '.join(known)})")
    out: list[Rule] = []
    for rule in DEFAULT_RULES:
        spec = raw.get(rule.id)
        if spec is None:
            out.append(rule)
            continue
        where = f"alerts.{rule.id}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where}: must be a table like {{ threshold = 5 }}")
        for key in spec:
            if key not in _KEYS:
                raise ConfigError(
                    f"{where}.{key}: unknown key (expected one of: {', '.join(_KEYS)})"
                )
        changes: dict[str, Any] = {}
        if "threshold" in spec:
            v = spec["threshold"]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ConfigError(f"{where}.threshold: must be a number")
            if v < 0:
                raise ConfigError(f"{where}.threshold: must not be negative")
            changes["threshold"] = float(v)
        if "window" in spec:
            changes["window"] = _check_window(rule.id, spec["window"], f"{where}.window")
        if "severity" in spec:
            v = spec["severity"]
            if v not in SEVERITIES:
                raise ConfigError(f'{where}.severity: must be "warning" or "critical"')
            changes["severity"] = v
        if "min_calls" in spec:
            v = spec["min_calls"]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"{where}.min_calls: must be a non-negative integer")
            changes["min_calls"] = v
        if "enabled" in spec:
            v = spec["enabled"]
            if not isinstance(v, bool):
                raise ConfigError(f"{where}.enabled: must be true or false")
            changes["enabled"] = v
        out.append(dataclasses.replace(rule, **changes))
    return out


def _check_window(rule_id: str, v: object, where: str) -> str:
    if rule_id == "headroom":
        # The tracker keeps the last few minutes at one-second resolution, nothing older.
        ok = isinstance(v, str) and v.strip() != "today"
        try:
            seconds = parse_duration(v) if ok else 0.0  # type: ignore[arg-type]
        except TimeArgError:
            seconds = 0.0
        if not 1 <= seconds <= HEADROOM_MAX_WINDOW_S:
            raise ConfigError(f'{where}: must be a duration from "1s" to "2m" (like "1m")')
        return str(v).strip()
    # The cost rules compare calendar days with calendar days: any other span has no baseline.
    if rule_id in COST_RULES:
        if v != "today":
            raise ConfigError(f'{where}: must be "today" (the cost rules compare whole days)')
        return "today"
    if not isinstance(v, str):
        raise ConfigError(f'{where}: must be a duration like "10m" or "1h", or "today"')
    if v == "today":
        return v
    try:
        seconds = parse_duration(v)
    except TimeArgError:
        raise ConfigError(
            f'{where}: must be a duration like "10m" or "1h", or "today" (got {v!r})'
        ) from None
    if seconds <= 0:
        raise ConfigError(f"{where}: must be longer than zero")
    return v.strip()


@dataclass(frozen=True, slots=True)
class Alert:
    """One firing (rule, scope); ``value`` and ``threshold`` are in the rule's unit."""

    rule: str
    scope: str
    severity: str
    value: float
    threshold: float
    window: str
    since: float
    message: str


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert starting (``fired``) or stopping (``resolved``) at ``at``: the views' history."""

    at: float
    kind: str
    alert: Alert


def describe_window(name: str) -> str:
    """ "10m" -> "10 min", "1h" -> "1 hour": for messages people read."""
    if name == "today":
        return "today"
    try:
        s = parse_duration(name)
    except TimeArgError:
        return name
    # "24h" reads better as 24 hours; whole days only from two days up.
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "min")):
        if s >= size * (2 if unit == "day" else 1) and s % size == 0:
            n = int(s // size)
            return f"{n} {unit}" if unit == "min" or n == 1 else f"{n} {unit}s"
    return f"{s:g} s"


def _who(scope: str) -> str:
    return "all traffic" if scope == ALL else safe_text(scope, 60)


def _usd(x: float) -> str:
    return f"${x:,.2f}" if x >= 1 else f"${x:.4f}"


def _secs(ms: float) -> str:
    return f"{ms / 1000:.1f} s"


def _fmt(x: float) -> str:
    return f"{x:g}"


class Alerts:
    """Evaluates the rules against one engine and remembers what is firing since when.

    State lives here, not in the engine, because "since" and the transitions belong to whoever
    evaluates repeatedly (the TUI); a one-shot ``check`` simply sees every alert start at now.
    """

    def __init__(
        self, engine: Engine, rules: Sequence[Rule] | None = None, tz: tzinfo = UTC
    ) -> None:
        self.engine = engine
        self.rules: list[Rule] = list(DEFAULT_RULES if rules is None else rules)
        self.tz = tz
        self.transitions: deque[Transition] = deque(maxlen=TRANSITIONS_KEPT)
        self.firing: dict[tuple[str, str], Alert] = {}
        """What fired at the last evaluation, by (rule, scope)."""
        self._line_samples: deque[tuple[float, int, int]] = deque()
        """(time, lines, rejected) at each evaluation: LineStats is cumulative, the rule is not."""
        self._queries: dict[tuple[float | None, float | None], Summary] = {}
        self._past: dict[tuple[float, float], tuple[int, Summary]] = {}
        """Baseline-day answers that cannot change any more, with the store's layout version."""

    def rule(self, rule_id: str) -> Rule | None:
        """The enabled rule of that id, or None (a disabled rule highlights nothing)."""
        for r in self.rules:
            if r.id == rule_id:
                return r if r.enabled else None
        return None

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, now: float) -> list[Alert]:
        """Every firing alert at ``now``: critical first, then in rule order, then by scope."""
        self._queries = {}
        candidates: list[Alert] = []
        for rule in self.rules:
            if rule.enabled:
                candidates.extend(self._evaluate_rule(rule, now))
        self._sample_lines(now)
        order = {r.id: i for i, r in enumerate(self.rules)}
        current: dict[tuple[str, str], Alert] = {}
        for a in candidates:
            key = (a.rule, a.scope)
            old = self.firing.get(key)
            if old is not None:
                a = dataclasses.replace(a, since=old.since)
            else:
                self.transitions.append(Transition(now, "fired", a))
            current[key] = a
        for key, old in self.firing.items():
            if key not in current:
                self.transitions.append(Transition(now, "resolved", old))
        self.firing = current
        self._queries = {}
        return sorted(
            current.values(),
            key=lambda a: (a.severity != "critical", order.get(a.rule, len(order)), a.scope),
        )

    def _query(self, start: float | None, end: float | None) -> Summary:
        key = (start, end)
        s = self._queries.get(key)
        if s is None:
            s = self._queries[key] = self.engine.query(start, end, by="feature")
        return s

    def _past_query(self, start: float, end: float) -> Summary:
        """A span of an earlier day, kept across evaluations.

        The cost rules ask for 14 spans of the 7 previous days at every evaluation, and those
        dominate its time. Once the log has reached past a span's end (logs are written in time
        order), the span's numbers are final, so the answer is kept until compaction changes the
        buckets. A line arriving late for a finished day is counted at the next compaction.
        """
        version = self.engine.groups.version
        hit = self._past.get((start, end))
        if hit is not None and hit[0] == version:
            return hit[1]
        s = self._query(start, end)
        newest = self.engine.newest_ts
        if newest is not None and newest >= end:
            if len(self._past) > 64:
                self._past.clear()
            self._past[(start, end)] = (version, s)
        return s

    def _window(self, rule: Rule, now: float) -> tuple[float, float]:
        w = window(rule.window, now, self.tz)
        assert w.start is not None and w.end is not None  # durations and "today" are bounded
        return w.start, w.end

    def _scopes(self, s: Summary) -> list[tuple[str, GroupStats]]:
        return [(ALL, s.total), *sorted(s.groups.items())]

    def _evaluate_rule(self, rule: Rule, now: float) -> list[Alert]:
        if rule.id == "rejected_lines":
            a = self._rejected_lines(rule, now)
            return [] if a is None else [a]
        if rule.id in COST_RULES:
            return self._cost(rule, now)
        if rule.id == "headroom":
            return self._headroom(rule, now)
        start, end = self._window(rule, now)
        s = self._query(start, end)
        check = _GROUP_CHECKS.get(rule.id)
        if check is None:
            return []
        out: list[Alert] = []
        scopes = self._cache_scopes(s, now) if rule.id == "cache_hit" else self._scopes(s)
        for scope, g in scopes:
            found = check(rule, g)
            if found is not None:
                value, text = found
                out.append(self._alert(rule, scope, value, now, f"{_who(scope)}: {text}"))
        return out

    def _alert(self, rule: Rule, scope: str, value: float, now: float, message: str) -> Alert:
        return Alert(
            rule.id, scope, rule.severity, value, rule.threshold, rule.window, now, message
        )

    def _cache_scopes(self, s: Summary, now: float) -> list[tuple[str, GroupStats]]:
        """Only features that use caching; "all traffic" is their sum, not everyone's.

        A feature counts as caching when it read or wrote cache in the window or in the last 24
        hours, so a feature whose caching broke completely (0 cache tokens this hour) still
        fires. Features that never cache would only dilute the "*" hit rate.
        """
        day = self._query(now - 86400, now)
        caching = {
            name
            for name, g in s.groups.items()
            if g.uses_cache or (name in day.groups and day.groups[name].uses_cache)
        }
        groups = [(name, s.groups[name]) for name in sorted(caching)]
        if not groups:
            return []
        total = GroupStats(
            ALL,
            calls=sum(g.calls for _, g in groups),
            input_tokens=sum(g.input_tokens for _, g in groups),
            cache_read_tokens=sum(g.cache_read_tokens for _, g in groups),
            cache_write_5m_tokens=sum(g.cache_write_5m_tokens for _, g in groups),
            cache_write_1h_tokens=sum(g.cache_write_1h_tokens for _, g in groups),
        )
        return [(ALL, total), *groups]

    # -- the cost rules -----------------------------------------------------------------------

    def _cost(self, rule: Rule, now: float) -> list[Alert]:
        """Today against the 7 full days before it, per scope.

        A baseline day counts only if the scope had calls that day: a log that starts on
        Wednesday has no Monday, and a feature launched yesterday has one day of history, not
        six days of zero cost that would make any spending look like a runaway.
        """
        start, end = self._window(rule, now)
        today = self._query(start, end)
        pace = rule.id == "cost_pace"
        local_now = datetime.fromtimestamp(now, self.tz)
        days: list[tuple[Summary, Summary]] = []
        for d, s, e in previous_days(now, self.tz, BASELINE_DAYS):
            full = self._past_query(s, e)
            if pace:
                same = datetime(d.year, d.month, d.day, tzinfo=self.tz).replace(
                    hour=local_now.hour,
                    minute=local_now.minute,
                    second=local_now.second,
                    microsecond=local_now.microsecond,
                )
                # Buckets start on whole minutes, so rounding the cut up to one changes no
                # answer and lets the span be reused for the rest of the minute.
                cut = min(max(math.ceil(same.timestamp() / 60) * 60.0, s), e)
                days.append((full, self._past_query(s, cut)))
            else:
                days.append((full, full))
        out: list[Alert] = []
        for scope, g in self._scopes(today):
            if g.calls < rule.min_calls or g.calls == 0:
                continue
            costs = [_scope_of(part, scope).cost_usd for full, part in days if _has(full, scope)]
            if not costs:
                continue  # no history: silent rather than guessing
            avg = sum(costs) / len(costs)
            if avg <= 0:
                continue
            ratio = g.cost_usd / avg * 100.0
            if not ratio > rule.threshold:
                continue
            note = "" if len(costs) >= BASELINE_DAYS else f" (baseline: {_days(len(costs))})"
            if pace:
                text = (
                    f"cost so far today {_usd(g.cost_usd)} is {ratio:.0f}% of the average by "
                    f"{local_now:%H:%M} on previous days {_usd(avg)}, > {_fmt(rule.threshold)}%"
                )
            else:
                text = (
                    f"cost today {_usd(g.cost_usd)} is {ratio:.0f}% of the average daily cost "
                    f"{_usd(avg)}, > {_fmt(rule.threshold)}%"
                )
            out.append(self._alert(rule, scope, ratio, now, f"{_who(scope)}: {text}{note}"))
        return out

    # -- headroom --------------------------------------------------------------------------

    def _headroom(self, rule: Rule, now: float) -> list[Alert]:
        """Per model class: fires when any dimension with a known limit ran above the threshold
        (percent of the limit) over the window. Classes without limits cannot fire."""
        span = min(parse_duration(rule.window), HEADROOM_MAX_WINDOW_S)
        with self.engine.lock:
            snap = self.engine.headroom.snapshot(now, span)
        out: list[Alert] = []
        for c in snap.classes:
            if rule.min_calls and c.rpm.used * span / 60.0 < rule.min_calls:
                continue  # rpm.used is per minute; min_calls counts calls in the window
            over = [
                d for d in c.dimensions if d.ratio is not None and d.ratio * 100.0 > rule.threshold
            ]
            if not over:
                continue
            over.sort(key=lambda d: -(d.ratio or 0.0))
            parts = [
                f"{DIM_LABELS[d.name]} at {(d.ratio or 0.0) * 100:.0f}% of its limit "
                f"({d.used:,}/{d.limit:,} per min, limit from {d.source})"
                for d in over
            ]
            worst = (over[0].ratio or 0.0) * 100.0
            text = (
                f"{'; '.join(parts)} over {describe_window(rule.window)}, > {_fmt(rule.threshold)}%"
            )
            out.append(
                self._alert(rule, c.model_class, worst, now, f"{_who(c.model_class)}: {text}")
            )
        return out

    # -- rejected lines -----------------------------------------------------------------------

    def _sample_lines(self, now: float) -> None:
        ls = self.engine.lines
        samples = self._line_samples
        if samples and now < samples[-1][0]:
            samples.clear()  # time went backwards (a replay jumped): old deltas mean nothing
        samples.append((now, ls.lines, ls.rejected))
        # Keep the newest sample at or before the longest window's start, drop older ones.
        spans = [_span(r.window, now, self.tz) for r in self.rules if r.id == "rejected_lines"]
        horizon = now - max(spans, default=0.0)
        while len(samples) > 1 and samples[1][0] <= horizon:
            samples.popleft()

    def _rejected_lines(self, rule: Rule, now: float) -> Alert | None:
        """Rejected share of the lines read during the window.

        The engine only counts lines cumulatively, so the window is the difference from the
        newest earlier evaluation at or before the window's start. Until one exists (the first
        evaluation, or ``check``), the ratio is over everything read so far.
        """
        ls = self.engine.lines
        horizon = now - _span(rule.window, now, self.tz)
        base_lines = base_rejected = 0
        over = "everything read"
        for t, lines, rejected in reversed(self._line_samples):
            if t <= horizon:
                base_lines, base_rejected = lines, rejected
                over = describe_window(rule.window)
                break
        lines = ls.lines - base_lines
        rejected = ls.rejected - base_rejected
        if lines <= 0 or lines < rule.min_calls:
            return None
        ratio = rejected / lines * 100.0
        if not ratio > rule.threshold:
            return None
        text = (
            f"all lines: {ratio:.1f}% of lines rejected over {over} ({rejected}/{lines}), "
            f"> {_fmt(rule.threshold)}%"
        )
        reasons = sorted(ls.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
        if reasons:
            text += "; most: " + ", ".join(safe_text(k, 40) for k, _ in reasons)
        return self._alert(rule, ALL, ratio, now, text)


def _span(name: str, now: float, tz: tzinfo) -> float:
    w = window(name, now, tz)
    return 0.0 if w.start is None else now - w.start


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _scope_of(s: Summary, scope: str) -> GroupStats:
    if scope == ALL:
        return s.total
    return s.groups.get(scope) or GroupStats(scope)


def _has(s: Summary, scope: str) -> bool:
    return _scope_of(s, scope).calls > 0


# -- per-group rules: (rule, group) -> (value, message after "scope: ") or None ----------------


def _error_rate(rule: Rule, g: GroupStats) -> tuple[float, str] | None:
    if g.calls == 0 or g.calls < rule.min_calls:
        return None
    v = g.error_rate_pct
    if not v > rule.threshold:
        return None
    return v, (
        f"{v:.1f}% errors over {describe_window(rule.window)} ({g.errors}/{g.calls}), "
        f"> {_fmt(rule.threshold)}%"
    )


def _rate_limit(rule: Rule, g: GroupStats) -> tuple[float, str] | None:
    if g.calls < rule.min_calls:
        return None
    n = g.rate_limited
    if not n > rule.threshold:
        return None
    calls = "call" if n == 1 else "calls"
    return float(n), (
        f"{n} {calls} rate-limited (HTTP 429) over {describe_window(rule.window)} "
        f"(of {g.calls}), > {_fmt(rule.threshold)}"
    )


def _p95_latency(rule: Rule, g: GroupStats) -> tuple[float, str] | None:
    if g.calls == 0 or g.calls < rule.min_calls:
        return None
    p95 = g.p95_ms
    if p95 is None or not p95 > rule.threshold:
        return None
    return float(p95), (
        f"p95 latency {_secs(p95)} over {describe_window(rule.window)} ({g.calls} calls), "
        f"> {_secs(rule.threshold)}"
    )


def _max_tokens(rule: Rule, g: GroupStats) -> tuple[float, str] | None:
    ok = g.successes
    if ok <= 0 or ok < rule.min_calls:
        return None
    v = g.max_tokens_stops / ok * 100.0
    if not v > rule.threshold:
        return None
    return v, (
        f"{v:.1f}% of successful calls stopped at max_tokens (truncated answers) over "
        f"{describe_window(rule.window)} ({g.max_tokens_stops}/{ok}), > {_fmt(rule.threshold)}%"
    )


def _cache_hit(rule: Rule, g: GroupStats) -> tuple[float, str] | None:
    if g.calls == 0 or g.calls < rule.min_calls or g.prompt_tokens == 0:
        return None
    v = g.cache_hit_rate_pct
    if not v < rule.threshold:
        return None
    return v, (
        f"cache hit rate {v:.1f}% over {describe_window(rule.window)} ({g.calls} calls), "
        f"< {_fmt(rule.threshold)}%"
    )


def _unpriced(rule: Rule, g: GroupStats) -> tuple[float, str] | None:
    if g.calls < rule.min_calls:
        return None
    n = g.unpriced_calls
    if not n > rule.threshold:
        return None
    models = ", ".join(safe_text(m, 60) for m in g.unpriced_models)
    calls = "call" if n == 1 else "calls"
    return float(n), (
        f"{n} {calls} over {describe_window(rule.window)} to models with no price ({models}); "
        "their cost is not counted. Add them under [prices]"
    )


_GROUP_CHECKS = {
    "error_rate": _error_rate,
    "rate_limit": _rate_limit,
    "p95_latency": _p95_latency,
    "max_tokens": _max_tokens,
    "cache_hit": _cache_hit,
    "unpriced": _unpriced,
}
