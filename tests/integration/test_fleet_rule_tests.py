"""``promtool test rules`` over the rule file ``claude-top rules`` prints: on the traffic the
``check`` tests use, each Prometheus rule fires exactly where ``check`` fires, and is quiet
where it is quiet (``rule_traffic`` makes the series). ``for:`` is held at 0 s here (promtool
then judges the expressions at the very minute ``check`` does); the shipped ``for:`` is checked
by its own test, firing one minute later."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from claude_top.rules.spec import AGE_KEYS, DEFAULT_RULES
from integration.rule_traffic import Scenario, rule_test
from integration.servers import Promtool
from unit.rules.test_alerts import BAD, T0, WEEK, errors, history, line, spread, today


def streamed(lines: list[str], ttft: int) -> list[str]:
    """The calls as the instrument wrapper logs streams: with their time to first token."""
    return [json.dumps({**json.loads(x), "ttft_ms": ttft}) for x in lines]


SCENARIOS = [
    Scenario(
        "error_rate fires per feature and overall",
        spread(76, T0 - 600, T0, feature="doc_summary")
        + errors(36, T0 - 600, T0, feature="doc_summary")
        + spread(400, T0 - 600, T0, feature="chat"),
    ),
    Scenario("error_rate exactly 5% is quiet", spread(95, T0 - 600, T0) + errors(5, T0 - 600, T0)),
    Scenario(
        "error_rate under min_calls is quiet", spread(9, T0 - 600, T0) + errors(10, T0 - 600, T0)
    ),
    Scenario(
        "rate_limit: any 429",
        [line(T0 - 100, "chat"), *errors(1, T0 - 60, T0, status=429, feature="chat")],
    ),
    Scenario(
        "rate_limit: 429s 6 minutes ago are quiet",
        spread(50, T0 - 300, T0) + errors(3, T0 - 360, T0 - 301, status=429),
    ),
    Scenario("p95_latency fires", spread(30, T0 - 600, T0, feature="rag", latency=20_000)),
    Scenario("p95_latency quiet", spread(30, T0 - 600, T0, feature="rag", latency=9_000)),
    Scenario(
        "p95_ttft fires for the streaming feature and overall",
        streamed(spread(30, T0 - 600, T0, feature="voice", latency=9_000), ttft=8_000)
        + spread(20, T0 - 600, T0, feature="chat"),
    ),
    Scenario(
        "p95_ttft quiet under the threshold",
        streamed(spread(30, T0 - 600, T0, feature="voice", latency=9_000), ttft=2_000),
    ),
    Scenario(
        "p95_ttft under min_calls is quiet",
        streamed(spread(10, T0 - 600, T0, feature="voice", latency=9_000), ttft=8_000),
    ),
    Scenario(
        "max_tokens: 4 of 102 calls",
        spread(58, T0 - 3600, T0, feature="email_draft")
        + spread(2, T0 - 3000, T0, feature="email_draft", stop="max_tokens")
        + errors(40, T0 - 3600, T0 - 1800, feature="email_draft")
        + spread(2, T0 - 600, T0, feature="email_draft", stop="max_tokens"),
    ),
    Scenario(
        "max_tokens exactly 3% is quiet",
        spread(97, T0 - 3600, T0) + spread(3, T0 - 3600, T0, stop="max_tokens"),
    ),
    Scenario(
        "cache_hit only where caching is used",
        spread(30, T0 - 3600, T0, feature="rag", inp=1000, cached=200)
        + spread(300, T0 - 3600, T0, feature="chat", inp=5000),
    ),
    Scenario("cache_hit quiet", spread(30, T0 - 3600, T0, feature="rag", inp=1000, cached=1000)),
    Scenario(
        "cache_hit: caching that stopped entirely",
        spread(30, T0 - 3 * 3600, T0 - 2 * 3600, feature="rag", cached=5000)
        + spread(30, T0 - 3600, T0, feature="rag"),
        minutes=3 * 60 + 10,
    ),
    Scenario(
        "unpriced names the feature",
        [line(T0 - 7200, "labs", model="claude-unknown-9"), line(T0 - 60, "chat")],
        minutes=150,
    ),
    Scenario("unpriced quiet", [line(T0 - 60)]),
    Scenario("rejected_lines fires", [*spread(98, T0 - 600, T0), BAD, BAD]),
    Scenario("rejected_lines quiet", [*spread(199, T0 - 600, T0), BAD]),
    Scenario("daily_cost fires", history(WEEK, feature="chat") + today(70, feature="chat")),
    Scenario("daily_cost quiet at 147%", history(WEEK) + today(44)),
    Scenario(
        "cost_pace fires, daily_cost quiet",
        history(WEEK) + history(WEEK, n=300, hour=20) + today(70),
    ),
    Scenario("cost_pace quiet", history(WEEK) + history(WEEK, n=300, hour=20) + today(40)),
    Scenario("headroom fires", spread(40, T0 - 60, T0), limits={"sonnet-4": {"rpm": 30}}),
    Scenario("headroom quiet", spread(10, T0 - 60, T0), limits={"sonnet-4": {"rpm": 30}}),
    Scenario("stale_log fires", spread(30, T0 - 3000, T0 - 1800)),
]
RULES = [r for r in DEFAULT_RULES if r.id != "source"]
"""``source`` reads a follower, which a simulation has not: tested against ``serve``."""


def _write(tmp_path: Path, *, for_zero: bool) -> Path:
    out = subprocess.run(
        [sys.executable, "-m", "claude_top", "rules", "--format", "prometheus"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    text = out.stdout.replace("for: 1m", "for: 0s") if for_zero else out.stdout
    path = tmp_path / "claude-top.rules.yml"
    path.write_text(text)
    return path


def test_each_rule_fires_and_is_quiet_where_check_says(tmp_path: Path, promtool: Promtool) -> None:
    rules = _write(tmp_path, for_zero=True)
    tests, fired_somewhere, quiet_somewhere = [], set(), set()
    for sc in SCENARIOS:
        body, fired = rule_test(sc, RULES, str(rules))
        tests.append(body)
        ids = {a.rule for a in fired}
        fired_somewhere |= ids
        quiet_somewhere |= {r.id for r in RULES} - ids
    suite = tmp_path / "claude-top.test.yml"
    suite.write_text(
        json.dumps({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": tests})
    )
    done = promtool.test_rules(suite)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    every = {r.id for r in RULES}
    assert fired_somewhere == every, "each rule fires in some scenario"
    assert quiet_somewhere == every, "each rule is quiet in some scenario"


def test_the_shipped_for_holds_an_alert_one_minute(tmp_path: Path, promtool: Promtool) -> None:
    rules = _write(tmp_path, for_zero=False)
    sc = Scenario(
        "error_rate over 20 minutes", spread(400, T0 - 1200, T0) + errors(100, T0 - 1200, T0)
    )
    body, fired = rule_test(sc, RULES, str(rules))
    assert {a.scope for a in fired if a.rule == "error_rate"} == {"*", "chat"}
    pending = next(t for t in body["alert_rule_test"] if t["alertname"] == "error_rate")
    # the simulation starts at 12:45 and the calls at 13:40: the expression is first true at
    # 13:41 (minute 56), so with for: 1m the alert is pending there and fires from minute 57
    early = {"eval_time": "56m", "alertname": "error_rate", "exp_alerts": []}
    body["alert_rule_test"] = [early, pending]
    suite = tmp_path / "for.test.yml"
    suite.write_text(
        json.dumps({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [body]})
    )
    done = promtool.test_rules(suite)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert AGE_KEYS  # the health rules' for: is 0 s (see rulefile.FOR)
