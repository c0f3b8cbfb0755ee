"""Remote sources named as URLs: ``ssh://[user@]host[:port]/path`` and ``cmd://[LABEL] command``.

Why a module of its own: a source name is user input that ends up in an ``ssh`` command line, a
remote shell script and on the terminal, so the grammar is spelled once, strictly, here:

* ``ssh://[user@]host[:port]/path`` reads ``/path`` on ``host`` through the user's own ``ssh``
  (their config, keys and agent; ``BatchMode=yes``, so never a password prompt). ``%XX`` escapes
  are decoded in the user, host and path (``%20`` for a space, ``%25`` for ``%``); ``*``, ``?``
  and ``[...]`` in the path are a glob expanded on the remote host; a path starting ``/~/`` is
  relative to the remote home. There is no query or fragment: ``?`` and ``#`` are part of the
  path. A host is a name, an IPv4 address or ``[IPv6]``; neither user nor host may start with
  ``-`` (it would be read as an ``ssh`` option).
* ``cmd://COMMAND`` runs ``COMMAND`` here and reads its standard output (``cmd://kubectl logs
  -f deploy/app``). The command line is split the way a POSIX shell splits words (quotes and
  backslashes), but no shell runs it: no pipes, globs or ``$VAR``; write ``cmd://sh -c '...'``
  for those. An optional ``[LABEL]`` first names its host (``cmd://[prod] kubectl logs ...``).

Every source has a host (``host_of``): the host as written in an ``ssh://`` URL (with
``:port`` when one is written), a ``cmd://`` source's label, and ``local`` for local files,
stdin and unlabelled commands. The ``ssh`` program is ``ssh`` unless ``CLAUDE_TOP_SSH`` names
another command line (as ``GIT_SSH_COMMAND`` does for git), e.g. ``ssh -F ~/.ssh/fleet``.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from msgspec import Struct

from claude_top.core.errors import InputError
from claude_top.core.text import safe_text

SSH = "ssh://"
CMD = "cmd://"
LOCAL_HOST = "local"
"""The host of local files, stdin and unlabelled commands."""
SSH_ENV = "CLAUDE_TOP_SSH"
SSH_OPTIONS = (
    "-T",
    "-o",
    "BatchMode=yes",
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=3",
    "-o",
    "ConnectTimeout=10",
)
"""No tty, never a prompt, and a dead connection noticed within about 15 s."""

# Patterns, compiled by ``re`` on first use (its cache): only a remote source is parsed with
# them, and every start of a local ``check`` imports this module for ``is_url``.
_NAME = r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z"
_IPV6 = r"\[[0-9A-Fa-f:.]+\]\Z"
_USER = r"[^\s@:/\x00-\x1f\x7f-][^\s@:/\x00-\x1f\x7f]*\Z"
_ESCAPE = rb"%([0-9A-Fa-f]{2})"


class SshSource(Struct, frozen=True):
    """A file (or glob) on a host reached with ``ssh``; ``name`` is the URL as written."""

    name: str
    user: str | None
    host: str
    port: int | None
    path: str

    @property
    def label(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def has_glob(self) -> bool:
        return any(c in self.path for c in "*?[")

    def at(self, path: str) -> str:
        """The source name of one remote file matched by this URL (the authority as written)."""
        authority = self.name[len(SSH) :].split("/", 1)[0]
        return f"{SSH}{authority}{path}"


class CmdSource(Struct, frozen=True):
    """A local command whose standard output is read as a log."""

    name: str
    argv: tuple[str, ...]
    host: str


def is_url(spec: str) -> bool:
    """Whether a command-line input names a remote source rather than a local path."""
    return spec.startswith((SSH, CMD))


def parse(spec: str) -> SshSource | CmdSource:
    """The source ``spec`` names; an ``InputError`` saying what is wrong otherwise."""
    if spec.startswith(SSH):
        return _parse_ssh(spec)
    if spec.startswith(CMD):
        return _parse_cmd(spec)
    raise InputError(f"{safe_text(spec, 80)}: not an ssh:// or cmd:// source")


def _decode(text: str, what: str, spec: str) -> str:
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise InputError(f"{safe_text(spec, 80)}: {what} has a bad %-escape")
    raw = re.sub(_ESCAPE, lambda m: bytes([int(m.group(1), 16)]), os.fsencode(text))
    if b"\x00" in raw:
        raise InputError(f"{safe_text(spec, 80)}: {what} holds a NUL byte")
    return os.fsdecode(raw)


def _parse_ssh(spec: str) -> SshSource:
    shown = safe_text(spec, 80)
    rest = spec[len(SSH) :]
    authority, slash, path = rest.partition("/")
    if not slash or not path:
        raise InputError(f"{shown}: no path (ssh://[user@]host[:port]/path)")
    user: str | None = None
    if "@" in authority:
        user_text, _, authority = authority.rpartition("@")
        user = _decode(user_text, "the user", spec)
        if not re.match(_USER, user):
            raise InputError(f"{shown}: the user is not a plain login name")
    port: int | None = None
    host = authority
    if authority.startswith("["):
        end = authority.find("]")
        host, tail = authority[: end + 1], authority[end + 1 :] if end >= 0 else ""
        if end < 0 or not re.match(_IPV6, host):
            raise InputError(f"{shown}: a bracketed host must be an IPv6 address")
        if tail:
            if not tail.startswith(":"):
                raise InputError(f"{shown}: unexpected text after the host")
            port = _port(tail[1:], shown)
    else:
        if ":" in authority:
            host, _, port_text = authority.rpartition(":")
            port = _port(port_text, shown)
        host = _decode(host, "the host", spec)
        if not re.match(_NAME, host):
            raise InputError(
                f"{shown}: the host must be a name or address (letters, digits, . _ -)"
            )
    decoded = _decode(path, "the path", spec)
    remote = decoded if decoded.startswith("~/") else "/" + decoded
    if remote == "~/":
        raise InputError(f"{shown}: no file named after the host")
    return SshSource(spec, user, host, port, remote)


def _port(text: str, shown: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise InputError(f"{shown}: the port must be a number from 1 to 65535")
    return int(text)


def _parse_cmd(spec: str) -> CmdSource:
    shown = safe_text(spec, 80)
    rest = spec[len(CMD) :].lstrip()
    host = LOCAL_HOST
    if rest.startswith("["):
        label, close, rest = rest[1:].partition("]")
        if not close or not re.match(_NAME, label):
            raise InputError(f"{shown}: a [LABEL] is letters, digits, . _ - in brackets")
        host = label
    import shlex  # only for a cmd:// source (as ``_NAME``)

    try:
        argv = tuple(shlex.split(rest))
    except ValueError as e:
        raise InputError(f"{shown}: {e}") from None
    if not argv:
        raise InputError(f"{shown}: no command")
    if "\x00" in rest:
        raise InputError(f"{shown}: the command holds a NUL byte")
    return CmdSource(spec, argv, host)


@lru_cache(maxsize=4096)
def host_of(source: str) -> str:
    """The host a source's lines come from (see the module docstring); never raises.

    Only the authority of an ``ssh://`` name is read, so the source names of glob matches
    (``SshSource.at``) map to their URL's host whatever their path holds."""
    if source.startswith(SSH):
        authority = source[len(SSH) :].split("/", 1)[0]
        try:
            return _parse_ssh(f"{SSH}{authority}/x").label
        except InputError:
            return safe_text(authority, 60)
    if source.startswith(CMD):
        try:
            return _parse_cmd(source).host
        except InputError:
            return LOCAL_HOST
    return LOCAL_HOST


