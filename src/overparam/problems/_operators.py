"""Linear measurement operators X -> A(X) for matrix recovery.

An operator maps a ``(d1, d2)`` matrix to a fixed-size array of measurements. Each
measurement carries a weight: 0 marks padding (or an unobserved entry), so problems with
different numbers of observations share one static shape and batch together. Data-fit
losses are weighted means, ``sum(w * r**2) / sum(w)``.

Operators are NamedTuples (pytrees). Every operator carries the methods that training,
solvers and measures use (the :class:`Operator` protocol), so a new kind of measurement is
one class: nothing else dispatches on the operator's type. Methods that return JAX arrays
are pure and work under jit and vmap (on one unbatched operator); ``dense_rows``,
``sparse_rows`` and ``observed`` run on the host and return float64 NumPy/SciPy values,
for the cvxpy and IRLS solvers.
"""

from operator import index
from typing import NamedTuple, Protocol, runtime_checkable

import jax.numpy as jnp
import numpy as np
import scipy.sparse

from overparam.types import Array

PAD_DOWN_MSG = "cannot pad {current} measurements down to {size}"


@runtime_checkable
class Operator(Protocol):
    r"""What a measurement operator provides: the interface every operator class implements.

    Measurement :math:`i` is :math:`\mathcal{A}(X)_i = \langle A_i, X\rangle` with weight
    :math:`w_i`; the :math:`k` measurements with :math:`w_i > 0` are the real ones.

    - ``weights``: the weights, shaped like ``apply(x)``.
    - ``shape``: ``(d1, d2)``, a tuple of Python ints.
    - ``pad_size``: Python int, the length of the measurement axis that padding extends, or
      None when the measurement shape is fixed (entry sampling).
    - ``apply(x)`` / ``adjoint(r)``: :math:`\mathcal{A}` and :math:`\mathcal{A}^*` (jax).
    - ``count()``: :math:`k`, a jax integer scalar.
    - ``padded(size)``: the operator with weight-0 measurements appended up to ``size``.
    - ``reweighted(weights)``: the same measurements with ``weights`` (shaped like
      :attr:`weights`) instead (jax): e.g. one measurement alone, for per-measurement losses.
    - ``entry_mask()``: the ``(d1, d2)`` 0/1 mask when the measurements are entries of X,
      else None (solvers take a faster completion path when it is not None).
    - ``as_matrix()``: jax array ``(M, d1*d2)`` of all M measurements' :math:`A_i` as rows
      (row-major ``vec``), weight-0 rows included: materialized, for solvers that need
      :math:`A` explicitly (ADMM's x-step on non-entry operators).
    - ``dense_rows()`` / ``sparse_rows()``: host float64 ``(k, d1*d2)`` rows of the real
      measurements, as a NumPy array / a SciPy CSR matrix; ``observed(y)``: the matching
      ``(k,)`` float64 observations from an array ``y`` shaped like ``apply(x)``.
    - ``signature()``: hashable of what fixes compiled shapes apart from padding.
    """

    @property
    def weights(self) -> Array: ...

    @property
    def shape(self) -> tuple[int, int]: ...

    @property
    def pad_size(self) -> int | None: ...

    def apply(self, x: Array) -> Array: ...

    def adjoint(self, r: Array) -> Array: ...

    def count(self) -> Array: ...

    def padded(self, size: int) -> "Operator": ...

    def reweighted(self, weights: Array) -> "Operator": ...

    def entry_mask(self) -> Array | None: ...

    def as_matrix(self) -> Array: ...

    def dense_rows(self) -> np.ndarray: ...

    def sparse_rows(self) -> scipy.sparse.csr_matrix: ...

    def observed(self, y) -> np.ndarray: ...

    def signature(self) -> tuple: ...


# ----- helpers shared by the operator classes ------------------------------------------------


def _count(weights: Array) -> Array:
    return jnp.sum(weights > 0)


def _real(weights) -> np.ndarray:
    """Host-side boolean over the measurements (flattened, row-major): weight > 0."""
    return np.asarray(weights).reshape(-1) > 0


def _observed(weights, y) -> np.ndarray:
    """The real measurements' values of ``y`` (shaped like the weights), float64, in order."""
    y = np.asarray(y, np.float64)
    if y.size != np.size(weights):
        raise ValueError(f"observations must have {np.size(weights)} values, got shape {y.shape}")
    return y.reshape(-1)[_real(weights)]


def _pad_amount(current: int, size) -> int:
    """Number of weight-0 measurements to append to go from ``current`` to ``size``."""
    try:
        size = index(size)
    except TypeError:
        raise ValueError(f"size must be an integer, got {size!r}") from None
    if size < current:
        raise ValueError(PAD_DOWN_MSG.format(current=current, size=size))
    return size - current


