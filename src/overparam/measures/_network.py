r"""Measures of one-hidden-layer ReLU networks on data sets (Xie, Liang, Song 2017).

Each is NaN where it does not apply: a run whose problem is not a
:class:`~overparam.problems._data.DataProblem` (a matrix problem), a baseline's bare solution
(no parameters of the network), an empty split, an error rate on a regression problem, or the
extended-feature quantities of a multi-output network (their definition needs one output).

- ``data_loss``, ``valid_loss``, ``test_loss``: the run's data fit (its objective's ``fit``,
  without the regularizer) on the whole training set, the validation split and the test set.
- ``train_error_rate``, ``valid_error_rate``, ``test_error_rate``: the percentage of
  misclassified examples (argmax of the logits).
- ``s_min_D``: :math:`s_m(D)`, the smallest of the m singular values of the extended feature
  matrix on the training inputs (:func:`overparam.diversity.s_min_D`). Cost: an m x m Gram and
  its eigenvalues, so O(m^2 (d + n) + m^3): not for MNIST's 60,000 examples.
- ``loss_bound``: :math:`m\|\nabla_W L\|^2 / (2 s_m(D)^2)`, which bounds the training loss
  :math:`L = \|r\|^2 / (2m)` at any point (``data_squared`` objective; notes section 3).
- ``discrepancy``: the closed-form L2 lune discrepancy of the first layer's unit directions
  (:func:`overparam.diversity.l2_discrepancy`), the quantity the diversity regularizer
  penalizes.
- ``kernel_lambda_min``: :math:`\lambda_{\min}(K)` of the ReLU kernel on the training inputs,
  so that :math:`\sqrt{n\,\lambda_{\min}(K)}` is the limit of :math:`s_m(D)` for diverse
  units (notes, sections 4-5).
"""

import jax
import jax.numpy as jnp

from overparam.measures._registry import nan_like
from overparam.problems._data import DataProblem
from overparam.types import Array


def _applies(ctx) -> bool:
    return isinstance(ctx.problem, DataProblem) and ctx.factors and "w" in ctx.params


def _fit(ctx, split: str) -> Array:
    if not _applies(ctx) or ctx.objective is None:
        return nan_like(ctx)
    data = ctx.problem.split(split)
    if data.targets.shape[0] == 0:
        return nan_like(ctx)
    return ctx.objective(ctx.params, data)[1]


def data_loss(ctx) -> Array:
    return _fit(ctx, "train")


def valid_loss(ctx) -> Array:
    return _fit(ctx, "valid")


def test_loss(ctx) -> Array:
    return _fit(ctx, "test")


def _error_rate(ctx, split: str) -> Array:
    if not _applies(ctx):
        return nan_like(ctx)
    data = ctx.problem.split(split)
    if not data.classification or data.targets.shape[0] == 0:
        return nan_like(ctx)
    logits = ctx.model.predict(ctx.params, data.inputs)
    wrong = jnp.argmax(logits, axis=-1) != data.targets
    return 100.0 * jnp.mean(wrong.astype(logits.dtype))


def train_error_rate(ctx) -> Array:
    return _error_rate(ctx, "train")


def valid_error_rate(ctx) -> Array:
    return _error_rate(ctx, "valid")


def test_error_rate(ctx) -> Array:
    return _error_rate(ctx, "test")


def _single_output(ctx) -> bool:
    return _applies(ctx) and ctx.model.info.get("outputs", 1) == 1


def _signs(ctx) -> Array:
    from overparam.models._relu import output_weights

    return output_weights(ctx.model, ctx.params)


def s_min_D(ctx) -> Array:  # noqa: N802 (the paper's name)
    if not _single_output(ctx):
        return nan_like(ctx)
    from overparam.diversity import s_min_D as smin

    return smin(ctx.params["w"], _signs(ctx), ctx.problem.inputs)


def loss_bound(ctx) -> Array:
    if not _single_output(ctx) or ctx.objective is None:
        return nan_like(ctx)
    from overparam.diversity import loss_bound as bound
    from overparam.diversity import s_min_D as smin

    params, problem = ctx.params, ctx.problem
    grad = jax.grad(lambda w: ctx.objective({**params, "w": w}, problem)[1])(params["w"])
    s = smin(params["w"], _signs(ctx), problem.inputs)
    return bound(jnp.sum(jnp.square(grad)), s, problem.targets.shape[0])


def discrepancy(ctx) -> Array:
    if not _applies(ctx):
        return nan_like(ctx)
    from overparam.diversity import l2_discrepancy

    return l2_discrepancy(ctx.params["w"], form="lune")


def kernel_lambda_min(ctx) -> Array:
    """lambda_min of the ReLU kernel K(x, y) = <x, y> (pi - theta) / (2 pi) on the training
    inputs: E_w[D^T D] / n for units uniform on the sphere, so sqrt(n lambda_min(K)) is the
    limit of s_m(D) for perfectly diverse units. A property of the data, not the run."""
    if not isinstance(ctx.problem, DataProblem):
        return nan_like(ctx)
    from overparam.diversity import kernel_lambda_min as lam

    return lam(ctx.problem.inputs)
