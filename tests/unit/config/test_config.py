"""The config file: [alerts] validation naming the key, and ``claude-top config`` round trips."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from claude_top.commands.main import main
from claude_top.config import toml_out
from claude_top.config.load import UI_DEFAULTS, Config, ConfigError, load
from claude_top.rules.spec import DEFAULT_RULES, Rule, rules_from_config


def write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return str(p)


def test_defaults_when_no_alerts_table() -> None:
    assert rules_from_config({}) == list(DEFAULT_RULES)
    assert [r.id for r in DEFAULT_RULES] == [
        "error_rate",
        "rate_limit",
        "p95_latency",
        "p95_ttft",
        "daily_cost",
        "cost_pace",
        "max_tokens",
        "cache_hit",
        "unpriced",
        "rejected_lines",
        "headroom",
        "source",
        "stale_log",
    ]


def test_overrides_apply_and_keep_order() -> None:
    rules = rules_from_config(
        {
            "p95_latency": {"threshold": 8000, "window": "5m", "severity": "critical"},
            "cache_hit": {"enabled": False, "min_calls": 50},
        }
    )
    by_id = {r.id: r for r in rules}
    assert by_id["p95_latency"] == Rule("p95_latency", 8000.0, "5m", "critical")
    assert by_id["cache_hit"].enabled is False and by_id["cache_hit"].min_calls == 50
    assert [r.id for r in rules] == [r.id for r in DEFAULT_RULES]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"error_rate": {"threshold": "high"}}, "alerts.error_rate.threshold: must be a number"),
        ({"error_rate": {"threshold": True}}, "alerts.error_rate.threshold: must be a number"),
        ({"error_rate": {"threshold": -1}}, "alerts.error_rate.threshold: must not be negative"),
        ({"rate_limit": {"severity": "page"}}, "alerts.rate_limit.severity: must be"),
        ({"p95_latency": {"window": "soon"}}, "alerts.p95_latency.window: must be a duration"),
        ({"p95_latency": {"window": 10}}, "alerts.p95_latency.window: must be a duration"),
        ({"daily_cost": {"window": "24h"}}, 'alerts.daily_cost.window: must be "today"'),
        ({"max_tokens": {"min_calls": 2.5}}, "alerts.max_tokens.min_calls: must be a non-neg"),
        ({"max_tokens": {"min_calls": True}}, "alerts.max_tokens.min_calls: must be a non-neg"),
        ({"unpriced": {"enabled": "yes"}}, "alerts.unpriced.enabled: must be true or false"),
        ({"unpriced": {"treshold": 1}}, "alerts.unpriced.treshold: unknown key"),
        ({"error_rates": {"threshold": 1}}, "alerts.error_rates: unknown rule"),
        ({"error_rate": 5}, "alerts.error_rate: must be a table"),
    ],
)
def test_bad_alerts_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        rules_from_config(raw)
    assert str(e.value).startswith(message)


def test_load_reports_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[alerts.error_rate]\nthreshold = "5%"\n')
    with pytest.raises(ConfigError) as e:
        load(path)
    assert str(e.value) == f"{path}: alerts.error_rate.threshold: must be a number"


def test_load_checks_ui_types(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ui\.tz: must be a string"):
        load(write(tmp_path, "[ui]\ntz = 3\n"))
    with pytest.raises(ConfigError, match=r"ui\.window: .fortnight. is not a window"):
        load(write(tmp_path, '[ui]\nwindow = "fortnight"\n'))


def test_to_toml_defaults_round_trip(tmp_path: Path) -> None:
    text = Config().to_toml()
    doc = tomllib.loads(text)
    assert doc["ui"] == {"tz": "UTC", "window": "10m"}
    assert set(doc["alerts"]) == {r.id for r in DEFAULT_RULES}
    assert doc["alerts"]["error_rate"] == {
        "threshold": 5.0,
        "window": "10m",
        "severity": "critical",
        "min_calls": 20,
        "enabled": True,
    }
    back = load(write(tmp_path, text))
    assert rules_from_config(back.alerts) == list(DEFAULT_RULES)


def test_to_toml_user_values_round_trip(tmp_path: Path) -> None:
    user = (
        '[ui]\ntheme = "light"\ntz = "Europe/Paris"\n\n'
        "[alerts.error_rate]\nthreshold = 2.5\nmin_calls = 50\n\n"
        '[alerts.cache_hit]\nenabled = false\nseverity = "critical"\n\n'
        '[prices."claude-3.5-custom"]\ninput = 3\noutput = 15\neffective = 2026-01-01\n\n'
        "[prices.claude-sonnet-4-6]\ninput = 2.5\noutput = 12.0\n\n"
        "[limits]\nitpm_counts_cache_reads = true\n\n"
        "[limits.sonnet-4]\nrpm = 4000\nitpm = 2000000\n\n"
        '[limits.classes]\n"claude-3-5" = "tab\\there \\"quoted\\" \\\\"\n'
    )
    first = load(write(tmp_path, user))
    text = first.to_toml()
    again_path = tmp_path / "again.toml"
    again_path.write_text(text)
    again = load(str(again_path))
    assert rules_from_config(again.alerts) == rules_from_config(first.alerts)
    assert again.prices == first.prices
    assert again.limits == first.limits
    assert again.ui == {**UI_DEFAULTS, **first.ui}
    assert again.to_toml().split("\n", 1)[1] == text.split("\n", 1)[1]  # stable after one pass
    assert again.price_table().lookup(
        "claude-3.5-custom", first.prices["claude-3.5-custom"]["effective"]
    )


def test_toml_writer_values() -> None:
    doc = tomllib.loads(
        "x = "
        + toml_out.toml_value({"a b": [1, 2.5, "é\x01\n", True], "c": {"d": float("inf")}, "e": {}})
    )
    assert doc["x"] == {"a b": [1, 2.5, "é\x01\n", True], "c": {"d": float("inf")}, "e": {}}
    with pytest.raises(TypeError):
        toml_out.toml_value(object())


def test_config_command_prints_effective_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[alerts.rate_limit]\nthreshold = 3\n")
    assert main(["config", "--config", path]) == 0
    doc = tomllib.loads(capsys.readouterr().out)
    assert doc["alerts"]["rate_limit"]["threshold"] == 3.0
    assert doc["alerts"]["error_rate"]["threshold"] == 5.0


def test_config_command_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[alerts.rate_limit]\nwindow = 5\n")
    assert main(["config", "--config", path]) == 2
    err = capsys.readouterr().err
    assert "alerts.rate_limit.window" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("10m", True),
        (" 1h ", True),
        ("today", True),
        ("all", True),
        ("2026-11-27", True),
        ("0m", False),
        ("fortnight", False),
        ("2026-13-01", False),
        ("", False),
    ],
)
def test_one_window_validator_for_ui_and_rules(tmp_path: Path, name: str, ok: bool) -> None:
    from claude_top.core.errors import TimeArgError
    from claude_top.core.windows import check_window

    try:
        check_window(name)
        core_ok = True
    except TimeArgError:
        core_ok = False
    assert core_ok == ok
    path = write(tmp_path, f'[ui]\nwindow = "{name}"\n')
    if ok:
        assert load(path).ui["window"] == name
    else:
        with pytest.raises(ConfigError, match=r"ui\.window: .* is not a"):
            load(path)
