"""Views: thin renderings of engine answers (summary, check, the live view-model, the TUI)."""