def _pad_rows(a: Array, pad: int) -> Array:
    """``a`` with ``pad`` zero rows appended on its first axis."""
    return jnp.pad(a, ((0, pad),) + ((0, 0),) * (jnp.ndim(a) - 1))


# ----- operators ----------------------------------------------------------------------------


class EntryMask(NamedTuple):
    """Entry sampling (matrix completion), stored as a dense mask over all entries.

    The measurements are all ``d1*d2`` entries, ``A(X) = X``; the mask is their weight, 1 for
    observed entries and 0 for the rest. A dense mask costs ``d1*d2`` numbers per problem and
    turns the completion gradient into an elementwise product (no gather or scatter). The
    measurement shape is fixed: there is nothing to pad.
    """

    mask: Array  # (d1, d2), float, 1 on observed entries and 0 elsewhere

    @property
    def weights(self) -> Array:
        return self.mask

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.mask.shape)

    @property
    def pad_size(self) -> None:
        """None: the measurements are the ``d1*d2`` entries, a fixed shape."""
        return None

    def apply(self, x: Array) -> Array:
        """Measurements of ``x`` (shape (d1, d2)): the matrix itself."""
        return x

    def adjoint(self, r: Array) -> Array:
        """Adjoint map of measurement-space ``r`` (shape (d1, d2)) back to a matrix."""
        return r

    def count(self) -> Array:
        """Number of observed entries, a jax integer scalar."""
        return _count(self.mask)

    def padded(self, size: int) -> "EntryMask":
        """The operator itself: an entry mask has no measurement axis to pad."""
        del size
        return self

    def reweighted(self, weights: Array) -> "EntryMask":
        """The entries weighted by ``weights`` (shape (d1, d2)) instead of the mask."""
        return EntryMask(weights)

    def entry_mask(self) -> Array:
        """The (d1, d2) 0/1 mask of observed entries."""
        return self.mask

    def as_matrix(self) -> Array:
        """The identity ``(d1*d2, d1*d2)``: measurement ``i`` is entry ``i`` (row-major).

        Only for generic code; solvers use :meth:`entry_mask` instead.
        """
        d1, d2 = self.shape
        return jnp.eye(d1 * d2, dtype=self.mask.dtype)

    def sparse_rows(self) -> scipy.sparse.csr_matrix:
        """CSR ``(k, d1*d2)`` float64: row ``j`` is 1 at the ``j``-th observed entry (row-major
        order, as :func:`numpy.nonzero`)."""
        d1, d2 = self.shape
        cols = np.flatnonzero(_real(self.mask))
        k = cols.size
        return scipy.sparse.csr_matrix((np.ones(k), (np.arange(k), cols)), shape=(k, d1 * d2))

    def dense_rows(self) -> np.ndarray:
        """:meth:`sparse_rows` as a dense float64 array (``k * d1 * d2`` numbers)."""
        return self.sparse_rows().toarray()

    def observed(self, y) -> np.ndarray:
        """The observed entries of ``y`` (shape (d1, d2)), float64, in row-major order."""
        return _observed(self.mask, y)

    def signature(self) -> tuple:
        """``(class name, (d1, d2))``: what fixes compiled shapes apart from padding."""
        return (type(self).__name__, self.shape)


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
        return tuple(self.template.shape)

    @property
    def pad_size(self) -> int:
        """M, the number of measurements (padding included)."""
        return self.weights.shape[-1]

    def apply(self, x: Array) -> Array:
        return self.matrix @ x.reshape(-1)

    def adjoint(self, r: Array) -> Array:
        return (r @ self.matrix).reshape(self.template.shape)

    def count(self) -> Array:
        """Number of real (weight > 0) measurements, a jax integer scalar."""
        return _count(self.weights)

    def padded(self, size: int) -> "DenseSensing":
        """The operator with zero, weight-0 rows appended up to ``size`` measurements.

        Raises:
          ValueError: ``size`` is below :attr:`pad_size`.
        """
        pad = _pad_amount(self.pad_size, size)
        return DenseSensing(_pad_rows(self.matrix, pad), _pad_rows(self.weights, pad),
                            self.template)

    def reweighted(self, weights: Array) -> "DenseSensing":
        """The same rows with ``weights`` (shape (M,))."""
        return DenseSensing(self.matrix, weights, self.template)

    def entry_mask(self) -> None:
        """None: the measurements are not entries of X."""
        return None

    def as_matrix(self) -> Array:
        """The stored ``(M, d1*d2)`` matrix, padding rows included."""
        return self.matrix

    def dense_rows(self) -> np.ndarray:
        """The real rows of the matrix, float64, shape (k, d1*d2)."""
        return np.asarray(self.matrix, np.float64)[_real(self.weights)]

    def sparse_rows(self) -> scipy.sparse.csr_matrix:
        """:meth:`dense_rows` as a CSR matrix (no sparsity to exploit here)."""
        return scipy.sparse.csr_matrix(self.dense_rows())

    def observed(self, y) -> np.ndarray:
        """The real measurements' values of ``y`` (shape (M,)), float64."""
        return _observed(self.weights, y)

    def signature(self) -> tuple:
        """``(class name, (d1, d2))``: what fixes compiled shapes apart from padding."""
        return (type(self).__name__, self.shape)


