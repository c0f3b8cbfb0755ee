"""The log shapes claude-top reads without a word of configuration, as data.

Each preset is exactly what a user could write under ``[log]`` / ``[log.fields]`` /
``[log.values]`` (the grammar is ``ingest.mapping``'s), so a preset is a mapping like any other
and a user's ``[log.fields]`` overrides it field by field. A path list is tried in order; the
first value that is present and not null wins. Each shape is written from its documented form
(the README's "Presets" section shows one line of each):

* ``anthropic``: the app's own fields (``timestamp``, ``feature``, ``latency_ms``) beside what
  ``response.model_dump()`` writes: ``id``, ``model``, ``stop_reason`` and the ``usage`` object,
  whose ``input_tokens`` is *uncached* input only; the request's ``metadata.user_id``.
* ``openai-style``: ``usage.prompt_tokens`` (cache reads included), ``completion_tokens``,
  ``prompt_tokens_details.cached_tokens``, ``choices[0].finish_reason``.
* ``otel-genai``: a span or log record as OpenTelemetry's JSON exporters write it, GenAI
  attributes under ``attributes`` (``gen_ai.usage.input_tokens`` is the whole prompt, cache reads
  and writes included), times as ``start_time`` / ``end_time``, status as ``status.status_code``;
  the Collector's file exporter (OTLP/JSON, many spans a line) is flattened to this shape span by
  span (``ingest.otlp``).
* ``litellm``: its ``StandardLoggingPayload`` (epoch-second ``startTime`` / ``endTime``,
  ``prompt_tokens`` with cached tokens included, ``status`` success | failure,
  ``error_information``, ``end_user``, ``request_tags``, ``metadata.usage_object``).

``claude-top`` is the native format (``core.schema``): no mapping, the fast decoder.
"""

from __future__ import annotations

from typing import Any, Final

NATIVE: Final = "claude-top"

_OPENAI_STOPS = {"length": "max_tokens", "stop": "end_turn", "tool_calls": "tool_use"}
"""OpenAI's finish reasons in the API's words: ``length`` is a ``max_tokens`` stop."""

PRESETS: Final[dict[str, dict[str, Any]]] = {
    "anthropic": {
        "input_includes_cache": False,
        "latency_unit": "ms",
        "fields": {
            "timestamp": ["timestamp", "time", "ts"],
            "request_id": ["request_id", "_request_id", "id"],
            "user_id": ["user_id", "metadata.user_id"],
            "feature": ["feature", "metadata.feature"],
            "model": "model",
            "input_tokens": "usage.input_tokens",
            "output_tokens": "usage.output_tokens",
            "cache_read_tokens": "usage.cache_read_input_tokens",
            "cache_write_tokens": "usage.cache_creation_input_tokens",
            "cache_write_5m_tokens": "usage.cache_creation.ephemeral_5m_input_tokens",
            "cache_write_1h_tokens": "usage.cache_creation.ephemeral_1h_input_tokens",
            "latency": ["latency_ms", "duration_ms"],
            "stop_reason": "stop_reason",
            "error": ["error.error.type", "error.type", "error"],
            "error_status": ["error_status", "status_code"],
            "service_tier": ["usage.service_tier", "service_tier"],
            "speed": ["usage.speed", "speed"],
            "inference_geo": ["usage.inference_geo", "inference_geo"],
            "web_search_requests": "usage.server_tool_use.web_search_requests",
            "web_fetch_requests": "usage.server_tool_use.web_fetch_requests",
            "ttft": ["ttft_ms", "time_to_first_token_ms"],
            "cost_usd": ["cost_usd", "total_cost_usd"],
        },
    },
    "openai-style": {
        "input_includes_cache": True,
        "latency_unit": "ms",
        "fields": {
            "timestamp": ["timestamp", "startTime", "created"],
            "request_id": ["request_id", "id", "traceId"],
            "user_id": ["user_id", "user", "metadata.user_id"],
            "feature": ["feature", "metadata.feature"],
            "model": "model",
            "input_tokens": ["usage.prompt_tokens", "prompt_tokens"],
            "output_tokens": ["usage.completion_tokens", "completion_tokens"],
            "cache_read_tokens": [
                "usage.prompt_tokens_details.cached_tokens",
                "prompt_tokens_details.cached_tokens",
            ],
            "latency": ["latency_ms", "duration_ms"],
            "stop_reason": ["choices.0.finish_reason", "finish_reason"],
            "error": ["error.type", "error.code", "error"],
            "error_status": ["status_code", "error_status", "status"],
        },
        "values": {"stop_reason": _OPENAI_STOPS},
    },
    "otel-genai": {
        "input_includes_cache": True,
        "latency_unit": "s",
        "fields": {
            "timestamp": ["start_time", "startTime", "timestamp", "time"],
            "request_id": [
                "attributes.gen_ai.response.id",
                "context.span_id",
                "span_id",
            ],
            "user_id": ["attributes.user.id", "attributes.enduser.id"],
            "feature": [
                "attributes.app.feature",
                "attributes.feature",
                "attributes.gen_ai.agent.name",
                "attributes.gen_ai.operation.name",
            ],
            "model": ["attributes.gen_ai.response.model", "attributes.gen_ai.request.model"],
            "input_tokens": "attributes.gen_ai.usage.input_tokens",
            "output_tokens": "attributes.gen_ai.usage.output_tokens",
            "cache_read_tokens": "attributes.gen_ai.usage.cache_read.input_tokens",
            "cache_write_tokens": "attributes.gen_ai.usage.cache_creation.input_tokens",
            "latency": "attributes.gen_ai.client.operation.duration",
            "start_time": ["start_time", "startTime"],
            "end_time": ["end_time", "endTime"],
            "stop_reason": "attributes.gen_ai.response.finish_reasons.0",
            "error": "attributes.error.type",
            "error_status": "attributes.http.response.status_code",
            "outcome": ["status.status_code", "status.code"],
        },
        "values": {"stop_reason": _OPENAI_STOPS},
    },
    "litellm": {
        "input_includes_cache": True,
        "latency_unit": "s",
        "fields": {
            "timestamp": "startTime",
            "request_id": ["id", "litellm_call_id"],
            "user_id": ["end_user", "metadata.user_api_key_end_user_id"],
            "feature": ["metadata.requester_metadata.feature", "request_tags.0", "model_group"],
            "model": ["model", "hidden_params.litellm_model_name"],
            "input_tokens": "prompt_tokens",
            "output_tokens": "completion_tokens",
            "cache_read_tokens": [
                "metadata.usage_object.cache_read_input_tokens",
                "metadata.usage_object.prompt_tokens_details.cached_tokens",
            ],
            "cache_write_tokens": "metadata.usage_object.cache_creation_input_tokens",
            "start_time": "startTime",
            "end_time": "endTime",
            "first_token_time": "completionStartTime",
            "stop_reason": "response.choices.0.finish_reason",
            "error": ["error_information.error_class", "error_str"],
            "error_status": "error_information.error_code",
            "outcome": "status",
            "cost_usd": "response_cost",
        },
        "values": {"stop_reason": _OPENAI_STOPS},
    },
}
"""The mapped presets, by name; ``NATIVE`` is the one more, with no mapping."""

NAMES: Final[tuple[str, ...]] = (NATIVE, *PRESETS)
