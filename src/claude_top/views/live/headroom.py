"""The headroom panel as view rows: the tracker's snapshot, levelled.

A gauge is past the headroom rule at the rule's severity (``thresholds.Threshold.of_gauge``),
and critical at the limit itself.
"""

from __future__ import annotations

from claude_top.engine.headroom import DIM_LABELS, HeadroomSnapshot
from claude_top.views.live.rows import Gauge, HeadroomClassRow, HeadroomView, Level
from claude_top.views.live.thresholds import Threshold


def headroom_view(snap: HeadroomSnapshot, th: Threshold, live: bool = True) -> HeadroomView:
    order = {"ok": 0, "warning": 1, "critical": 2}
    rows: list[HeadroomClassRow] = []
    for c in snap.classes:
        gauges: list[Gauge] = []
        for d in c.dimensions:
            pct_v = None if d.ratio is None else d.ratio * 100.0
            level = th.of_gauge(pct_v, c.rpm.used)
            gauges.append(Gauge(DIM_LABELS[d.name], d.used, d.limit, d.source, pct_v, level))
        g3 = (gauges[0], gauges[1], gauges[2])
        worst: Level = max((g.level for g in g3), key=lambda lv: order[lv])
        rows.append(HeadroomClassRow(c.model_class, c.models, g3, worst))
    return HeadroomView(
        start=snap.start,
        end=snap.end,
        requests=snap.requests,
        itpm_tokens=snap.itpm_tokens,
        otpm_tokens=snap.otpm_tokens,
        classes=tuple(rows),
        top_users=snap.top_users,
        top_features=snap.top_features,
        limits_known=snap.limits_known,
        cache_reads_counted=snap.cache_reads_counted,
        threshold_pct=th.value,
        live=live,
    )
