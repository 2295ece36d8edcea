r"""The squared data fit plus a weighted exact Hessian trace: an explicit flatness penalty.

.. math:: \text{total}(\theta) = f(\theta) + \lambda\,\operatorname{tr}\nabla^2 f(\theta),
   \qquad f(\theta) = \frac{\sum_i w_i\,(\mathcal{A}(X(\theta))_i - y_i)^2}{\sum_i w_i},

with :math:`f` the ``squared`` kind's fit on the step's batch (the problem, or a minibatch of
its measurements) and :math:`\lambda` = ``weight`` (batched, >= 0). The trace is the exact one
of the ``hessian_trace`` measure (:func:`~overparam.measures._hessian.exact_hessian_trace`:
Gauss-Newton term plus the model's ``output_laplacian`` residual term, valid at any point),
and its gradient is JAX's derivative of that computation. With ``scaled = true`` the term is
the paper's scaled trace (:func:`~overparam.measures._hessian.exact_scaled_hessian_trace`,
each factor's block over its row count), defined for two-factor models: ``two_factor`` and
the depth-2 ``deep_factorization`` (Ding, Drusvyatskiy, Fazel, Harchaoui 2022; at a
minimizer of sensing, :math:`2\|D_1L\|_F^2 + 2\|D_2R\|_F^2`).

``fit`` (what the stop rule sees) is :math:`f` alone. The objective declares :math:`f`'s own
local least-squares model (:mod:`overparam.objectives._local`), so the Hessian measures of a
run report the curvature of the fit, the quantity the penalty weighs, not the total's (whose
Hessian would need third derivatives of the model).

Cost: one trace per step, with its gradient: for a deep factorization a closed form, for
other models M VJPs or P JVPs (see :mod:`overparam.measures._hessian`), several times the
cost of a squared-loss step.

This module imports no JAX at import time (the registry imports it); the functions import it.
"""

from typing import Literal

from overparam.configs import Batched, KindConfig, NonNegFloat

SCALED_MSG = ("objective.scaled: the scaled Hessian trace is defined for two-factor models "
              "(two_factor, or deep_factorization with depth = 2), not {model}; set "
              "scaled = false for the plain trace")


def _two_factor(model) -> bool | None:
    """Whether a built-in model config gives a two-factor model; None for other kinds."""
    kind = getattr(model, "kind", None)
    if kind == "two_factor":
        return True
    if kind == "deep_factorization":
        return model.depth == 2
    if kind in ("symmetric", "hadamard"):
        return False
    return None


class TracePenaltyConfig(KindConfig):
    """Squared fit + weight * exact Hessian trace of the fit (scaled: the paper's scaled
    trace, two-factor models only). Static: ``scaled``; batched: ``weight``."""

    kind: Literal["trace_penalty"] = "trace_penalty"
    weight: Batched[NonNegFloat] = 0.0
    scaled: bool = False

    def check_model(self, model) -> None:
        """Refuse ``scaled`` for a built-in model that is not two-factor."""
        if self.scaled and _two_factor(model) is False:
            label = getattr(model, "kind", type(model).__name__)
            if label == "deep_factorization":
                label = f"deep_factorization with depth = {model.depth}"
            raise ValueError(SCALED_MSG.format(model=label))


def _check_model(model, params, scaled: bool) -> None:
    """Raise ValueError (at trace time, on static facts) when the exact trace is undefined."""
    if getattr(model, "takes_inputs", False) or model.output_laplacian is None:
        raise ValueError(f"objective trace_penalty: model {model.name!r} has no exact Hessian "
                         "trace (it needs a matrix model with an output_laplacian)")
    if scaled:
        import jax

        rows = model.info.get("factor_rows")
        if rows is None or len(rows) != len(jax.tree.leaves(params)):
            raise ValueError(SCALED_MSG.format(model=model.name))


def trace_penalty_objective(scaled: bool = False):
    """The objective ``fn(model, params, batch, hparams) -> (total, fit)`` of the kind, with
    ``hparams["weight"]`` the penalty's weight; ``scaled`` picks the scaled trace."""
    from overparam.measures._hessian import exact_hessian_trace, exact_scaled_hessian_trace
    from overparam.objectives._local import squared_local_least_squares
    from overparam.objectives._squared import squared_loss

    trace_of = exact_scaled_hessian_trace if scaled else exact_hessian_trace

    def trace_penalty(model, params, batch, hparams):
        _check_model(model, params, scaled)
        fit = squared_loss(batch, model.predict(params))
        local = squared_local_least_squares(model, params, batch, hparams)
        return fit + hparams["weight"] * trace_of(model, params, local), fit

    trace_penalty.local_least_squares = squared_local_least_squares
    return trace_penalty


def build(cfg: TracePenaltyConfig):
    return trace_penalty_objective(cfg.scaled)
