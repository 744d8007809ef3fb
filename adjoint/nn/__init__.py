"""``adjoint.nn``: Cell and (as they come) layers and losses."""
from .cell import Cell

__all__ = ["Cell"]
