"""The live view-model: every number the TUI shows, built from one engine snapshot without a terminal."""
