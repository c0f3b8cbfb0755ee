"""The ``summary`` command's output: one engine ``Summary`` as JSON, CSV or a table for people.

The JSON keys are a public schema (documented in the README) that scripts and cron jobs depend
on. Six of them -- calls, error_rate_pct, avg_latency_ms, max_tokens_rate_pct,
total_input_tokens, total_output_tokens -- keep the meaning and rounding of the daily summary in
the article this tool grew from, so numbers can be checked against it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from claude_top.core import format as fmt
from claude_top.core import jsondoc
from claude_top.core.stats import GroupStats, Summary
from claude_top.core.text import cell_width, fit, safe_text
from claude_top.engine.app_cost import AppCost
from claude_top.engine.engine import LineStats
from claude_top.engine.server_tools import ToolUse
from claude_top.engine.streaming import StreamStats
from claude_top.ingest.presets import NATIVE

PLURAL = {"feature": "features", "model": "models", "user": "users", "host": "hosts"}


def stream_dict(st: StreamStats | None) -> dict[str, Any]:
    """A group's streamed calls: TTFT percentiles and the median output rate (null: none)."""
    if st is None or not st.streams:
        return dict.fromkeys(STREAM_KEYS, None) | {"streamed_calls": 0}
    return {
        "streamed_calls": st.streams,
        "p50_ttft_ms": st.p50_ttft_ms,
        "p95_ttft_ms": st.p95_ttft_ms,
        "output_tokens_per_s": st.output_tokens_per_s,
    }


STREAM_KEYS = ("p50_ttft_ms", "p95_ttft_ms", "output_tokens_per_s")


def app_cost_dict(ac: AppCost | None) -> dict[str, Any]:
    """The app's own cost of the calls that logged one, ours of the same calls, the difference."""
    if ac is None or not ac.calls:
        return {"app_cost_calls": 0, "app_cost_usd": None, "cost_diff_usd": None}
    return {
        "app_cost_calls": ac.calls,
        "app_cost_usd": round(ac.app_usd, 6),
        "cost_diff_usd": round(ac.difference_usd, 6) if ac.calls > ac.unpriced_calls else None,
    }


def tools_dict(tu: ToolUse | None) -> dict[str, Any]:
    """Server tool requests (web searches and fetches) and the priced ones' cost, which is not
    in ``cost_usd`` (the tokens'): ``unpriced_server_tools`` names the tools with no price."""
    if tu is None:
        tu = ToolUse()
    return {
        "web_search_requests": tu.web_search_requests,
        "web_fetch_requests": tu.web_fetch_requests,
        "server_tool_cost_usd": round(tu.cost_usd, 6),
        "unpriced_server_tools": sorted(tu.unpriced),
    }


def group_dict(
    g: GroupStats,
    st: StreamStats | None = None,
    ac: AppCost | None = None,
    tu: ToolUse | None = None,
) -> dict[str, Any]:
    return {
        "calls": g.calls,
        "errors": g.errors,
        "error_rate_pct": round(g.error_rate_pct, 1),
        "rate_limited": g.rate_limited,
        "overloaded": g.overloaded,
        "errors_by_type": dict(sorted(g.errors_by_type.items())),
        "avg_latency_ms": round(g.avg_latency_ms),
        "p50_latency_ms": g.p50_ms,
        "p95_latency_ms": g.p95_ms,
        "p99_latency_ms": g.p99_ms,
        "latency_clamped": g.latency_clamped,
        "max_tokens_stops": g.max_tokens_stops,
        "max_tokens_rate_pct": round(g.max_tokens_rate_pct, 1),
        "total_input_tokens": g.input_tokens,
        "total_output_tokens": g.output_tokens,
        "total_cached_tokens": g.cache_read_tokens,
        "total_cache_write_tokens": g.cache_write_tokens,
        "total_cache_write_1h_tokens": g.cache_write_1h_tokens,
        "cache_hit_rate_pct": round(g.cache_hit_rate_pct, 1),
        "cost_usd": round(g.cost_usd, 6),
        "cost_per_call_usd": round(g.cost_per_call, 6),
        "unpriced_calls": g.unpriced_calls,
        "unpriced_models": list(g.unpriced_models),
        "no_user_calls": g.no_user_calls,
        **stream_dict(st),
        **app_cost_dict(ac),
        **tools_dict(tu),
    }


def lines_dict(lines: LineStats) -> dict[str, Any]:
    return {
        "records": lines.records,
        "foreign": lines.foreign,
        "rejected": lines.rejected,
        "rejected_by_reason": dict(sorted(lines.by_reason.items())),
        "unmapped": lines.unmapped,
        "unmapped_by_preset": dict(sorted(lines.unmapped_by_preset.items())),
        "formats": dict(sorted(lines.formats.items())),
        "format_detected": lines.format_detected,
    }


