"""Sources: naming, opening and following the inputs a user names, and framing their bytes into lines."""
