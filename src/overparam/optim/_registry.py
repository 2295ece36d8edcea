"""Optimizers by name (the entries live in :data:`overparam.registry.OPTIMIZERS`)."""


import optax

from overparam.registry import OPTIMIZERS as _ENTRIES
from overparam.registry import resolve

OPTIMIZERS = _ENTRIES.view(lambda entry: resolve(entry.factory))  # name -> optax factory


def make_optimizer(name: str, learning_rate, **options) -> optax.GradientTransformation:
    """Build optimizer ``name`` with step size ``learning_rate`` (may be a traced scalar)."""
    if name not in _ENTRIES:
        raise ValueError(f"optimizer must be one of {sorted(_ENTRIES)}, got {name!r}")
    return resolve(_ENTRIES[name].factory)(learning_rate, **options)
