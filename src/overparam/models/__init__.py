"""Models: ``init(key, **batched_hparams, dtype) -> params`` and ``predict(params[, inputs])``."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "Model": "overparam.models._base",
    "zero_laplacian": "overparam.models._base",
    "DEEP_FACTORIZATION_INITS": "overparam.models._deep_factorization",
    "deep_factorization": "overparam.models._deep_factorization",
    "end_to_end": "overparam.models._deep_factorization",
    "layer_shapes": "overparam.models._deep_factorization",
    "hadamard": "overparam.models._factored",
    "hadamard_product": "overparam.models._factored",
    "symmetric": "overparam.models._factored",
    "symmetric_product": "overparam.models._factored",
    "two_factor": "overparam.models._factored",
    "two_factor_product": "overparam.models._factored",
})
