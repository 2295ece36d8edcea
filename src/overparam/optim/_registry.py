"""Optimizers by name."""

from collections.abc import Callable

import optax

from overparam.optim._group_rmsprop import group_rmsprop

OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "gd": optax.sgd,
    "group_rmsprop": group_rmsprop,
    "adam": optax.adam,
}


def make_optimizer(name: str, learning_rate, **options) -> optax.GradientTransformation:
    """Build optimizer ``name`` with step size ``learning_rate`` (may be a traced scalar)."""
    try:
        factory = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}") from None
    return factory(learning_rate, **options)
