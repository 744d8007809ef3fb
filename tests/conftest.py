import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

# Every compilation in the tests runs the IR verifier after each stage and pass.
os.environ.setdefault("ADJOINT_VERIFY", "1")
os.environ.setdefault("ADJOINT_SPECIALIZE_AT", "1")    # every gradient runs its special version
