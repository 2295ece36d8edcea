"""Solvers: baselines for matrix recovery (nuclear-norm and Schatten-p minimization)."""

from overparam.solvers._cvxpy import nuclear_norm_min_cvxpy as nuclear_norm_min_cvxpy
from overparam.solvers._nuclear_admm import NuclearNormResult as NuclearNormResult
from overparam.solvers._nuclear_admm import nuclear_norm_min as nuclear_norm_min
from overparam.solvers._outcome import SolverOutcome as SolverOutcome
from overparam.solvers._schatten import SchattenResult as SchattenResult
from overparam.solvers._schatten import schatten_p_min as schatten_p_min
from overparam.solvers._schatten import schatten_p_objective as schatten_p_objective
