"""Low-rank matrix recovery problems: ground truth, operator and observations."""

from operator import index
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from overparam.problems._operators import DenseSensing, EntryMask, Operator, RankOneSensing
from overparam.types import Array

BAD_SIZE_MSG = "{name} must be a positive integer, got {value!r}"


class MatrixProblem(NamedTuple):
    """A matrix recovery problem: recover ``truth`` from ``observations = A(truth)``.

    ``observations`` has the shape of ``operator.apply(X)``; entries with weight 0 are ignored.
    ``truth`` is None when unknown (a user's data set), in which case error measures are NaN.
    ``test`` optionally holds held-out measurements as a problem of its own (the test ratings
    of a real data set), scored by the ``test_error`` measure. ``references`` holds baseline
    solutions of this problem that measures compare a run with (by solver kind, e.g.
    ``{"flat": {"x": ..., "hessian_trace": ...}}``; see
    :func:`overparam.sweep.attach_references`), or None.

    Optimizers that need more than the gradient (``sam1``, ``label_noise_gd``, see
    :mod:`overparam.optim._extra_args`) change a batch through :attr:`weights`,
    :meth:`reweighted` and :meth:`relabeled`; a problem of another type offers them to
    support those optimizers. :meth:`minibatch` hands out the per-step minibatches of
    ``train.batch_size``.
    """

    operator: Operator
    observations: Array
    truth: Array | None
    test: "MatrixProblem | None" = None
    references: dict | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.operator.shape

    @property
    def weights(self) -> Array:
        """The measurements' weights (the operator's), shaped like ``observations``; 0 marks
        padding or an unobserved entry."""
        return self.operator.weights

    def reweighted(self, weights: Array) -> "MatrixProblem":
        """The problem with measurement weights ``weights`` (shaped like :attr:`weights`)."""
        return self._replace(operator=self.operator.reweighted(weights))

    @property
    def num_measurements(self) -> Array:
        """The number k of real measurements (weight > 0), a jax integer scalar."""
        return self.operator.count()

    def minibatch(self, key: Array, size: int) -> "MatrixProblem":
        r"""``size`` of the real measurements, drawn uniformly without replacement from ``key``.

        The minibatch is this problem reweighted (:meth:`reweighted`): a drawn measurement
        keeps its weight, every other one gets weight 0. So it has this problem's type and
        static shapes (it runs under jit and vmap, for all operators, entry masks included),
        and its :func:`~overparam.objectives.squared_loss` is the (weighted) mean over the
        drawn measurements: with 0/1 weights, :math:`\frac{1}{s}\sum_{i\in S} r_i^2`.

        The draw: each measurement gets a uniform score from ``key``, padding and unobserved
        entries (weight 0) the worst one, and the ``size`` best are kept (``lax.top_k``); the
        kept set is a uniform ``size``-subset of the k real measurements, so each is drawn
        with probability ``size / k`` and padding never is. Without replacement within one
        draw; draws from different keys are independent. (Scores are uniform floats of the
        weights' dtype; ties, of probability about ``M**2 / 2**24`` in float32, are broken by
        position.)

        Cost: a step on the minibatch costs a full-batch step (every one of the M
        measurements is applied, the undrawn ones weighted by 0) plus an ``O(M log size)``
        top-k. Gathering the drawn rows would be cheaper for large sensing operators, but
        would change the operator's shape, and entry masks have no rows to gather.

        ``size`` above k: all k real measurements are drawn (the minibatch is the problem);
        ``overparam.run`` refuses a ``train.batch_size`` above a run's k before training.

        Args:
          key: a PRNG key.
          size: Python int >= 1, the number of measurements drawn.

        Returns:
          A :class:`MatrixProblem` like this one, with the minibatch's weights.
        """
        try:
            size = index(size)
        except TypeError:
            raise ValueError(f"size must be an integer, got {size!r}") from None
        _check_positive(size=size)
        w = self.weights
        flat = w.reshape(-1)
        dtype = flat.dtype if jnp.issubdtype(flat.dtype, jnp.floating) else jnp.float32
        score = jnp.where(flat > 0, jax.random.uniform(key, flat.shape, dtype), 2.0)
        _, drawn = lax.top_k(-score, min(size, flat.shape[0]))  # the smallest scores
        keep = jnp.zeros(flat.shape, flat.dtype).at[drawn].set(1)
        return self.reweighted((flat * keep).reshape(w.shape))

    def relabeled(self, observations: Array) -> "MatrixProblem":
        """The problem with ``observations`` (same shape) in place of its own."""
        if jnp.shape(observations) != jnp.shape(self.observations):
            raise ValueError(f"observations must have shape {jnp.shape(self.observations)}, "
                             f"got {jnp.shape(observations)}")
        return self._replace(observations=observations)

    @property
    def pad_size(self) -> int | None:
        """The operator's :attr:`~overparam.problems.Operator.pad_size`: the length of the
        measurement axis that padding extends, or None when it is fixed (entry sampling)."""
        return self.operator.pad_size

    def padded(self, size: int) -> "MatrixProblem":
        """The problem with weight-0 measurements (observation 0) appended up to ``size``.

        Problems whose measurement shape is fixed (``pad_size`` None, e.g. entry sampling) are
        returned unchanged. ``truth``, ``test`` and ``references`` are kept as they are.

        Raises:
          ValueError: ``size`` is below :attr:`pad_size`.
        """
        if self.pad_size is None:
            return self
        op = self.operator.padded(size)
        pad = op.pad_size - self.pad_size
        obs = jnp.pad(self.observations, (0, pad))
        return self._replace(operator=op, observations=obs)


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(BAD_SIZE_MSG.format(name=name, value=value))