def shown_source(source: str, width: int = 60) -> str:
    """A source as messages name it, made safe: a local file by its name, a remote file as
    ``host:name``, a command by its command line."""
    if source.startswith(SSH):
        base = source.rstrip("/").rsplit("/", 1)[-1]
        return safe_text(f"{host_of(source)}:{base}", width)
    if source.startswith(CMD):
        return safe_text(source, width)
    return safe_text(os.path.basename(source) or source, width)


def ssh_command() -> list[str]:
    """The ``ssh`` program and its own options (``CLAUDE_TOP_SSH``), before ours."""
    text = os.environ.get(SSH_ENV, "").strip()
    if not text:
        return ["ssh"]
    import shlex

    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise InputError(f"{SSH_ENV}: {e}") from None
    return argv or ["ssh"]


def ssh_argv(src: SshSource, remote_command: str) -> list[str]:
    """The full ``ssh`` command line running ``remote_command`` (a fixed string of ours) on the
    source's host. The user, port and host are separate arguments after ``--``; no text from
    the URL is ever part of the remote command (scripts read it from their standard input)."""
    argv = [*ssh_command(), *SSH_OPTIONS]
    if src.user is not None:
        argv += ["-l", src.user]
    if src.port is not None:
        argv += ["-p", str(src.port)]
    return [*argv, "--", src.host, remote_command]


def sh_quote(text: str) -> str:
    """``text`` as one word of a POSIX sh script (single quotes; ``'`` as ``'\\''``)."""
    return "'" + text.replace("'", "'\\''") + "'"
