"""Measures: diagnostics of one run's state, registered by name."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "reconstruction_error": "overparam.measures._recovery",
    "train_loss": "overparam.measures._recovery",
    "unobserved_error": "overparam.measures._recovery",
    "MEASURES": "overparam.measures._registry",
    "Measure": "overparam.measures._registry",
    "MeasureContext": "overparam.measures._registry",
    "compute_measures": "overparam.measures._registry",
    "get_measure": "overparam.measures._registry",
    "effective_rank": "overparam.measures._spectral",
    "nuclear_norm": "overparam.measures._spectral",
    "schatten_quasi_norm": "overparam.measures._spectral",
    "singular_values": "overparam.measures._spectral",
})
