"""Run-steps per second of the batched engine against per-step loops of the same run.

The workload is the paper's: depth-3 factorization of a 100x100 matrix, completion from 2000
entries, GroupRMSprop, float32. The engine runs one compiled segment of steps for a batch of
runs, sharded over every local device (one per CPU core); the loops run one optimizer step per
Python iteration, the way the authors' PyTorch code runs.

    python benchmarks/throughput.py [--batches 1 16 64 256] [--steps 2000] [--torch]

Prints one table; no assertion is made about speed.
"""

import argparse
import time

import jax
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import overparam  # noqa: E402

overparam.use_all_cpu_cores()  # one XLA device per CPU core, before JAX starts
from overparam.models import deep_factorization  # noqa: E402
from overparam.objectives import squared_objective  # noqa: E402
from overparam.problems import low_rank_truth, make_completion  # noqa: E402
from overparam.sweep._batch import compiled_functions  # noqa: E402
from overparam.train import hparams, make_trainer  # noqa: E402

N, DEPTH, M, LR, INIT = 100, 3, 2000, 1e-3, 1e-3


def problem():
    truth = low_rank_truth(jax.random.PRNGKey(0), N, N, 5)
    return make_completion(jax.random.PRNGKey(1), truth, M)


def engine(batch: int, steps: int, log_every: int) -> float:
    """Run-steps/s of one compiled segment of ``steps`` steps for ``batch`` runs.

    As the executor runs them: the batch is split evenly over the local devices (one per CPU
    core), each device runs its part as its own program, and the parts run concurrently.
    """
    devices = jax.devices()
    parts = len(devices) if batch % len(devices) == 0 else 1
    trainer = make_trainer(deep_factorization(N, N, DEPTH), squared_objective,
                           optimizer="group_rmsprop", log_every=log_every,
                           logs_per_segment=steps // log_every,
                           log_measures=("train_loss",), final_measures=("train_loss",))
    hp0 = hparams(init_scale=INIT, learning_rate=LR, stop_loss=0.0, max_steps=10**9,
                  divergence_factor=1e30)
    work = []
    for d in devices[:parts]:
        mesh = Mesh(np.array([d]), ("runs",))
        split = NamedSharding(mesh, P("runs"))
        init, advance, _, _ = compiled_functions(trainer, True, mesh)
        b = batch // parts
        hp = jax.tree.map(lambda v: jax.device_put(np.full(b, v, v.dtype), split), hp0)
        keys = jax.device_put(jax.random.split(jax.random.PRNGKey(d.id), b), split)
        prob = jax.device_put(problem(), NamedSharding(mesh, P()))
        state, _ = init(prob, hp, keys)
        work.append([advance, state, prob, hp])

    def segment():
        for w in work:  # dispatched asynchronously: the devices run concurrently
            w[1], _ = w[0](w[1], w[2], w[3])
        jax.block_until_ready([w[1] for w in work])

    segment()  # compile and warm up
    t0 = time.perf_counter()
    segment()
    return batch * steps / (time.perf_counter() - t0)


def numpy_loop(steps: int) -> float:
    """One run, one Python iteration per step: numpy forward, hand-derived backward."""
    p = problem()
    mask, obs = np.asarray(p.operator.mask), np.asarray(p.observations)
    rng = np.random.default_rng(0)
    ws = [(rng.normal(size=(N, N)) * INIT ** (1 / DEPTH) / np.sqrt(N)).astype(np.float32)
          for _ in range(DEPTH)]
    v, m = 0.0, mask.sum()

    def step(ws, v, t):
        p1 = ws[1] @ ws[0]
        w = ws[2] @ p1
        g = (2.0 / m) * mask * (w - obs)
        g3 = g @ p1.T
        s = ws[2].T @ g
        g2 = s @ ws[0].T
        g1 = ws[1].T @ s
        grads = [g1, g2, g3]
        v = 0.99 * v + 0.01 * float(sum((x * x).sum() for x in grads))
        eta = LR / (np.sqrt(v / (1 - 0.99**t)) + 1e-4)
        return [a - np.float32(eta) * b for a, b in zip(ws, grads)], v

    ws, v = step(ws, v, 1)
    t0 = time.perf_counter()
    for t in range(2, steps + 2):
        ws, v = step(ws, v, t)
    return steps / (time.perf_counter() - t0)


