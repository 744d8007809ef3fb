"""``python -m adjoint``: the same command line as the ``adjoint`` script."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
