"""The hosts panel: rows from the one host dimension, a lost host marked without colour, and
nothing at all with a single host (the screen is then unchanged)."""

from __future__ import annotations

import orjson
from rich.console import Console

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.hosts import ByHost, hosts_of
from claude_top.sources.batches import Batch
from claude_top.sources.follow import SourceStatus
from claude_top.views.live.dashboard import build_dashboard
from claude_top.views.tui import panels
from loggen import T0, random_calls

NOW = T0 + 3 * 86400
WEB1, WEB2 = "ssh://web1/var/log/app.log", "ssh://web2/var/log/app.log"


def _render(renderable: object, width: int = 120) -> str:
    console = Console(record=True, width=width, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def _fed(sources: list[str]) -> tuple[Engine, ByHost]:
    engine = Engine(clock=FixedClock(NOW))
    by_host = ByHost(engine, hosts_of(sources))
    calls = [orjson.dumps(d) for d in random_calls(900, seed=3)]
    for i, source in enumerate(sources):
        by_host.sink(Batch(source, 1, calls[i :: len(sources)]))
    return engine, by_host


def test_one_row_per_host_and_a_lost_host_is_critical() -> None:
    engine, by_host = _fed([WEB1, WEB2])
    statuses = [
        SourceStatus(WEB1, "following", "", 0, 0),
        SourceStatus(WEB2, "error", "connection lost (ssh exit 255)", 0, 0),
    ]
    d = build_dashboard(
        engine, None, now=NOW, window_name="all", statuses=statuses, by_host=by_host
    )
    assert [h.host for h in d.hosts] == ["web1", "web2"]
    assert sum(h.calls for h in d.hosts) == engine.total(None, None).calls == 900
    web2 = d.hosts[1]
    assert (web2.state, web2.level, web2.sources) == ("error", "critical", 1)
    text = _render(panels.hosts(d))
    row = next(ln for ln in text.splitlines() if ln.startswith("web2"))
    assert "✖" in row and "error" in row
    web1 = next(ln for ln in text.splitlines() if ln.startswith("web1"))
    assert "following" in web1 and "✖ following" not in web1


def test_a_single_host_has_no_hosts_panel() -> None:
    engine, by_host = _fed(["/tmp/a.log", "/tmp/b.log"])
    assert by_host.single == "local"
    d = build_dashboard(engine, None, now=NOW, window_name="all", by_host=by_host)
    assert d.hosts == ()
