"""``claude-top summary`` end to end: schema, formats, inputs, windows and user mistakes."""

from __future__ import annotations

import gzip
import io
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from claude_top.commands.main import main
from claude_top.core.text import cell_width
from loggen import T0, call, random_calls

GROUP_KEYS = {
    "calls",
    "errors",
    "error_rate_pct",
    "rate_limited",
    "overloaded",
    "avg_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "p99_latency_ms",
    "max_tokens_stops",
    "max_tokens_rate_pct",
    "total_input_tokens",
    "total_output_tokens",
    "total_cached_tokens",
    "total_cache_write_tokens",
    "cache_hit_rate_pct",
    "cost_usd",
    "unpriced_calls",
}


def write(path: Path, calls: list[dict[str, Any]], extra: list[bytes] = ()) -> Path:  # type: ignore[assignment]
    path.write_bytes(b"\n".join([orjson.dumps(d) for d in calls] + list(extra)) + b"\n")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["summary", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def daily_by_the_article_rules(lines: list[str], day: str) -> dict[str, dict[str, Any]]:
    """The six keys as the article's daily summary defines them, written out independently."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for raw in lines:
        try:
            d = json.loads(raw)
            if d["timestamp"][:10] != day:
                continue
            a = acc[d["feature"]]
            a[0] += 1
            a[1] += bool(d["error"])
            a[2] += d["latency_ms"]
            a[3] += d["input_tokens"]
            a[4] += d["output_tokens"]
            a[5] += d["stop_reason"] == "max_tokens"
        except (ValueError, KeyError):
            continue
    out = {}
    for f, (n, err, lat, inp, outp, mt) in acc.items():
        div = n or 1
        out[f] = {
            "calls": n,
            "error_rate_pct": round(err / div * 100, 1),
            "avg_latency_ms": round(lat / div),
            "max_tokens_rate_pct": round(mt / div * 100, 1),
            "total_input_tokens": inp,
            "total_output_tokens": outp,
        }
    return out


def test_json_schema_and_article_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = random_calls(4000, seed=11, span=3 * 86400)
    log = write(tmp_path / "app.log", calls, [b"INFO:httpx:noise", b'{"latency_ms": "bad"}'])
    day = datetime.fromtimestamp(T0 + 86400, UTC).date().isoformat()
    doc = run_json(capsys, str(log), "--day", day)
    assert set(doc) == {"window", "lines", "total", "features"}
    assert doc["lines"]["records"] == 4000 and doc["lines"]["foreign"] == 1
    assert doc["lines"]["rejected"] == 1 and doc["lines"]["rejected_by_reason"] == {
        "missing timestamp": 1
    }
    assert set(doc["total"]) >= GROUP_KEYS
    want = daily_by_the_article_rules(log.read_text().splitlines(), day)
    assert set(doc["features"]) == set(want)
    for f, w in want.items():
        got = {k: doc["features"][f][k] for k in w}
        assert got == w, f


def test_by_model_and_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write(tmp_path / "a.log", random_calls(500, seed=2))
    assert "models" in run_json(capsys, str(log), "--by", "model")
    users = run_json(capsys, str(log), "--by", "user")["users"]
    assert sum(u["calls"] for u in users.values()) == 500


def test_gzip_glob_and_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = random_calls(300, seed=4)
    write(tmp_path / "app.log", calls[200:])
    write(tmp_path / "app.log.1", calls[100:200])
    with gzip.open(tmp_path / "app.log.2.gz", "wb") as f:
        f.write(b"\n".join(orjson.dumps(d) for d in calls[:100]) + b"\n")
    (tmp_path / "renamed-without-gz-suffix").write_bytes((tmp_path / "app.log.2.gz").read_bytes())
    assert run_json(capsys, str(tmp_path / "app.log*"))["total"]["calls"] == 300
    assert run_json(capsys, str(tmp_path / "renamed-without-gz-suffix"))["total"]["calls"] == 100
    stdin = io.TextIOWrapper(io.BytesIO((tmp_path / "app.log").read_bytes()))
    monkeypatch.setattr("sys.stdin", stdin)
    assert run_json(capsys, "-")["total"]["calls"] == 100


def test_since_until(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write(tmp_path / "a.log", [call(T0 + h * 3600) for h in range(24)])
    doc = run_json(
        capsys, str(log), "--since", "2026-11-20T06:00:00Z", "--until", "2026-11-20T12:00"
    )
    assert doc["total"]["calls"] == 6


def test_table_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write(
        tmp_path / "a.log",
        [call(T0), call(T0, model="claude-unknown-1", feature="x\x1b[31m")],
        [b'{"latency_ms": 5, oops'],
    )
    assert main(["summary", str(log)]) == 0
    out = capsys.readouterr().out
    assert (
        "TOTAL" in out and "1 rejected" in out and "no price" in out and "claude-unknown-1" in out
    )
    assert "\x1b" not in out
    assert main(["summary", str(log), "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("feature,calls") and rows[-1].startswith("*,2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such.log"], "no such file"),
        (["{log}", "--day", "2026-13-45"], "not a date"),
        (["{log}", "--since", "last tuesday"], "not a time"),
        (["{log}", "--config", "/no/such.toml"], "config file not found"),
        (["{log}", "--tz", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_user_mistakes_get_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    log = write(tmp_path / "a.log", [call(T0)])
    code = main(["summary", *[a.replace("{log}", str(log)) for a in args]])
    err = capsys.readouterr().err
    assert (
        code != 0
        and message in err
        and len(err.strip().splitlines()) == 1
        and "Traceback" not in err
    )


def test_bad_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write(tmp_path / "a.log", [call(T0)])
    cfg = tmp_path / "c.toml"
    cfg.write_text('[prices.my-model]\ninput = "cheap"\noutput = 1\n')
    assert main(["summary", str(log), "--config", str(cfg)]) != 0
    assert "prices.my-model.input" in capsys.readouterr().err


def test_table_warns_about_calls_without_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write(tmp_path / "a.log", [call(T0), call(T0 + 1)])
    assert main(["summary", str(log)]) == 0
    assert "without a user_id" not in capsys.readouterr().out
    log = write(tmp_path / "b.log", [call(T0), call(T0, user_id=None)])
    assert main(["summary", str(log)]) == 0
    assert "1 calls were logged without a user_id" in capsys.readouterr().out


def test_table_rows_align_with_wide_feature_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["chat", "検索エージェント", "chat 🤖🔥", "cafe\u0301", "ＦＵＬＬ"]
    log = write(tmp_path / "wide.log", [call(T0, feature=n) for n in names], [])
    assert main(["summary", str(log)]) == 0
    table = capsys.readouterr().out.split("\n\n")[0].splitlines()
    assert len(table) == 4 + len(names)
    # Every column is right-aligned but the first: aligned rows end in the same terminal cell.
    assert len({cell_width(row) for row in table}) == 1, table
