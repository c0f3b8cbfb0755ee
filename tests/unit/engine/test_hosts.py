"""The host dimension (``engine.hosts``): per-host numbers add up to the engine's, one host costs
nothing extra, and the one-shot merge gives exactly what reading live gives."""

from __future__ import annotations

import orjson

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.hosts import ByHost, hosts_of, read_by_host
from claude_top.sources.batches import Batch
from claude_top.views.summary import group_dict, summary_dict
from loggen import T0, random_calls

WINDOW = {"start": None, "end": None, "tz": "UTC", "day": None}
SOURCES = ("ssh://web1/var/log/app.log", "ssh://deploy@web2:2222/app.log", "/tmp/local.log")


def _batches() -> list[Batch]:
    calls = [orjson.dumps(d) for d in random_calls(1500, seed=5, span=86400)]
    out = []
    for i, source in enumerate(SOURCES):
        part = [*calls[i::3], b"not a record", b'{"latency_ms": "x"']
        out.append(Batch(source, 1, part))
    return out


def _engine() -> Engine:
    return Engine(clock=FixedClock(T0 + 2 * 86400))


def test_the_hosts_of_inputs() -> None:
    assert hosts_of([*SOURCES, "-", "cmd://[k8s] kubectl logs"]) == [
        "web1",
        "web2:2222",
        "local",
        "k8s",
    ]


def test_one_host_is_the_engine_itself() -> None:
    engine = _engine()
    split = ByHost(engine, ["local"])
    assert split.sink == engine.ingest and split.engines == {"local": engine}
    for batch in _batches():
        split.sink(batch)
    assert split.host_totals(None, None)["local"].calls == engine.total(None, None).calls


def test_hosts_add_up_to_the_engine_and_keep_their_own_lines() -> None:
    engine = _engine()
    split = ByHost(engine, hosts_of(SOURCES))
    for batch in _batches():
        split.sink(batch)
    totals = split.host_totals(None, None)
    assert set(totals) == {"web1", "web2:2222", "local"}
    everything = engine.total(None, None)
    assert sum(t.calls for t in totals.values()) == everything.calls == 1500
    assert sum(t.errors for t in totals.values()) == everything.errors
    assert round(sum(t.cost_usd for t in totals.values()), 9) == round(everything.cost_usd, 9)
    lines = split.host_lines()
    assert all(ln.foreign == 1 and ln.rejected == 1 for ln in lines.values())
    assert engine.lines.records == sum(ln.records for ln in lines.values())


def test_a_host_not_named_at_start_gets_its_engine_when_its_lines_come() -> None:
    split = ByHost(_engine(), ["web1", "web2"])
    split.sink(Batch("cmd://[late] tail -f x", 1, [b"noise"]))
    assert split.host_lines()["late"].foreign == 1


def test_one_shot_merge_equals_live_reading() -> None:
    live_engine = _engine()
    live = ByHost(live_engine, hosts_of(SOURCES))
    for batch in _batches():
        live.sink(batch)
    merged = _engine()
    by_source = {b.source: b for b in _batches()}

    def read(engine: Engine, specs: list[str]) -> None:
        for spec in specs:
            engine.ingest(by_source[spec])

    groups = read_by_host(merged, list(SOURCES), read)
    assert {h: group_dict(g) for h, g in groups.items()} == {
        h: group_dict(g) for h, g in live.summary().groups.items()
    }
    for by in ("feature", "model"):
        a = summary_dict(live_engine.query(by=by), live_engine.lines, WINDOW)
        b = summary_dict(merged.query(by=by), merged.lines, WINDOW)
        assert a == b, by


def test_a_host_engine_is_fed_inside_the_engines_lock() -> None:
    """So one frame (built under ``engine.lock``) sees each batch in both or in neither."""
    engine = _engine()
    held: list[bool] = []

    class Spy(Engine):
        def ingest(self, batch: Batch) -> None:
            held.append(engine.lock._is_owned())  # type: ignore[attr-defined]
            super().ingest(batch)

    split = ByHost(engine, ["web1", "web2"], make=lambda: Spy(clock=engine.clock))
    for batch in _batches():
        split.sink(batch)
    assert held and all(held)