def jax_step_loop(steps: int) -> float:
    """One run, a jitted step called from a Python loop with a host sync per step."""
    trainer = make_trainer(deep_factorization(N, N, DEPTH), squared_objective,
                           optimizer="group_rmsprop", log_every=1, logs_per_segment=1,
                           log_measures=("train_loss",))
    hp = hparams(init_scale=INIT, learning_rate=LR, stop_loss=0.0, max_steps=10**9,
                 divergence_factor=1e30)
    prob = problem()
    state, _ = trainer.init(prob, hp, jax.random.PRNGKey(0))
    step = jax.jit(trainer.advance)
    state, logs = step(state, prob, hp)
    float(logs["train_loss"][0])
    t0 = time.perf_counter()
    for _ in range(steps):
        state, logs = step(state, prob, hp)
        float(logs["train_loss"][0])  # the reference code calls loss.item() every step
    return steps / (time.perf_counter() - t0)


def torch_loops(batch: int, steps: int) -> tuple[float, float] | None:
    """(one run per-step autograd loop, batched bmm loop with hand gradients) in run-steps/s."""
    try:
        import torch
    except ImportError:
        return None
    p = problem()
    mask = torch.tensor(np.asarray(p.operator.mask))
    obs = torch.tensor(np.asarray(p.observations))
    m = mask.sum()
    ws = [torch.randn(N, N) * INIT ** (1 / DEPTH) / N**0.5 for _ in range(DEPTH)]
    ws = [w.requires_grad_() for w in ws]
    v = 0.0
    t0 = None
    for t in range(1, steps + 2):
        if t == 2:
            t0 = time.perf_counter()
        w = ws[2] @ ws[1] @ ws[0]
        loss = (((w - obs) * mask) ** 2).sum() / m
        grads = torch.autograd.grad(loss, ws)
        with torch.no_grad():
            v = 0.99 * v + 0.01 * sum((g * g).sum() for g in grads)
            eta = LR / ((v / (1 - 0.99**t)).sqrt() + 1e-4)
            for a, g in zip(ws, grads):
                a -= eta * g
        loss.item()
    single = steps / (time.perf_counter() - t0)
    w1, w2, w3 = (torch.randn(batch, N, N) * 1e-1 / N**0.5 for _ in range(3))
    vb = torch.zeros(batch)
    for t in range(1, steps + 2):
        if t == 2:
            t0 = time.perf_counter()
        p1 = torch.bmm(w2, w1)
        w = torch.bmm(w3, p1)
        g = 2 * (w - obs) * mask / m
        g3 = torch.bmm(g, p1.transpose(1, 2))
        s = torch.bmm(w3.transpose(1, 2), g)
        g2 = torch.bmm(s, w1.transpose(1, 2))
        g1 = torch.bmm(w2.transpose(1, 2), s)
        sq = sum((x * x).sum((1, 2)) for x in (g1, g2, g3))
        vb = 0.99 * vb + 0.01 * sq
        eta = (LR / ((vb / (1 - 0.99**t)).sqrt() + 1e-4))[:, None, None]
        w1, w2, w3 = w1 - eta * g1, w2 - eta * g2, w3 - eta * g3
    return single, batch * steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64, 256])
    ap.add_argument("--steps", type=int, default=2000, help="steps per timed segment")
    ap.add_argument("--log-every", type=int, default=1000)
    ap.add_argument("--loop-steps", type=int, default=300)
    ap.add_argument("--torch", action="store_true", help="also time PyTorch loops if installed")
    args = ap.parse_args()
    devices = jax.devices()
    print(f"device: {devices[0].device_kind} x{len(devices)} ({jax.default_backend()}), "
          f"jax {jax.__version__}; depth {DEPTH}, {N}x{N}, m={M}, GroupRMSprop, float32")
    loop = numpy_loop(args.loop_steps)
    rows = [("per-step numpy loop, 1 run (baseline)", 1, loop),
            ("per-step jitted JAX step + host sync, 1 run", 1, jax_step_loop(args.loop_steps))]
    if args.torch:
        t = torch_loops(16, args.loop_steps)
        if t is not None:
            rows += [("per-step PyTorch autograd loop, 1 run (paper's code)", 1, t[0]),
                     ("PyTorch bmm loop, hand gradients, batch 16", 16, t[1])]
    for b in args.batches:
        rows.append((f"overparam engine, batch {b}", b, engine(b, args.steps, args.log_every)))
    print(f"\n{'implementation':<56}{'batch':>6}{'run-steps/s':>14}{'x baseline':>12}")
    for name, b, rate in rows:
        print(f"{name:<56}{b:>6}{rate:>14,.0f}{rate / loop:>12.1f}")


if __name__ == "__main__":
    main()