def format_notes(ln: dict[str, Any]) -> list[str]:
    """What a person must know about how the lines were read: each source's format when one is
    not the native format (and whether it was detected), and the unmapped lines with the preset
    that reads them."""
    out = []
    formats = ln.get("formats") or {}
    if set(formats.values()) - {NATIVE}:  # the native format is the default: nothing to say
        how = " (detected)" if ln.get("format_detected") else ""
        names = sorted(set(formats.values()))
        if len(names) == 1:
            out.append(f"format: {safe_text(names[0])}{how}")
        else:
            each = ", ".join(f"{safe_text(s, 60)}: {safe_text(n)}" for s, n in formats.items())
            out.append(f"formats{how}: {each}")
    for preset, n in sorted(ln.get("unmapped_by_preset", {}).items(), key=lambda kv: -kv[1]):
        out.append(unmapped_hint(n, preset))
    return out


def server_tools_line(name: str, g: dict[str, Any]) -> str:
    """``server tools: search: 12 web searches, 3 web fetches; $0.12 beside the tokens' cost;
    web fetch not priced ...``."""
    unpriced = [t.removesuffix("_requests").replace("_", " ") for t in g["unpriced_server_tools"]]
    priced = len(unpriced) < sum(1 for k in ("web_search_requests", "web_fetch_requests") if g[k])
    cost = [f"{fmt.usd(g['server_tool_cost_usd'])} beside the tokens' cost"] if priced else []
    if unpriced:
        cost.append(f"{' and '.join(unpriced)} not priced (no published price in the table)")
    return (
        f"server tools: {safe_text(name, 40)}: {fmt.grouped(g['web_search_requests'])} web"
        f" searches, {fmt.grouped(g['web_fetch_requests'])} web fetches; {'; '.join(cost)}"
    )


def unmapped_hint(n: int, preset: str) -> str:
    """``32,118 unmapped lines look like litellm: run with --preset litellm``."""
    lines = "line looks" if n == 1 else "lines look"
    name = safe_text(preset)
    return f"! {fmt.grouped(n)} unmapped {lines} like {name}: run with --preset {name}"


Streams = tuple[StreamStats, dict[str, StreamStats]]
AppCosts = tuple[AppCost, dict[str, AppCost]]
Tools = tuple[ToolUse, dict[str, ToolUse]]


def _document(
    s: Summary,
    lines: LineStats,
    window: dict[str, Any],
    streams: Streams | None,
    app_costs: AppCosts | None,
    tools: Tools | None,
) -> tuple[dict[str, Any], str, Iterator[tuple[str, dict[str, Any]]]]:
    """The JSON document's head (window, lines, total), the name of its groups' key, and its
    groups one at a time, most calls first: the one spelling of the document's shape."""
    total, per = streams if streams is not None else (None, {})
    app_total, app_per = app_costs if app_costs is not None else (None, {})
    tool_total, tool_per = tools if tools is not None else (None, {})
    head = {
        "window": window,
        "lines": lines_dict(lines),
        "total": group_dict(s.total, total, app_total, tool_total),
    }
    groups = (
        (name, group_dict(g, per.get(name), app_per.get(name), tool_per.get(name)))
        for name, g in sorted(s.groups.items(), key=lambda kv: (-kv[1].calls, kv[0]))
    )
    return head, PLURAL[s.by], groups


def summary_dict(
    s: Summary,
    lines: LineStats,
    window: dict[str, Any],
    streams: Streams | None = None,
    app_costs: AppCosts | None = None,
    tools: Tools | None = None,
) -> dict[str, Any]:
    """The JSON document; ``streams`` (``Engine.streaming``) adds TTFT and output rates,
    ``app_costs`` (``Engine.app_costs``) the app's own cost against ours, ``tools``
    (``Engine.server_tools``) the server tool requests."""
    head, plural, groups = _document(s, lines, window, streams, app_costs, tools)
    return {**head, plural: dict(groups)}


def summary_json(
    s: Summary,
    lines: LineStats,
    window: dict[str, Any],
    streams: Streams | None = None,
    app_costs: AppCosts | None = None,
    tools: Tools | None = None,
) -> Iterator[bytes]:
    """``jsondoc.dumps(summary_dict(...))`` in pieces, the same bytes: one group's dict at a
    time, so a million users' document is never held whole (as dicts, then as bytes, then as a
    str), which took more memory than the engine that counted them."""
    dumps = jsondoc.dumps
    head, plural, groups = _document(s, lines, window, streams, app_costs, tools)
    yield dumps(head)[:-1] + b"," + dumps(plural) + b":{"
    sep = b""
    for name, doc in groups:
        yield sep + dumps(name) + b":" + dumps(doc)
        sep = b","
    yield b"}}"


CSV_COLUMNS = (
    "calls",
    "errors",
    "error_rate_pct",
    "rate_limited",
    "overloaded",
    "avg_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "p99_latency_ms",
    "max_tokens_stops",
    "max_tokens_rate_pct",
    "total_input_tokens",
    "total_output_tokens",
    "total_cached_tokens",
    "total_cache_write_tokens",
    "cache_hit_rate_pct",
    "cost_usd",
    "unpriced_calls",
)


