"""The app's keys, once: the bindings Textual dispatches, the footer, and the help page.

One row of ``KEYS`` per key: what Textual binds, the footer's label (in footer order: what a
user must find comes first, so ``? Help`` and ``v`` survive an 80-column footer), and the help
page's line. A new key is one new row here and an ``action_`` method on the app.

Conventions of htop, btop and k9s: ``ctrl+c`` quits from anywhere; ``q`` quits the main view
and goes back from a page; escape goes back; pages do not stack (``ClaudeTopApp.open_page``).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

from claude_top.core.windows import WINDOW_CYCLE


@dataclass(frozen=True, slots=True)
class Key:
    keys: str
    """Textual key names, comma-separated."""
    action: str
    label: str
    """The footer's label; empty: not in the footer."""
    shown: str
    """How the help page writes the key."""
    help: str
    priority: bool = False


KEYS: tuple[Key, ...] = (
    Key("question_mark", "help", "Help", "?", "this help"),
    Key("q", "quit", "Quit", "q", "quit (on a page: back)"),
    Key("ctrl+c", "quit", "", "ctrl+c", "quit, from anywhere", priority=True),
    Key(
        "v",
        "cycle_panel",
        "More",
        "v",
        "small terminal: the next folded panel (429s, headroom, users, lines)",
    ),
    Key("w", "cycle_window", "Window", "w", "cycle the window: " + ", ".join(WINDOW_CYCLE)),
    Key("p,space", "pause", "Pause", "p / space", "pause the data (reading, clock, rates go on)"),
    Key("slash", "filter", "Filter", "/", "filter by feature, model or user (escape clears)"),
    Key(
        "s", "sort_column", "Sort", "s / S", "sort by the next column / reverse (or click a header)"
    ),
    Key("less_than_sign", "sort_left", "", "< / >", "move the sort column left / right"),
    Key("greater_than_sign", "sort_right", "", "", ""),
    Key("S", "sort_direction", "", "", ""),
    Key("enter", "detail", "Detail", "enter", "the feature under the cursor in detail"),
    Key("u", "users_by", "Users", "u", "top users by tokens or by cost"),
    Key("h", "headroom", "Headroom", "h", "rate-limit headroom (mid-size: swaps with lines)"),
    Key("a", "alerts", "Alerts", "a / r", "every firing alert, with its history / rejected lines"),
    Key("r", "rejected", "", "", ""),
    Key("t", "next_theme", "Theme", "t", "next theme"),
    Key("e", "export", "Export", "e", "export the view as JSON (into the export directory)"),
    Key("ctrl+s", "save_svg", "", "ctrl+s", "save an SVG screenshot (into the export directory)"),
    Key("escape", "go_back", "", "escape", "back: close the filter, clear it, leave a page"),
)

BINDINGS: list[BindingType] = [
    Binding(k.keys, k.action, k.label or k.action, show=bool(k.label), priority=k.priority)
    for k in KEYS
]

HELP_KEYS: tuple[tuple[str, str], ...] = tuple((k.shown, k.help) for k in KEYS if k.shown)

LEGEND: tuple[tuple[str, str], ...] = (
    ("▲", "past a warning threshold"),
    ("✖", "past a critical threshold"),
    ("↓ ↑", "sort column and direction"),
    ("⏸ PAUSED", "data frozen, still reading"),
    ("⏪ REPLAY", "old log: clock at its newest"),
    ("(partial)", "average over fewer days"),
)
"""What the screen's glyphs and badges mean, for the help page."""
