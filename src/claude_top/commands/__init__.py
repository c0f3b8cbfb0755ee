"""Commands: argument parsing and wiring. Nothing imports this layer."""
