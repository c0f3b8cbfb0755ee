"""Rules: the alerts, evaluated over the engine, the same for the TUI, check and any later view."""
