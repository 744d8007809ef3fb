"""A sibling module that cli_model.py imports, as a script next to it would."""
SCALE = 2.0
