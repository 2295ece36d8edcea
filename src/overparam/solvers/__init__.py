"""Solvers: convex baselines for matrix recovery (nuclear-norm minimization)."""

from overparam.solvers._cvxpy import nuclear_norm_min_cvxpy as nuclear_norm_min_cvxpy
from overparam.solvers._nuclear_admm import NuclearNormResult as NuclearNormResult
from overparam.solvers._nuclear_admm import nuclear_norm_min as nuclear_norm_min
