"""Fixtures handing out the real servers of ``servers.py``; all are stopped when the test ends.

``prometheus``, ``alertmanager`` and ``sshd`` are factories, so one test can start several (two
ssh hosts, say); each server gets its own temporary directory and port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import pytest

from integration.servers import (
    Alertmanager,
    Promtool,
    Sshd,
    require_binary,
)


class _Server(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


S = TypeVar("S", bound=_Server)


def _started(make: Callable[..., S]) -> Iterator[Callable[..., S]]:
    """A factory that starts what ``make`` builds, and stops all of it at teardown."""
    servers: list[S] = []

    def start(*args: object, **kwargs: object) -> S:
        server = make(*args, **kwargs)
        servers.append(server)  # before start: a server that fails to start is still stopped
        server.start()
        return server

    try:
        yield start
    finally:
        for server in reversed(servers):
            server.stop()


@pytest.fixture
def promtool() -> Promtool:
    return Promtool(require_binary("promtool"))


@pytest.fixture
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Alertmanager]]:
    """``alertmanager()``: a started one, its ``webhook`` recording every notification."""
    binary = require_binary("prometheus-alertmanager", "alertmanager")
    yield from _started(lambda: Alertmanager(binary, tmp_path_factory.mktemp("alertmanager")))


@pytest.fixture
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Sshd]]:
    """``sshd()``: a started one this user can log in to with ``ssh_argv`` or its ``key``."""
    binary, keygen = require_binary("sshd"), require_binary("ssh-keygen")
    require_binary("ssh")
    yield from _started(lambda: Sshd(binary, keygen, tmp_path_factory.mktemp("sshd")))
