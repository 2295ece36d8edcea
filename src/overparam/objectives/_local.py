r"""Local least-squares models: how an objective tells Hessian measures its curvature.

An objective function ``fn(model, params, batch, hparams) -> (total, fit)`` may carry an
attribute ``local_least_squares``::

    fn.local_least_squares(model, params, problem, hparams) -> LocalLeastSquares

declaring that, at ``params``, the Hessian of ``total`` in the parameters is that of the
*local model*

.. math:: \tilde\ell(\theta) = \sum_i c_i\,\big(\mathcal{A}(X(\theta))_i - b_i\big)^2,
   \qquad X(\theta) = \text{model.predict}(\theta),

with the operator :math:`\mathcal{A}`, the target :math:`b` and the coefficients :math:`c`
it returns (arrays, possibly traced, computed at ``params`` and held fixed). The exact trace
of that Hessian is then

.. math:: \operatorname{tr}\nabla^2\tilde\ell = 2\sum_i c_i\|\nabla_\theta r_i\|^2
   + 2\,\big\langle \mathcal{A}^*(c\odot r),\ \Delta_\theta X\big\rangle,\qquad
   r = \mathcal{A}(X) - b,

with :math:`\Delta_\theta X` the model's :attr:`~overparam.models.Model.output_laplacian`
(see :mod:`overparam.measures._hessian`). Two uses:

* **Exact**: the squared loss :math:`\sum_i w_i r_i^2/\sum_i w_i` *is* its local model
  (``operator = problem.operator``, ``target = problem.observations``,
  ``weights = w / sum(w)``): see :func:`squared_local_least_squares`.
* **By definition**, for fits that are :math:`C^1` but not :math:`C^2`. Robust PCA's
  :math:`\operatorname{dist}^2(Y - X, \Omega)` has no Hessian at kinks; the paper (Ding et al.
  2022, Sec. 6) measures flatness on :math:`\|Y - X - P_\Omega(Y - \tilde X)\|_F^2` at the
  point :math:`\tilde X = X(\theta)`, which such an objective declares as ``operator =
  EntryMask(ones)`` (the identity on all entries), ``target = Y - P_Omega(Y - X~)``,
  ``weights`` = its normalization (ones, or ones / (d1 d2)).

Objectives without the attribute (a regularized loss, a fit of another shape) get Hutchinson
estimates from the trace measures, which then report ``hessian_trace_exact = 0``. An
objective must declare a local model only if the declared Hessian is the one it means: a
regularizer's curvature is not part of it.

How a measure finds the declaration: :class:`~overparam.measures.MeasureContext` holds the
objective *bound* to its model and hyperparameters, ``bound(params, batch) -> (total,
fit)``. :func:`bind_objective` makes such a callable that forwards the declaration as
``bound.local_least_squares(params, problem)``; the trainer binds every objective with it.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from overparam.types import Array


class LocalLeastSquares(NamedTuple):
    r"""A local least-squares model :math:`\sum_i c_i (\mathcal{A}(X)_i - b_i)^2`.

    Attributes:
      operator: :math:`\mathcal{A}`, an :class:`~overparam.problems.Operator` (``apply``,
        ``adjoint``, ``entry_mask``, ``as_matrix`` are used).
      target: :math:`b`, shaped like ``operator.apply(X)``.
      weights: :math:`c \ge 0`, shaped like ``operator.apply(X)``, *including* any
        normalization (the squared loss's ``w / sum(w)``).
    """

    operator: Any
    target: Array
    weights: Array


def squared_local_least_squares(model, params, problem, hparams) -> LocalLeastSquares:
    """The squared loss of :func:`overparam.objectives.squared_loss` as its own local model."""
    del model, params, hparams
    w = problem.operator.weights
    return LocalLeastSquares(problem.operator, problem.observations, w / w.sum())


def bind_objective(objective: Callable, model, hparams) -> Callable:
    """``objective`` with ``model`` and ``hparams`` bound: ``bound(params, batch) -> (total,
    fit)``, forwarding a ``local_least_squares`` declaration as
    ``bound.local_least_squares(params, problem)``."""

    def bound(params, batch):
        return objective(model, params, batch, hparams)

    declare = getattr(objective, "local_least_squares", None)
    if declare is not None:
        bound.local_least_squares = lambda params, problem: declare(model, params, problem,
                                                                    hparams)
    return bound


def local_least_squares(bound: Callable | None, model, params, problem
                        ) -> LocalLeastSquares | None:
    """The local model that the bound objective ``bound`` declares at ``params`` on
    ``problem``, or None when it declares none (see the module docstring)."""
    if bound is None or getattr(model, "takes_inputs", False):
        return None
    declare = getattr(bound, "local_least_squares", None)
    return None if declare is None else declare(params, problem)
