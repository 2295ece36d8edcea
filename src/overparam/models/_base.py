"""The model interface: a NamedTuple of pure functions plus what the executor needs."""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from overparam.types import Array, Params


class Model(NamedTuple):
    """A model: ``init(key, **hparams, dtype) -> params`` and ``predict(params) -> X`` (or
    ``predict(params, inputs)`` when ``takes_inputs``).

    ``init`` takes the model config's batched fields (e.g. ``init_scale``) as keyword
    arguments, each possibly a traced scalar; everything that fixes shapes is closed over
    when the model is built.

    Attributes:
      name: the kind, e.g. ``"deep_factorization"``.
      init, predict: the pure functions above.
      label: a short description for progress lines, e.g. ``"depth 3, 100x100"``.
      param_count: number of trainable scalars (memory planning and scheduling).
      activation_size: scalars of the largest intermediate (e.g. the d1 x d2 prediction).
      takes_inputs: ``predict`` takes a batch of inputs (models of data).
      info: static facts measures may use, e.g. ``{"depth": 3}``.
    """

    name: str
    init: Callable[..., Params]
    predict: Callable[..., Array]
    label: str = ""
    param_count: int = 0
    activation_size: int = 0
    takes_inputs: bool = False
    info: Mapping = MappingProxyType({})

    def memory_bytes(self, itemsize: int) -> int:
        """Bytes one training run holds: parameters, gradients, optimizer state, temporaries
        (a dozen copies of the larger of parameters and activations)."""
        return 12 * itemsize * max(self.param_count, self.activation_size, 1)
