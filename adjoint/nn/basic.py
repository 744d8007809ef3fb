"""``Dropout``, ``Embedding`` and ``Identity``, as MindSpore 2.x."""
import numbers

import numpy as np

from .. import dtype as mstype
from ..compiler import rules as P
from ..tensor import Parameter
from .cell import Cell
from .layers import _positive_int, initializer

__all__ = ["Dropout", "Embedding", "Identity"]


class Dropout(Cell):
    """``Dropout(keep_prob=0.5, p=None)``: in training mode (``set_train()``) each element is
    zeroed with probability ``p`` (``1 - keep_prob`` when p is not given) and the others are
    scaled by ``1 / (1 - p)``, with a fresh mask at every call (also inside compiled
    gradients: the mask is drawn when the generated code runs, from NumPy's global generator);
    in evaluation mode it is the identity."""

    def __init__(self, keep_prob=0.5, p=None, dtype=mstype.float32):
        super().__init__()
        if p is None:
            if isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real) or not 0 < keep_prob <= 1:
                raise ValueError("For 'Dropout', the 'keep_prob' must be a number in range (0, 1], but got %r."
                                 % (keep_prob,))
            self.keep_prob, self.p = float(keep_prob), 1.0 - float(keep_prob)
            self._repr = "keep_prob=%s" % keep_prob
        else:
            if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
                raise ValueError("For 'Dropout', the 'p' must be a number in range [0, 1), but got %r." % (p,))
            self.keep_prob, self.p = 1.0 - float(p), float(p)
            self._repr = "p=%s" % p

    def construct(self, x):
        if not self.training or self.p == 0:
            return x
        return x * P.dropout_mask(x, self.p)

    def extend_repr(self):
        return self._repr


class Identity(Cell):
    """Returns its input."""

    def construct(self, x):
        return x


class Embedding(Cell):
    """``Embedding(vocab_size, embedding_size, use_one_hot=False, embedding_table='normal',
    dtype=float32, padding_idx=None)``: rows of the Parameter ``embedding_table``
    (vocab_size, embedding_size) at integer ids; the output has shape ids.shape +
    (embedding_size,). The row ``padding_idx`` starts as zeros."""

    def __init__(self, vocab_size, embedding_size, use_one_hot=False, embedding_table="normal",
                 dtype=mstype.float32, padding_idx=None):
        super().__init__()
        self.vocab_size = _positive_int(vocab_size, "vocab_size", "Embedding")
        self.embedding_size = _positive_int(embedding_size, "embedding_size", "Embedding")
        if not isinstance(use_one_hot, bool):
            raise TypeError("For 'Embedding', the 'use_one_hot' must be bool, but got %s."
                            % type(use_one_hot).__name__)
        self.use_one_hot = use_one_hot
        self.dtype = dtype
        table = initializer(embedding_table, (self.vocab_size, self.embedding_size), mstype.float32)
        if padding_idx is not None:
            if not -self.vocab_size <= padding_idx < self.vocab_size:
                raise ValueError("For 'Embedding', the 'padding_idx' must be in range [%d, %d), but got %d."
                                 % (-self.vocab_size, self.vocab_size, padding_idx))
            data = np.array(table.asnumpy())
            data[padding_idx] = 0
            table = data
        self.padding_idx = padding_idx
        self.embedding_table = Parameter(table, name="embedding_table")
        self._classes = np.arange(self.vocab_size)

    def construct(self, ids):
        if self.use_one_hot:
            onehot = P.astype(P.expand_dims(ids, -1) == self._classes, P.np_dtype(mstype.float32))
            return P.matmul(onehot, self.embedding_table)
        return self.embedding_table[ids]

    def extend_repr(self):
        return "vocab_size=%d, embedding_size=%d, use_one_hot=%s, embedding_table=%r, dtype=%s, padding_idx=%s" % (
            self.vocab_size, self.embedding_size, self.use_one_hot, self.embedding_table, self.dtype,
            self.padding_idx)
