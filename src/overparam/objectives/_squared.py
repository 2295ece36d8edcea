"""Squared-error data fit for matrix recovery."""

import jax.numpy as jnp

from overparam.objectives._local import squared_local_least_squares
from overparam.problems._matrix import MatrixProblem
from overparam.types import Array


def residuals(problem: MatrixProblem, x: Array) -> Array:
    """``A(x) - y``, shaped like the observations (padding included; weight it out)."""
    return problem.operator.apply(x) - problem.observations


def squared_loss(problem: MatrixProblem, x: Array) -> Array:
    r"""Weighted mean squared error of the measurements of ``x``.

    .. math:: \ell(X) = \frac{\sum_i w_i\,(\mathcal{A}(X)_i - y_i)^2}{\sum_i w_i}

    With 0/1 weights this is the mean over the m real measurements, **without** a factor 1/2,
    as in the code of Arora et al. 2019 (their paper writes 1/2; the two differ by a constant
    rescaling of time).

    Args:
      problem: the problem; ``problem.operator.weights`` marks real measurements.
      x: candidate matrix, shape (d1, d2).

    Returns:
      Scalar array.
    """
    w = problem.operator.weights
    r = residuals(problem, x)
    return jnp.sum(w * r * r) / jnp.sum(w)


def squared_loss_gradient(problem: MatrixProblem, x: Array) -> Array:
    r"""Gradient of :func:`squared_loss` in ``x``.

    .. math:: \nabla\ell(X) = \frac{2}{\sum_i w_i}\mathcal{A}^*(w \odot r)
    """
    w = problem.operator.weights
    return problem.operator.adjoint(2.0 * w * residuals(problem, x)) / jnp.sum(w)


def squared_objective(model, params, batch: MatrixProblem, hparams) -> tuple[Array, Array]:
    """The objective of the ``squared`` kind: :func:`squared_loss` of the model's matrix on
    ``batch`` (the problem, or a minibatch of its measurements); (total, fit) are equal.

    It is its own local least-squares model (``squared_objective.local_least_squares``, see
    :mod:`overparam.objectives._local`), so Hessian measures compute its trace exactly."""
    del hparams
    fit = squared_loss(batch, model.predict(params))
    return fit, fit


squared_objective.local_least_squares = squared_local_least_squares
