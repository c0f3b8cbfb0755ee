"""How numbers are written for people: money, latency, counts, shares, ages, spans, clock times.

One function per kind of number, used by every view and by the rules' messages, so "$0.2400" in
an alert and "$0.24" on the dashboard cannot come from two rounding rules. Plain strings only:
colour and layout belong to the views.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

DASH = "-"
"""What every formatter prints for a value that does not exist (no calls, no data)."""


def usd(x: float | None) -> str:
    """Dollars with the precision the size deserves: $0.0042, $1.234, $12.34, $1,234."""
    if x is None:
        return DASH
    if x >= 1000:
        return f"${x:,.0f}"
    if x >= 10:
        return f"${x:.2f}"
    return f"${x:.4f}" if x < 1 else f"${x:.3f}"


def price(x: float) -> str:
    """A per-million-token price: at least 2 decimals, up to 4 (0.125 and 0.0375 kept whole)."""
    s = f"{x:.4f}".rstrip("0")
    whole, _, frac = s.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def ms(x: float | None) -> str:
    """A latency: 850ms, 1.5s, 15s."""
    if x is None:
        return DASH
    if x >= 10_000:
        return f"{x / 1000:.0f}s"
    if x >= 1000:
        return f"{x / 1000:.1f}s"
    return f"{x:.0f}ms"


def count(n: int | float | None) -> str:
    """A count in at most four characters of digits: 950, 12.3k, 4.5M."""
    if n is None:
        return DASH
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size * 10:
            return f"{n / size:.0f}{unit}" if n >= size * 100 else f"{n / size:.1f}{unit}"
    return str(int(n))


def grouped(n: int | float) -> str:
    """An exact count with thousands separators: 1,213 (a float is rounded to a whole number)."""
    return f"{n:,}" if isinstance(n, int) else f"{n:,.0f}"


def rate(x: float) -> str:
    """A rate with one decimal and thousands separators: 1,234.5 (calls a minute)."""
    return f"{x:,.1f}"


def percent(x: float | None, places: int = 1, *, unit: bool = True) -> str:
    """A share already in percent: 5.3%; ``unit=False`` for a column whose header says %."""
    if x is None:
        return DASH
    return f"{x:.{places}f}%" if unit else f"{x:.{places}f}"


def share(fraction: float | None) -> str:
    """A fraction of a whole (0..1) as a whole percent: 0.42 -> 42%."""
    return DASH if fraction is None else f"{fraction * 100:.0f}%"


def number(x: float) -> str:
    """A threshold or setting as the user wrote it: 5, 0.5, 15000."""
    return f"{x:g}"


def age(seconds: float | None) -> str:
    """How long ago, in one unit: 42s, 7m, 3h, 2d."""
    if seconds is None:
        return DASH
    s = max(0.0, seconds)
    if s < 90:
        return f"{s:.0f}s"
    if s < 5400:
        return f"{s / 60:.0f}m"
    if s < 172_800:
        return f"{s / 3600:.0f}h"
    return f"{s / 86400:.0f}d"


def span(seconds: float) -> str:
    """A window length in the shortest unit that divides it: 10m, 24h, 7d, 90s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def span_words(seconds: float) -> str:
    """A window length for sentences: 10 min, 1 hour, 24 hours, 7 days."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "min")):
        # "24h" reads better as 24 hours; whole days only from two days up.
        if seconds >= size * (2 if unit == "day" else 1) and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}" if unit == "min" or n == 1 else f"{n} {unit}s"
    return f"{seconds:g} s"


def clock(ts: float | None, tz: tzinfo) -> str:
    """A time of day: 14:03:27."""
    return DASH if ts is None else datetime.fromtimestamp(ts, tz).strftime("%H:%M:%S")


def stamp(ts: float | None, tz: tzinfo) -> str:
    """A date and time: 2026-11-20 14:03:27."""
    return DASH if ts is None else datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S")


def iso(ts: float | None) -> str | None:
    """An instant for machines (JSON): 2026-11-20T14:03:27Z, always UTC; None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def file_stamp(ts: float) -> str:
    """An instant for a file name, sortable and free of ':' (UTC): 20261120T140327Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")
