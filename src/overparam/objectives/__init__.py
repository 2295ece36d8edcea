"""Objectives: data fits and regularizers, pure functions of (problem, prediction)."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "LocalLeastSquares": "overparam.objectives._local",
    "bind_objective": "overparam.objectives._local",
    "local_least_squares": "overparam.objectives._local",
    "residuals": "overparam.objectives._squared",
    "squared_loss": "overparam.objectives._squared",
    "squared_loss_gradient": "overparam.objectives._squared",
    "squared_objective": "overparam.objectives._squared",
})
