"""Models: ``init(key, init_scale, dtype) -> params`` and ``predict(params) -> prediction``."""

from overparam.models._base import Model as Model
from overparam.models._deep_factorization import (
    DEEP_FACTORIZATION_INITS as DEEP_FACTORIZATION_INITS,
)
from overparam.models._deep_factorization import deep_factorization as deep_factorization
from overparam.models._deep_factorization import end_to_end as end_to_end
from overparam.models._deep_factorization import layer_shapes as layer_shapes
