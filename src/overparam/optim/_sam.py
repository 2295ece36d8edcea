r"""Sharpness-aware minimization: SAM and its per-measurement form 1-SAM.

Both replace the gradient by a gradient at an ascent point and then take a base step (plain
gradient descent by default). They need more than the gradient, which the trainer passes as
optax extra arguments (:mod:`overparam.optim._extra_args`): ``grad_fn``, and for 1-SAM the
step's ``batch``.

References:
  P. Foret, A. Kleiner, H. Mobahi, B. Neyshabur, "Sharpness-aware minimization for
  efficiently improving generalization", ICLR 2021 (Eq. 3 and Alg. 1; SAM).
  K. Wen, T. Ma, Z. Li, "How does sharpness-aware minimization minimize sharpness?", 2022
  (1-SAM, with batch size 1, minimizes the trace of the Hessian along the manifold of
  minimizers; full-batch SAM its largest eigenvalue).
  M. Andriushchenko, N. Flammarion, "Towards understanding sharpness-aware minimization",
  ICML 2022 (m-sharpness: the ascent step taken per group of m examples).
"""

import jax
import jax.numpy as jnp
import optax
from jax import lax

from overparam.optim._extra_args import (
    anneal_init,
    annealed,
    ascent_point,
    base_step,
    check_anneal_after,
    check_nonnegative,
    measurement_batch,
    require,
)


