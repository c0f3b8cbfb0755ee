"""Config: the user's TOML file, read into prices, rules, limits and UI choices."""
