"""recompute: gradient checkpointing on a deep MLP. 6 blocks of 6 layers ``tanh(h @ W + b)``,
width 128, batch 512, float32, loss ``sum(h**2) / batch``; gradients w.r.t. all 72 Parameters.

The same network twice: as it is, and with ``block.recompute()`` on every block (MindSpore's
Cell.recompute): the values inside a block are not kept for the reverse sweep but computed again
there from the block's input, so the peak memory holds the 6 block inputs and one block's values
instead of all 36 layers' (the memory column), for about one more forward pass (the time column).
The hand-written gradient keeps every layer's output, as ordinary backpropagation does."""
import numpy as np

from adjoint import Parameter, ParameterTuple, Tensor, nn, ops

from harness import Contender

NAME = "recompute"
TITLE = "deep MLP 36 x 128 tanh, B=512, f32, recompute"
TARGET = 1.5
NOTE = ("rows: the Cell as it is, and with recompute() on its 6 blocks (the memory column drops, the "
        "time column pays a second forward of each block)")

BLOCKS, DEPTH, WIDTH, BATCH = 6, 6, 128, 512


class Layer(nn.Cell):
    def __init__(self, W, b):
        super().__init__()
        self.W = Parameter(W, name="W")
        self.b = Parameter(b, name="b")

    def construct(self, h):
        return ops.tanh(ops.matmul(h, self.W) + self.b)


class Block(nn.Cell):
    def __init__(self, params):
        super().__init__()
        self.layers = nn.CellList([Layer(W, b) for W, b in params])

    def construct(self, h):
        for layer in self.layers:
            h = layer(h)
        return h


class Deep(nn.Cell):
    def __init__(self, params, recompute=False):
        super().__init__()
        self.blocks = nn.CellList([Block(params[k * DEPTH:(k + 1) * DEPTH]) for k in range(BLOCKS)])
        if recompute:
            for block in self.blocks:
                block.recompute()

    def construct(self, x):
        h = x
        for block in self.blocks:
            h = block(h)
        return ops.sum(h * h) / x.shape[0]


def hand_grad(x, *flat):
    pairs = list(zip(flat[::2], flat[1::2]))
    hs = [x]
    h = x
    for W, b in pairs:
        h = np.tanh(h @ W + b)
        hs.append(h)
    dh = h * np.float32(2.0 / x.shape[0])
    grads = []
    for k in reversed(range(len(pairs))):
        W = pairs[k][0]
        dpre = dh * (1 - hs[k + 1] * hs[k + 1])
        grads.append((hs[k].T @ dpre, np.sum(dpre, axis=0)))
        dh = dpre @ W.T
    out = []
    for dW, db in reversed(grads):
        out += [dW, db]
    return tuple(out)


def make_inputs():
    r = np.random.default_rng(4)
    inp = {"x": r.standard_normal((BATCH, WIDTH)).astype(np.float32)}
    for k in range(BLOCKS * DEPTH):
        inp["W%d" % k] = (r.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
        inp["b%d" % k] = (r.standard_normal(WIDTH) * 0.1).astype(np.float32)
    return inp


def _params(inp):
    return [(inp["W%d" % k], inp["b%d" % k]) for k in range(BLOCKS * DEPTH)]


def adjoint_contenders(inp):
    x = Tensor(inp["x"])
    out = []
    for label, recompute in (("GradOperation", False), ("GradOperation+recompute", True)):
        net = Deep(_params(inp), recompute)
        grad = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
        out.append(Contender(label, grad, (x,)))
    return out


def peers_for(inp):
    return {}
