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
      info: static facts measures may use, e.g. ``{"depth": 3}``. Hessian measures read
        ``info["factor_rows"]``: for a two-factor model, one divisor per parameter array (the
        paper's scaled trace weighs the block of a d1 x k factor by 1/d1), e.g. ``(d2, d1)``
        for the depth-2 factorization's ``(W1, W2)``; absent elsewhere.
      output_laplacian: ``output_laplacian(params[, inputs])``, shaped like ``predict``'s
        output: the sum over every single trainable scalar t of d^2 predict / dt^2. It is
        zero for models whose output is linear in each single scalar (deep factorizations,
        L R^T, Hadamard products: use :func:`zero_laplacian`) and 2k I for U U^T with k
        columns. With it the exact Hessian trace of a squared loss is the Gauss-Newton trace
        plus a residual term; None means unknown (exact-trace measures then fall back to a
        Hutchinson estimate and say so).
    """

    name: str
    init: Callable[..., Params]
    predict: Callable[..., Array]
    label: str = ""
    param_count: int = 0
    activation_size: int = 0
    takes_inputs: bool = False
    info: Mapping = MappingProxyType({})
    output_laplacian: Callable[..., Array] | None = None

    def memory_bytes(self, itemsize: int) -> int:
        """Bytes one training run holds: parameters, gradients, optimizer state, temporaries
        (a dozen copies of the larger of parameters and activations)."""
        return 12 * itemsize * max(self.param_count, self.activation_size, 1)


def zero_laplacian(predict: Callable[..., Array]) -> Callable[..., Array]:
    """The :attr:`Model.output_laplacian` of a model whose output is linear in each single
    trainable scalar: zeros shaped like ``predict``'s output."""
    import jax
    import jax.numpy as jnp

    def laplacian(params, *inputs):
        out = jax.eval_shape(predict, params, *inputs)
        return jnp.zeros(out.shape, out.dtype)

    return laplacian
