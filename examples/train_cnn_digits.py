"""Train a small LeNet-style CNN on scikit-learn's 8x8 handwritten digits with adjoint.

    pip install -e '.[examples]'          # scikit-learn, matplotlib, tqdm (not needed by adjoint itself)
    python examples/train_cnn_digits.py   # --epochs N, --out DIR (default: examples/output)

Conv2d, ReLU, MaxPool2d, Flatten, Dense and Dropout, CrossEntropyLoss, nn.Adam with a
cosine learning-rate schedule, WithLossCell and TrainOneStepCell, as in MindSpore; the
gradient of every step is the code adjoint generated from the layers' construct source.
Shows a progress bar with the running loss, saves a plot of loss and accuracy per epoch,
saves a checkpoint, reloads it into a fresh network and checks it gives the same accuracy.
"""
import argparse
import os
import sys
import time

# This network's matrices are small: one BLAS thread is fastest, and on a busy machine BLAS
# threads waiting for each other make a step many times slower. (Set before NumPy is imported;
# your own setting wins.)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import adjoint  # noqa: E402
import adjoint.nn as nn  # noqa: E402
from adjoint import Tensor  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def need(module, purpose):
    """Import an optional dependency of this example, or stop with a clear message."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        sys.exit("train_cnn_digits.py needs %s for %s: pip install -e '.[examples]' (or pip install %s)"
                 % (module.split(".")[0], purpose, {"sklearn": "scikit-learn"}.get(module.split(".")[0],
                                                                                   module.split(".")[0])))


class LeNet(nn.Cell):
    """conv 3x3 (16) - ReLU - max pool 2 - conv 3x3 (32) - ReLU - max pool 2 - Dense 64 - Dropout - Dense 10."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, pad_mode="same", has_bias=True)
        self.conv2 = nn.Conv2d(16, 32, 3, pad_mode="same", has_bias=True)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Dense(32 * 2 * 2, 64)
        self.dropout = nn.Dropout(p=0.25)
        self.fc2 = nn.Dense(64, num_classes)

    def construct(self, x):
        x = self.pool(self.relu(self.conv1(x)))        # (N, 16, 4, 4)
        x = self.pool(self.relu(self.conv2(x)))        # (N, 32, 2, 2)
        x = self.dropout(self.relu(self.fc1(self.flatten(x))))
        return self.fc2(x)


def load_data(seed):
    datasets = need("sklearn.datasets", "the digits data set")
    model_selection = need("sklearn.model_selection", "the train/test split")
    digits = datasets.load_digits()
    x = (digits.images.astype(np.float32) / 16.0 - 0.5)[:, None, :, :]     # (1797, 1, 8, 8) in [-0.5, 0.5]
    y = digits.target.astype(np.int32)
    return model_selection.train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def accuracy(net, x, y):
    net.set_train(False)
    logits = net(Tensor(x)).asnumpy()
    net.set_train(True)
    return float((logits.argmax(axis=1) == y).mean())


def plot(history, path):
    matplotlib = need("matplotlib", "the plot")
    matplotlib.use("Agg")
    plt = need("matplotlib.pyplot", "the plot")
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].plot(epochs, history["loss"], marker="o")
    ax[0].set(title="training loss", xlabel="epoch", ylabel="cross entropy")
    ax[1].plot(epochs, history["train_acc"], marker="o", label="train")
    ax[1].plot(epochs, history["test_acc"], marker="o", label="test")
    ax[1].set(title="accuracy", xlabel="epoch", ylim=(min(0.8, min(history["test_acc"])), 1.0))
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(HERE, "output"), help="where the plot and checkpoint go")
    args = parser.parse_args(argv)
    tqdm = need("tqdm", "the progress bar").tqdm
    start = time.perf_counter()
    np.random.seed(args.seed)                    # initial weights and dropout masks
    x_train, x_test, y_train, y_test = load_data(args.seed)

    net = LeNet()
    n_params = sum(p.size for p in net.trainable_params())
    print("digits: %d training and %d test images of 8x8; LeNet with %d parameters"
          % (len(x_train), len(x_test), n_params))
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    lr = nn.cosine_decay_lr(0.0001, 0.01, args.epochs * steps_per_epoch, steps_per_epoch, args.epochs)
    optimizer = nn.Adam(net.trainable_params(), learning_rate=lr)
    train_net = nn.TrainOneStepCell(nn.WithLossCell(net, nn.CrossEntropyLoss()), optimizer)
    train_net.set_train()

    history = {"loss": [], "train_acc": [], "test_acc": []}
    rng = np.random.default_rng(args.seed)
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        total, seen = 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc="epoch %2d/%d" % (epoch, args.epochs), leave=False,
                   file=sys.stderr, ncols=80)
        for step in bar:
            batch = order[step * args.batch_size:(step + 1) * args.batch_size]
            loss = train_net(Tensor(x_train[batch]), Tensor(y_train[batch]))
            total += float(loss.asnumpy()) * len(batch)
            seen += len(batch)
            bar.set_postfix(loss="%.4f" % (total / seen))
        history["loss"].append(total / seen)
        history["train_acc"].append(accuracy(net, x_train, y_train))
        history["test_acc"].append(accuracy(net, x_test, y_test))
        tqdm.write("epoch %2d/%d  loss %.4f  train accuracy %.4f  test accuracy %.4f"
                   % (epoch, args.epochs, history["loss"][-1], history["train_acc"][-1], history["test_acc"][-1]))

    os.makedirs(args.out, exist_ok=True)
    png = os.path.join(args.out, "train_cnn_digits.png")
    plot(history, png)
    ckpt = os.path.join(args.out, "lenet_digits.ckpt")
    adjoint.save_checkpoint(net, ckpt)
    fresh = LeNet()
    not_loaded, _ = adjoint.load_param_into_net(fresh, adjoint.load_checkpoint(ckpt))
    reloaded = accuracy(fresh, x_test, y_test)
    print("checkpoint %s: %d parameters, reloaded into a new LeNet: test accuracy %.4f%s"
          % (os.path.relpath(ckpt), len(list(net.get_parameters())), reloaded,
             "" if not not_loaded else " (not loaded: %s)" % not_loaded))
    print("plot: %s" % os.path.relpath(png))
    print("final test accuracy %.4f in %.1f s (%d steps of batch %d)"
          % (history["test_acc"][-1], time.perf_counter() - start, args.epochs * steps_per_epoch, args.batch_size))
    return history


if __name__ == "__main__":
    main()
