"""Which table family a logged model id belongs to, whatever client or cloud spelled it.

Bedrock prefixes, OpenRouter dots, date suffixes and aliases all reduce to the API's own name;
a newer minor version never matches an older family (an unknown model has no price, never a
guessed one).
"""

from __future__ import annotations

import re
from typing import Final

# Bedrock prefixes: "anthropic.", "us.anthropic.", "global.anthropic." ...
_CLOUD_PREFIX: Final = re.compile(r"^(?:[a-z]{2,8}\.)?anthropic\.")
# "claude-sonnet-4.5" (OpenRouter style) -> "claude-sonnet-4-5"
_VERSION_DOT: Final = re.compile(r"(?<=[0-9])\.(?=[0-9])")
_SEGMENT_END: Final = re.compile(r"[-@:\[]")
_MINOR_VERSION: Final = re.compile(r"[0-9]{1,2}")


def normalize_model(model: str) -> str:
    """Reduce a model id as logged by any client or cloud to the API's own spelling."""
    s = model.strip().lower()
    s = s.rsplit("/", 1)[-1]  # "anthropic/claude-…", Bedrock ARNs
    s = _CLOUD_PREFIX.sub("", s)
    return _VERSION_DOT.sub("-", s)


def is_family_of(name: str, family: str) -> bool:
    """True if ``name`` is ``family`` plus only a date / alias / cloud suffix.

    A following 1-2 digit segment is a newer minor version ("claude-opus-4-9" is not
    "claude-opus-4"), except "-0": "claude-opus-4-0" is the alias of "claude-opus-4". A billed
    model id with modifiers (``core.schema.billed_model``: "claude-opus-5-5 (fast)") belongs only
    to a family spelled with the same modifiers.
    """
    name, _, mods = name.partition(" (")
    family, _, family_mods = family.partition(" (")
    if mods != family_mods:
        # "claude-opus-5-5 (fast)" is billed under a modifier: only an entry for that very
        # modifier prices it, never the model's standard rates (nor another family's).
        return False
    if not name.startswith(family):
        return False
    rest = name[len(family) :]
    if not rest or rest[0] in "@:[":
        return True
    if rest[0] != "-":
        return False
    segment = _SEGMENT_END.split(rest[1:], maxsplit=1)[0]
    return segment == "0" or _MINOR_VERSION.fullmatch(segment) is None
