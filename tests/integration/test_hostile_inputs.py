"""Nothing a log, an argument or a config file holds may crash or stop a reader, or be miscounted.

Every line case of ``hostile_cases`` is read alone, between good lines in one batch, by
``summary`` and ``check`` in one shot (in this process, through ``main``), and by the follower;
each time the line must land in its one class, the good lines around it must still count, the
commands must exit with their documented status, and no raw escape may reach the output.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import orjson
import pytest
from hostile_cases import (
    ARG_CASES,
    CONFIG_CASES,
    INTERVAL_CASES,
    LINE_CASES,
    NOW,
    POLL_CASES,
    RATE_CASES,
    ArgCase,
    LineCase,
    good,
)

from claude_top.commands.main import main
from claude_top.commands.parser import build_parser, build_tui_parser
from claude_top.core.clock import FixedClock
from claude_top.core.errors import UserError
from claude_top.core.timeutil import parse_timestamp
from claude_top.engine.engine import Engine
from claude_top.ingest.reader import timestamp_of
from claude_top.sources.follow import Follower

NOW_TS = parse_timestamp(NOW)
assert NOW_TS is not None

KNOWN_FAILING: dict[str, set[str]] = {}
"""case -> the tests it still fails: strict xfails, so a fix must take its entry out."""


def _cases(test: str, cases: list[Any], name: Callable[[Any], str]) -> list[Any]:
    out = []
    for c in cases:
        failing = test in KNOWN_FAILING.get(name(c), set())
        marks = [pytest.mark.xfail(strict=True, reason="a known hole")] if failing else []
        out.append(pytest.param(c, marks=marks, id=name(c)))
    return out


def _lines(test: str) -> list[Any]:
    return _cases(test, LINE_CASES, lambda c: c.name)


def _expected(case: LineCase, good_lines: int) -> dict[str, int]:
    want = {"records": good_lines, "foreign": 0, "rejected": 0}
    key = {"record": "records", "foreign": "foreign", "rejected": "rejected"}[case.verdict]
    want[key] += 1
    return want


def _counts(lines: object) -> dict[str, int]:
    return {k: getattr(lines, k) for k in ("records", "foreign", "rejected")}


def _reason_ok(case: LineCase, by_reason: dict[str, int]) -> bool:
    if case.verdict != "rejected":
        return not by_reason
    if case.reason is None:
        return sum(by_reason.values()) == 1
    return by_reason == {case.reason: 1}


@contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        yield out, err


def _run(args: list[str]) -> tuple[int, str, str]:
    with _captured() as (out, err):
        try:
            rc = main(args)
        except SystemExit as e:  # argparse's own exit
            rc = e.code if isinstance(e.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def _no_raw_control(text: str) -> bool:
    return not any(ord(ch) < 32 and ch not in "\n\t" for ch in text) and "\x7f" not in text


def _log(tmp_path: Path, case: LineCase) -> Path:
    path = tmp_path / "app.log"
    path.write_bytes(b"\n".join([good(request_id="a"), case.line, good(request_id="b")]) + b"\n")
    return path


@pytest.mark.parametrize("case", _lines("alone"))
def test_alone(case: LineCase) -> None:
    engine = Engine(clock=FixedClock(NOW_TS))
    engine.ingest_lines([case.line])
    assert _counts(engine.lines) == _expected(case, 0)
    assert _reason_ok(case, engine.lines.by_reason), engine.lines.by_reason


@pytest.mark.parametrize("case", _lines("in_a_batch_of_good_lines"))
def test_in_a_batch_of_good_lines(case: LineCase) -> None:
    engine = Engine(clock=FixedClock(NOW_TS))
    engine.ingest_lines([good(request_id="a"), case.line, good(request_id="b")])
    assert _counts(engine.lines) == _expected(case, 2)
    assert _reason_ok(case, engine.lines.by_reason), engine.lines.by_reason
    assert engine.query().total.calls == 2 + (case.verdict == "record")


@pytest.mark.parametrize("case", _lines("summary_json"))
def test_summary_json(case: LineCase, tmp_path: Path) -> None:
    path = _log(tmp_path, case)
    rc, out, err = _run(["summary", "--format", "json", "--jobs", "1", "--now", NOW, str(path)])
    assert (rc, err) == (0, "")
    doc = orjson.loads(out)
    got = {k: doc["lines"][k] for k in ("records", "foreign", "rejected")}
    assert got == _expected(case, 2)
    assert _reason_ok(case, doc["lines"]["rejected_by_reason"])


@pytest.mark.parametrize("case", _lines("table_and_check_write_no_raw_escape"))
def test_table_and_check_write_no_raw_escape(case: LineCase, tmp_path: Path) -> None:
    path = _log(tmp_path, case)
    rc, out, err = _run(["summary", "--by", "model", "--now", NOW, str(path)])
    assert rc == 0, err
    assert _no_raw_control(out + err)
    rc, out, err = _run(["check", "--now", NOW, str(path)])
    assert rc in (0, 1, 2), err
    assert _no_raw_control(out + err)
    rc, out, err = _run(["check", "--format", "json", "--now", NOW, str(path)])
    assert rc in (0, 1, 2), err
    doc = orjson.loads(out)
    assert {k: doc["lines"][k] for k in ("records", "foreign", "rejected")} == _expected(case, 2)


@pytest.mark.parametrize("case", _lines("follower"))
def test_follower(case: LineCase, tmp_path: Path) -> None:
    path = _log(tmp_path, case)
    engine = Engine(clock=FixedClock(NOW_TS))
    follower = Follower(
        [str(path)],
        engine.ingest,
        ts_of=timestamp_of,
        poll_interval=0.05,
        on_overlong=engine.count_overlong,
    )
    follower.start()
    try:
        assert follower.wait_history(timeout=20)
    finally:
        follower.stop()
    assert _counts(engine.lines) == _expected(case, 2)
    assert _reason_ok(case, engine.lines.by_reason), engine.lines.by_reason


def _arg_log(tmp_path: Path) -> str:
    path = tmp_path / "ok.log"
    path.write_bytes(good() + b"\n")
    return str(path)


@pytest.mark.parametrize("case", _cases("arguments", ARG_CASES, lambda c: c.name))
def test_arguments(case: ArgCase, tmp_path: Path) -> None:
    args = [_arg_log(tmp_path) if a == "LOG" else a for a in case.args]
    rc, out, err = _run(["summary", *args])
    assert rc in (0, 2), err
    if rc == 2:
        assert err.count("\n") == 1 and err.startswith("claude-top")
    assert "Traceback" not in err and _no_raw_control(out + err)
    rc, out, err = _run(["check", *args])
    assert rc in (0, 1, 2, 3), err
    if err:  # could not check: 3, never a status a monitor reads as warning or critical
        assert rc == 3 and err.count("\n") == 1 and err.startswith("claude-top check: "), err
    assert "Traceback" not in err and _no_raw_control(out + err)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("value", _cases("follow_interval", INTERVAL_CASES, str))
def test_follow_interval(value: str, tmp_path: Path) -> None:
    rc, _out, err = _run(["summary", "--follow", "--interval", value, _arg_log(tmp_path)])
    assert rc == 2 and err.count("\n") == 1, err


@pytest.mark.parametrize("case", _cases("config_files", CONFIG_CASES, lambda c: c[0]))
def test_config_files(case: tuple[str, bytes], tmp_path: Path) -> None:
    _name, body = case
    cfg = tmp_path / "config.toml"
    cfg.write_bytes(body)
    log = _arg_log(tmp_path)
    rc, out, err = _run(["summary", "--config", str(cfg), log])
    assert rc == 2 and err.count("\n") == 1, err
    assert _no_raw_control(out + err)
    rc, out, err = _run(["check", "--config", str(cfg), log])
    assert rc == 3 and err.count("\n") == 1, err
    assert _no_raw_control(out + err)


@pytest.mark.parametrize("case", _cases("stdout_on_dev_full", ["dev_full"], str))
def test_stdout_on_dev_full(case: str, tmp_path: Path) -> None:
    import subprocess

    log = _arg_log(tmp_path)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "claude_top", "summary", log],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("value", POLL_CASES)
def test_tui_poll_is_refused_before_the_tui_starts(value: str) -> None:
    with pytest.raises(UserError, match="--poll"):
        build_tui_parser().parse_args(["--poll", value, "app.log"])


@pytest.mark.parametrize("value", RATE_CASES)
def test_demo_rate_is_refused(value: str) -> None:
    with pytest.raises(UserError, match="--rate"):
        build_parser().parse_args(["demo", "--rate", value])


def test_prices_show_config_model_names_escaped(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_bytes(b'[prices."m\\u001b[31mred"]\ninput = 1.0\noutput = 2.0\n')
    rc, out, err = _run(["prices", "--config", str(cfg)])
    assert (rc, err) == (0, "")
    assert "m^[[31mred *" in out and _no_raw_control(out)


def test_check_text_shows_alert_scopes_escaped(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    bad = [
        good(
            request_id=f"e{i}",
            timestamp="2026-11-20T12:25:00+00:00",
            feature="f\x1b[31m",
            error="Boom",
            error_status=500,
        )
        for i in range(30)
    ]
    path.write_bytes(b"\n".join(bad) + b"\n")
    rc, out, err = _run(["check", "--now", NOW, str(path)])
    assert rc in (1, 2) and err == "", err
    assert "f^[[31m" in out and _no_raw_control(out)


def _subprocess(args: list[str], **kw: Any) -> Any:
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "claude_top", *args],
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
        **kw,
    )


@pytest.mark.parametrize(("command", "status"), [("summary", 0), ("check", 3)])
def test_closed_pipe_ends_quietly(command: str, status: int, tmp_path: Path) -> None:
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written: every write fails
    try:
        proc = _subprocess([command, _arg_log(tmp_path)], stdout=write_end)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (status, "")


def test_check_on_dev_full_is_unknown(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = _subprocess(["check", _arg_log(tmp_path)], stdout=full)
    assert proc.returncode == 3
    assert proc.stderr.startswith("claude-top check: ") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(("command", "status"), [("summary", 1), ("check", 3), ("prices", 1)])
def test_internal_error_is_one_line_naming_it(
    command: str, status: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import claude_top.commands.main as main_module

    def broken(_a: object) -> int:
        raise RuntimeError("a bug \x1b[31m")

    monkeypatch.setattr(main_module, "_command", lambda _name: broken)
    monkeypatch.delenv("CLAUDE_TOP_TRACEBACK", raising=False)
    args = [command] if command == "prices" else [command, _arg_log(tmp_path)]
    rc, out, err = _run(args)
    assert (rc, out) == (status, "")
    assert err.count("\n") == 1 and "internal error: RuntimeError: a bug ^[[31m" in err
    assert "report" in err and _no_raw_control(err)


def test_demo_out_unwritable_is_a_user_mistake(tmp_path: Path) -> None:
    rc, _out, err = _run(["demo", "--no-tui", "--out", str(tmp_path / "no" / "\x1b[31m.log")])
    assert rc == 2 and err.count("\n") == 1 and err.startswith("claude-top: --out: "), err
    assert _no_raw_control(err)


def test_internal_error_without_a_message_reads_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import claude_top.commands.main as main_module

    def broken(_a: object) -> int:
        raise MemoryError

    monkeypatch.setattr(main_module, "_command", lambda _name: broken)
    monkeypatch.delenv("CLAUDE_TOP_TRACEBACK", raising=False)
    rc, _out, err = _run(["summary", _arg_log(tmp_path)])
    assert rc == 1 and "internal error: MemoryError (please report it" in err, err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_on_a_terminal_shows_names_escaped_and_exact_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(good(feature="x\x1b[2Jy") + b"\n")
    args = ["summary", "--format", "csv", str(path)]
    screen = _Terminal()
    with redirect_stdout(screen), redirect_stderr(io.StringIO()):
        assert main(args) == 0
    assert "x^[[2Jy" in screen.getvalue() and _no_raw_control(screen.getvalue())
    rc, out, _err = _run(args)
    assert rc == 0 and "x\x1b[2Jy" in out  # a file or a pipe gets the name as logged


@pytest.mark.parametrize(
    "args",
    [["--tz", ""], ["--day", ""], ["--since", ""], ["--until", ""], ["--now", ""]],
    ids=lambda a: a[0].lstrip("-") + "_empty",
)
def test_empty_values_are_refused_not_ignored(args: list[str], tmp_path: Path) -> None:
    rc, _out, err = _run(["summary", *args, _arg_log(tmp_path)])
    assert rc == 2 and err.count("\n") == 1 and args[0] in err, err


def test_empty_ui_tz_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_bytes(b'[ui]\ntz = ""\n')
    rc, _out, err = _run(["check", "--config", str(cfg), _arg_log(tmp_path)])
    assert rc == 3 and "ui.tz" in err, err
