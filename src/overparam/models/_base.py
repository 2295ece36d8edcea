"""The model interface: a NamedTuple of pure functions."""

from collections.abc import Callable
from typing import NamedTuple

from overparam.types import Array, Params


class Model(NamedTuple):
    """A model: ``init(key, init_scale, dtype) -> params`` and ``predict(params) -> X``.

    ``init_scale`` may be a traced scalar (it is batched data in a sweep); everything that
    fixes shapes is closed over when the model is built.
    """

    name: str
    init: Callable[..., Params]
    predict: Callable[[Params], Array]