def sharpness_aware_gradient(rho=0.05, eps: float = 1e-12, anneal_after: int = 0
                             ) -> optax.GradientTransformationExtraArgs:
    r"""Replace the gradient :math:`g` by SAM's gradient at the ascent point.

    .. math:: \tilde g = \nabla L_B\Big(\theta + \rho\,\frac{g}{\|g\| + \epsilon}\Big),
       \qquad g = \nabla L_B(\theta),

    with :math:`L_B` the objective on the step's batch and :math:`\|g\|` the Euclidean norm
    over all parameter leaves. :math:`\rho = 0` gives :math:`\tilde g = g`.

    Args:
      rho: the ascent radius :math:`\rho \ge 0` (may be traced: batched data).
      eps: :math:`\epsilon \ge 0`, guards a zero gradient.
      anneal_after: :math:`\rho` is 0 from this step on (0: never; see
        :func:`~overparam.optim._extra_args.annealed`).

    Returns:
      A transformation whose update needs the extra argument ``grad_fn``.
    """
    check_nonnegative("rho", rho)
    check_nonnegative("eps", eps)
    anneal_after = check_anneal_after(anneal_after)

    def init_fn(params):
        del params
        return anneal_init(anneal_after)

    def update_fn(updates, state, params=None, *, grad_fn=None, **extra_args):
        del extra_args
        require("sam", params=params, grad_fn=grad_fn)
        r, state = annealed(jnp.asarray(rho, jax.tree.leaves(params)[0].dtype), state,
                            anneal_after)
        return grad_fn(ascent_point(params, updates, r, eps)), state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def per_measurement_sharpness_aware_gradient(
    rho=0.05, eps: float = 1e-12, chunk_size: int = 64, anneal_after: int = 0
) -> optax.GradientTransformationExtraArgs:
    r"""Replace the gradient by 1-SAM's: SAM's ascent taken for each measurement alone.

    .. math:: \tilde g = \sum_{i:\,w_i > 0} \frac{w_i}{\sum_j w_j}\,
       \nabla \ell_i\Big(\theta + \rho\,\frac{g_i}{\|g_i\| + \epsilon}\Big),
       \qquad g_i = \nabla\ell_i(\theta),

    with :math:`w` the batch's measurement weights and :math:`\ell_i` the objective on the
    batch reweighted to measurement :math:`i` alone (weight :math:`w_i`, all others 0). For a
    weighted-mean fit (the ``squared`` kind: :math:`\ell_i = r_i^2` plus any regularizer)
    :math:`\sum_i \frac{w_i}{\sum_j w_j}\ell_i` is the batch objective, so with 0/1 weights
    :math:`\tilde g` is the plain mean over the :math:`k` real measurements and
    :math:`\rho = 0` gives the batch gradient. The incoming gradient is not used.

    The loop runs over every measurement slot (padding and unobserved entries too, with
    coefficient 0), ``chunk_size`` slots at a time under ``vmap``: each slot costs two
    gradients of the objective on the batch. An objective that is no weighted mean over the
    measurements (e.g. the ``robust_pca`` fit) has no per-measurement losses: do not use it.

    Args:
      rho: the ascent radius :math:`\rho \ge 0` (may be traced: batched data).
      eps: :math:`\epsilon \ge 0`, guards a zero per-measurement gradient.
      chunk_size: measurement slots evaluated together (memory against speed).
      anneal_after: :math:`\rho` is 0 from this step on (0: never).

    Returns:
      A transformation whose update needs the extra arguments ``grad_fn`` and ``batch`` (a
      problem with ``weights`` and ``reweighted``).
    """
    check_nonnegative("rho", rho)
    check_nonnegative("eps", eps)
    if not (float(chunk_size) >= 1 and float(chunk_size).is_integer()):
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    chunk_size = int(chunk_size)
    anneal_after = check_anneal_after(anneal_after)

    def init_fn(params):
        del params
        return anneal_init(anneal_after)

    def update_fn(updates, state, params=None, *, grad_fn=None, batch=None, **extra_args):
        del updates, extra_args
        require("sam1", params=params, grad_fn=grad_fn, batch=batch)
        batch = measurement_batch("sam1", batch, "weights", "reweighted")
        rho_now, state = annealed(jnp.asarray(rho, jax.tree.leaves(params)[0].dtype), state,
                                  anneal_after)
        w = batch.weights
        flat = w.reshape(-1)
        n = flat.shape[0]
        chunk = min(chunk_size, n)
        slots = jnp.arange(-(-n // chunk) * chunk).reshape(-1, chunk)
        total = jnp.sum(flat)

        def one(i):
            j = jnp.minimum(i, n - 1)
            wj = flat[j]
            alone = jnp.zeros_like(flat).at[j].set(jnp.where(wj > 0, wj, 1)).reshape(w.shape)
            b = batch.reweighted(alone)
            g = grad_fn(params, b)
            coef = jnp.where((i < n) & (wj > 0), wj, 0) / total
            return jax.tree.map(lambda x: coef.astype(x.dtype) * x,
                                grad_fn(ascent_point(params, g, rho_now, eps), b))

        def body(acc, idx):
            part = jax.vmap(one)(idx)
            return jax.tree.map(lambda a, p: a + jnp.sum(p, axis=0), acc, part), None

        out, _ = lax.scan(body, jax.tree.map(jnp.zeros_like, params), slots)
        return out, state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def sam(learning_rate: optax.ScalarOrSchedule, rho=0.05, eps: float = 1e-12,
        base: str = "gd", anneal_after: int = 0) -> optax.GradientTransformationExtraArgs:
    r"""SAM (Foret et al. 2021): :func:`sharpness_aware_gradient`, then the ``base`` step.

    With the default base (gradient descent) one step is

    .. math:: \theta \leftarrow \theta - \eta\,\nabla L_B\Big(\theta + \rho\,
       \frac{\nabla L_B(\theta)}{\|\nabla L_B(\theta)\| + \epsilon}\Big),

    :math:`\eta` the ``learning_rate``; :math:`\rho = 0` is gradient descent.

    Args:
      learning_rate: :math:`\eta` (may be traced).
      rho: :math:`\rho \ge 0` (may be traced; batched in configs: ``optimizer.hyperparams``).
      eps: :math:`\epsilon \ge 0`.
      base: a registered optimizer that takes the SAM gradient as its gradient, e.g.
        ``"adam"`` (default ``"gd"``).
      anneal_after: plain ``base`` steps (:math:`\rho = 0`) from this step on (0: never).
    """
    return optax.chain(sharpness_aware_gradient(rho, eps, anneal_after),
                       base_step(learning_rate, base))


def sam1(learning_rate: optax.ScalarOrSchedule, rho=0.05, eps: float = 1e-12,
         chunk_size: int = 64, base: str = "gd", anneal_after: int = 0
         ) -> optax.GradientTransformationExtraArgs:
    r"""1-SAM (Wen, Ma, Li 2022): :func:`per_measurement_sharpness_aware_gradient`, then the
    ``base`` step (gradient descent by default: :math:`\theta \leftarrow \theta - \eta\tilde
    g`).

    It is SAM with m-sharpness at m = 1 (Andriushchenko & Flammarion 2022) over the step's
    batch: with ``train.batch_size`` a minibatch of measurements, else all of them.

    Args:
      learning_rate: :math:`\eta` (may be traced).
      rho: :math:`\rho \ge 0` (may be traced; batched in configs: ``optimizer.hyperparams``).
      eps: :math:`\epsilon \ge 0`.
      chunk_size: measurement slots evaluated together.
      base: a registered optimizer that takes the 1-SAM gradient as its gradient.
      anneal_after: plain ``base`` steps (:math:`\rho = 0`) from this step on (0: never).
    """
    return optax.chain(per_measurement_sharpness_aware_gradient(rho, eps, chunk_size,
                                                                anneal_after),
                       base_step(learning_rate, base))
