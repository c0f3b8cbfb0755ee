"""Price table and per-call cost: rates, model families, the TOML parser, the table.

The names callers use are gathered here so ``from claude_top.engine.pricing import PriceTable``
reads the same whichever module of the package defines them.
"""

from claude_top.core.errors import PriceConfigError
from claude_top.engine.pricing.families import normalize_model
from claude_top.engine.pricing.rates import ModelPrice, Rates
from claude_top.engine.pricing.table import PriceTable

__all__ = ["ModelPrice", "PriceConfigError", "PriceTable", "Rates", "normalize_model"]
