"""Optimizers by name (the entries live in :data:`overparam.registry.OPTIMIZERS`)."""

from collections.abc import Callable

import optax

from overparam.registry import OPTIMIZERS as _ENTRIES
from overparam.registry import resolve


class _Factories:
    """Read-only mapping view of the optimizer registry: name -> optax factory."""

    def __getitem__(self, name: str) -> Callable[..., optax.GradientTransformation]:
        return resolve(_ENTRIES[name].factory)

    def __contains__(self, name: object) -> bool:
        return name in _ENTRIES

    def __iter__(self):
        return iter(_ENTRIES.names())

    def __len__(self) -> int:
        return len(_ENTRIES)


OPTIMIZERS = _Factories()


def make_optimizer(name: str, learning_rate, **options) -> optax.GradientTransformation:
    """Build optimizer ``name`` with step size ``learning_rate`` (may be a traced scalar)."""
    if name not in _ENTRIES:
        raise ValueError(f"optimizer must be one of {sorted(_ENTRIES)}, got {name!r}")
    return resolve(_ENTRIES[name].factory)(learning_rate, **options)
