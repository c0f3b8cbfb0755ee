"""A cell's state against its rule, the one vocabulary every view-model module shares."""

from __future__ import annotations

from typing import Literal

Level = Literal["ok", "warning", "critical"]
