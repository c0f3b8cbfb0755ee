"""Label sets and bounded label values: what keeps a scrape's size bounded whatever the log holds.

Feature, model and error names come from the log, so a log can hold any number of them. Each
label is capped: the first ``limit`` distinct values (the busiest at the time counting starts,
then new ones in order of arrival) keep their own series, every later one is counted under
``other``. The choice is sticky for the life of the process, so a value never moves between its
own series and ``other``: that would make both counters jump, and ``rate()`` read a spike.
A real feature named ``other`` shares that series. Label values are cut to ``VALUE_CHARS``.
"""

from __future__ import annotations

from collections.abc import Iterable

CALL_LABELS: tuple[str, ...] = ("host", "feature", "model")
"""The labels of every per-call series, defined once (``collector.call_key`` gives their
values). ``host`` is where the lines were read (``sources.remote.host_of``: an ``ssh://`` URL's
host, a ``cmd://`` label, ``local``); ``sum by (feature)`` adds the hosts up."""
OTHER = "other"
MAX_FEATURES = 50
MAX_MODELS = 20
MAX_HOSTS = 50
"""Hosts are named on the command line, not in the log, but a glob of ``ssh://`` URLs or many
``cmd://`` labels are still capped like the rest."""
MAX_ERROR_KINDS = 20
"""Distinct (error type, status) pairs with a series of their own."""
VALUE_CHARS = 120


def clip(value: str) -> str:
    return value if len(value) <= VALUE_CHARS else value[: VALUE_CHARS - 1] + "…"


class LabelCap:
    """The sticky first-``limit`` choice of one label's values."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._named: dict[str, str] = {}

    def admit(self, names: Iterable[str]) -> None:
        """Give ``names`` (in this order, busiest first) their own series while there is room."""
        for name in names:
            if len(self._named) >= self.limit:
                return
            self._named.setdefault(name, clip(name))

    def named(self, name: str) -> bool:
        return name in self._named

    def label(self, name: str) -> str:
        """The label value of ``name``: its own (admitted now if there is room) or ``other``."""
        got = self._named.get(name)
        if got is not None:
            return got
        if len(self._named) < self.limit:
            got = self._named[name] = clip(name)
            return got
        return OTHER


def split_error(key: str) -> tuple[str, str]:
    """An engine error key (``"RateLimitError 429"``, ``"timeout"``) as (type, status)."""
    kind, _, status = key.rpartition(" ")
    if kind and status.isdigit():
        return kind, status
    return key, ""
