"""Diverse units (Xie, Liang, Song 2017): the extended feature matrix D and its smallest
singular value, the ReLU kernel and its spherical spectrum, the L2 discrepancy of the unit
directions, and the diversity regularizer. Pure functions of arrays."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "FORMS": "overparam.diversity._discrepancy",
    "discrepancy_constant": "overparam.diversity._discrepancy",
    "diversity_regularizer": "overparam.diversity._discrepancy",
    "l2_discrepancy": "overparam.diversity._discrepancy",
    "unit_directions": "overparam.diversity._discrepancy",
    "extended_features": "overparam.diversity._features",
    "feature_gram": "overparam.diversity._features",
    "loss_bound": "overparam.diversity._features",
    "s_min_D": "overparam.diversity._features",
    "signed_patterns": "overparam.diversity._features",
    "KernelSpectrum": "overparam.diversity._kernel",
    "angle_quadrature": "overparam.diversity._kernel",
    "harmonic_multiplicity": "overparam.diversity._kernel",
    "kernel_lambda_min": "overparam.diversity._kernel",
    "kernel_spectrum": "overparam.diversity._kernel",
    "legendre_d": "overparam.diversity._kernel",
    "relu_kernel": "overparam.diversity._kernel",
})
