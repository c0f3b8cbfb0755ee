"""``claude-top prices``: the price table in use (built-in plus the config's overrides)."""

from __future__ import annotations

import argparse
import sys

from claude_top.commands.common import load_config


def cmd_prices(a: argparse.Namespace) -> int:
    cfg = load_config(a.config)
    sys.stdout.write(cfg.price_table().format_table())
    return 0
