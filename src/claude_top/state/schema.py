"""The state file's tables, spelled once: the DDL, the schema version and the column order.

A state file is an SQLite database marked with ``application_id`` (so a foreign database is
told from ours) and ``user_version`` (the schema version; a newer one is never written over).
New kinds of histogram are rows of ``histograms`` with a new ``kind``, and new counters are new
columns with a default: both additive, so they bump ``SCHEMA`` only when an older reader would
misread the file. The README's "State" section documents these tables for ad-hoc queries.
"""

from __future__ import annotations

APPLICATION_ID = 0x436C5470
"""``PRAGMA application_id``: "ClTp"."""
SCHEMA = 7
"""``PRAGMA user_version`` of the files this version writes and reads (2: ``streams`` and
``app_costs``; 3: ``server_tools``; 4: ``calls.cost``; 5: ``hour_sums``; 6: ``headroom``; 7:
``bursts``; an older file is upgraded in place by ``MIGRATIONS``)."""

PRICES_KEY = "prices"
"""``meta`` key: the digest of the price table every ``calls.cost`` was computed with
(``PriceTable.digest``). A writer with another table prices every row again before it commits
(``state.save``), so a cost in the file is always at the table its ``meta`` names; a reader
with another table does not use them."""

LATENCY = "latency_ms"
"""``histograms.kind`` of the call latency histogram."""

CALL_COUNTERS = (
    "calls",
    "errors",
    "rate_limited",
    "overloaded",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "latency_sum_ms",
    "max_tokens_stops",
    "latency_clamped",
    "no_user_calls",
)
"""``calls`` columns after the key, in the order of the engine's group row slots 0..12."""

USER_COUNTERS = (
    "calls",
    "errors",
    "rate_limited",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
)
"""``users`` columns after the key, in the order of the engine's user row slots 0..7."""


STREAM_KEYS = ("feature", "model")
STREAM_VALUES = ("streams", "rated_calls", "ttft_ms", "output_tokens_per_s")
"""``streams`` columns after the key: streamed calls, of them calls with an output rate, and the
two HDR histograms (milliseconds to the first token; output tokens per second after it)."""
STREAM_INTS = ("streams", "rated_calls")
APP_COST_KEYS = ("feature", "model", "variant")
APP_COST_VALUES = (
    "calls",
    "nano_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
)
"""``app_costs`` columns after the key, in the order of ``engine.app_cost``'s row slots: calls
that logged a cost, the sum of what they logged (in nano-dollars, each call's rounded: an exact
sum in any order) and their tokens (to price them)."""
APP_COST_INTS = APP_COST_VALUES
TOOL_KEYS = ("feature", "model", "variant")
TOOL_VALUES = ("calls", "web_search_requests", "web_fetch_requests")
"""``server_tools`` columns after the key, in the order of ``engine.server_tools``'s row slots:
calls that used a server tool, and their requests of each tool."""
REALS: tuple[str, ...] = ()
"""Columns of real numbers (none since schema 3)."""


def _columns(names: tuple[str, ...]) -> str:
    return ",\n  ".join(f"{n} INTEGER NOT NULL DEFAULT 0" for n in names)


def _side(table: str, keys: tuple[str, ...], values: tuple[str, ...], ints: tuple[str, ...]) -> str:
    key_cols = ",\n  ".join(f"{k} {'INTEGER' if k == 'variant' else 'TEXT'} NOT NULL" for k in keys)
    val_cols = ",\n  ".join(
        f"{v} INTEGER NOT NULL DEFAULT 0"
        if v in ints
        else (f"{v} REAL NOT NULL DEFAULT 0" if v in REALS else f"{v} BLOB")
        for v in values
    )
    pk = ", ".join(("start", "width", *keys))
    return (
        f"CREATE TABLE {table} (\n  start INTEGER NOT NULL,\n  width INTEGER NOT NULL,\n"
        f"  {key_cols},\n  {val_cols},\n  PRIMARY KEY ({pk})\n) WITHOUT ROWID;"
    )


SIDE_DDL = "\n".join(
    (
        _side("streams", STREAM_KEYS, STREAM_VALUES, STREAM_INTS),
        _side("app_costs", APP_COST_KEYS, APP_COST_VALUES, APP_COST_INTS),
    )
)
"""The side stores' tables (``state.side``) new in schema 2 (``app_costs`` as schema 3 has it)."""
TOOLS_DDL = _side("server_tools", TOOL_KEYS, TOOL_VALUES, TOOL_VALUES)
"""New in schema 3."""

_V2_APP_COSTS = """
CREATE TABLE app_costs (
  start INTEGER NOT NULL, width INTEGER NOT NULL,
  feature TEXT NOT NULL, model TEXT NOT NULL, variant INTEGER NOT NULL,
  calls INTEGER NOT NULL DEFAULT 0, usd REAL NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0, cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (start, width, feature, model, variant)
) WITHOUT ROWID;"""
"""Schema 2's ``app_costs``, dollars as reals (as written then: migrations replay history)."""
_V2 = _side("streams", STREAM_KEYS, STREAM_VALUES, STREAM_INTS) + _V2_APP_COSTS
_TOKENS = (
    "input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens"
)
_V3 = (
    TOOLS_DDL
    + "ALTER TABLE app_costs RENAME TO app_costs_v2;"
    + _side("app_costs", APP_COST_KEYS, APP_COST_VALUES, APP_COST_INTS)
    + f"INSERT INTO app_costs SELECT start, width, feature, model, variant, calls, "
    f"CAST(round(usd * 1e9) AS INTEGER), {_TOKENS} FROM app_costs_v2;" + "DROP TABLE app_costs_v2;"
)


