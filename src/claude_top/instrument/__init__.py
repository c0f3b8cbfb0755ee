"""Make an app write claude-top's log: a drop-in wrapper around an ``anthropic`` client.

    import anthropic
    from claude_top.instrument import instrument

    client = instrument(anthropic.Anthropic(), log="app.log")       # or log=logging.getLogger(...)
    msg = client.messages.create(model=..., max_tokens=..., messages=[...],
                                 feature="search", user_id="u_42")

The wrapped client proxies every attribute to the real one. Its ``messages.create`` and
``messages.stream`` (sync and async) accept two extra keyword arguments, ``feature=`` and
``user_id=``, which are removed before the SDK sees them, and write exactly one JSON line per call.
Return values and exceptions are exactly what the unwrapped client gives (streams come back as a
subclass of the SDK's ``Stream`` / ``AsyncStream`` / ``MessageStreamManager`` that only observes).

Each line has ``timestamp`` (start of the call, ISO 8601 UTC, ms), ``request_id`` (ours, uuid4),
``api_request_id`` (the API's ``request-id``, or null), ``user_id`` (null when not given),
``feature`` (default ``"unknown"``), ``model`` (as requested), token counts (``input_tokens``,
``output_tokens``, ``cached_tokens``, ``cache_creation_tokens`` = 5-minute writes,
``cache_creation_1h_tokens``), ``latency_ms`` (start of the call to the end of the response or, for
streams, of the stream), ``stop_reason`` (null for failed calls), ``error`` (exception type name or
null) and ``error_status`` (HTTP status or null). When the response (success or error) carried
the headers: ``ratelimit_{requests,input_tokens,output_tokens}_{limit,remaining}``,
``ratelimit_tokens_remaining`` and ``retry_after_s``; a key is left out when its header is absent.

Writing never raises into the app: a line that cannot be written is counted
(``client.log_failures``, and ``total_log_failures()`` for the process). A file is written with
one ``os.write`` per line on an ``O_APPEND`` descriptor, so threads, tasks and processes sharing
one file never interleave lines; it is reopened after rotation or removal, never left with a
line glued onto a partial one, and never blocks on a FIFO (``logfile`` says how). A ``Logger``
gets INFO records whatever its own level (``sink`` says how).

Only ``messages.create`` and ``messages.stream`` are instrumented; everything else (``beta``,
``messages.with_raw_response``, ``count_tokens``, batches ...) passes through untouched.
This package imports ``anthropic``; the rest of ``claude_top`` never imports it. Its modules:
``sink`` (writing, counting losses), ``logfile`` (the file itself), ``call`` (one call's
observation -> one line), ``streams`` (the stream wrappers around one observer core) and
``client`` (the proxy and ``instrument()``).
"""

from .client import InstrumentedClient, instrument
from .sink import LogSink, total_log_failures

__all__ = ["InstrumentedClient", "LogSink", "instrument", "total_log_failures"]
