"""Tests of the synthetic call-log generator (``claude_top.demo`` and ``bench/make_log.py``).

The generator feeds the demo, fixtures and benchmarks, so what matters is that it is exactly
reproducible, that every line is well formed, and that each incident really shows the symptom
the TUI is supposed to surface. Sizes are kept small so the whole file runs in a few seconds.
"""

from __future__ import annotations

import importlib.util
import re
import statistics
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from claude_top.demo import (
    FEATURES,
    RUNAWAY,
    SPIKE,
    STORM,
    DemoConfig,
    Generator,
    Incident,
    run_live,
    write_history,
)

NOW = 1_795_000_000.0  # a fixed "now" (Wed 2026-11-18 11:06 UTC) keeps every test exact
DAY = 86400.0
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
ERRORS: dict[str, set[int | None]] = {
    "RateLimitError": {429},
    "OverloadedError": {529},
    "InternalServerError": {500},
    "APITimeoutError": {None},
    "APIConnectionError": {None},
}
INT_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_creation_tokens",
    "latency_ms",
)
SMALL = DemoConfig(seed=3, users=300, history_days=2, history_calls_per_day=1500)


def parse(lines: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        assert b"\n" not in line
        rec = orjson.loads(line)
        rec["ts"] = datetime.fromisoformat(rec["timestamp"]).timestamp()
        out.append(rec)
    return out


def live_range(gen: Generator, start: float, end: float, step: float = 0.25) -> list[bytes]:
    """Drive ``live`` the way ``run_live`` does: many short consecutive ranges."""
    out: list[bytes] = []
    t = start
    while t < end:
        out += gen.live(t, min(t + step, end))
        t += step
    return out


def first_incident(gen: Generator, kind: str) -> Incident:
    every = gen.config.incident_every_s
    for inc in gen.incidents(NOW, NOW + 4 * every):
        if inc.kind == kind and inc.start >= NOW:
            return inc
    raise AssertionError(f"no {kind} in four incident slots")


def check_record(rec: dict[str, Any]) -> None:
    assert TS_RE.match(rec["timestamp"]), rec["timestamp"]
    assert uuid.UUID(rec["request_id"]).version == 4
    assert isinstance(rec["user_id"], str) and rec["user_id"]
    assert rec["feature"] in {f.name for f in FEATURES}
    assert rec["model"].startswith("claude-")
    for key in INT_FIELDS:
        assert type(rec[key]) is int and rec[key] >= 0, key
    assert rec["stop_reason"] in {"end_turn", "max_tokens", "tool_use", "error"}
    if rec["error"] is None:
        assert rec["error_status"] is None
        assert rec["stop_reason"] != "error"
        assert rec["input_tokens"] > 0 and rec["output_tokens"] > 0
        assert "retry_after_s" not in rec
    else:
        assert rec["stop_reason"] == "error"
        assert rec["error_status"] in ERRORS[rec["error"]]
        assert rec["output_tokens"] == 0
    if rec["error_status"] == 429:
        assert type(rec["ratelimit_requests_remaining"]) is int
        assert type(rec["ratelimit_tokens_remaining"]) is int
        assert isinstance(rec["retry_after_s"], int | float) and rec["retry_after_s"] > 0
    elif "ratelimit_requests_limit" not in rec:  # only live lines carry every response's headers
        assert "ratelimit_requests_remaining" not in rec
    for dim in ("requests", "input_tokens", "output_tokens"):
        for kind in ("limit", "remaining"):
            v = rec.get(f"ratelimit_{dim}_{kind}")
            assert v is None or (type(v) is int and v >= 0), (dim, kind, v)


# ---------------------------------------------------------------- determinism


def test_history_is_deterministic_for_a_seed() -> None:
    a = list(Generator(SMALL).history(NOW))
    b = list(Generator(SMALL).history(NOW))
    assert a == b
    other = list(
        Generator(
            DemoConfig(seed=4, users=300, history_days=2, history_calls_per_day=1500)
        ).history(NOW)
    )
    assert other != a


def test_live_is_deterministic_for_the_same_sequence_of_ranges() -> None:
    ranges = [(NOW, NOW + 0.3), (NOW + 0.3, NOW + 2.0), (NOW + 2.0, NOW + 60.0)]
    a, b = Generator(SMALL), Generator(SMALL)
    assert [a.live(s, e) for s, e in ranges] == [b.live(s, e) for s, e in ranges]
    assert a.live(NOW + 60, NOW + 60) == []


def test_incident_schedule_is_a_function_of_seed_and_time() -> None:
    gen = Generator(DemoConfig())
    every = gen.config.incident_every_s
    incs = gen.incidents(NOW, NOW + 6 * every)
    assert incs == Generator(DemoConfig()).incidents(NOW, NOW + 6 * every)
    assert {i.kind for i in incs} == {STORM, SPIKE, RUNAWAY}
    assert all(i.end - i.start >= 0.5 * every for i in incs)
    assert Generator(DemoConfig(incidents=False)).incidents(NOW, NOW + 6 * every) == []


# ---------------------------------------------------------------- format


def test_every_line_parses_and_has_typed_fields() -> None:
    gen = Generator(DemoConfig(seed=11, users=500, history_days=1, history_calls_per_day=3000))
    lines = list(gen.history(NOW))
    storm = first_incident(gen, STORM)
    lines += live_range(gen, storm.start - 5, storm.start + 30)
    recs = parse(lines)
    for rec in recs:
        check_record(rec)
    assert any(r["error_status"] == 429 for r in recs)
    sizes = [len(line) for line in lines]
    assert 200 < statistics.mean(sizes) < 420


def test_record_honours_feature_and_user() -> None:
    gen = Generator(DemoConfig(incidents=False))
    rec = gen.record(NOW, feature="code_review", user="u_00042")
    assert rec["feature"] == "code_review" and rec["user_id"] == "u_00042"
    check_record(orjson.loads(orjson.dumps(rec)))


# ---------------------------------------------------------------- history


def test_history_is_ordered_exact_and_spans_the_days() -> None:
    cfg = DemoConfig(seed=5, users=1000, history_days=8, history_calls_per_day=3000)
    gen = Generator(cfg)
    recs = parse(list(gen.history(NOW)))
    assert len(recs) == 8 * 3000
    ts = [r["ts"] for r in recs]
    assert ts == sorted(ts)
    assert NOW - 8 * DAY <= ts[0] < NOW - 8 * DAY + 3600
    assert NOW - 3600 < ts[-1] < NOW
    assert len({r["timestamp"][:10] for r in recs}) >= 8
    # Diurnal: the busy afternoon (UTC) has several times the calls of the small hours.
    hours = Counter(int(r["timestamp"][11:13]) for r in recs)
    assert hours[15] > 2 * hours[3]
    # Weekly: the weekend (Sat 14th, Sun 15th) is clearly quieter than Thu 12th, Fri 13th.
    days = Counter(r["timestamp"][:10] for r in recs)
    weekend = days["2026-11-14"] + days["2026-11-15"]
    assert weekend < 0.75 * (days["2026-11-12"] + days["2026-11-13"])


def test_history_contains_past_incidents() -> None:
    cfg = DemoConfig(seed=5, users=1000, history_days=8, history_calls_per_day=3000)
    gen = Generator(cfg)
    past = gen.history_incidents(NOW)
    assert {i.kind for i in past} >= {STORM, RUNAWAY}
    recs = parse(list(gen.history(NOW)))
    storm = next(i for i in past if i.kind == STORM)
    in_storm = [r for r in recs if storm.covers(r["ts"]) and r["feature"] == storm.feature]
    assert sum(r["error_status"] == 429 for r in in_storm) >= 10
    assert Generator(DemoConfig(incidents=False)).history_incidents(NOW) == []


def test_write_history_returns_the_lines_written(tmp_path: Path) -> None:
    path = tmp_path / "calls.log"
    n = write_history(str(path), NOW, SMALL)
    data = path.read_bytes()
    assert n == 2 * 1500 == data.count(b"\n")
    assert data.endswith(b"\n")
    assert data.splitlines() == list(Generator(SMALL).history(NOW))


def test_baseline_rates_are_plausible() -> None:
    cfg = DemoConfig(
        seed=9, users=2000, history_days=2, history_calls_per_day=12000, incidents=False
    )
    recs = parse(list(Generator(cfg).history(NOW)))
    n = len(recs)
    errors = [r for r in recs if r["error"] is not None]
    assert 0.003 < len(errors) / n < 0.015
    kinds = Counter(r["error"] for r in errors)
    assert kinds["OverloadedError"] + kinds["InternalServerError"] > 0.5 * len(errors)
    assert kinds["RateLimitError"] < 0.25 * len(errors)
    assert 0.004 < sum(r["stop_reason"] == "max_tokens" for r in recs) / n < 0.025
    by_feature: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        by_feature.setdefault(r["feature"], []).append(r)
    assert len(by_feature) == len(FEATURES)
    ok = {f: [r for r in rs if r["error"] is None] for f, rs in by_feature.items()}
    # One feature uses no prompt caching at all; the agent caches a big system prompt.
    assert all(r["cached_tokens"] == 0 for r in ok["doc_summary"])
    assert statistics.median(r["cached_tokens"] for r in ok["support_agent"]) > 10000
    assert any(r["cache_creation_tokens"] > 0 for r in ok["chat"])
    for f, rs in ok.items():
        p50 = statistics.median(r["latency_ms"] for r in rs) / 1000
        assert 0.8 < p50 < 7.0, f
        p95 = statistics.quantiles([r["latency_ms"] for r in rs], n=20)[18] / 1000
        assert p95 < 15.0, f  # a latency alert at 15 s must stay quiet without an incident
    # Long tail of users: many distinct ids, a heavy head, nobody dominating.
    users = Counter(r["user_id"] for r in recs)
    assert len(users) > 800
    top = users.most_common()
    assert top[0][1] < 0.1 * n
    assert sum(c for _, c in top[: len(top) // 10]) > 0.4 * n


# ---------------------------------------------------------------- incidents


def test_rate_limit_storm_produces_429s_on_its_feature() -> None:
    gen = Generator(DemoConfig())
    storm = first_incident(gen, STORM)
    assert storm.user is not None
    recs = parse(live_range(gen, storm.start - 10, storm.end + 10))
    hit = [r for r in recs if storm.covers(r["ts"]) and r["feature"] == storm.feature]
    r429 = [r for r in hit if r["error_status"] == 429]
    assert len(r429) >= 50 and len(r429) > 0.4 * len(hit)
    assert Counter(r["user_id"] for r in hit).most_common(1)[0][0] == storm.user
    assert max(r["ratelimit_requests_remaining"] for r in r429) <= 5
    assert all(r["retry_after_s"] > 0 for r in r429)
    others = [r for r in recs if not storm.covers(r["ts"]) or r["feature"] != storm.feature]
    assert sum(r["error_status"] == 429 for r in others) < 0.02 * len(others) + 2


def test_latency_spike_pushes_p95_over_15s() -> None:
    gen = Generator(DemoConfig())
    spike = first_incident(gen, SPIKE)
    recs = parse(live_range(gen, spike.start - 120, spike.end))
    lat = [r["latency_ms"] for r in recs if spike.covers(r["ts"]) and r["feature"] == spike.feature]
    assert len(lat) >= 20
    assert statistics.quantiles(lat, n=20)[18] > 15000
    before = [r["latency_ms"] for r in recs if r["ts"] < spike.start and r["error"] is None]
    assert statistics.quantiles(before, n=20)[18] < 15000


def test_runaway_loop_hammers_one_feature_with_a_growing_context() -> None:
    gen = Generator(DemoConfig())
    loop = first_incident(gen, RUNAWAY)
    recs = parse(live_range(gen, loop.start, loop.end))
    mine = [
        r
        for r in recs
        if r["user_id"] == loop.user and r["feature"] == loop.feature and r["error"] is None
    ]
    assert len(mine) > 0.15 * len(recs)
    quarter = len(mine) // 4
    early = statistics.mean(r["cached_tokens"] for r in mine[:quarter])
    late = statistics.mean(r["cached_tokens"] for r in mine[-quarter:])
    assert late > 2 * early
    assert sum(r["stop_reason"] == "tool_use" for r in mine) > 0.8 * len(mine)


# ---------------------------------------------------------------- live writer, bench CLI


def test_run_live_appends_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "live.log"
    path.write_bytes(b'{"existing": 1}\n')
    fake = [NOW]

    def clock() -> float:
        fake[0] += 2.0  # each tick advances two seconds: ~10 lines a batch at rate 5
        return fake[0]

    stop = threading.Event()
    thread = threading.Thread(target=run_live, args=(str(path), SMALL, stop, clock))
    thread.start()
    threading.Timer(0.9, stop.set).start()
    thread.join(timeout=5)
    assert not thread.is_alive()
    data = path.read_bytes()
    assert data.startswith(b'{"existing": 1}\n') and data.endswith(b"\n")
    recs = parse(data.splitlines()[1:])
    assert len(recs) > 5
    ts = [r["ts"] for r in recs]
    assert ts == sorted(ts) and ts[0] >= NOW


def _load_make_log() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "make_log.py"
    spec = importlib.util.spec_from_file_location("make_log", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lines", [0, 1, 2500])
def test_make_log_writes_exactly_n_lines(tmp_path: Path, lines: int) -> None:
    make_log = _load_make_log()
    out_a, out_b = tmp_path / "a.log", tmp_path / "b.log"
    args = ["--lines", str(lines), "--days", "3", "--users", "200", "--seed", "2",
            "--end", "2026-11-18T12:00:00"]  # fmt: skip
    assert make_log.main([str(out_a), *args]) == 0
    assert make_log.main([str(out_b), *args]) == 0
    data = out_a.read_bytes()
    assert data.count(b"\n") == lines
    assert data == out_b.read_bytes()
    for rec in parse(data.splitlines()):
        check_record(rec)


@pytest.mark.parametrize("shape", ["anthropic", "litellm"])
def test_make_log_shapes_are_the_same_calls_to_their_presets(tmp_path: Path, shape: str) -> None:
    """The benchmark's preset rows read the same calls as its native rows: every line is a
    record of the detected preset, with the native log's totals (tokens, errors, cost)."""
    make_log = _load_make_log()
    args = ["--lines", "2500", "--days", "3", "--users", "200", "--seed", "2",
            "--end", "2026-11-18T12:00:00"]  # fmt: skip
    native, shaped = tmp_path / "native.log", tmp_path / f"{shape}.log"
    assert make_log.main([str(native), *args]) == 0
    assert make_log.main([str(shaped), *args, "--shape", shape]) == 0
    docs = []
    for log in (native, shaped):
        cmd = [sys.executable, "-m", "claude_top", "summary", str(log), "--format", "json"]
        docs.append(orjson.loads(subprocess.run(cmd, check=True, capture_output=True).stdout))
    assert docs[1]["lines"]["formats"] == {str(shaped): shape}
    assert (docs[1]["lines"]["records"], docs[1]["lines"]["rejected"]) == (2500, 0)
    assert docs[1]["total"] == docs[0]["total"]
