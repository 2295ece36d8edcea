"""Flat solutions by convex relaxation (Ding et al. 2022), as a baseline: ``{kind = "flat"}``.

See :mod:`overparam.solvers._flat` for the relaxations. The row of a flat solve has the
measures of the recovered matrix :math:`X = D_1^{-1}YD_2^{-1}` and, for measures that need
factors (the Hessian diagnostics), those of the flat factors: :math:`(L, R)` under the
``two_factor`` model, :math:`(U_1, U_2)` under ``symmetric`` for symmetric measurements, the
Hadamard factors under ``hadamard`` of depth ``depth`` for ``d x 1`` problems; the loss is the
squared one (the ``robust_pca`` fit for robust PCA). Its status is ``converged``,
``max_steps`` (stopped short of ``eps``: counted apart, never as a success or a failure by
itself) or ``singular_weights`` (:math:`D_1` or :math:`D_2` singular, e.g. completion with an
empty row: no relaxation, the matrix is NaN, a failure).

What the paper leaves open and is chosen here: the solver (an ADMM in JAX, see
:func:`~overparam.solvers.nuclear_norm_min`, with ``equality=True``: Douglas-Rachford between
the SVT and the projection onto A(X) = b) and its tolerance: ``eps = 1e-9`` on the relative
residuals, in float64, so that the 1e-6 success rule on the Frobenius error is decided by the
problem rather than by the solver. Measured on 174 phase-map problems (d = 8-20, Gaussian,
rank-one, completion): eps = 1e-7 flipped 2 verdicts against SCS at 1e-10, eps <= 1e-8 none;
at 1e-9 the errors of successes were at most 1.6e-10, and the slowest solve (a failure by the
phase boundary) took 25,490 of the 50,000 iterations allowed.
"""

import time
from typing import Annotated, Literal

from pydantic import Field

from overparam.configs import PosInt
from overparam.solvers.kinds._base import SolverConfigBase, bucketed, cached_jit

FLAT_EPS = 1e-9
FLAT_MAX_ITERS = 50_000


class FlatConfig(SolverConfigBase):
    """The flat relaxation of each problem, solved to relative residuals ``eps``."""

    kind: Literal["flat"] = "flat"
    eps: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = Field(
        FLAT_EPS, description="relative residual tolerance of the ADMM")
    max_iters: PosInt = Field(FLAT_MAX_ITERS, description="ADMM iteration cap")
    depth: Annotated[int, Field(ge=2)] = Field(
        2, description="Hadamard depth k of d x 1 (vector) problems: min sum D_jj |x_j|^q, "
        "q = 2(k-1)/k")


def solve(cfgs, problems, *, devices, max_batch):
    """Each problem as its own call (the weights are per problem), in order."""
    del devices, max_batch
    for i, (cfg, problem) in enumerate(zip(cfgs, problems)):
        t0 = time.perf_counter()
        out = solve_one(cfg, problem)
        yield i, out._replace(wall_time_s=time.perf_counter() - t0)


def _result(x, res, factors, extra=None):
    from overparam.solvers import SolverOutcome

    converged = bool(res.converged)
    return SolverOutcome(x, "converged" if converged else "max_steps", int(res.iterations),
                         0.0, {"solver_converged": converged,
                               "solver_primal_residual": float(res.primal_residual),
                               "solver_dual_residual": float(res.dual_residual),
                               **(extra or {})}, factors)


