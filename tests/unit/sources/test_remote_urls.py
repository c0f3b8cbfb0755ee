"""The ``ssh://`` and ``cmd://`` grammar (``sources.remote``): what parses, to what, and what not."""

from __future__ import annotations

import pytest

from claude_top.core.errors import InputError
from claude_top.sources.remote import (
    LOCAL_HOST,
    CmdSource,
    SshSource,
    host_of,
    parse,
    shown_source,
    ssh_argv,
)


@pytest.mark.parametrize(
    ("url", "user", "host", "port", "path"),
    [
        ("ssh://web1/var/log/app.log", None, "web1", None, "/var/log/app.log"),
        ("ssh://deploy@web1:2222/srv/app.log", "deploy", "web1", 2222, "/srv/app.log"),
        ("ssh://10.0.0.7/a.log", None, "10.0.0.7", None, "/a.log"),
        ("ssh://[::1]:22/a.log", None, "[::1]", 22, "/a.log"),
        ("ssh://web1/~/logs/app.log", None, "web1", None, "~/logs/app.log"),
        ("ssh://web1/my%20logs/app%25.log", None, "web1", None, "/my logs/app%.log"),
        ("ssh://web1/var/log/app-*.log?", None, "web1", None, "/var/log/app-*.log?"),
        ("ssh://a.b_c@web1/x", "a.b_c", "web1", None, "/x"),
    ],
)
def test_ssh_urls(url: str, user: str | None, host: str, port: int | None, path: str) -> None:
    src = parse(url)
    assert isinstance(src, SshSource)
    assert (src.user, src.host, src.port, src.path) == (user, host, port, path)


@pytest.mark.parametrize(
    "url",
    [
        "ssh://web1",  # no path
        "ssh://web1/",
        "ssh:///x",  # no host
        "ssh://-oProxyCommand=touch%20x/y",  # an option, not a host
        "ssh://-l@web1/x",  # an option, not a user
        "ssh://web1:0/x",
        "ssh://web1:65536/x",
        "ssh://web1:ab/x",
        "ssh://web 1/x",
        "ssh://[zz]/x",
        "ssh://web1/x%zz",
        "ssh://web1/x%00y",
        "ssh://web1/~/",
    ],
)
def test_bad_ssh_urls_are_one_line_errors(url: str) -> None:
    with pytest.raises(InputError) as e:
        parse(url)
    assert "\n" not in str(e.value)


def test_cmd_urls_split_like_a_shell_without_running_one() -> None:
    src = parse("cmd://kubectl logs -f 'deploy/my app' --since=1m")
    assert isinstance(src, CmdSource)
    assert src.argv == ("kubectl", "logs", "-f", "deploy/my app", "--since=1m")
    assert src.host == LOCAL_HOST
    labelled = parse("cmd://[prod-eu] journalctl -f -o cat")
    assert isinstance(labelled, CmdSource)
    assert (labelled.host, labelled.argv[0]) == ("prod-eu", "journalctl")
    for bad in ("cmd://", "cmd://   ", "cmd://'unclosed", "cmd://[bad label] x", "cmd://[x"):
        with pytest.raises(InputError):
            parse(bad)


def test_every_source_has_a_host() -> None:
    assert host_of("/var/log/app.log") == LOCAL_HOST
    assert host_of("-") == LOCAL_HOST
    assert host_of("ssh://deploy@web1/var/log/app.log") == "web1"
    assert host_of("ssh://web1:2222/var/log/app.log") == "web1:2222"
    assert host_of("cmd://[k8s] kubectl logs -f x") == "k8s"
    assert host_of("cmd://tail -f x") == LOCAL_HOST


def test_glob_matches_keep_their_urls_host_whatever_the_path_holds() -> None:
    src = parse("ssh://web1/var/log/*.log")
    assert isinstance(src, SshSource) and src.has_glob
    name = src.at("/var/log/a%zz@b:c.log")
    assert name == "ssh://web1/var/log/a%zz@b:c.log"
    assert host_of(name) == "web1"


def test_names_in_messages_are_made_safe() -> None:
    assert shown_source("ssh://web1/var/log/app.log") == "web1:app.log"
    shown = shown_source("ssh://web1/var/log/\x1b[31mred\x1b[0m.log")
    assert "\x1b" not in shown
    assert "\x1b" not in shown_source("cmd://echo '\x1b]0;title\x07'")


def test_ssh_argv_keeps_url_text_out_of_the_remote_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_TOP_SSH", raising=False)
    src = parse("ssh://deploy@web1:2222/srv/$(reboot).log")
    assert isinstance(src, SshSource)
    argv = ssh_argv(src, "exec sh -s")
    assert argv[0] == "ssh" and "BatchMode=yes" in argv
    assert argv[-3:] == ["--", "web1", "exec sh -s"]
    assert argv[argv.index("-l") + 1] == "deploy" and argv[argv.index("-p") + 1] == "2222"
    assert not any("reboot" in a for a in argv)
    monkeypatch.setenv("CLAUDE_TOP_SSH", "ssh -F '/my config'")
    assert ssh_argv(src, "x")[:3] == ["ssh", "-F", "/my config"]
