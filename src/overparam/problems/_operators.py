"""Linear measurement operators X -> A(X) for matrix recovery.

An operator maps a ``(d1, d2)`` matrix to a fixed-size array of measurements. Each
measurement carries a weight: 0 marks padding (or an unobserved entry), so problems with
different numbers of observations share one static shape and batch together. Data-fit
losses are weighted means, ``sum(w * r**2) / sum(w)``.

Operators are NamedTuples (pytrees); their methods are pure and work under jit and vmap.
"""

from typing import NamedTuple

import jax.numpy as jnp

from overparam.types import Array


class EntryMask(NamedTuple):
    """Entry sampling (matrix completion), stored as a dense mask over all entries.

    The measurements are all ``d1*d2`` entries, ``A(X) = X``; the mask is their weight, 1 for
    observed entries and 0 for the rest. A dense mask costs ``d1*d2`` numbers per problem and
    turns the completion gradient into an elementwise product (no gather or scatter).
    """

    mask: Array  # (d1, d2), float, 1 on observed entries and 0 elsewhere

    @property
    def weights(self) -> Array:
        return self.mask

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape

    def apply(self, x: Array) -> Array:
        """Measurements of ``x`` (shape (d1, d2)): the matrix itself."""
        return x

    def adjoint(self, r: Array) -> Array:
        """Adjoint map of measurement-space ``r`` (shape (d1, d2)) back to a matrix."""
        return r


class DenseSensing(NamedTuple):
    """Linear sensing ``A(X)_i = <A_i, X>``, with the ``A_i`` stored as rows of an
    ``M x (d1*d2)`` matrix (row-major ``vec``).

    Applied as one matrix-vector product, never as an ``M x d1 x d2`` broadcast. Rows with
    weight 0 are padding.
    """

    matrix: Array  # (M, d1*d2)
    weights: Array  # (M,), 1 for real measurements, 0 for padding
    template: Array  # (d1, d2) zeros; carries the matrix shape as data

    @property
    def shape(self) -> tuple[int, int]:
        return self.template.shape

    def apply(self, x: Array) -> Array:
        return self.matrix @ x.reshape(-1)

    def adjoint(self, r: Array) -> Array:
        return (r @ self.matrix).reshape(self.template.shape)


Operator = EntryMask | DenseSensing


def observed_count(op: Operator) -> Array:
    """Number of real (nonzero-weight) measurements."""
    return jnp.sum(op.weights > 0)
