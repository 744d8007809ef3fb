"""All primitives and their derivative rules, one module per family.

``from adjoint.compiler import rules as P`` gives every primitive by name (``P.exp``).
"""
from .elementwise import *      # noqa: F401,F403
from .special import *          # noqa: F401,F403
from .reductions import *       # noqa: F401,F403
from .linalg import *           # noqa: F401,F403
from .shape import *            # noqa: F401,F403
from .layout import *           # noqa: F401,F403
from .indexing import *         # noqa: F401,F403
from .nn import *               # noqa: F401,F403
from .structural import *       # noqa: F401,F403
from .lists import *            # noqa: F401,F403
from .conv import *             # noqa: F401,F403
from .training import *         # noqa: F401,F403
from .reductions import sum     # noqa: F401  (star-import skips nothing, but be explicit)
