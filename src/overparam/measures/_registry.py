"""Measures by name: functions of (model, params, problem) logged during and after training."""

from collections.abc import Callable, Sequence
from typing import NamedTuple

import overparam.measures._dynamics as _dynamics
import overparam.measures._recovery as _recovery
import overparam.measures._spectral as _spectral
from overparam.models import Model
from overparam.types import Array, Params, Problem


class Measure(NamedTuple):
    """A named diagnostic. ``fn(model, params, problem)`` returns a scalar, or a vector when
    ``vector`` is True (stored as a list column)."""

    name: str
    fn: Callable[[Model, Params, Problem], Array]
    vector: bool
    doc: str


def _on_prediction(f: Callable) -> Callable[[Model, Params, Problem], Array]:
    return lambda model, params, problem: f(problem, model.predict(params))


def _on_matrix(f: Callable) -> Callable[[Model, Params, Problem], Array]:
    return lambda model, params, problem: f(model.predict(params))


def _schatten_2_over_depth(model: Model, params: Params, problem: Problem) -> Array:
    del problem
    return _spectral.schatten_quasi_norm(model.predict(params), 2.0 / len(params))


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("train_loss", _on_prediction(_recovery.train_loss), False,
                "weighted MSE over the observations (what training minimizes)"),
        Measure("recon_error", _on_prediction(_recovery.reconstruction_error), False,
                "||X - W*||_F^2 / ||W*||_F^2 over all entries (the paper's 'test loss')"),
        Measure("unobserved_error", _on_prediction(_recovery.unobserved_error), False,
                "relative MSE over unobserved entries only (completion)"),
        Measure("nuclear_norm", _on_matrix(_spectral.nuclear_norm), False,
                "sum of singular values"),
        Measure("effective_rank", _on_matrix(_spectral.effective_rank), False,
                "Roy-Vetterli effective rank exp(H(sigma / ||sigma||_1))"),
        Measure("schatten_quasi_norm", _schatten_2_over_depth, False,
                "Schatten-p quasi-norm (sum sigma^p)^(1/p) with p = 2/depth"),
        Measure("singular_values", _on_matrix(_spectral.singular_values), True,
                "singular values of the end-to-end matrix, descending"),
        Measure("schatten_quasi_norms", _on_matrix(_spectral.schatten_quasi_norms), True,
                "Schatten-p (quasi-)norms at p = 2, 1, 2/3, 1/2, 1/3 (2/N for N = 1, 2, 3, 4, 6)"),
        Measure("determinant", _on_matrix(_spectral.determinant), False,
                "determinant of the end-to-end matrix (NaN unless square)"),
        Measure("unobserved_max_abs", _on_prediction(_recovery.unobserved_max_abs), False,
                "largest |entry| outside the observed set (completion)"),
        Measure("test_error", _on_prediction(_recovery.heldout_error), False,
                "MSE on held-out measurements (e.g. MovieLens test ratings)"),
        Measure("sv_rate_measured", _dynamics.sv_rate_measured, True,
                "d sigma_r / dt under gradient flow, by central finite difference (t = lr*step)"),
        Measure("sv_rate_predicted", _dynamics.sv_rate_predicted, True,
                "-N (sigma_r^2)^(1-1/N) <grad l(W), u_r v_r^T> (Arora et al. 2019, Thm. 3)"),
        Measure("alignment_diag", _dynamics.alignment_diag, False,
                "mean |diagonal| of U^T grad l(W) V (Fig. 3, right)"),
        Measure("alignment_offdiag", _dynamics.alignment_offdiag, False,
                "mean |off-diagonal| of U^T grad l(W) V (Fig. 3, right)"),
    ]
}


def get_measure(name: str) -> Measure:
    try:
        return MEASURES[name]
    except KeyError:
        raise ValueError(f"measure must be one of {sorted(MEASURES)}, got {name!r}") from None


def compute_measures(
    names: Sequence[str], model: Model, params: Params, problem: Problem
) -> dict[str, Array]:
    """Evaluate each named measure on one run's state."""
    return {name: get_measure(name).fn(model, params, problem) for name in names}
