"""cnn: one training step of the LeNet-style CNN of examples/train_cnn_digits.py on a batch of
64 8x8 images, float32: conv 3x3 (1->16, same) - ReLU - max pool 2 - conv 3x3 (16->32, same) -
ReLU - max pool 2 - Flatten - Dense 128->64 - ReLU - Dropout(0.25) - Dense 64->10,
CrossEntropyLoss (mean); the loss's gradients w.r.t. all 8 Parameters, dropout on.

Every contender draws its dropout mask from NumPy's global generator in the same way
(``random_sample(shape) >= p``, scaled by 1/(1-p)), so with the same seed they compute the same
gradients; ``reseed`` sets it before each checked call. The optimizer update is not timed: it is
the same NumPy for adjoint and the hand-written step. All contenders run with one thread (ENV,
``torch.set_num_threads(1)``, XLA's flags): the matrices are small.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from adjoint import ParameterTuple, Tensor, nn, ops

import peers
from harness import Contender

NAME = "cnn"
TITLE = "LeNet CNN step, 64x1x8x8, conv-pool x2, dense, dropout, f32"
TARGET = 1.10
NOTE = ("rows: GradOperation(get_by_list=True) on WithLossCell(LeNet, CrossEntropyLoss) in training mode; "
        "hand-written: NHWC im2col (as_strided) + one matmul per layer, the windows saved for the weight gradients")
ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}

P_DROP = 0.25
SCALE = np.float32(1 / (1 - P_DROP))
BATCH = 64


def reseed():
    np.random.seed(1234)


def dropout_mask(shape):
    return (np.random.random_sample(shape) >= P_DROP) * SCALE


class LeNet(nn.Cell):
    def __init__(self, c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, pad_mode="same", has_bias=True, weight_init=c1w, bias_init=c1b)
        self.conv2 = nn.Conv2d(16, 32, 3, pad_mode="same", has_bias=True, weight_init=c2w, bias_init=c2b)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Dense(128, 64, weight_init=f1w, bias_init=f1b)
        self.dropout = nn.Dropout(p=P_DROP)
        self.fc2 = nn.Dense(64, 10, weight_init=f2w, bias_init=f2b)

    def construct(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.dropout(self.relu(self.fc1(self.flatten(x))))
        return self.fc2(x)


PARAMS = ("c1w", "c1b", "c2w", "c2b", "f1w", "f1b", "f2w", "f2b")


def make_inputs():
    r = np.random.default_rng(5)

    def u(shape, fan_in):
        return (r.uniform(-1, 1, shape) / np.sqrt(fan_in)).astype(np.float32)

    digits = r.integers(0, 17, (BATCH, 1, 8, 8)).astype(np.float32) / 16 - 0.5
    return {"c1w": u((16, 1, 3, 3), 9), "c1b": u(16, 9), "c2w": u((32, 16, 3, 3), 144), "c2b": u(32, 144),
            "f1w": u((64, 128), 128), "f1b": u(64, 128), "f2w": u((10, 64), 64), "f2b": u(10, 64),
            "x": digits, "labels": r.integers(0, 10, BATCH).astype(np.int32)}


# -- the hand-written step: NHWC arrays, im2col through as_strided, one matmul per layer ---------------
def _im2col(x, k=3):
    """x (N, H, W, C) -> the 'same'-padded k x k windows as a (N*H*W, k*k*C) matrix, order (i, j, c)."""
    n, h, w, c = x.shape
    p = k // 2
    xp = np.zeros((n, h + 2 * p, w + 2 * p, c), x.dtype)
    xp[:, p:p + h, p:p + w, :] = x
    s = xp.strides
    windows = as_strided(xp, (n, h, w, k, k, c), (s[0], s[1], s[2], s[1], s[2], s[3]))
    return np.ascontiguousarray(windows).reshape(n * h * w, k * k * c)


def _col2im(d, shape, k=3):
    """The adjoint of _im2col: each window's gradient added back where it came from."""
    n, h, w, c = shape
    p = k // 2
    dxp = np.zeros((n, h + 2 * p, w + 2 * p, c), d.dtype)
    d6 = d.reshape(n, h, w, k, k, c)
    for i in range(k):
        for j in range(k):
            dxp[:, i:i + h, j:j + w, :] += d6[:, :, :, i, j, :]
    return dxp[:, p:p + h, p:p + w, :]


def _wmat(w):
    """(O, C, k, k) -> (k*k*C, O), matching _im2col's column order."""
    return w.transpose(2, 3, 1, 0).reshape(-1, w.shape[0])


