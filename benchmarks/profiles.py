"""Wall time of each experiment's profile and where it goes, from scratch.

    python benchmarks/profiles.py [--profile quick|paper] [--experiments NAME ...]
                                  [--cache fresh|off|DIR] [--repeat N] [--plain]

Runs each profile in a temporary directory and prints two tables:

- per profile: runs, GD run-steps, wall time, run-steps per second, claims held, and the
  XLA compiles that missed the persistent compilation cache (``--repeat 2`` runs each profile
  twice with the same cache: the second run should compile nothing);
- where each run's wall time went: XLA compile (summed over the device threads), GD training
  and baseline solves (each summed over the threads that ran them: with several devices they
  overlap each other), figures and store. Import time is printed once.

``--cache fresh`` (the default) points JAX's persistent compilation cache at an empty
temporary directory, so the first run compiles everything, as a new user's first run does;
``off`` disables it; a path uses that directory. ``--plain`` adds, for the completion quick
profile, a plain version of its 15 GD runs written here (see :func:`plain_completion`) and the
ratio of the reproduction's wall time to it.
"""

import argparse
import os
import sys
import tempfile
import time

T0 = time.perf_counter()


def _cache_from_argv() -> tempfile.TemporaryDirectory | None:
    # The cache location must be set before overparam sets up JAX.
    choice = "fresh"
    if "--cache" in sys.argv:
        choice = sys.argv[sys.argv.index("--cache") + 1]
    if choice == "fresh":
        tmp = tempfile.TemporaryDirectory(prefix="overparam-bench-cache-")
        os.environ["OVERPARAM_COMPILATION_CACHE"] = tmp.name
        return tmp
    os.environ["OVERPARAM_COMPILATION_CACHE"] = choice
    return None


_CACHE_DIR = _cache_from_argv()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from jax import lax, monitoring  # noqa: E402

import overparam  # noqa: E402
import overparam.experiments._runner as runner  # noqa: E402
import overparam.sweep._store as store_module  # noqa: E402
import overparam.sweep._work as work  # noqa: E402
from overparam.experiments import EXPERIMENTS, reproduce  # noqa: E402

IMPORT_S = time.perf_counter() - T0
PHASES = ("compile", "GD training", "baselines", "figures", "store")
TIMES: dict[str, float] = {}
COUNTS: dict[str, int] = {}


def _timed(name: str, fn):
    def wrapped(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] = TIMES.get(name, 0.0) + time.perf_counter() - t0
    return wrapped


def _on_duration(name: str, secs: float, **kwargs) -> None:
    del kwargs
    if name == "/jax/core/compile/backend_compile_duration":
        TIMES["compile"] = TIMES.get("compile", 0.0) + secs


def _on_event(name: str, **kwargs) -> None:
    del kwargs
    if name == "/jax/compilation_cache/cache_misses":
        COUNTS["compiled"] = COUNTS.get("compiled", 0) + 1
    elif name == "/jax/compilation_cache/cache_hits":
        COUNTS["cache hits"] = COUNTS.get("cache hits", 0) + 1


def _instrument() -> None:
    """Time the phases by wrapping the engine's functions (this script only)."""
    work._train = _timed("GD training", work._train)
    work._solve = _timed("baselines", work._solve)
    store_module.Store.consolidate = _timed("store", store_module.Store.consolidate)
    store_module.Store.write_part = _timed("store", store_module.Store.write_part)
    monitoring.register_event_duration_secs_listener(_on_duration)
    monitoring.register_event_listener(_on_event)


def _time_figures(name: str) -> None:
    experiment = runner.get_experiment(name)
    if not getattr(experiment.plot, "_timed", False):
        plot = _timed("figures", experiment.plot)
        plot._timed = True
        object.__setattr__(experiment, "plot", plot)


def plain_completion(max_steps: int = 60_000, chunk: int = 500) -> tuple[float, int]:
    """The 15 GD runs of the completion quick profile, written plainly: one
    ``jax.jit(jax.vmap(...))`` per depth over the runs' inits and masks, a ``lax.scan`` of
    500 GroupRMSprop steps per call, a Python loop until every run reaches train MSE 1e-6 or
    60 000 steps, float32 at full precision, default devices, compile included (the
    compilation cache disabled while it runs), no logging, baselines or figures.

    Returns (seconds, run-steps until each run stopped)."""
    from overparam.models import deep_factorization, end_to_end
    from overparam.optim import group_rmsprop
    from overparam.problems.kinds.completion import CompletionConfig, build

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
    ap.add_argument("--profile", default="quick", choices=["quick", "paper"])
    ap.add_argument("--experiments", nargs="+", default=None,
                    help="default: every experiment that has the profile")
    ap.add_argument("--cache", default="fresh",
                    help="compilation cache: fresh (an empty temporary one), off, or a path")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each profile (same cache)")
    ap.add_argument("--plain", action="store_true",
                    help="add the plain jit(vmap(scan)) of the completion quick profile")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()
    overparam.use_all_cpu_cores()  # one XLA device per CPU core, before JAX starts
    overparam.enable_compilation_cache()
    _instrument()
    names = args.experiments or [n for n in EXPERIMENTS if args.profile in EXPERIMENTS[n].sweeps]
    devices = jax.devices()
    print(f"device: {devices[0].device_kind} x{len(devices)} ({jax.default_backend()}), "
          f"jax {jax.__version__}; profile {args.profile}; cache {args.cache}; "
          f"import {IMPORT_S:.1f} s")
    rows = []
    for name in names:
        _time_figures(name)
        for rep in range(1, args.repeat + 1):
            TIMES.clear()
            COUNTS.clear()
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                result = reproduce(name, args.profile, out, progress=args.progress)
                wall = time.perf_counter() - t0
            gd = result.runs[result.runs["method"] == "gd"]
            held = sum(c["holds"] for c in result.claims)
            rows.append((name, rep, len(result.runs), int(gd["steps"].sum()), wall,
                         f"{held}/{len(result.claims)}", COUNTS.get("compiled", 0),
                         dict(TIMES)))
            print(f"  {name} (run {rep}): {wall:.0f} s", flush=True)
    print(f"\n{'experiment':<24}{'run':>4}{'runs':>6}{'GD steps':>12}{'wall s':>8}"
          f"{'steps/s':>10}{'claims':>8}{'compiled':>10}")
    for name, rep, n, steps, wall, claims, compiled, _ in rows:
        print(f"{name:<24}{rep:>4}{n:>6}{steps:>12,}{wall:>8.0f}{steps / wall:>10,.0f}"
              f"{claims:>8}{compiled:>10}")
    print(f"\n{'seconds in':<24}{'run':>4}{'wall':>8}" + "".join(f"{p:>13}" for p in PHASES))
    for name, rep, _, _, wall, _, _, times in rows:
        print(f"{name:<24}{rep:>4}{wall:>8.1f}"
              + "".join(f"{times.get(p, 0.0):>13.1f}" for p in PHASES))
    if args.plain:
        jax.config.update("jax_enable_compilation_cache", False)
        plain, steps = plain_completion()
        ours = [r for r in rows if r[0] == "arora2019-completion" and args.profile == "quick"]
        print(f"\nplain jit(vmap(scan)) of the completion quick profile's 15 GD runs: "
              f"{plain:.1f} s, {steps:,} run-steps")
        for name, rep, _, gd_steps, wall, *_ in ours:
            print(f"  run {rep}: {wall:.1f} s ({gd_steps:,} run-steps); reproduction / plain = "
                  f"{wall / plain:.2f} (speed-up {plain / wall:.2f}x)")


if __name__ == "__main__":
    main()
