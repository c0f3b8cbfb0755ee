"""The ``[limits]`` config and model classes: which limits the operator set, per model class.

The API limits an organization per *model class* (family and major version), so every call's
model id must be mapped to one before it can be counted against a limit; the operator may also
override that mapping and say whether cache reads count toward ITPM. This module parses and
validates that table once, so the tracker only asks ``model_class`` and ``limits``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from claude_top.core.errors import HeadroomConfigError

DIMENSIONS = ("rpm", "itpm", "otpm")
DIM_LABELS = {"rpm": "RPM", "itpm": "ITPM", "otpm": "OTPM"}
RESERVED_KEYS = ("itpm_counts_cache_reads", "classes")
"""Keys of ``[limits]`` that are settings, not model classes."""

_FAMILY = re.compile(
    r"(?:^|[./:_-])claude-(?:(?P<old>\d+)(?:[-.]\d+)?-)?(?P<family>opus|sonnet|haiku)"
    r"(?:-(?P<major>\d{1,2})(?!\d))?"
)
"""``claude-sonnet-4-5-20250929`` (new names), ``claude-3-5-haiku-20241022`` (old names), also
inside Bedrock / Vertex ids (``anthropic.claude-sonnet-4-5-20250929-v1:0``)."""


def default_model_class(model: str) -> str:
    """The family and major version: ``claude-sonnet-4-6`` and ``claude-sonnet-4-5-20250929``
    are both ``sonnet-4``, ``claude-haiku-4-5`` is ``haiku-4``, ``claude-opus-4-1`` ``opus-4``.

    Why the major version only: the API's published limits are per family and major version
    ("Sonnet 4.x", "Opus 4.x" share one bucket across their minor versions). Where that is not
    so (Haiku 3 and Haiku 3.5 have separate limits; both map to ``haiku-3`` here), the config's
    ``[limits.classes]`` maps model-id prefixes to classes. An id without a known family is its
    own class.
    """
    m = _FAMILY.search(model.lower())
    if m is None:
        return model
    major = m.group("major") or m.group("old")
    return f"{m.group('family')}-{major}" if major else m.group("family")


class ClassLimits(Struct, frozen=True):
    """Per-minute limits of one model class; None where not configured."""

    rpm: int | None = None
    itpm: int | None = None
    otpm: int | None = None

    def get(self, dim: str) -> int | None:
        value: int | None = getattr(self, dim)
        return value


class HeadroomConfig(Struct, frozen=True):
    """The ``[limits]`` table, validated."""

    limits: Mapping[str, ClassLimits] = field(default_factory=dict)
    classes: tuple[tuple[str, str], ...] = ()
    """(model-id prefix, class), longest prefix first: overrides ``default_model_class``."""
    itpm_counts_cache_reads: bool = False
    """Current models do not count cache reads toward ITPM (older ones did): set true for those."""

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> HeadroomConfig:
        """Validate ``[limits]``: ``itpm_counts_cache_reads``, ``[limits.classes]`` and one
        ``[limits.<class>]`` table of positive integers ``rpm``/``itpm``/``otpm`` per class."""
        if not isinstance(raw, Mapping):
            raise HeadroomConfigError("limits: must be a table ([limits.sonnet-4] ...)")
        counts = raw.get("itpm_counts_cache_reads", False)
        if not isinstance(counts, bool):
            raise HeadroomConfigError("limits.itpm_counts_cache_reads: must be true or false")
        prefixes: list[tuple[str, str]] = []
        table = raw.get("classes", {})
        if not isinstance(table, Mapping):
            raise HeadroomConfigError(
                'limits.classes: must be a table of model-id prefix = "class"'
            )
        for prefix, name in table.items():
            if not isinstance(name, str) or not name:
                raise HeadroomConfigError(f"limits.classes.{prefix}: must be a class name")
            prefixes.append((str(prefix).lower(), name))
        prefixes.sort(key=lambda p: -len(p[0]))
        limits: dict[str, ClassLimits] = {}
        for name, spec in raw.items():
            if name in RESERVED_KEYS:
                continue
            where = f"limits.{name}"
            if not isinstance(spec, Mapping):
                raise HeadroomConfigError(
                    f"{where}: must be a table like {{ rpm = 50, itpm = 30000, otpm = 8000 }}"
                )
            values: dict[str, int] = {}
            for key, v in spec.items():
                if key not in DIMENSIONS:
                    raise HeadroomConfigError(
                        f"{where}.{key}: unknown key (expected one of: {', '.join(DIMENSIONS)})"
                    )
                if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                    raise HeadroomConfigError(f"{where}.{key}: must be a positive integer")
                values[key] = v
            limits[str(name)] = ClassLimits(**values)
        return cls(limits, tuple(prefixes), counts)

    def model_class(self, model: str) -> str:
        low = model.lower()
        for prefix, name in self.classes:
            if low.startswith(prefix):
                return name
        return default_model_class(model)
