"""The newest event of a set of logs, from their ends: what anchors an old log's replay."""

from __future__ import annotations

import gzip
from pathlib import Path

from claude_top.ingest.reader import timestamp_of
from claude_top.sources.newest import newest_event


def _rec(ts: float) -> str:
    return (
        f'{{"timestamp": {ts}, "feature": "f", "model": "claude-sonnet-4-6", '
        f'"input_tokens": 1, "output_tokens": 1, "latency_ms": 1}}\n'
    )


def test_newest_is_the_last_record_of_the_newest_file(tmp_path: Path) -> None:
    a = tmp_path / "a.log"
    a.write_text(_rec(1000) + _rec(2000) + "a traceback line\n\n")
    b = tmp_path / "b.log"
    b.write_text(_rec(1500))
    assert newest_event([str(a), str(b)], timestamp_of) == 2000


def test_a_long_file_is_read_from_its_end_only(tmp_path: Path) -> None:
    a = tmp_path / "a.log"
    a.write_text("".join(_rec(float(i)) for i in range(5000)))
    assert newest_event([str(a)], timestamp_of, tail=4096) == 4999.0


def test_nothing_to_say_for_pipes_gzip_and_logs_without_records(tmp_path: Path) -> None:
    g = tmp_path / "a.log.1.gz"
    g.write_bytes(gzip.compress(_rec(1000).encode()))
    junk = tmp_path / "junk.log"
    junk.write_bytes(b"\x00\xff not json\n" * 10)
    assert newest_event(["-", str(g), str(junk), str(tmp_path / "missing")], timestamp_of) is None


def test_a_log_older_than_since_is_anchored_at_its_newest_event(tmp_path: Path) -> None:
    from claude_top.commands.live import _anchored_since

    a = tmp_path / "a.log"
    a.write_text(_rec(1_000_000) + _rec(1_000_500))
    now = 5_000_000.0
    since = now - 8 * 86400
    assert _anchored_since([str(a)], since, now, timestamp_of) == 1_000_500 - 8 * 86400
    fresh = tmp_path / "fresh.log"
    fresh.write_text(_rec(now - 60))
    assert _anchored_since([str(fresh)], since, now, timestamp_of) == since
    assert _anchored_since(["-"], since, now, timestamp_of) == since
