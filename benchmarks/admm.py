"""Seconds and iterations per nuclear-norm baseline solve: full SVDs against rank-k SVTs.

    python benchmarks/admm.py

100x100 rank-5 completions (the completion and norms profiles' baselines), float64,
eps 1e-6, one solve at a time, compile excluded; prints one table.
"""

import time

import jax
import jax.numpy as jnp

from overparam.problems.kinds.completion import CompletionConfig, build
from overparam.solvers import nuclear_norm_min
from overparam.solvers.kinds.nuclear_norm import svt_rank

CASES = [(m, 1e-3) for m in (1000, 2000, 3000, 4000, 5000)] + [(1500, 0.0), (2000, 0.0)]


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    total = {"full": 0.0, "rank-k": 0.0}
    print(f"{'m':>5}{'tol':>7}{'full its':>10}{'full s':>8}{'rank-k its':>12}"
          f"{'rank-k s':>10}{'ratio':>7}{'|dx|/|x|':>10}")
    for m, tol in CASES:
        problem = build(CompletionConfig(d1=100, d2=100, rank=5, m=m, seed=0), jnp.float64)
        out = {}
        for name, k in (("full", None), ("rank-k", svt_rank((100, 100)))):
            solve = jax.jit(lambda p, k=k: nuclear_norm_min(
                p, tol=tol, eps=1e-6, max_iters=20000, svt_rank=k)).lower(problem).compile()
            t0 = time.perf_counter()
            result = solve(problem)
            result.x.block_until_ready()
            out[name] = (result, time.perf_counter() - t0)
            total[name] += out[name][1]
        (a, ta), (b, tb) = out["full"], out["rank-k"]
        dx = float(jnp.linalg.norm(a.x - b.x) / jnp.linalg.norm(a.x))
        print(f"{m:>5}{tol:>7g}{int(a.iterations):>10}{ta:>8.2f}{int(b.iterations):>12}"
              f"{tb:>10.2f}{ta / tb:>7.2f}{dx:>10.1e}", flush=True)
    print(f"total: full {total['full']:.1f} s, rank-k {total['rank-k']:.1f} s")


if __name__ == "__main__":
    main()
