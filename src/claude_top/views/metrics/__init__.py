"""Prometheus and Alertmanager views over the engine: exposition, rule file, dashboard, alerts.

Like ``summary`` and ``check``, these are thin views: every number comes from one engine
snapshot (``collector``), every threshold from the rule objects (``rulefile``), and nothing
here is computed twice. Only ``commands`` does network I/O (the HTTP server, the pushes to
Alertmanager); this package builds what they serve and send.
"""
