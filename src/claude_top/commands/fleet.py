"""``rules`` and ``grafana``: claude-top's rules and dashboard as Prometheus and Grafana read them.

Both print a document built by ``views.metrics`` from the effective config, so the rule file
fires on the thresholds ``check`` uses. ``serve`` is in its own module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from claude_top.commands.common import load_config
from claude_top.core.errors import ConfigError, UserError
from claude_top.rules.spec import Rule, rules_from_config


def _rules(config: str | None) -> list[Rule]:
    cfg = load_config(config)
    try:
        return rules_from_config(cfg.alerts)
    except ConfigError as e:
        raise UserError(str(e)) from None


def cmd_rules(a: argparse.Namespace) -> int:
    from claude_top.views.metrics.rulefile import rule_file

    sys.stdout.write(rule_file(_rules(a.config)))
    return 0


def cmd_grafana(a: argparse.Namespace) -> int:
    from claude_top.views.metrics.grafana import dashboard_json

    sys.stdout.write(dashboard_json(_rules(a.config)))
    return 0


def cmd_serve(a: argparse.Namespace) -> int:
    from claude_top.commands.serve import cmd_serve as serve

    return serve(a)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "rules": cmd_rules,
    "grafana": cmd_grafana,
}
