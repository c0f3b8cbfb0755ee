"""The live terminal UI (Textual). Everything it shows comes from ``claude_top.views.live.dashboard``."""