def solve_one(cfg: FlatConfig, problem):
    """The flat relaxation of one problem: a :class:`~overparam.solvers.SolverOutcome`."""
    import jax.numpy as jnp
    import numpy as np

    from overparam.problems.kinds.robust_pca import RobustPCAProblem

    if isinstance(problem, RobustPCAProblem):
        return _robust_pca(cfg, problem)
    if problem.shape[1] == 1:
        return _vector(cfg, problem)
    from overparam.models import symmetric, two_factor
    from overparam.solvers import FactorSolution, SolverOutcome
    from overparam.solvers._flat import (
        flat_weights,
        rescaled_problem,
        symmetric_factors,
        two_factors,
    )

    dtype = problem.observations.dtype
    w = flat_weights(problem.operator)
    if w.singular:
        x = jnp.full(problem.shape, jnp.nan, dtype)
        return SolverOutcome(x, "singular_weights", 0, 0.0, {"solver_converged": False})
    res = _admm(rescaled_problem(bucketed(problem), w), cfg.eps, cfg.max_iters)
    y = np.asarray(res.x, np.float64)
    d1, d2 = problem.shape
    if w.symmetric:
        y = 0.5 * (y + y.T)
        params = symmetric_factors(y, w.d1_inv)
        model = symmetric(d1, width=d1, negative_width=d1)
    else:
        params = two_factors(y, w.d1_inv, w.d2_inv)
        model = two_factor(d1, d2, width=min(d1, d2))
    x = jnp.asarray(w.d1_inv @ y @ w.d2_inv, dtype)
    params = tuple(jnp.asarray(p, dtype) for p in params)
    return _result(x, res, FactorSolution(model, params),
                   {"flat_symmetric": w.symmetric,
                    "flat_weights_condition": float(_condition(w))})


def _condition(w) -> float:
    """kappa = alpha2 / alpha1 of Thm 3.3: the ratio of the largest to the smallest
    eigenvalue of D1 and D2 together."""
    import numpy as np

    lam = np.concatenate([np.linalg.eigvalsh(w.d1_sq), np.linalg.eigvalsh(w.d2_sq)])
    return float(np.sqrt(lam.max() / lam.min()))


def _admm(problem, eps: float, max_iters: int):
    from overparam.solvers import nuclear_norm_min

    def flat_admm(problem, eps, max_iters):
        return nuclear_norm_min(problem, tol=0.0, eps=eps, max_iters=max_iters, equality=True)

    return cached_jit("flat_admm", flat_admm)(problem, eps=eps, max_iters=max_iters)


def _robust_pca(cfg: FlatConfig, problem):
    import jax.numpy as jnp
    import numpy as np

    from overparam.models import two_factor
    from overparam.solvers import FactorSolution, robust_pca_nuclear_min
    from overparam.solvers._flat import two_factors

    def flat_robust_pca(y, radius, eps, max_iters):
        return robust_pca_nuclear_min(y, radius, eps=eps, max_iters=max_iters)

    dtype = problem.observations.dtype
    res = cached_jit("flat_robust_pca", flat_robust_pca)(
        problem.observations, problem.radius, eps=cfg.eps, max_iters=cfg.max_iters)
    d1, d2 = problem.shape
    eye1, eye2 = np.eye(d1), np.eye(d2)
    params = tuple(jnp.asarray(p, dtype)
                   for p in two_factors(np.asarray(res.x, np.float64), eye1, eye2))
    return _result(res.x, res, FactorSolution(two_factor(d1, d2), params, "robust_pca"))


def _vector(cfg: FlatConfig, problem):
    import jax.numpy as jnp
    import numpy as np

    from overparam.models import hadamard
    from overparam.solvers import FactorSolution, hadamard_flat_exponent, weighted_lq_min
    from overparam.solvers._flat import column_weights, hadamard_factors

    def flat_lq(a, b, weights, q, eps, max_iters):
        return weighted_lq_min(a, b, weights, q, eps=eps, max_iters=max_iters)

    dtype = problem.observations.dtype
    op = problem.operator
    a = op.dense_rows()
    b = op.observed(problem.observations)
    q = hadamard_flat_exponent(cfg.depth)
    res = cached_jit("flat_lq", flat_lq, ("q", "eps", "max_iters"))(
        jnp.asarray(a, dtype), jnp.asarray(b, dtype), jnp.asarray(column_weights(op), dtype),
        q=q, eps=cfg.eps, max_iters=cfg.max_iters)
    xv = np.asarray(res.x, np.float64)
    params = tuple(jnp.asarray(v, dtype) for v in hadamard_factors(xv, cfg.depth))
    x = jnp.asarray(xv.reshape(-1, 1), dtype)
    return _result(x, res, FactorSolution(hadamard(len(xv), cfg.depth), params),
                   {"flat_exponent": q})
