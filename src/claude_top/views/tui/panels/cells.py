"""What every panel draws with: the palette, the level glyphs, and log text made safe.

Every string that came from the log goes through ``log_text`` (``safe_text``, then a ``Text``
object, never markup), and every value past a threshold carries a glyph as well as a colour
(``leveled``) so it reads under ``NO_COLOR``. Colours come only from the ``Palette`` the app
builds from the active theme's variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from rich.text import Text

from claude_top.core import format as fmt
from claude_top.core.text import safe_text
from claude_top.engine.headroom import Share
from claude_top.views.live.dashboard import Level

GLYPH: dict[str, str] = {"ok": "", "warning": "▲", "critical": "✖"}


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours taken from the active theme (the app builds it from its CSS variables)."""

    warning: str = "yellow"
    error: str = "red"
    success: str = "green"
    muted: str = "grey50"
    accent: str = "cyan"
    primary: str = "blue"
    mono: bool = False
    """No colour (``NO_COLOR``): Textual turns colours to greys, where red comes out dimmer than
    plain text; so a critical is reversed, a warning bold, and both keep their glyph."""

    def style(self, level: Level) -> str:
        if level == "critical":
            return "bold reverse" if self.mono else f"bold {self.error}"
        if level == "warning":
            return "bold" if self.mono else f"bold {self.warning}"
        return ""


DEFAULT = Palette()


def log_text(s: str, n: int | None = None, style: str = "") -> Text:
    """A log string made safe to show: control characters visible, cut, never markup."""
    return Text(safe_text(s, n), style=style, no_wrap=True, overflow="ellipsis")


def marked(text: Text, needle: str | None) -> Text:
    """The filter's text shown in reverse wherever it occurs (case-insensitively)."""
    if needle:
        text.highlight_words([needle], style="reverse", case_sensitive=False)
    return text


def leveled(text: str, level: Level, pal: Palette, justify: str = "right") -> Text:
    """A value with its level: glyph + colour past a threshold, plain otherwise."""
    glyph = GLYPH.get(level, "")
    out = Text(f"{glyph} {text}" if glyph else text, style=pal.style(level), no_wrap=True)
    out.justify = justify  # type: ignore[assignment]
    return out


def empty(msg: str, pal: Palette) -> Text:
    """What a panel shows when it has nothing to show."""
    return Text(msg, style=pal.muted)


def shares(items: Sequence[Share], n: int, width: int) -> Text:
    """The first ``n`` names with their share: ``alice 42% · bob 17%``."""
    out = Text(no_wrap=True, overflow="ellipsis")
    for i, sh in enumerate(items[:n]):
        if i:
            out.append(" · ")
        out.append_text(log_text(sh.name, width, "bold"))
        out.append(f" {fmt.share(sh.share)}")
    return out


@lru_cache(maxsize=8)
def zone(name: str) -> tzinfo:
    """The view-model's time zone name as a zone (UTC if this system lacks it)."""
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")
