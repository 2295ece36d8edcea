r"""Objectives of models of data (``takes_inputs``): a data fit on the step's batch plus an
optional diversity regularizer on the first layer (Xie, Liang, Song 2017).

- ``data_squared``: :math:`\frac{1}{2m}\sum_i \|f(x_i) - y_i\|^2`, with the 1/2 of the notes'
  :math:`L` (``../shared/papers/xie2017.md``, section 2), so that the ``loss_bound`` measure
  :math:`m\|\nabla_W L\|^2 / (2 s_m(D)^2)` bounds it. Integer labels are one-hot encoded.
- ``cross_entropy``: the mean softmax cross-entropy of the logits against integer labels.

Either adds ``diversity`` :math:`\lambda \ge 0` (batched) times :math:`R(W)`, the closed-form
L2 discrepancy of the first layer's unit directions (``form``: lune or wedge; see
:func:`overparam.diversity.diversity_regularizer`). ``fit`` (what the stop rule and the
data-loss measures see) is the data term alone.
"""

import jax
import jax.numpy as jnp
import optax

from overparam.types import Array


def _one_hot(targets: Array, outputs: int, dtype) -> Array:
    return jax.nn.one_hot(targets, outputs, dtype=dtype) if outputs > 1 else targets[:, None]


def squared_fit(prediction: Array, targets: Array) -> Array:
    """(1/2m) sum_i ||f(x_i) - y_i||^2; integer ``targets`` are one-hot encoded."""
    if jnp.issubdtype(targets.dtype, jnp.integer):
        outputs = prediction.shape[-1] if prediction.ndim > 1 else 1
        targets = _one_hot(targets, outputs, prediction.dtype)
        if prediction.ndim == 1:
            targets = targets[:, 0]
    return 0.5 * jnp.mean(jnp.sum(jnp.reshape(jnp.square(prediction - targets),
                                              (prediction.shape[0], -1)), axis=1))


def cross_entropy_fit(logits: Array, labels: Array) -> Array:
    """Mean softmax cross-entropy of ``logits`` (m, k) against integer ``labels`` (m,)."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def make_objective(fit_fn, form: str):
    """``objective(model, params, batch, hparams) -> (total, fit)`` for a data fit
    ``fit_fn(prediction, targets)`` and a diversity term of the given ``form``."""
    from overparam.diversity import diversity_regularizer

    def objective(model, params, batch, hparams):
        fit = fit_fn(model.predict(params, batch.inputs), batch.targets)
        weight = hparams["diversity"]
        term = diversity_regularizer(params["w"], form=form)
        return fit + weight * term, fit

    return objective
