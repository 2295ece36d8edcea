"""Solvers: baselines for matrix recovery (nuclear-norm and Schatten-p minimization, robust PCA)
and weighted l_q minimization."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "nuclear_norm_min_cvxpy": "overparam.solvers._cvxpy",
    "AffineSet": "overparam.solvers._nuclear_admm",
    "NuclearNormResult": "overparam.solvers._nuclear_admm",
    "affine_set": "overparam.solvers._nuclear_admm",
    "nuclear_norm_min": "overparam.solvers._nuclear_admm",
    "RobustPCAResult": "overparam.solvers._robust_pca_admm",
    "robust_pca_nuclear_min": "overparam.solvers._robust_pca_admm",
    "SolverOutcome": "overparam.solvers._outcome",
    "FactorSolution": "overparam.solvers._outcome",
    "SchattenResult": "overparam.solvers._schatten",
    "schatten_p_min": "overparam.solvers._schatten",
    "schatten_p_objective": "overparam.solvers._schatten",
    "WeightedLqResult": "overparam.solvers._weighted_lq",
    "hadamard_flat_exponent": "overparam.solvers._weighted_lq",
    "weighted_lq_min": "overparam.solvers._weighted_lq",
})
