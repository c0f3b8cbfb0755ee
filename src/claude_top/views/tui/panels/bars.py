"""Block-character drawings: sparklines and horizontal gauges, as plain strings."""

from __future__ import annotations

from collections.abc import Sequence

SPARK = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 12
_EIGHTHS = " ▏▎▍▌▋▊▉"


def fit(values: Sequence[float], width: int | None) -> list[float]:
    """The series, neighbouring slots summed so it fits in ``width`` without dropping calls."""
    vals = list(values)
    if width is not None and len(vals) > width:
        k = -(-len(vals) // width)
        vals = [sum(vals[i : i + k]) for i in range(0, len(vals), k)]
    return vals


def sparkline(values: Sequence[float], width: int | None = None, top: float | None = None) -> str:
    """Block characters scaled to ``top`` (default: the series' own maximum)."""
    vals = fit(values, width)
    if top is None:
        top = max(vals, default=0.0)
    if top <= 0:
        return SPARK[0] * len(vals)
    return "".join(SPARK[min(7, int(v / top * 7.999))] if v > 0 else " " for v in vals)


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal gauge: full blocks, one eighth-block, then a light track to ``width``."""
    f = min(max(fraction, 0.0), 1.0) * width
    full = int(f)
    part = int((f - full) * 8)
    s = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    return s + "░" * (width - len(s))
