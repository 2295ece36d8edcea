"""Cost of the Hessian-trace methods against problem size, and Hutchinson's error against the
number of probes.

    python benchmarks/hessian.py [--sizes quick|full] [--dtype float32|float64]

Table 1: milliseconds per evaluation (jitted, compile excluded, median of repeats) of

* ``closed form``: ``hessian_trace`` on a deep factorization (the row/column-norm form for
  completion, M sandwich products for dense sensing);
* ``generic``: the same exact trace through chunked VJPs/JVPs (the model's ``predict``
  wrapped so that the closed form is not recognized);
* ``hutchinson``: 64 Rademacher probes (``hessian_trace_hutchinson``);
* ``lanczos``: 32 Lanczos steps (``hessian_max_eigenvalue``);
* ``dense``: ``jnp.trace(jax.hessian(...))`` on the flattened parameters (small P only);

for depth-3 completion (d x d, m = d^2 / 4 observed entries, rank 2) and depth-3 dense
Gaussian sensing (m = 10 d measurements), at a random Gaussian init of scale 1.

Table 2: Hutchinson's relative error |estimate - exact| / exact (mean over 20 keys) and its
mean reported standard error, against the number of probes, beside the exact trace.
"""

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

import overparam.measures._hessian as hessian
from overparam.measures import compute_measures
from overparam.models import deep_factorization, end_to_end
from overparam.objectives import bind_objective, squared_objective
from overparam.problems import low_rank_truth, make_completion, make_sensing

SIZES = {"quick": [("completion", 20), ("completion", 50), ("sensing", 10), ("sensing", 20)],
         "full": [("completion", 20), ("completion", 50), ("completion", 100),
                  ("sensing", 10), ("sensing", 20)]}
DENSE_MAX_PARAMS = 1500
GENERIC_MAX_MS = 60_000  # skip the generic path's repeats beyond this


def _case(kind: str, d: int, dtype):
    truth = low_rank_truth(jax.random.PRNGKey(0), d, d, 2, dtype)
    if kind == "completion":
        problem = make_completion(jax.random.PRNGKey(1), truth, d * d // 4)
    else:
        problem = make_sensing(jax.random.PRNGKey(1), truth, 10 * d)
    model = deep_factorization(d, d, 3)
    params = model.init(jax.random.PRNGKey(2), 1.0, dtype=dtype)
    return model, params, problem


def _timed(fn, *args, repeats: int = 5) -> float:
    """Median milliseconds per call after one compiling call."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(1e3 * (time.perf_counter() - t0))
        if times[-1] > GENERIC_MAX_MS:
            break
    return statistics.median(times)


def _measure_fn(name: str, model):
    bound = bind_objective(squared_objective, model, {})
    return jax.jit(lambda p, prob, k: compute_measures([name], model, p, prob, objective=bound,
                                                       key=k)[name])


def cost_table(sizes, dtype) -> None:
    print("| problem | d | P | M | closed form | generic | hutchinson (64) | lanczos (32) "
          "| dense |")
    print("|---|---|---|---|---|---|---|---|---|")
    key = jax.random.PRNGKey(3)
    for kind, d in sizes:
        model, params, problem = _case(kind, d, dtype)
        p = ravel_pytree(params)[0].size
        m = problem.observations.size
        generic = model._replace(predict=lambda w: end_to_end(w))  # not recognized
        row = [_timed(_measure_fn("hessian_trace", model), params, problem, key),
               _timed(_measure_fn("hessian_trace", generic), params, problem, key,
                      repeats=1 if p * m > 5e7 else 5),
               _timed(_measure_fn("hessian_trace_hutchinson", model), params, problem, key),
               _timed(_measure_fn("hessian_max_eigenvalue", model), params, problem, key)]
        if p <= DENSE_MAX_PARAMS:
            def dense(w, prob):
                flat, unravel = ravel_pytree(w)
                f = lambda x: squared_objective(model, unravel(x), prob, {})[0]  # noqa: E731
                return jnp.trace(jax.hessian(f)(flat))
            row.append(_timed(jax.jit(dense), params, problem))
        cells = " | ".join(f"{t:.1f}" for t in row)
        print(f"| {kind} | {d} | {p} | {m} | {cells} |" + (" - |" if len(row) == 4 else ""))


def probe_table(dtype, keys: int = 20) -> None:
    print()
    print("| problem | d | exact trace | probes | mean rel. error | mean SE / exact |")
    print("|---|---|---|---|---|---|")
    for kind, d in [("completion", 20), ("sensing", 10)]:
        model, params, problem = _case(kind, d, dtype)
        bound = bind_objective(squared_objective, model, {})
        exact = float(_measure_fn("hessian_trace", model)(params, problem,
                                                          jax.random.PRNGKey(0)))
        for probes in (4, 16, 64, 256):
            def estimate(k, probes=probes):
                s = hessian.hutchinson_samples(lambda w: bound(w, problem)[0], params, k,
                                               probes).sum(axis=1)
                return s.mean(), s.std(ddof=1) / jnp.sqrt(probes)
            est, se = jax.jit(jax.vmap(estimate))(jax.random.split(jax.random.PRNGKey(4),
                                                                   keys))
            err = float(np.mean(np.abs(np.asarray(est) - exact))) / exact
            print(f"| {kind} | {d} | {exact:.4g} | {probes} | {err:.3f} | "
                  f"{float(np.mean(se)) / exact:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", choices=sorted(SIZES), default="full")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    with jax.enable_x64(args.dtype == "float64"):
        dtype = jnp.dtype(args.dtype)
        print(f"jax {jax.__version__}, {jax.devices()[0].platform}, {args.dtype}; "
              "milliseconds per evaluation")
        cost_table(SIZES[args.sizes], dtype)
        probe_table(dtype)


if __name__ == "__main__":
    main()
