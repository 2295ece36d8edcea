r"""What an optimizer's update may use beyond the gradient: optax's extra-args protocol.

The trainer calls every optimizer as ``update(grads, state, params, **extra)`` (plain optax
transformations go through :func:`optax.with_extra_args_support` and ignore ``extra``), with

* ``grad_fn(params, batch=None)``: the gradient of the objective's total at any ``params``,
  on this step's batch, or on ``batch`` (e.g. this batch with one measurement's weight
  alone, or with shifted observations);
* ``batch``: this step's batch: the problem, or with ``train.batch_size`` the minibatch of
  its measurements drawn from the run's key;
* ``key``: a PRNG key of this step, fresh at every step and independent of the minibatch and
  measure keys.

Nothing is computed unless an update uses it: ``grad_fn`` is a closure, and the step key is
two ``fold_in`` that XLA drops when unused, so optimizers that take only the gradient run
the program they ran before.

Per-measurement optimizers change ``batch`` through methods of the problem
(:class:`~overparam.problems.MatrixProblem` has them): ``weights`` (measurement weights, 0 for
padding), ``reweighted(weights)`` and ``relabeled(observations)``, with ``observations``
the targets. :func:`measurement_batch` checks that a batch offers what an optimizer needs.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from overparam.types import Params

MISSING_ARG_MSG = ("{who}'s update needs the extra argument {arg!r} (see "
                   "overparam.optim._extra_args): call update(grads, state, params, {arg}=...); "
                   "the trainer passes it")
NO_MEASUREMENTS_MSG = ("{who} needs a problem of weighted measurements with {needs} (as "
                       "overparam.problems.MatrixProblem); {type} has no {missing}")
BASE_MSG = ("base must name an optimizer that steps along the gradient it is given ({valid}), "
            "got {base!r}")
GRADIENT_REPLACING = frozenset({"sam", "sam1", "label_noise_gd"})  # not valid as a base step


def require(who: str, **args: Any) -> None:
    """Raise ``TypeError`` naming the first extra argument that is None."""
    for arg, value in args.items():
        if value is None:
            raise TypeError(MISSING_ARG_MSG.format(who=who, arg=arg))


def measurement_batch(who: str, batch, *needs: str):
    """``batch`` itself, after checking it has the attributes ``needs`` (e.g. ``weights``,
    ``reweighted``); a clear ``TypeError`` otherwise."""
    missing = [n for n in needs if getattr(batch, n, None) is None]
    if missing:
        raise TypeError(NO_MEASUREMENTS_MSG.format(who=who, needs=", ".join(needs),
                                                   type=type(batch).__name__,
                                                   missing=missing[0]))
    return batch


def check_nonnegative(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a number >= 0. Traced values (batched data
    of a sweep, checked by its config) are not checked."""
    if isinstance(value, jax.core.Tracer):
        return
    v = np.asarray(value)
    if v.ndim != 0 or not np.issubdtype(v.dtype, np.number) or not v >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def ascent_point(params: Params, grads: Params, rho, eps) -> Params:
    r""":math:`\theta + \rho\, g / (\|g\| + \epsilon)`, with :math:`\|g\|` the global
    Euclidean norm over all leaves."""
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(grads)))
    scale = rho / (norm + eps)
    return jax.tree.map(lambda p, g: p + jnp.asarray(scale, p.dtype) * g, params, grads)


def base_step(learning_rate, base: str) -> optax.GradientTransformation:
    """The registered optimizer ``base`` (one that steps along the gradient it is given)
    with step size ``learning_rate``."""
    from overparam.optim._registry import OPTIMIZERS, make_optimizer

    valid = sorted(set(OPTIMIZERS) - GRADIENT_REPLACING)
    if base not in valid:
        raise ValueError(BASE_MSG.format(valid=", ".join(map(repr, valid)), base=base))
    return make_optimizer(base, learning_rate)


class AnnealState(NamedTuple):
    """The steps taken so far, for a hyperparameter switched off after ``anneal_after``."""

    count: jax.Array


def check_anneal_after(anneal_after) -> int:
    """``anneal_after`` as an int >= 0 (0: never anneal); ``ValueError`` otherwise (configs
    give options as floats, so 2000.0 is accepted)."""
    try:
        ok = float(anneal_after) >= 0 and float(anneal_after).is_integer()
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"anneal_after must be an integer number of steps >= 0 (0: never), "
                         f"got {anneal_after!r}")
    return int(anneal_after)


def anneal_init(anneal_after: int):
    """The state of a transformation with an annealed hyperparameter."""
    return AnnealState(jnp.zeros((), jnp.int32)) if anneal_after else optax.EmptyState()


def annealed(value, state, anneal_after: int):
    r"""``(value in effect, next state)``: ``value`` for the first ``anneal_after`` steps, 0
    from then on, so the run ends as plain gradient descent and reaches a minimizer near
    where the regularizing phase left it (``anneal_after = 0``: ``value`` throughout)."""
    if not anneal_after:
        return value, state
    on = state.count < anneal_after
    return jnp.where(on, value, jnp.zeros_like(value)), AnnealState(state.count + 1)
