"""Widgets that hand the compositor their last drawing again while nothing about them changed.

Why: when one widget repaints (the header's clock, each second), Textual's partial update asks
every widget whose *container* overlaps the dirty row for all its lines -- for the screen's
direct children that is all of them, since their clip is the whole screen -- and then keeps only
the header's row. Each of those calls walks the widget's styles, its line filters and every line
of its styles cache; the features table also works out its row styles again. On an idle log
that was most of the TUI's CPU: a header tick cost ~3.5 ms at 160x48, all but a fraction of it
in widgets that showed the same thing.

A widget's drawing can only change after Textual marks it dirty (``Widget._set_dirty`` clears
or dirties its ``StylesCache``: a new renderable, a style, the theme, a scroll, a resize), so
``KeptLines`` counts those marks and returns the lines it drew last while the count, the crop,
the size and the line filters are the same. What it returns is what Textual's own cache would
give line for line (the same strips), only without asking each line again.
"""

from __future__ import annotations

from typing import Any

from textual._styles_cache import StylesCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


class CountingStylesCache(StylesCache):
    """Textual's per-widget line cache, counting each time it is cleared or marked dirty."""

    def __init__(self) -> None:
        super().__init__()
        self.marks = 0

    def clear(self) -> None:
        self.marks += 1
        super().clear()

    def set_dirty(self, *regions: Region) -> None:
        self.marks += 1
        super().set_dirty(*regions)


class KeptLines(Widget):
    """Mixin: ``render_lines`` returns the last drawing while nothing marked the widget dirty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._styles_cache = CountingStylesCache()
        self._kept: tuple[tuple[Any, ...], list[Strip]] | None = None
        self.drawings = 0
        """How many times the lines were asked for again (not handed back as kept)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        cache = self._styles_cache
        assert isinstance(cache, CountingStylesCache)
        key = (
            cache.marks,
            crop,
            self.size,
            self.scroll_offset,
            tuple(id(f) for f in self.get_line_filters()),
        )
        kept = self._kept
        if kept is not None and kept[0] == key:
            return list(kept[1])
        self.drawings += 1
        strips = self.draw_lines(crop)
        # The drawing may itself mark lines (a first render fills the cache): key it after.
        self._kept = ((cache.marks, *key[1:]), strips)
        return list(strips)

    def draw_lines(self, crop: Region) -> list[Strip]:
        """The lines as Textual draws them (a subclass adds its own work here)."""
        return super().render_lines(crop)
