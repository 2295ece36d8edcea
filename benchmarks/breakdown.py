"""Where a reproduction's wall time goes, beside a plain jit(vmap(scan)) of its GD runs.

    python benchmarks/breakdown.py [--experiment arora2019-completion] [--no-plain]

Prints one table: import, compile (XLA backend compile, summed over threads), GD training,
baseline solves, figures and store, for one quick-profile reproduction with an empty
compilation cache; then, for the completion profile, a plain version of the same 15 GD runs
written here: one ``jax.jit(jax.vmap(...))`` per depth over the runs' inits and masks, a
``lax.scan`` of 500 GroupRMSprop steps per call, a Python loop until every run reaches train
MSE 1e-6 or 60 000 steps, float32 at full precision, default devices, compile included, no
compilation cache, logging, baselines or figures; and the ratio.
"""

import argparse
import os
import tempfile
import time

T0 = time.perf_counter()
os.environ["OVERPARAM_COMPILATION_CACHE"] = "off"  # compile everything, as a first run does

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from jax import lax, monitoring  # noqa: E402

import overparam  # noqa: E402
import overparam.experiments._runner as runner  # noqa: E402
import overparam.sweep._store as store_module  # noqa: E402
import overparam.sweep._work as work  # noqa: E402
from overparam.experiments import reproduce  # noqa: E402
from overparam.models import deep_factorization, end_to_end  # noqa: E402
from overparam.optim import group_rmsprop  # noqa: E402
from overparam.problems.kinds.completion import CompletionConfig, build  # noqa: E402

IMPORT_S = time.perf_counter() - T0
TIMES: dict[str, float] = {}


def _timed(name: str, fn):
    def wrapped(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] = TIMES.get(name, 0.0) + time.perf_counter() - t0
    return wrapped


def _instrument() -> None:
    """Time the phases by wrapping the engine's functions (this script only)."""
    work._train = _timed("GD training (threads, summed)", work._train)
    work._solve = _timed("baseline solves", work._solve)
    store_module.Store.consolidate = _timed("store: consolidate", store_module.Store.consolidate)
    store_module.Store.write_part = _timed("store: write parts", store_module.Store.write_part)
    monitoring.register_event_duration_secs_listener(
        lambda name, secs, **kw: TIMES.__setitem__(
            "XLA compile (summed)", TIMES.get("XLA compile (summed)", 0.0) + secs)
        if name == "/jax/core/compile/backend_compile_duration" else None)


def _with_figures_timed(experiment):
    plot = experiment.plot
    return _timed("figures", plot)


def plain_completion(max_steps: int = 60_000, chunk: int = 500) -> tuple[float, int]:
    """The 15 GD runs of the completion quick profile as one jit(vmap(scan)) per depth."""
    t0 = time.perf_counter()
    total_steps = 0
    ms = [1000, 2000, 3000, 4000, 5000]
    problems = [build(CompletionConfig(d1=100, d2=100, rank=5, m=m, seed=0), jnp.float32)
                for m in ms]
    masks = jnp.stack([p.operator.mask for p in problems])
    obs = jnp.stack([p.observations for p in problems])
    for depth in (2, 3, 4):
        model = deep_factorization(100, 100, depth)
        opt = group_rmsprop(1e-3)
        params = jax.vmap(lambda k: model.init(k, 1e-3))(
            jnp.stack([jax.random.PRNGKey(0)] * len(ms)))
        state = jax.vmap(opt.init)(params)

        def loss(p, mask, y):
            r = mask * (end_to_end(p) - y)
            return jnp.sum(r * r) / jnp.sum(mask)

        def steps(carry, mask, y):
            def one(c, _):
                p, s, done, n = c
                value, g = jax.value_and_grad(loss)(p, mask, y)
                done = done | (value <= 1e-6)
                u, s_new = opt.update(g, s, p)
                keep = lambda a, b: jnp.where(done, b, a)  # noqa: E731
                p = jax.tree.map(keep, optax.apply_updates(p, u), p)
                s = jax.tree.map(keep, s_new, s)
                return (p, s, done, n + (~done).astype(jnp.int32)), None
            return lax.scan(one, carry, None, length=chunk)[0]

        with jax.default_matmul_precision("highest"):
            run = jax.jit(jax.vmap(steps))
            carry = (params, state, jnp.zeros(len(ms), bool), jnp.zeros(len(ms), jnp.int32))
            for _ in range(max_steps // chunk):
                carry = run(carry, masks, obs)
                if bool(carry[2].all()):
                    break
        total_steps += int(carry[3].sum())
    return time.perf_counter() - t0, total_steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="arora2019-completion")
    ap.add_argument("--no-plain", action="store_true")
    args = ap.parse_args()
    overparam.use_all_cpu_cores()
    _instrument()
    experiment = runner.get_experiment(args.experiment)
    object.__setattr__(experiment, "plot", _with_figures_timed(experiment))
    print(f"device: {jax.devices()[0].device_kind} x{len(jax.devices())}, jax {jax.__version__}")
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        result = reproduce(args.experiment, "quick", out, progress=False)
        wall = time.perf_counter() - t0
    held = sum(c["holds"] for c in result.claims)
    print(f"\n{args.experiment} quick: {wall:.1f} s wall, {held}/{len(result.claims)} claims")
    print(f"{'phase':<34}{'seconds':>9}")
    print(f"{'import':<34}{IMPORT_S:>9.1f}")
    for name, secs in TIMES.items():
        print(f"{name:<34}{secs:>9.1f}")
    if args.no_plain or args.experiment != "arora2019-completion":
        return
    plain, steps = plain_completion()
    gd = result.runs[result.runs["method"] == "gd"]
    print(f"\nplain jit(vmap(scan)) of the 15 GD runs: {plain:.1f} s, {steps:,} run-steps "
          f"(engine: {int(gd['steps'].sum()):,}); reproduction / plain = {wall / plain:.2f}")


if __name__ == "__main__":
    main()