class RankOneSensing(NamedTuple):
    r"""Bilinear (rank-one) sensing ``A(X)_i = a_i^T X b_i``, i.e. :math:`A_i = a_i b_i^\top`.

    .. math:: \mathcal{A}(X)_i = a_i^\top X b_i,\qquad
       \mathcal{A}^*(r) = \sum_i r_i\, a_i b_i^\top = L^\top \operatorname{diag}(r) R,

    with :math:`a_i` the rows of ``left`` (:math:`L`) and :math:`b_i` those of ``right``
    (:math:`R`). Stores ``M (d1 + d2)`` numbers; ``apply`` and ``adjoint`` cost
    ``O(M d1 d2)`` and never form the ``M x d1 x d2`` stack of :math:`A_i` (only
    :meth:`as_matrix` and :meth:`dense_rows` do). Rows with weight 0 are padding.
    """

    left: Array  # (M, d1), the a_i
    right: Array  # (M, d2), the b_i
    weights: Array  # (M,), 1 for real measurements, 0 for padding

    @property
    def shape(self) -> tuple[int, int]:
        return (self.left.shape[-1], self.right.shape[-1])

    @property
    def pad_size(self) -> int:
        """M, the number of measurements (padding included)."""
        return self.weights.shape[-1]

    def apply(self, x: Array) -> Array:
        """``(M,)`` measurements ``a_i^T x b_i`` of ``x`` (shape (d1, d2))."""
        return jnp.einsum("mi,ij,mj->m", self.left, x, self.right)

    def adjoint(self, r: Array) -> Array:
        """``L^T diag(r) R`` for ``r`` of shape (M,): a (d1, d2) matrix."""
        return jnp.einsum("mi,m,mj->ij", self.left, r, self.right)

    def count(self) -> Array:
        """Number of real (weight > 0) measurements, a jax integer scalar."""
        return _count(self.weights)

    def padded(self, size: int) -> "RankOneSensing":
        """The operator with zero, weight-0 measurements appended up to ``size``.

        Raises:
          ValueError: ``size`` is below :attr:`pad_size`.
        """
        pad = _pad_amount(self.pad_size, size)
        return RankOneSensing(_pad_rows(self.left, pad), _pad_rows(self.right, pad),
                              _pad_rows(self.weights, pad))

    def reweighted(self, weights: Array) -> "RankOneSensing":
        """The same measurements with ``weights`` (shape (M,))."""
        return RankOneSensing(self.left, self.right, weights)

    def entry_mask(self) -> None:
        """None: the measurements are not entries of X."""
        return None

    def as_matrix(self) -> Array:
        """``(M, d1*d2)`` rows ``vec(a_i b_i^T)`` (row-major), padding rows included."""
        m = self.left.shape[0]
        return (self.left[:, :, None] * self.right[:, None, :]).reshape(m, -1)

    def dense_rows(self) -> np.ndarray:
        """The real rows ``vec(a_i b_i^T)``, float64, shape (k, d1*d2)."""
        real = _real(self.weights)
        a = np.asarray(self.left, np.float64)[real]
        b = np.asarray(self.right, np.float64)[real]
        return (a[:, :, None] * b[:, None, :]).reshape(a.shape[0], -1)

    def sparse_rows(self) -> scipy.sparse.csr_matrix:
        """:meth:`dense_rows` as a CSR matrix (no sparsity to exploit here)."""
        return scipy.sparse.csr_matrix(self.dense_rows())

    def observed(self, y) -> np.ndarray:
        """The real measurements' values of ``y`` (shape (M,)), float64."""
        return _observed(self.weights, y)

    def signature(self) -> tuple:
        """``(class name, (d1, d2))``: what fixes compiled shapes apart from padding."""
        return (type(self).__name__, self.shape)


def observed_count(op: Operator) -> Array:
    """Number of real (nonzero-weight) measurements: ``op.count()``."""
    return op.count()
