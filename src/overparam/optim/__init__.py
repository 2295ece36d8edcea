"""Optimizers as optax transformations; updates may use the trainer's extra arguments
(:mod:`overparam.optim._extra_args`)."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ScaleByGroupRmsState": "overparam.optim._group_rmsprop",
    "group_rmsprop": "overparam.optim._group_rmsprop",
    "scale_by_group_rms": "overparam.optim._group_rmsprop",
    "label_noise_gd": "overparam.optim._label_noise",
    "label_noise_gradient": "overparam.optim._label_noise",
    "OPTIMIZERS": "overparam.optim._registry",
    "make_optimizer": "overparam.optim._registry",
    "per_measurement_sharpness_aware_gradient": "overparam.optim._sam",
    "sam": "overparam.optim._sam",
    "sam1": "overparam.optim._sam",
    "sharpness_aware_gradient": "overparam.optim._sam",
})
