"""The hosts panel's rows: one per host, over the view's window, from the one host dimension.

Every number comes from ``engine.hosts.ByHost`` (the same per-host engines ``summary --by host``
and the metrics read) and the follower's statuses, inside the frame's hold of the engine lock,
so the hosts panel agrees with the features table of the same frame. A host's state is the
worst of its sources' (an "error" source makes the whole host "error"), so a lost host stands
out even when its other files are fine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from claude_top.engine.hosts import ByHost
from claude_top.sources.remote import host_of
from claude_top.views.live.rows import HostRow, Level
from claude_top.views.live.thresholds import Thresholds

STATE_RANK = {"error": 0, "waiting": 1, "rotated": 2, "reading-history": 3, "following": 4}
"""Worst first; any other state (``done``) ranks after these."""


def host_rows(
    by_host: ByHost | None,
    statuses: Iterable[Any],
    start: float | None,
    end: float | None,
    now: float,
    th: Thresholds,
) -> tuple[HostRow, ...]:
    """Rows for every host, or none with a single host (the rest of the screen is that host);
    the caller holds the engine lock."""
    if by_host is None or by_host.single is not None:
        return ()
    states: dict[str, list[str]] = {}
    for s in statuses:
        states.setdefault(host_of(str(s.path)), []).append(str(s.state))
    totals = by_host.host_totals(start, end)
    lines = by_host.host_lines()
    newest = by_host.host_newest()
    rows = []
    for host in sorted(set(totals) | set(states)):
        g = totals.get(host)
        mine = states.get(host, [])
        state = min(mine, key=lambda x: STATE_RANK.get(x, 9)) if mine else "done"
        level: Level = "critical" if state == "error" else "ok"
        if g is not None and level == "ok":
            level = th.error_rate.of_group(g)
        ts = newest.get(host)
        rows.append(
            HostRow(
                host,
                state,
                len(mine),
                g.calls if g else 0,
                g.error_rate_pct if g else 0.0,
                g.p95_ms if g else None,
                g.cost_usd if g else 0.0,
                lines[host].rejected if host in lines else 0,
                None if ts is None else now - ts,
                level,
            )
        )
    return tuple(rows)
