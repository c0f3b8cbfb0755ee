"""The engine: time-bucketed counters, windows over them, pricing and rate-limit headroom."""