DDL = f"""
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE calls (
  start INTEGER NOT NULL,
  width INTEGER NOT NULL,
  feature TEXT NOT NULL,
  model TEXT NOT NULL,
  variant INTEGER NOT NULL,
  {_columns(CALL_COUNTERS)},
  errors_by_type TEXT,
  cost INTEGER,
  PRIMARY KEY (start, width, feature, model, variant)
) WITHOUT ROWID;
CREATE TABLE histograms (
  start INTEGER NOT NULL,
  width INTEGER NOT NULL,
  feature TEXT NOT NULL,
  model TEXT NOT NULL,
  variant INTEGER NOT NULL,
  kind TEXT NOT NULL,
  hdr BLOB NOT NULL,
  PRIMARY KEY (start, width, feature, model, variant, kind)
) WITHOUT ROWID;
CREATE TABLE users (
  day INTEGER NOT NULL,
  user TEXT NOT NULL,
  feature TEXT NOT NULL,
  model TEXT NOT NULL,
  variant INTEGER NOT NULL,
  {_columns(USER_COUNTERS)},
  PRIMARY KEY (day, user, feature, model, variant)
) WITHOUT ROWID;
CREATE TABLE line_health (
  what TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE rejected_examples (
  seq INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  lineno INTEGER NOT NULL,
  reason TEXT NOT NULL,
  line TEXT NOT NULL
);
CREATE TABLE events (
  kind TEXT NOT NULL,
  seq INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (kind, seq)
) WITHOUT ROWID;
CREATE TABLE sources (
  head BLOB PRIMARY KEY,
  digest TEXT NOT NULL,
  path TEXT NOT NULL,
  offset INTEGER NOT NULL,
  lineno INTEGER NOT NULL,
  seen REAL NOT NULL
) WITHOUT ROWID;
""" + "\n".join((SIDE_DDL, TOOLS_DDL))

HOURS_DDL = f"""
CREATE TABLE hour_sums (
  hour INTEGER NOT NULL,
  feature TEXT NOT NULL,
  model TEXT NOT NULL,
  variant INTEGER NOT NULL,
  {_columns(CALL_COUNTERS)},
  cost INTEGER NOT NULL DEFAULT 0,
  unpriced INTEGER NOT NULL DEFAULT 0,
  missing INTEGER NOT NULL DEFAULT 0,
  error_types TEXT,
  PRIMARY KEY (hour, feature, model, variant)
) WITHOUT ROWID;
CREATE TABLE hours (
  hour INTEGER PRIMARY KEY
);
"""
"""A cache of the ``calls`` rows summed per UTC hour and key (``state.older``): ``cost`` the
priced rows' cost, ``unpriced`` the calls of rows without a price, ``missing`` rows without a
cost, ``error_types`` their error types as JSON objects joined by commas. ``hours`` lists the hours
summed (an hour without calls has no row). Every commit deletes the hours of the rows it writes
or deletes, so a summed hour is always the sum of its rows."""
DDL += HOURS_DDL

HEADROOM_DDL = """
CREATE TABLE headroom (
  second INTEGER NOT NULL,
  kind TEXT NOT NULL,
  class TEXT NOT NULL,
  name TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  itpm_tokens INTEGER NOT NULL DEFAULT 0,
  otpm_tokens INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (second, kind, class, name)
) WITHOUT ROWID;
"""
"""The rate-limit tracker's last minutes, per second (``state.rates``): per model class
(``kind`` 'class', ``name`` ''), and per class and user, feature or model (``name``), the
requests, ITPM tokens and (for a class) OTPM tokens counted in that second."""
DDL += HEADROOM_DDL

BURSTS_DDL = """
CREATE TABLE bursts (
  seq INTEGER PRIMARY KEY,
  class TEXT NOT NULL,
  start REAL NOT NULL,
  last_429 REAL NOT NULL,
  count INTEGER NOT NULL,
  features TEXT NOT NULL,
  users TEXT,
  drivers TEXT,
  partial INTEGER NOT NULL DEFAULT 0,
  open INTEGER NOT NULL DEFAULT 0
);
"""
"""The rate-limit tracker's 429 bursts (``state.bursts``): ``seq`` their order, oldest first
(negative: an open burst no longer among the kept), the model class, the first and newest
429's times, how many, the features that got them (JSON ``[[feature, n], ...]``), the top users
and features of the minute before (JSON ``[{"name", "tokens", "share", "requests"}, ...]``;
NULL: not tracked), whether that minute was only partly seen, and whether it is the open burst
of its class."""
DDL += BURSTS_DDL

MIGRATIONS = {
    1: (_V2, "streamed calls and the app's own cost"),
    2: (_V3, "server tool use"),
    3: ("ALTER TABLE calls ADD COLUMN cost INTEGER", ""),
    4: (HOURS_DDL, ""),
    5: (HEADROOM_DDL, "the rate-limit tracker's last minutes"),
    6: (BURSTS_DDL, "the 429 bursts"),
}
"""Schema N to N + 1: the statements, and what the lines counted before the upgrade lack (it
counts from the upgrade on; the upgrade says so once; "": nothing, as ``calls.cost``, which the
first commit after the upgrade fills in)."""

TABLES = (
    "meta",
    "calls",
    "histograms",
    "users",
    "line_health",
    "rejected_examples",
    "events",
    "sources",
    "streams",
    "app_costs",
    "server_tools",
    "hour_sums",
    "hours",
    "headroom",
    "bursts",
)
