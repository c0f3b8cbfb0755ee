"""The ``host`` dimension: per-host numbers beside the one engine, without touching its hot loop.

A host is a property of a line's *source* (``sources.remote.host_of``: an ``ssh://`` URL's host,
a ``cmd://`` label, ``local``), not of the record, so it is not a key of the accumulate step's
rows: adding it there would slow every line of every run for a dimension most runs have once.
Instead, like the two-core split (``engine.merge``), each host gets an engine of its own, the
same code path, fed only that host's batches:

* with a single host (every local run) there is no second engine: that host's numbers are the
  engine's own and the sink is ``engine.ingest`` itself, so the default path costs nothing more;
* live, with several hosts, each batch goes to the engine and to its host's engine (which keeps
  no per-user rows): reading costs about twice the accumulate work, for fleets only;
* one-shot (``summary --by host``), each host's lines are read into its host engine alone and
  then merged into the engine with ``absorb_state``, exactly as the split reader merges halves.

This is the one place the host dimension lives: the TUI's hosts panel and the metrics' ``host``
label read ``host_totals`` and ``host_lines`` (under the engine's lock, one frame).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from msgspec.structs import replace

from claude_top.core.stats import GroupStats, LineStats, Summary
from claude_top.engine.engine import Engine
from claude_top.sources.batches import Batch
from claude_top.sources.remote import host_of

__all__ = ["ByHost", "hosts_of"]


def hosts_of(specs: Iterable[str]) -> list[str]:
    """The distinct hosts of the named inputs, in order of first mention."""
    return list(dict.fromkeys(host_of(spec) for spec in specs))


class ByHost:
    """The engine, and one engine per host when there is more than one (see the docstring)."""

    def __init__(
        self, engine: Engine, hosts: Iterable[str], make: Callable[[], Engine] | None = None
    ) -> None:
        self.engine = engine
        self._make = make or (lambda: _host_engine(engine))
        self._lock = threading.Lock()
        known = list(dict.fromkeys(hosts))
        self.single: str | None = known[0] if len(known) == 1 else None
        """The one host of this run, whose engine is ``engine`` itself (None: several)."""
        self.engines: dict[str, Engine] = {} if self.single is None else {self.single: engine}
        if self.single is None:
            for host in known:
                self.engines[host] = self._make()

    @property
    def sink(self) -> Callable[[Batch], None]:
        """What the follower hands batches to: ``engine.ingest`` when there is one host."""
        return self.engine.ingest if self.single is not None else self.ingest

    @property
    def on_overlong(self) -> Callable[[str, int, int], None]:
        return self.engine.count_overlong if self.single is not None else self.count_overlong

    def _of(self, source: str) -> Engine:
        host = host_of(source)
        engine = self.engines.get(host)
        if engine is None:
            with self._lock:
                engine = self.engines.setdefault(host, self._make())
        return engine

    def ingest(self, batch: Batch) -> None:
        """Both engines under the engine's lock: a frame (which holds it) never sees a batch
        counted in the whole view and not yet in its host's row."""
        with self.engine.lock:
            self.engine.ingest(batch)
            if self.single is None:
                self._of(batch.source).ingest(batch)

    def count_overlong(self, source: str, lineno: int, length: int) -> None:
        with self.engine.lock:
            self.engine.count_overlong(source, lineno, length)
            if self.single is None:
                self._of(source).count_overlong(source, lineno, length)

    # -- the host dimension, read by views --------------------------------------------------

    def host_totals(self, start: float | None, end: float | None) -> dict[str, GroupStats]:
        """All traffic of each host over [start, end), by host name."""
        return {host: e.total(start, end) for host, e in sorted(self.engines.items())}

    def host_lines(self) -> dict[str, LineStats]:
        """What became of each host's lines (records, foreign, rejected by reason)."""
        return {host: e.lines for host, e in sorted(self.engines.items())}

    def host_newest(self) -> dict[str, float | None]:
        """The newest call's time per host (a host that went quiet shows its age)."""
        return {host: e.newest_ts for host, e in sorted(self.engines.items())}

    def summary(self, start: float | None = None, end: float | None = None) -> Summary:
        """``summary --by host``: every host as a group, and the engine's total."""
        groups = {
            host: replace(totals, name=host)
            for host, totals in self.host_totals(start, end).items()
        }
        return Summary(start, end, "host", self.engine.total(start, end), groups)


def _host_engine(engine: Engine) -> Engine:
    """An engine like ``engine`` (prices, clock, zone, window, log format) for one host's lines: no
    per-user rows (the host dimension shows none) and a rate-limit tracker of its own."""
    return engine.blank_like(track_users=False)  # merged into ``engine``: the same tiers


def read_by_host(
    engine: Engine, specs: list[str], read: Callable[[Engine, list[str]], None]
) -> dict[str, GroupStats]:
    """One-shot: read each host's inputs into its own engine with ``read``, merge them all into
    ``engine`` (no line is aggregated twice) and return each host's totals. They are taken
    before the merge, which adopts the host engines' buckets."""
    split = ByHost(engine, hosts_of(specs))
    if split.single is not None:
        read(engine, specs)
        return split.summary().groups
    for host, e in split.engines.items():
        read(e, [s for s in specs if host_of(s) == host])
    groups = split.summary().groups
    for e in split.engines.values():
        engine.absorb_state(e.export_state())
    return groups
