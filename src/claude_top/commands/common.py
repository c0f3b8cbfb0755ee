"""Wiring every command shares: the config, the time zone, the clock, reading the logs.

Each turns the layer below's own error into a ``UserError``, so a mistake a user can make ends as
one line on stderr (``main`` prints it) and never as a traceback. Kept apart from ``main`` so a
command module never imports the dispatcher that imports it.
"""

from __future__ import annotations

from typing import Any

from claude_top.config.load import Config, load
from claude_top.core import gcpause
from claude_top.core.clock import Clock, FixedClock, SystemClock
from claude_top.core.errors import ConfigError, InputError, UserError
from claude_top.core.timeutil import TimeArgError, parse_time
from claude_top.engine.engine import Engine
from claude_top.ingest.mapping import LogFormat
from claude_top.sources.paths import expand, read_batches
from claude_top.sources.remote import is_url


def load_config(path: str | None) -> Config:
    """The config at ``path`` (or the default location), or a UserError naming the bad key."""
    try:
        return load(path)
    except ConfigError as e:
        raise UserError(str(e)) from None


def log_format(cfg: Config, preset: str | None) -> LogFormat:
    """How the logs are read: ``--preset`` over the config's ``[log]``."""
    try:
        return cfg.log_format(preset)
    except ConfigError as e:
        raise UserError(str(e)) from None


def time_zone(cfg: Config, name: str | None) -> Any:
    """The zone named by ``--tz``, else the config's, else UTC."""
    try:
        return cfg.timezone(name)
    except ConfigError as e:
        raise UserError(str(e)) from None


def make_clock(now: str | None, tz: Any) -> Clock:
    """The system clock, or a clock frozen at ``--now``."""
    if now is None:
        return SystemClock()
    try:
        return FixedClock(parse_time(now, SystemClock().now(), tz))
    except TimeArgError as e:
        raise UserError(f"--now: {e}") from None


def read_all(engine: Engine, specs: list[str], *, split: bool = False) -> None:
    """Feed every named input to the engine, oldest rotated file first.

    With ``split`` a big plain file is read on two cores (``parallel``); only for views that
    need no per-call state besides the counts (``summary``: not the headroom tracker).
    """
    urls = [spec for spec in specs if is_url(spec)]
    try:
        paths = expand([spec for spec in specs if not is_url(spec)])
    except InputError as e:
        raise UserError(str(e)) from None
    if split:  # the process pool only when asked: ``check`` from cron starts in a blink
        from claude_top.engine import merge as parallel
    with gcpause.loading():  # long-lived rows, no cycles
        for path in paths:
            try:
                if split and parallel.can_split(path):
                    parallel.read_split(engine, path)
                    continue
                for batch in read_batches(path, engine.count_overlong):
                    engine.ingest(batch)
            except InputError as e:
                raise UserError(str(e)) from None
        if urls:
            read_remote(engine, urls)
        engine.compact()


def read_remote(engine: Engine, urls: list[str]) -> None:
    """Read ``ssh://`` and ``cmd://`` sources once, to their end, through a one-shot follower
    (the same readers as following: retries and resume included); a source that could not be
    read to its end is a ``UserError`` naming it (``check``: could not check)."""
    from claude_top.sources.follow import Follower
    from claude_top.sources.remote import shown_source

    try:
        follower = Follower(
            urls,
            engine.ingest,
            since=engine.since,
            ts_of=engine.timestamp_of,
            poll_interval=0.1,
            use_watcher=False,
            on_overlong=engine.count_overlong,
            follow=False,
        )
    except InputError as e:
        raise UserError(str(e)) from None
    follower.start()
    try:
        follower.wait_history()
    finally:
        follower.stop(10)
    if follower.error is not None:
        raise UserError(f"reading stopped: {follower.error}")
    for status in follower.statuses:
        if status.state == "error":
            raise UserError(f"{shown_source(status.path)}: {status.message}")
