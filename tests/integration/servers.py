"""Real Prometheus, promtool, Alertmanager and sshd, started by the tests themselves on 127.0.0.1.

The fleet features (issue 14) are only proven against the real components, so the tests run
them: each server gets a free port and its own temporary directory, is ready only once its API or
port answers, and is stopped (with every process it forked, see ``processes.py``) however the
test ends. Every wait is bounded; a server that dies while starting fails at once with its log.

A binary that is not installed skips the test on a developer's machine; under ``CI=true`` it
fails, so CI can never pass by skipping. ``.ci/run`` installs the Debian packages. The fixtures
that hand these out live in ``conftest.py`` beside this module.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from integration.processes import WAIT_TIMEOUT, Process, ServerError, wait_until

HOST = "127.0.0.1"
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_binary(*names: str) -> str:
    """The first of ``names`` found (PATH, then sbin); skip if none is, or fail under CI."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
    for name in names:
        if found := shutil.which(name, path=search):
            return found
    reason = f"{' or '.join(names)} is not installed (Debian: see the apt-get step in .ci/run)"
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so this cannot be skipped", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def http_json(url: str, body: Any = None, method: str | None = None) -> Any:
    """The decoded JSON answer of ``url`` (POSTing ``body`` as JSON when given)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text.strip() else None


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now (a readiness probe: refused or failing is just False)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class _ReadyServer:
    """What Prometheus and Alertmanager share: a port, a work folder, one process, ``/-/ready``."""

    NAME = ""

    def __init__(self, binary: str, workdir: Path, config: dict[str, Any]) -> None:
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.config = workdir / f"{self.NAME.lower()}.yml"
        self.config.write_text(json.dumps(config, indent=2))  # JSON is YAML
        self.process: Process | None = None

    def flags(self) -> list[str]:
        """The flags besides the config file and the listen address."""
        raise NotImplementedError

    def start(self) -> None:
        listen = f"--web.listen-address={HOST}:{self.port}"
        argv = [self.binary, f"--config.file={self.config}", listen, *self.flags()]
        self.process = Process(argv, self.workdir / f"{self.NAME.lower()}.log")
        self.process.wait_ready(lambda: answers(f"{self.base_url}/-/ready"), f"{self.NAME} ready")

    def stop(self) -> None:
        if self.process:
            self.process.stop()


class Prometheus(_ReadyServer):
    """A Prometheus scraping ``scrape_targets`` (``host:port``) as job ``claude-top``.

    Its first scrape comes about 5 s after each (re)start: service discovery hands targets over
    at most every 5 s, which no flag of this version changes. Wait with ``wait_for_value``.
    """

    NAME, JOB = "Prometheus", "claude-top"

    def __init__(
        self,
        binary: str,
        workdir: Path,
        scrape_targets: Iterable[str],
        rule_files: Iterable[Path] | None = None,
        scrape_interval: str = "1s",
    ) -> None:
        every = {"scrape_interval": scrape_interval, "scrape_timeout": scrape_interval}
        config = {
            "global": {**every, "evaluation_interval": scrape_interval},
            "rule_files": [str(path) for path in rule_files or ()],
            "scrape_configs": [
                {"job_name": self.JOB, "static_configs": [{"targets": list(scrape_targets)}]}
            ],
        }
        super().__init__(binary, workdir, config)

    def flags(self) -> list[str]:
        return [f"--storage.tsdb.path={self.workdir / 'data'}", "--web.enable-lifecycle"]

    def restart(self) -> None:
        """Stop and start again on the same port and data: the series it holds survive."""
        self.stop()
        self.start()

    def query(self, promql: str, time: float | None = None) -> dict[str, Any]:
        """The ``data`` of an instant query (``resultType``, ``result``) over the HTTP API."""
        params = {"query": promql} | ({} if time is None else {"time": repr(time)})
        url = f"{self.base_url}/api/v1/query?{urllib.parse.urlencode(params)}"
        answer = http_json(url)
        if answer.get("status") != "success":
            raise ServerError(f"query {promql!r} failed: {answer}")
        return dict(answer["data"])

    def value(self, promql: str, time: float | None = None) -> float | None:
        """The value of a query that yields one sample or a scalar; None when it yields none."""
        data = self.query(promql, time)
        if data["resultType"] == "scalar":
            return float(data["result"][1])
        samples = data["result"]
        if len(samples) > 1:
            raise ServerError(f"query {promql!r} yields {len(samples)} series, not one")
        return float(samples[0]["value"][1]) if samples else None

    def wait_for_value(self, promql: str, timeout: float = WAIT_TIMEOUT) -> float:
        """The query's value once it has one (after the first scrapes or rule evaluations)."""
        return wait_until(lambda: self.value(promql), f"{promql!r} to have a value", timeout)


