"""Every error a user can cause, in one place, so each layer raises and each command catches
the same types. Each is printed as one line (its message) and never as a traceback; the command
layer decides the exit status.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake on the command line or in the environment; printed as one line."""


class InputError(Exception):
    """An input the user named cannot be opened or read."""


class TimeArgError(ValueError):
    """A time or window argument the user typed that we cannot read."""


class ConfigError(ValueError):
    """The config file cannot be read or says something we cannot use."""


class PriceConfigError(ValueError):
    """A price override in the config that cannot be used."""


class HeadroomConfigError(ValueError):
    """A rate-limit ``[limits]`` entry in the config that cannot be used."""


class ThemeError(ValueError):
    """A theme name or theme file that cannot be used."""
