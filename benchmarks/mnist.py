"""MNIST training throughput: the batched engine against a plain per-run loop.

    python benchmarks/mnist.py [--steps 300] [--widths 16 64 256 1024] [--train 10000]

Each width trains R = seeds x lambdas runs (4 seeds, diversity weight 0 and 1e-2) of a
784 -> n -> 10 ReLU network with softmax cross-entropy and Adam (lr 1e-3), minibatches of
100 drawn each step, on the first ``--train`` MNIST training images. The engine runs them as
one ``overparam`` sweep (one compiled, vmapped program per width; logging only at the end).
The plain loop is what such papers' code does: one jitted step function per width, and the
runs one after another in Python, one step per call. Both times include compilation and
data handling; examples per second = R x steps x 100 / wall. Prints one table.
"""

import argparse
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import overparam as op
from overparam.diversity import diversity_regularizer
from overparam.problems._data import draw_indices
from overparam.problems.kinds.mnist import MnistConfig, build

SEEDS, LAMBDAS, BATCH, LR = [0, 1, 2, 3], [0.0, 1e-2], 100, 1e-3


def engine(width: int, steps: int, n_train: int) -> float:
    sweep = {"name": f"mnist-{width}",
             "problem": {"kind": "mnist", "n_train": n_train, "n_test": 1000},
             "model": {"kind": "relu_network", "width": width},
             "objective": {"kind": "cross_entropy"},
             "optimizer": {"name": "adam", "learning_rate": LR},
             "train": {"max_steps": steps, "log_every": steps, "stop_loss": 0.0,
                       "batch_size": BATCH},
             "grid": {"objective.diversity": LAMBDAS}, "seeds": SEEDS,
             "measures": ["data_loss", "test_error_rate"], "log_measures": ["data_loss"]}
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        op.run(sweep, out=out, progress=False, max_batch=len(SEEDS) * len(LAMBDAS))
        return time.perf_counter() - t0


def plain(width: int, steps: int, n_train: int) -> float:
    t0 = time.perf_counter()
    p = build(MnistConfig(n_train=n_train, n_test=1000), jnp.float32)
    x, y = p.inputs, p.targets
    opt = optax.adam(LR)

    def loss(params, xb, yb, lam):
        logits = jax.nn.relu(xb @ params["w"].T) @ params["v"]
        fit = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, yb))
        return fit + lam * diversity_regularizer(params["w"])

    @jax.jit
    def step(params, state, key, lam):
        idx = draw_indices(key, x.shape[0], BATCH)  # the engine's sampler
        grads = jax.grad(loss)(params, x[idx], y[idx], lam)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    for seed in SEEDS:
        for lam in LAMBDAS:
            k1, k2, key = jax.random.split(jax.random.PRNGKey(seed), 3)
            params = {"w": jax.random.normal(k1, (width, 784)) / np.sqrt(784),
                      "v": jax.random.normal(k2, (width, 10)) / np.sqrt(width)}
            state = opt.init(params)
            for t in range(steps):
                params, state = step(params, state, jax.random.fold_in(key, t), lam)
            jax.block_until_ready(params)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--widths", type=int, nargs="+", default=[16, 64, 256, 1024])
    ap.add_argument("--train", type=int, default=10_000)
    args = ap.parse_args()
    runs = len(SEEDS) * len(LAMBDAS)
    examples = runs * args.steps * BATCH
    print(f"{runs} runs x {args.steps} steps x batch {BATCH}, {args.train} training images")
    print(f"{'width':>6}{'plain s':>9}{'engine s':>10}{'plain ex/s':>12}{'engine ex/s':>13}"
          f"{'ratio':>7}")
    for width in args.widths:
        tp = plain(width, args.steps, args.train)
        te = engine(width, args.steps, args.train)
        print(f"{width:>6}{tp:>9.1f}{te:>10.1f}{examples / tp:>12.0f}{examples / te:>13.0f}"
              f"{tp / te:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
