"""Helpers for the state tests: log lines with every kind of line, and summaries as documents."""

from __future__ import annotations

import io
import json
import random
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import orjson

from claude_top.commands.main import main
from loggen import T0, random_calls


def chunk(n: int, seed: int, start: float = T0, span: float = 86400.0) -> bytes:
    """``n`` lines: calls of every kind (streamed, with the app's own cost, with server tools), plus a few
    foreign and rejected lines."""
    rnd = random.Random(seed)
    out: list[bytes] = []
    for d in random_calls(n, seed=seed, start=start, span=span):
        d["request_id"] = f"{seed}-{d['request_id']}"
        if rnd.random() < 0.3:  # a stream: the TTFT store
            d["ttft_ms"] = rnd.randint(40, max(41, d["latency_ms"]))
        if rnd.random() < 0.3:  # the app's own cost: the app-cost store
            d["cost_usd"] = round(rnd.uniform(0, 0.05), 6)
        if rnd.random() < 0.1:  # server tools: their store
            d["web_search_requests"] = rnd.randint(0, 3)
            d["web_fetch_requests"] = rnd.randint(0, 2)
        out.append(orjson.dumps(d))
        r = rnd.random()
        if r < 0.03:
            out.append(b"INFO:httpx:HTTP Request: POST https://api.anthropic.com 200")
        elif r < 0.05:
            out.append(b'{"timestamp": "2026-11-20T00:00:00Z", "feature": "chat"')
    return b"".join(line + b"\n" for line in out)


def run(*argv: str) -> tuple[int, str, str]:
    """``claude-top ARGV`` in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def summary(*argv: str) -> dict[str, Any]:
    status, out, err = run("summary", *argv, "--format", "json", "--jobs", "1")
    assert status == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def _no_sources(doc: dict[str, Any], keep: bool) -> dict[str, Any]:
    """Without the per-source format table: a cold read over witness copies names other files
    than the ones the state read (``keep`` when the names are the same)."""
    if not keep:
        doc["lines"].pop("formats", None)
    return doc


def cold(paths: list[Path], *extra: str, sources: bool = False) -> dict[str, Any]:
    """The summary of ``paths`` read from scratch, without a state."""
    return _no_sources(summary(*(str(p) for p in paths), *extra), sources)


def warm(state: Path, specs: list[str], *extra: str, sources: bool = False) -> dict[str, Any]:
    return _no_sources(summary(*specs, "--state", str(state), *extra), sources)


def events(state: Path) -> list[tuple[str, str]]:
    """The recent events a state file holds, in a stable order, to compare two files."""
    conn = sqlite3.connect(state)
    try:
        return conn.execute("SELECT kind, record FROM events ORDER BY kind, seq").fetchall()
    finally:
        conn.close()
