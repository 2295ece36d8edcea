"""GroupRMSprop: RMSprop with one second-moment scalar shared by all parameters."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class ScaleByGroupRmsState(NamedTuple):
    count: jax.Array  # shape=(), int32: number of updates so far
    nu: jax.Array  # shape=(), float: EMA of the squared gradient norm over all parameters


def scale_by_group_rms(alpha: float = 0.99, eps: float = 1e-4) -> optax.GradientTransformation:
    r"""Divide every gradient by one global, bias-corrected RMS of the whole gradient.

    .. math::
       v_t = \alpha v_{t-1} + (1-\alpha)\sum_p \|g_p\|_F^2,\qquad
       \hat v_t = v_t / (1-\alpha^t),\qquad
       u_p = g_p / (\sqrt{\hat v_t} + \epsilon)

    Every layer is scaled by the same scalar, so this is gradient descent with an adaptive
    global step size, and it preserves balancedness of a factorization.

    References: Arora, Cohen, Hu, Luo 2019, code ``opt.py`` (alpha 0.99; eps 1e-4 as set by
    ``main.py``).
    """
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f"alpha must be in [0, 1), got {alpha}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")

    def init_fn(params):
        dtype = jax.tree.leaves(params)[0].dtype
        return ScaleByGroupRmsState(count=jnp.zeros((), jnp.int32), nu=jnp.zeros((), dtype))

    def update_fn(updates, state, params=None):
        del params
        sq = sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(updates))
        nu = alpha * state.nu + (1.0 - alpha) * sq
        count = state.count + 1
        nu_hat = nu / (1.0 - alpha ** count.astype(nu.dtype))
        scale = 1.0 / (jnp.sqrt(nu_hat) + eps)
        updates = jax.tree.map(lambda g: g * scale.astype(g.dtype), updates)
        return updates, ScaleByGroupRmsState(count=count, nu=nu)

    return optax.GradientTransformation(init_fn, update_fn)


def group_rmsprop(
    learning_rate: optax.ScalarOrSchedule, alpha: float = 0.99, eps: float = 1e-4
) -> optax.GradientTransformation:
    """GroupRMSprop of Arora et al. 2019: :func:`scale_by_group_rms`, then a step of -lr."""
    return optax.chain(
        scale_by_group_rms(alpha=alpha, eps=eps), optax.scale_by_learning_rate(learning_rate)
    )
