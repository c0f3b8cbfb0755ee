"""A realistic, seeded generator of Claude call logs (the demo, the fixtures' and benchmarks' data).

Its modules, each one job: ``profile`` (the imaginary app: features, models, users, traffic
curve), ``incidents`` (when things go wrong), ``calls`` (one call drawn as a ``CallLine``),
``ratelimit`` (the live stream's header values), ``generator`` (history and live stream laid out
in time) and ``writer`` (into a file). Nothing here imports Textual or Rich: the benchmark and
the tests must not pay for them.
"""

from .generator import Generator
from .incidents import RUNAWAY, SPIKE, STORM, Incident
from .profile import FEATURES, DemoConfig
from .writer import run_live, write_history

__all__ = [
    "FEATURES",
    "RUNAWAY",
    "SPIKE",
    "STORM",
    "DemoConfig",
    "Generator",
    "Incident",
    "run_live",
    "write_history",
]
