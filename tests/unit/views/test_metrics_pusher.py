"""Pushing to Alertmanager: new alerts and resolutions at once, re-sent while firing, failures
said once on stderr and retried, never raised."""

from __future__ import annotations

from typing import Any

import pytest

from claude_top.commands.alertpush import AlertPusher, api_url, push_once
from claude_top.commands.exporter import parse_address
from claude_top.core.errors import UserError
from claude_top.rules.evaluate import Alert

T = 1_800_000_000.0


def alert(scope: str = "chat", rule: str = "error_rate") -> Alert:
    return Alert(rule, scope, "critical", 12.0, 5.0, "10m", T, f"{scope}: 12% errors")


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[list[dict[str, Any]]] = []
        self.fail = False

    def __call__(self, url: str, body: list[dict[str, Any]]) -> None:
        if self.fail:
            raise OSError("connection refused")
        self.bodies.append(body)


def test_new_resend_and_resolve(capsys: pytest.CaptureFixture[str]) -> None:
    post = Recorder()
    p = AlertPusher("http://am:9093/", "claude-top serve", post=post, resend_s=60)
    p.update([], T)
    assert post.bodies == []
    p.update([alert()], T)
    [sent] = post.bodies[-1]
    assert sent["labels"] == {
        "alertname": "error_rate",
        "feature": "chat",
        "severity": "critical",
        "service": "claude-top",
    }
    assert sent["startsAt"] == "2027-01-15T08:00:00Z" and sent["endsAt"] > sent["startsAt"]
    assert sent["annotations"]["summary"] == "chat: 12% errors"
    p.update([alert()], T + 10)
    assert len(post.bodies) == 1  # unchanged, not yet due
    p.update([alert()], T + 61)
    assert len(post.bodies) == 2  # re-sent while firing
    p.update([], T + 70)
    [resolved] = post.bodies[-1]
    assert resolved["endsAt"] == "2027-01-15T08:01:10Z"
    p.update([], T + 200)
    assert len(post.bodies) == 3
    assert capsys.readouterr().err == ""


def test_a_failing_push_is_said_once_retried_and_never_raised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    post = Recorder()
    results: list[bool] = []
    p = AlertPusher("http://am:9093", "claude-top serve", post=post, on_result=results.append)
    post.fail = True
    p.update([alert()], T)
    p.update([], T + 0.5)  # within the backoff: not tried
    p.update([], T + 5)
    err = capsys.readouterr().err
    assert err.count("push failed: OSError: connection refused; retrying") == 1
    assert results == [False, False]
    post.fail = False
    p.update([], T + 30)
    [resolved] = post.bodies[-1]
    assert resolved["labels"]["alertname"] == "error_rate" and "endsAt" in resolved
    assert "pushing again" in capsys.readouterr().err
    assert results[-1] is True


def test_check_pushes_once_without_ends_at() -> None:
    post = Recorder()
    assert push_once("http://am", [alert("*"), alert("rag")], "claude-top check", post=post)
    assert [a["labels"]["feature"] for a in post.bodies[0]] == ["*", "rag"]
    assert all("endsAt" not in a for a in post.bodies[0])
    post.fail = True
    assert not push_once("http://am", [alert()], "claude-top check", post=post)


def test_scope_labels_and_urls() -> None:
    p = AlertPusher("http://am/api/v2/alerts", "x", post=Recorder())
    assert p.url == api_url("http://am") == "http://am/api/v2/alerts"
    post = Recorder()
    push_once(
        "http://am", [alert("sonnet-4", "headroom"), alert("/var/log/a", "source")], "x", post
    )
    assert post.bodies[0][0]["labels"]["model_class"] == "sonnet-4"
    assert post.bodies[0][1]["labels"]["source"] == "/var/log/a"
    assert parse_address("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_address(":0") == ("0.0.0.0", 0)
    assert parse_address("[::1]:80") == ("::1", 80)
    with pytest.raises(UserError):
        parse_address("localhost")


def test_a_reader_problem_is_named_reader_as_in_the_rule_file() -> None:
    post = Recorder()
    push_once("http://am", [alert("*", "source")], "x", post)
    assert post.bodies[0][0]["labels"]["source"] == "reader"
