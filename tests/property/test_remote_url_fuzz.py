"""Hostile source URLs: parsing never crashes, never lets text become an ssh option, and every
value survives the trip into the remote script exactly (``sources.remote``, ``remote_script``)."""

from __future__ import annotations

import contextlib
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.core.errors import InputError
from claude_top.sources.follow.remote_script import parse_header
from claude_top.sources.remote import SshSource, host_of, parse, sh_quote, shown_source, ssh_argv

TEXT = st.text(
    st.characters(min_codepoint=1, max_codepoint=0x2FF) | st.sampled_from("%@:/[]~-'\"$`\\\n")
)


def _visible(text: str) -> bool:
    """No control character (C0, DEL, C1) is left to reach a terminal."""
    return not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


@given(TEXT)
def test_any_ssh_url_parses_or_is_an_input_error(rest: str) -> None:
    url = "ssh://" + rest
    try:
        src = parse(url)
    except InputError as e:
        assert "\n" not in str(e) and "\x1b" not in str(e)
        return
    assert isinstance(src, SshSource)
    assert not src.host.startswith("-") and not (src.user or "").startswith("-")
    argv = ssh_argv(src, "exec sh -s")
    assert argv[-3:] == ["--", src.host, "exec sh -s"]
    assert host_of(url) == src.label
    assert _visible(shown_source(url))


@given(TEXT)
def test_any_cmd_url_parses_or_is_an_input_error(rest: str) -> None:
    with contextlib.suppress(InputError):
        parse("cmd://" + rest)
    assert _visible(shown_source("cmd://" + rest))


@settings(max_examples=30, deadline=None)
@given(st.text(st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=40))
def test_sh_quote_gives_sh_the_exact_value(value: str) -> None:
    script = f"V={sh_quote(value)}\nprintf '%s' \"$V\"\n"
    out = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, timeout=10)
    assert out.stdout.decode() == value


@given(st.binary(max_size=200))
def test_a_garbled_header_is_a_value_error(line: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_header(line)