def to_csv(doc: dict[str, Any], by: str, *, for_terminal: bool = False) -> str:
    """The groups as CSV, names exact; ``for_terminal`` makes them safe to show (as ``ls``
    does with names it prints to a terminal), for a CSV read on screen rather than by a tool."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([by, *CSV_COLUMNS])
    for name, g in doc[PLURAL[by]].items():
        shown = safe_text(name) if for_terminal else name
        w.writerow([shown, *(g[c] for c in CSV_COLUMNS)])
    w.writerow(["*", *(doc["total"][c] for c in CSV_COLUMNS)])
    return out.getvalue()


def to_table(doc: dict[str, Any], by: str) -> str:
    """Aligned columns with units; unpriced and rejected counts are always visible."""
    header = (
        by,
        "calls",
        "err%",
        "429",
        "p50",
        "p95",
        "p99",
        "max_tok%",
        "cache%",
        "in tok",
        "out tok",
        "cost",
        "$/call",
    )
    rows: list[tuple[str, ...]] = []

    def row(name: str, g: dict[str, Any]) -> tuple[str, ...]:
        cost = fmt.usd(g["cost_usd"]) + ("*" if g["unpriced_calls"] else "")
        return (
            name,
            str(g["calls"]),
            fmt.percent(g["error_rate_pct"], unit=False),
            str(g["rate_limited"]),
            fmt.ms(g["p50_latency_ms"]),
            fmt.ms(g["p95_latency_ms"]),
            fmt.ms(g["p99_latency_ms"]),
            fmt.percent(g["max_tokens_rate_pct"], unit=False),
            fmt.percent(g["cache_hit_rate_pct"], unit=False),
            fmt.count(g["total_input_tokens"]),
            fmt.count(g["total_output_tokens"]),
            cost,
            fmt.usd(g["cost_per_call_usd"]),
        )

    for name, g in doc[PLURAL[by]].items():
        rows.append(row(safe_text(name), g))
    rows.append(row("TOTAL", doc["total"]))
    widths = [max(cell_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    widths[0] = min(widths[0], 40)

    def line(r: tuple[str, ...]) -> str:
        cells = [fit(r[0], widths[0])] + [
            fit(c, w, right=True) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[:-1]]
    out.append("  ".join("-" * w for w in widths))
    out.append(line(rows[-1]))
    win = doc["window"]
    bounds = (
        "whole input"
        if win["start"] is None and win["end"] is None
        else (f"{win['start'] or '…'} .. {win['end'] or '…'}")
    )
    ln = doc["lines"]
    out.append("")
    out.append(f"window: {bounds} ({win['tz']})")
    rej = ", ".join(f"{k}: {v}" for k, v in ln["rejected_by_reason"].items())
    unmapped = f", {ln['unmapped']} unmapped" if ln["unmapped"] else ""
    out.append(
        f"lines: {ln['records']} records, {ln['foreign']} foreign{unmapped},"
        f" {ln['rejected']} rejected" + (f" ({rej})" if rej else "")
    )
    out += format_notes(ln)
    t = doc["total"]
    if t.get("app_cost_calls"):
        for name, g in [*doc[PLURAL[by]].items(), ("TOTAL", t)]:
            if g.get("app_cost_calls"):
                diff = g["cost_diff_usd"]
                shown = (
                    "not priced here"
                    if diff is None
                    else f"ours {'+' if diff >= 0 else '-'}{fmt.usd(abs(diff))}"
                )
                out.append(
                    f"app cost: {safe_text(name, 40)}: {fmt.usd(g['app_cost_usd'])} over"
                    f" {g['app_cost_calls']} calls that logged one; {shown}"
                )
    if t.get("web_search_requests") or t.get("web_fetch_requests"):
        for name, g in [*doc[PLURAL[by]].items(), ("TOTAL", t)]:
            if g.get("web_search_requests") or g.get("web_fetch_requests"):
                out.append(server_tools_line(name, g))
    if t.get("streamed_calls"):
        out.append(
            f"streams: {t['streamed_calls']} calls, time to first token p50"
            f" {fmt.ms(t['p50_ttft_ms'])} p95 {fmt.ms(t['p95_ttft_ms'])},"
            f" output {t['output_tokens_per_s'] or '-'} tokens/s (median)"
        )
    if t["no_user_calls"]:
        out.append(
            f"! {t['no_user_calls']} calls were logged without a user_id: per-user numbers miss"
            " them (log a user_id with every call)."
        )
    if t["unpriced_calls"]:
        models = ", ".join(safe_text(m, 60) for m in t["unpriced_models"])
        out.append(
            f"* {t['unpriced_calls']} calls have no price (models: {models});"
            " their cost is not included. Add them under [prices] in the config."
        )
    return "\n".join(out) + "\n"
