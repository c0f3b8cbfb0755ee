"""``claude-top prices``: the price table in use (built-in plus the config's overrides).

It says when the built-in facts were collected and warns when that is more than 90 days before
the clock (``--now`` sets it, as for every command), because prices change every few weeks.
"""

from __future__ import annotations

import argparse
import sys

from claude_top.commands.common import load_config, make_clock, time_zone


def cmd_prices(a: argparse.Namespace) -> int:
    cfg = load_config(a.config)
    clock = make_clock(getattr(a, "now", None), time_zone(cfg, None))
    sys.stdout.write(cfg.price_table().format_table(clock.now()) + "\n")
    return 0
