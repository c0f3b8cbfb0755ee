"""``claude-top config``: the effective configuration as TOML, defaults filled in.

A bad file ends with one line naming the key (``load_config`` maps the error).
"""

from __future__ import annotations

import argparse
import sys

from claude_top.commands.common import load_config


def cmd_config(a: argparse.Namespace) -> int:
    cfg = load_config(a.config)
    sys.stdout.write(cfg.to_toml())
    return 0