class Promtool:
    """``promtool``'s checks; each returns the finished process (``returncode``, output)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args], input=stdin, capture_output=True, text=True, timeout=60
        )

    def check_metrics(self, exposition: str) -> subprocess.CompletedProcess[str]:
        return self.run("check", "metrics", stdin=exposition)

    def check_rules(self, *files: Path) -> subprocess.CompletedProcess[str]:
        return self.run("check", "rules", *map(str, files))

    def test_rules(self, *files: Path) -> subprocess.CompletedProcess[str]:
        return self.run("test", "rules", *map(str, files))


class WebhookReceiver:
    """An in-process HTTP server recording every JSON body POSTed to it, in order."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        record = self._record

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                record(json.loads(self.rfile.read(length) or b"null"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the recorded bodies are the log."""

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.received.append(body)

    def notifications(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)

    def wait_for(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float = WAIT_TIMEOUT
    ) -> dict[str, Any]:
        """The first notification ``matches`` accepts, waiting for it to arrive."""

        def first() -> dict[str, Any] | None:
            return next((body for body in self.notifications() if matches(body)), None)

        return wait_until(first, "a matching webhook notification", timeout)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


class Alertmanager(_ReadyServer):
    """An Alertmanager (no clustering) routing every alert to its own ``webhook``, resolved too.

    Groups by ``alertname`` and flushes every second, so a posted alert and its resolution reach
    the webhook within about a second each.
    """

    NAME = "Alertmanager"

    def __init__(self, binary: str, workdir: Path) -> None:
        self.webhook = WebhookReceiver()
        route = {"group_by": ["alertname"], "group_wait": "0s", "group_interval": "1s"}
        receiver = {"url": self.webhook.url, "send_resolved": True}
        config = {
            "route": {"receiver": "webhook", "repeat_interval": "1h", **route},
            "receivers": [{"name": "webhook", "webhook_configs": [receiver]}],
        }
        super().__init__(binary, workdir, config)

    def flags(self) -> list[str]:
        return [f"--storage.path={self.workdir / 'data'}", "--cluster.listen-address="]

    def stop(self) -> None:
        super().stop()
        self.webhook.close()

    def post(self, alerts: list[dict[str, Any]]) -> None:
        """POST ``alerts`` to the v2 API, as a client such as ``claude-top serve`` would."""
        http_json(f"{self.base_url}/api/v2/alerts", alerts, method="POST")

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds now (v2 API)."""
        return list(http_json(f"{self.base_url}/api/v2/alerts"))


class Sshd:
    """An sshd on a free port letting this user in with a key generated for it alone.

    Its host key, client key, ``authorized_keys`` (in a temporary home), config and pid file are
    all in ``workdir``. ``kill()`` drops it and every open session at once, as a lost host would;
    ``restart()`` brings it back on the same port with the same keys.
    """

    def __init__(self, binary: str, keygen: str, workdir: Path) -> None:
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.user = getpass.getuser()
        self.home = workdir / "home"
        (self.home / ".ssh").mkdir(parents=True)
        host_key, self.key = workdir / "host_key", workdir / "client_key"
        for key in (host_key, self.key):
            generate = [keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)]
            subprocess.run(generate, check=True, capture_output=True, timeout=30)
        authorized = self.home / ".ssh" / "authorized_keys"
        authorized.write_text(self.key.with_suffix(".pub").read_text())
        self.config = workdir / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress {HOST}\nHostKey {host_key}\n"
            f"PidFile {workdir / 'sshd.pid'}\nAuthorizedKeysFile {authorized}\nAllowUsers {self.user}\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nUseDNS no\n"
            "PrintMotd no\nPrintLastLog no\nLogLevel VERBOSE\n"
            # bash sources ~/.bashrc for a command run over ssh only in a top-level shell; a
            # session that starts one level down runs just the command, whatever the user's rc
            # files do (a pyenv rehash lock left by a killed session once hung every later one).
            "SetEnv SHLVL=1\n"
        )
        self.client_config = workdir / "ssh_config"
        self.client_config.write_text(
            f"Host *\n  HostName {HOST}\n  Port {self.port}\n  User {self.user}\n"
            f"  IdentityFile {self.key}\n  IdentitiesOnly yes\n  BatchMode yes\n"
            "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
        )
        self.process: Process | None = None

    def start(self) -> None:
        if os.geteuid() == 0:  # root's sshd drops privileges into this folder; Debian makes it
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.process = Process(
            [self.binary, "-D", "-e", "-f", str(self.config)], self.workdir / "sshd.log"
        )
        self.process.wait_ready(self._greets, f"sshd on port {self.port}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=2) as connection:
                return connection.recv(8).startswith(b"SSH-")
        except OSError:
            return False

    def ssh_argv(self, *remote: str) -> list[str]:
        """The ``ssh`` command running ``remote`` there, reading no other ssh config."""
        return ["ssh", "-F", str(self.client_config), f"{self.user}@{HOST}", *remote]

    def kill(self) -> None:
        """SIGKILL sshd and its sessions: every connection drops, new ones are refused."""
        if self.process:
            self.process.stop(signal.SIGKILL)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process:
            self.process.stop()
