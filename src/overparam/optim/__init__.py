"""Optimizers as optax transformations."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ScaleByGroupRmsState": "overparam.optim._group_rmsprop",
    "group_rmsprop": "overparam.optim._group_rmsprop",
    "scale_by_group_rms": "overparam.optim._group_rmsprop",
    "OPTIMIZERS": "overparam.optim._registry",
    "make_optimizer": "overparam.optim._registry",
})