def low_rank_truth(key: Array, d1: int, d2: int, rank: int, dtype=jnp.float32) -> Array:
    r"""Random rank-``rank`` matrix with entries of root-mean-square 1.

    .. math:: W^\star = c\, U V^\top / \sqrt{r},\quad U \in \mathbb{R}^{d_1\times r},
       V \in \mathbb{R}^{d_2\times r} \text{ iid } N(0,1),\quad
       c \text{ such that } \|W^\star\|_F = \sqrt{d_1 d_2}.

    The random factors are drawn in float32 and cast, so one key gives the same matrix (to
    float32 rounding) in every dtype: baselines solved in float64 see the problem that float32
    training sees. The product and scaling are done in ``dtype``, so the result is exactly
    rank ``rank`` up to that dtype's rounding.

    References: Arora, Cohen, Hu, Luo 2019, code ``gen_gt.py`` (``||W*||_F = n``).

    Returns:
      Array of shape (d1, d2).
    """
    _check_positive(d1=d1, d2=d2, rank=rank)
    if rank > min(d1, d2):
        raise ValueError(f"rank must be <= min(d1, d2) = {min(d1, d2)}, got {rank}")
    ku, kv = jax.random.split(key)
    u = jax.random.normal(ku, (d1, rank), jnp.float32).astype(dtype)
    v = jax.random.normal(kv, (d2, rank), jnp.float32).astype(dtype)
    w = u @ v.T / jnp.sqrt(rank)
    return w * (jnp.sqrt(d1 * d2) / jnp.linalg.norm(w))


def uniform_entry_mask(key: Array, d1: int, d2: int, m: int, dtype=jnp.float32) -> Array:
    """0/1 mask with exactly ``m`` ones placed uniformly without replacement. Shape (d1, d2)."""
    _check_positive(d1=d1, d2=d2, m=m)
    if m > d1 * d2:
        raise ValueError(f"m must be <= d1*d2 = {d1 * d2}, got {m}")
    idx = jax.random.choice(key, d1 * d2, (m,), replace=False)
    return jnp.zeros(d1 * d2, dtype).at[idx].set(1).reshape(d1, d2)


def completion_problem(truth: Array, mask: Array) -> MatrixProblem:
    """Matrix completion: observe ``truth`` on the entries where ``mask`` is 1."""
    if mask.shape != truth.shape:
        raise ValueError(f"mask shape {mask.shape} must equal truth shape {truth.shape}")
    mask = mask.astype(truth.dtype)
    return MatrixProblem(EntryMask(mask), truth * mask, truth)


def make_completion(key: Array, truth: Array, m: int) -> MatrixProblem:
    """Observe ``m`` entries of ``truth``, uniformly without replacement.

    References: Arora et al. 2019, code ``gen_obs.py`` (``torch.multinomial`` without replacement).
    """
    d1, d2 = truth.shape
    return completion_problem(truth, uniform_entry_mask(key, d1, d2, m, truth.dtype))


def gaussian_sensing_matrix(key: Array, m: int, d1: int, d2: int, dtype=jnp.float32) -> Array:
    r"""``m`` Gaussian measurement matrices as rows of an ``m x (d1*d2)`` matrix.

    Entries are iid :math:`N(0, 1/(d_1 d_2))`, i.e. :math:`N(0, 1/n^2)` for square ``n x n``
    (the paper's code draws ``randn(m, n, n) / n``). Drawn in float32 and cast, so one key
    gives the same operator in every dtype.
    """
    _check_positive(m=m, d1=d1, d2=d2)
    a = jax.random.normal(key, (m, d1 * d2), jnp.float32).astype(dtype)
    return a / jnp.sqrt(jnp.asarray(d1 * d2, dtype))