def _pool(y):
    """2x2 max pooling of (N, H, W, C)."""
    n, h, w, c = y.shape
    return y.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _unpool(y, pooled, dp):
    """The gradient of _pool: to the maxima of each window (after ReLU a tie is a window of zeros,
    whose gradient ReLU's derivative then drops)."""
    n, h, w, c = y.shape
    y6 = y.reshape(n, h // 2, 2, w // 2, 2, c)
    hit = y6 == pooled[:, :, None, :, None, :]
    return (hit * dp[:, :, None, :, None, :]).reshape(n, h, w, c)


def hand_grad(c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, x, labels):
    n = x.shape[0]
    x = x.transpose(0, 2, 3, 1)                                    # NHWC (C = 1)
    cols1 = _im2col(x)                                             # (N*64, 9)
    a1 = (cols1 @ _wmat(c1w) + c1b).reshape(n, 8, 8, 16)
    r1 = np.maximum(a1, 0)
    p1 = _pool(r1)                                                 # (N, 4, 4, 16)
    cols2 = _im2col(p1)                                            # (N*16, 144)
    a2 = (cols2 @ _wmat(c2w) + c2b).reshape(n, 4, 4, 32)
    r2 = np.maximum(a2, 0)
    p2 = _pool(r2)                                                 # (N, 2, 2, 32)
    flat = p2.transpose(0, 3, 1, 2).reshape(n, 128)                # Flatten is NCHW order
    a3 = flat @ f1w.T + f1b
    mask = dropout_mask(a3.shape)
    h3 = np.maximum(a3, 0) * mask
    logits = h3 @ f2w.T + f2b
    # CrossEntropyLoss (mean): (softmax - onehot) / n
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    dlogits = e / e.sum(axis=1, keepdims=True)
    dlogits[np.arange(n), labels] -= 1
    dlogits /= n
    df2w = dlogits.T @ h3
    df2b = dlogits.sum(axis=0)
    da3 = (dlogits @ f2w) * mask * (a3 > 0)
    df1w = da3.T @ flat
    df1b = da3.sum(axis=0)
    dp2 = (da3 @ f1w).reshape(n, 32, 2, 2).transpose(0, 2, 3, 1)
    da2 = (_unpool(r2, p2, dp2) * (a2 > 0)).reshape(n * 16, 32)
    dc2w = (cols2.T @ da2).reshape(3, 3, 16, 32).transpose(3, 2, 0, 1)
    dc2b = da2.sum(axis=0)
    dp1 = _col2im(da2 @ _wmat(c2w).T, p1.shape)
    da1 = (_unpool(r1, p1, dp1) * (a1 > 0)).reshape(n * 64, 16)
    dc1w = (cols1.T @ da1).reshape(3, 3, 1, 16).transpose(3, 2, 0, 1)
    dc1b = da1.sum(axis=0)
    return dc1w, dc1b, dc2w, dc2b, df1w, df1b, df2w, df2b


def adjoint_contenders(inp):
    net = LeNet(*(inp[k].copy() for k in PARAMS))
    net.set_train()
    loss_net = nn.WithLossCell(net, nn.CrossEntropyLoss())
    grad = ops.GradOperation(get_by_list=True)(loss_net, ParameterTuple(loss_net.trainable_params()))
    return [Contender("adjoint Cell", grad, (Tensor(inp["x"]), Tensor(inp["labels"])))]


# -- peers ------------------------------------------------------------------------------------------
def _torch():
    torch = peers.load("torch")
    torch.set_num_threads(1)
    F = torch.nn.functional

    def loss(torch_, c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, x, labels):
        h = F.max_pool2d(F.relu(F.conv2d(x, c1w, c1b, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, c2w, c2b, padding=1)), 2)
        h = F.relu(F.linear(h.reshape(h.shape[0], -1), f1w, f1b))
        h = h * torch_.from_numpy(dropout_mask(h.shape))
        return F.cross_entropy(F.linear(h, f2w, f2b), labels.long())

    return loss


def _jax(args, jit):
    jax = peers.load("jax")
    import jax.numpy as jnp
    from jax import lax

    def loss(c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, x, labels, mask):
        def conv(h, w, b):
            out = lax.conv_general_dilated(h, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
            return out + b[None, :, None, None]

        def pool(h):
            return lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

        h = pool(jnp.maximum(conv(x, c1w, c1b), 0))
        h = pool(jnp.maximum(conv(h, c2w, c2b), 0))
        h = jnp.maximum(h.reshape(h.shape[0], -1) @ f1w.T + f1b, 0) * mask
        logits = h @ f2w.T + f2b
        logp = logits - jax.scipy.special.logsumexp(logits, axis=1, keepdims=True)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), labels])

    g = jax.grad(loss, argnums=tuple(range(8)))
    if jit:
        g = jax.jit(g)

    def call():
        mask = dropout_mask((BATCH, 64))
        return tuple(np.asarray(r) for r in g(*args, mask))
    return call


def peers_for(inp):
    args = tuple(inp[k] for k in PARAMS) + (inp["x"], inp["labels"])
    return {
        "jax-jit": lambda: _jax(args, True),
        "torch": lambda: peers.torch_grad(_torch(), 8, args),
    }
