"""The app's keys, once: the bindings Textual dispatches and the help page that explains them."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from claude_top.core.windows import WINDOW_CYCLE

BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit"),
    Binding("p,space", "pause", "Pause"),
    Binding("w", "cycle_window", "Window"),
    Binding("s", "sort_column", "Sort"),
    Binding("S", "sort_direction", "Sort dir", show=False),
    Binding("slash", "filter", "Filter"),
    Binding("enter", "detail", "Detail"),
    Binding("u", "users_by", "Users by"),
    Binding("v", "cycle_panel", "Panel", show=False),
    Binding("h", "headroom", "Headroom"),
    Binding("r", "rejected", "Rejected", show=False),
    Binding("t", "next_theme", "Theme"),
    Binding("e", "export", "Export"),
    Binding("ctrl+s", "save_svg", "SVG", show=False),
    Binding("question_mark", "help", "Help"),
    Binding("escape", "go_back", "Back", show=False),
]

HELP_KEYS = (
    ("q", "quit"),
    ("p / space", "pause the view (reading continues)"),
    ("w", "cycle the window: " + ", ".join(WINDOW_CYCLE)),
    ("s / S", "sort by the next column / reverse the direction"),
    ("/", "filter by feature, model or user (escape closes, escape again clears)"),
    ("enter", "open the feature under the cursor: models, users, latency, errors"),
    ("u", "top users by tokens or by cost"),
    ("v", "on a small terminal: show the next side panel (alerts, 429s, headroom, users, lines)"),
    (
        "h",
        "rate-limit headroom: show it on a small terminal, swap it with line health on a mid-size one",
    ),
    ("r", "examples of rejected lines"),
    ("t", "next theme"),
    ("e", "export the current view as JSON (into the current directory)"),
    ("ctrl+s", "save an SVG screenshot (into the current directory)"),
    ("escape", "back"),
    ("?", "this help"),
)