def sensing_problem(truth: Array | None, matrix: Array, observations: Array | None = None,
                    shape: tuple[int, int] | None = None) -> MatrixProblem:
    """Linear sensing ``y_i = <A_i, truth>`` with the ``A_i`` as rows of ``matrix``."""
    if shape is None:
        if truth is None:
            raise ValueError("shape is required when truth is None")
        shape = truth.shape
    d1, d2 = shape
    if matrix.ndim != 2 or matrix.shape[1] != d1 * d2:
        raise ValueError(f"sensing matrix must have shape (m, {d1 * d2}), got {matrix.shape}")
    if observations is None:
        if truth is None:
            raise ValueError("observations are required when truth is None")
        observations = matrix @ truth.reshape(-1)
    m = matrix.shape[0]
    op = DenseSensing(matrix, jnp.ones(m, matrix.dtype), jnp.zeros((d1, d2), matrix.dtype))
    return MatrixProblem(op, observations.astype(matrix.dtype), truth)


def make_sensing(key: Array, truth: Array, m: int) -> MatrixProblem:
    """Gaussian matrix sensing with ``m`` measurements of ``truth``."""
    d1, d2 = truth.shape
    return sensing_problem(truth, gaussian_sensing_matrix(key, m, d1, d2, truth.dtype))


def pad_measurements(problem: MatrixProblem, size: int) -> MatrixProblem:
    """Pad a sensing problem with weight-0 measurements up to ``size``: ``problem.padded(size)``.

    Entry-mask problems already have a fixed measurement shape and are returned unchanged.
    """
    return problem.padded(size)


def rank_one_sensing_problem(truth: Array | None, left: Array, right: Array,
                             observations: Array | None = None) -> MatrixProblem:
    r"""Rank-one (bilinear) sensing :math:`y_i = a_i^\top W^\star b_i`.

    Args:
      truth: the (d1, d2) ground truth, or None when unknown (then ``observations`` is needed).
      left: (m, d1), the :math:`a_i` as rows.
      right: (m, d2), the :math:`b_i` as rows.
      observations: optional (m,) measurements; default ``A(truth)``.

    Returns:
      A :class:`MatrixProblem` with a :class:`RankOneSensing` operator (all weights 1) in the
      dtype of ``left``.
    """
    left, right = jnp.asarray(left), jnp.asarray(right)
    if left.ndim != 2 or right.ndim != 2 or left.shape[0] != right.shape[0]:
        raise ValueError(f"left and right must have shapes (m, d1) and (m, d2), got {left.shape} "
                         f"and {right.shape}")
    shape = (left.shape[1], right.shape[1])
    if truth is not None and tuple(truth.shape) != shape:
        raise ValueError(f"truth shape {tuple(truth.shape)} must be (d1, d2) = {shape}, from "
                         "left and right")
    dtype = left.dtype
    op = RankOneSensing(left, right.astype(dtype), jnp.ones(left.shape[0], dtype))
    if observations is None:
        if truth is None:
            raise ValueError("observations are required when truth is None")
        observations = op.apply(jnp.asarray(truth, dtype))
    observations = jnp.asarray(observations, dtype)
    if observations.shape != (left.shape[0],):
        raise ValueError(f"observations must have shape ({left.shape[0]},), got "
                         f"{observations.shape}")
    return MatrixProblem(op, observations, truth)


def entries_problem(d1: int, d2: int, rows, cols, values, dtype=jnp.float32) -> MatrixProblem:
    """Completion of given entries ``values[i]`` at (``rows[i]``, ``cols[i]``), no ground truth.

    Razin and Cohen 2020's 2x2 problem is ``entries_problem(2, 2, [0, 1, 1], [1, 0, 1],
    [1, 1, 0])``: every completion has determinant -1.
    """
    _check_positive(d1=d1, d2=d2)
    rows, cols = jnp.asarray(rows), jnp.asarray(cols)
    mask = jnp.zeros((d1, d2), dtype).at[rows, cols].set(1)
    obs = jnp.zeros((d1, d2), dtype).at[rows, cols].set(jnp.asarray(values, dtype))
    return MatrixProblem(EntryMask(mask), obs, None)
