r"""Label-noise gradient descent: each step, the gradient on freshly noised targets.

References:
  G. Blanc, N. Gupta, G. Valiant, P. Valiant, "Implicit regularization for deep neural
  networks driven by an Ornstein-Uhlenbeck like process", COLT 2020 (label noise SGD).
  A. Damian, T. Ma, J. D. Lee, "Label noise SGD provably prefers flat global minimizers",
  NeurIPS 2021 (Eq. 2: the step on targets :math:`y + \epsilon`, :math:`\epsilon \sim
  N(0, \sigma^2)`, drives a regularization by the trace of the Hessian).
"""

import jax
import jax.numpy as jnp
import optax

from overparam.optim._extra_args import (
    anneal_init,
    annealed,
    base_step,
    check_anneal_after,
    check_nonnegative,
    measurement_batch,
    require,
)


def label_noise_gradient(sigma=0.1, anneal_after: int = 0
                         ) -> optax.GradientTransformationExtraArgs:
    r"""Replace the gradient by the gradient on targets with fresh Gaussian noise.

    .. math:: \tilde g = \nabla_\theta L\big(\theta;\ y + \sigma\,\xi\big),\qquad
       \xi_i \sim N(0, 1) \text{ iid for real measurements } (w_i > 0),\ \xi_i = 0
       \text{ for the rest},

    with :math:`L(\theta; y)` the objective on the step's batch with observations :math:`y`,
    and :math:`\xi` drawn from the step's ``key``. :math:`\sigma = 0` gives the batch
    gradient. The incoming gradient is not used.

    Args:
      sigma: the noise scale :math:`\sigma \ge 0` (may be traced: batched data).
      anneal_after: :math:`\sigma` is 0 from this step on (0: never).

    Returns:
      A transformation whose update needs the extra arguments ``grad_fn``, ``batch`` (a
      problem with ``weights``, ``observations`` and ``relabeled``) and ``key``.
    """
    check_nonnegative("sigma", sigma)
    anneal_after = check_anneal_after(anneal_after)

    def init_fn(params):
        del params
        return anneal_init(anneal_after)

    def update_fn(updates, state, params=None, *, grad_fn=None, batch=None, key=None,
                  **extra_args):
        del updates, extra_args
        require("label_noise_gd", params=params, grad_fn=grad_fn, batch=batch, key=key)
        batch = measurement_batch("label_noise_gd", batch, "weights", "observations",
                                  "relabeled")
        y = batch.observations
        xi = jax.random.normal(key, jnp.shape(y), y.dtype)
        noise = jnp.where(batch.weights > 0, xi, 0)
        s, state = annealed(jnp.asarray(sigma, y.dtype), state, anneal_after)
        noisy = batch.relabeled(y + s * noise)
        return grad_fn(params, noisy), state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def label_noise_gd(learning_rate: optax.ScalarOrSchedule, sigma=0.1,
                   base: str = "gd", anneal_after: int = 0
                   ) -> optax.GradientTransformationExtraArgs:
    r"""Label-noise gradient descent: :func:`label_noise_gradient`, then the ``base`` step.

    With the default base one step is
    :math:`\theta \leftarrow \theta - \eta\,\nabla_\theta L(\theta;\ y + \sigma\xi)`; it is
    label-noise SGD when ``train.batch_size`` draws a minibatch each step.

    Args:
      learning_rate: :math:`\eta` (may be traced).
      sigma: :math:`\sigma \ge 0` (may be traced; batched in configs:
        ``optimizer.hyperparams``).
      base: a registered optimizer that takes the noisy gradient as its gradient.
      anneal_after: clean ``base`` steps (:math:`\sigma = 0`) from this step on (0: never).
    """
    return optax.chain(label_noise_gradient(sigma, anneal_after),
                       base_step(learning_rate, base))
