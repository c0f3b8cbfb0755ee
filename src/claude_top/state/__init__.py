"""The state file: the engine's rollups, line health and read positions, kept in SQLite so a
restart reads only what is new (``session``), and so baselines outlive the log files they
were read from. ``schema`` spells the tables, ``hdr`` the histograms' bytes, ``db`` opening and
locking, ``load`` and ``save`` the two directions between file and engine."""
