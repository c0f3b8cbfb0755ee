"""claude-top: a live view of a Claude-powered app's call log.

The package is split so that everything that computes numbers (``reader``, ``prices``,
``engine``, ``alerts`` ...) imports neither Textual nor Rich: the TUI, ``summary`` and
``check`` are thin views over one engine, so they can never disagree.
"""

__version__ = "0.1.0"
