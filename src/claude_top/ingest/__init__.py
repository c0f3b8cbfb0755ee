"""Ingest: the verdict on one line -- a call record, a foreign line, or a rejection with its reason."""
