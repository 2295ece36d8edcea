"""Solvers: baselines for matrix recovery (nuclear-norm and Schatten-p minimization)."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "nuclear_norm_min_cvxpy": "overparam.solvers._cvxpy",
    "NuclearNormResult": "overparam.solvers._nuclear_admm",
    "nuclear_norm_min": "overparam.solvers._nuclear_admm",
    "SolverOutcome": "overparam.solvers._outcome",
    "SchattenResult": "overparam.solvers._schatten",
    "schatten_p_min": "overparam.solvers._schatten",
    "schatten_p_objective": "overparam.solvers._schatten",
})
