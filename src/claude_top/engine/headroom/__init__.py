"""Rate-limit headroom: how close the last minute ran to the API's limits, and who used it.

The API limits an organization per *model class* in three dimensions -- requests (RPM), input
tokens (ITPM) and output tokens (OTPM) per minute -- and every user of the app shares them, so
one user's batch job can starve everyone. This package answers "how much in the 60 seconds
that end now, against which limit, and who made that minute", and for every burst of 429s,
who drove the minute before it.

Its parts: ``config`` (the ``[limits]`` table and model classes), ``tracker`` (the per-second
counters, ``Headroom``), ``bursts`` (the 429 bursts and their drivers) and ``snapshot`` (the
frozen answer readers get). The names other layers use are re-exported here, so callers
import from ``claude_top.engine.headroom`` and do not depend on that split.
"""

from claude_top.core.errors import HeadroomConfigError
from claude_top.engine.headroom.bursts import BURST_GAP_S, BURSTS_KEPT, Burst, BurstLog
from claude_top.engine.headroom.config import (
    DIM_LABELS,
    DIMENSIONS,
    RESERVED_KEYS,
    ClassLimits,
    HeadroomConfig,
    default_model_class,
)
from claude_top.engine.headroom.snapshot import (
    ClassHeadroom,
    Dimension,
    HeadroomSnapshot,
    Share,
    top_shares,
)
from claude_top.engine.headroom.tracker import FUTURE_S, HORIZON_S, KEEP_S, WINDOW_S, Headroom

__all__ = [
    "BURSTS_KEPT",
    "BURST_GAP_S",
    "DIMENSIONS",
    "DIM_LABELS",
    "FUTURE_S",
    "HORIZON_S",
    "KEEP_S",
    "RESERVED_KEYS",
    "WINDOW_S",
    "Burst",
    "BurstLog",
    "ClassHeadroom",
    "ClassLimits",
    "Dimension",
    "Headroom",
    "HeadroomConfig",
    "HeadroomConfigError",
    "HeadroomSnapshot",
    "Share",
    "default_model_class",
    "top_shares",
]
