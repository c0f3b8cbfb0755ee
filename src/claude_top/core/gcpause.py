"""The cyclic garbage collector, kept out of a bulk load of the engine's rows.

The engine's rows are long-lived lists, dicts and tuples that hold no reference cycles. While a
big log loads, the cyclic GC would rescan them over and over (it costs more than the loading
itself), so it is off. When the load ends, the rows are frozen (``gc.freeze``: moved where the
GC never scans them; reference counting still frees them) before the GC is turned back on:
otherwise its first collection after the load scans every object the load made, since none of
them was ever collected into an older generation (about 0.1 s of the 2.5 s a ``summary --jobs
1`` of 1M lines takes). The TUI does the same once its history is in (``views.tui.refresh``).

The price: cyclic garbage made during the load is frozen with the rows and never collected. The
load makes little (rows hold no cycles, and a line's caught exception is freed by reference
counting), and a one-shot command exits anyway; ``summary --follow`` keeps it for its run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    """No cyclic GC inside; on the way out, what was made is frozen and the GC is back as it
    was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
