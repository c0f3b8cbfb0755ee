"""Calls drawn for the fold tests: every token slot, the tiered price's threshold, errors and
batch calls, so a fold that prices or sums a slot its own way shows in some example."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from loggen import call

TOKENS = st.tuples(
    st.sampled_from([0, 1, 999, 250_000]),  # above the tiered model's threshold too
    st.integers(0, 5000),
    st.sampled_from([0, 1024, 60_000]),
    st.integers(0, 3000),
    st.sampled_from([0, 0, 77]),
)
"""Input, output, cache read, 5-minute and 1-hour cache write tokens."""


def _call(
    ts: float,
    feature: str,
    model: str,
    tokens: tuple[int, int, int, int, int],
    err: int,
    batch: bool,
    extra: dict[str, Any],
) -> dict[str, Any]:
    return call(
        ts,
        feature=feature,
        model=model,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cached_tokens=tokens[2],
        cache_creation_tokens=tokens[3],
        cache_creation_1h_tokens=tokens[4],
        error="RateLimitError" if err == 1 else "APIError" if err == 2 else None,
        error_status=429 if err == 1 else 500 if err == 2 else None,
        **extra,
        **({"batch": True} if batch else {}),
    )


def priced_calls(
    times: st.SearchStrategy[float],
    features: list[str],
    models: list[str],
    **extra: st.SearchStrategy[Any],
) -> st.SearchStrategy[dict[str, Any]]:
    """Calls at ``times``, of the given features and models, with ``extra`` fields drawn too
    (``latency_ms=...``, ``user_id=...``)."""
    return st.builds(
        _call,
        times,
        st.sampled_from(features),
        st.sampled_from(models),
        TOKENS,
        st.integers(0, 2),
        st.booleans(),
        st.fixed_dictionaries(extra),
    )
