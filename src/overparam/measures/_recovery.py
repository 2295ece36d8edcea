"""Recovery measures: reconstruction errors and the training loss."""

import jax.numpy as jnp

from overparam.objectives import squared_loss
from overparam.problems import MatrixProblem
from overparam.types import Array


def reconstruction_error(problem: MatrixProblem, x: Array) -> Array:
    r"""Squared relative Frobenius error over all entries, as Arora et al. 2019 plot it.

    .. math:: \frac{\|X - W^\star\|_F^2}{\|W^\star\|_F^2}
       = \frac{1}{d_1 d_2}\sum_{ij}(X_{ij}-W^\star_{ij})^2 \quad\text{when } W^\star
       \text{ has RMS 1}

    Observed entries are included, as in the paper's "loss/test". NaN when the truth is unknown.

    Example: the zero matrix is off by exactly 1.

    >>> import jax, jax.numpy as jnp
    >>> from overparam.problems import low_rank_truth, make_completion
    >>> truth = low_rank_truth(jax.random.PRNGKey(0), 6, 6, rank=2)
    >>> problem = make_completion(jax.random.PRNGKey(1), truth, m=20)
    >>> float(reconstruction_error(problem, jnp.zeros((6, 6)))), float(reconstruction_error(
    ...     problem, truth))
    (1.0, 0.0)
    """
    if problem.truth is None:
        return jnp.asarray(jnp.nan, x.dtype)
    t = problem.truth
    return jnp.sum((x - t) ** 2) / jnp.sum(t * t)


def unobserved_error(problem: MatrixProblem, x: Array) -> Array:
    r"""Mean squared error over the unobserved entries, relative to the mean square of the truth.

    .. math:: \frac{\sum_{ij\notin\Omega}(X_{ij}-W^\star_{ij})^2 / |\Omega^c|}
       {\sum_{ij}(W^\star_{ij})^2/(d_1 d_2)}

    Defined for entry-sampling (completion) problems, whose operator has an ``entry_mask()``;
    NaN otherwise or when no entry is unobserved.

    Example: the truth on the observed entries and zero elsewhere is wrong only off them.

    >>> import jax, jax.numpy as jnp
    >>> from overparam.problems import low_rank_truth, make_completion
    >>> truth = low_rank_truth(jax.random.PRNGKey(0), 6, 6, rank=2)
    >>> problem = make_completion(jax.random.PRNGKey(1), truth, m=20)
    >>> seen = problem.operator.entry_mask() > 0
    >>> hidden = truth * ~seen
    >>> want = jnp.sum(hidden**2) / jnp.sum(~seen) / jnp.mean(truth**2)
    >>> bool(jnp.isclose(unobserved_error(problem, truth * seen), want))
    True
    """
    mask = problem.operator.entry_mask()
    if problem.truth is None or mask is None:
        return jnp.asarray(jnp.nan, x.dtype)
    t = problem.truth
    hidden = 1.0 - (mask > 0)
    count = jnp.sum(hidden)
    mse = jnp.sum(hidden * (x - t) ** 2) / jnp.where(count > 0, count, jnp.nan)
    return mse / jnp.mean(t * t)


def train_loss(problem: MatrixProblem, x: Array) -> Array:
    """The data fit that training minimizes: :func:`overparam.objectives.squared_loss`."""
    return squared_loss(problem, x)


def unobserved_max_abs(problem: MatrixProblem, x: Array) -> Array:
    """Largest magnitude of an unobserved entry (completion; NaN otherwise or when none is
    unobserved). In Razin and Cohen's 2x2 problem it is the one unknown entry."""
    mask = problem.operator.entry_mask()
    if mask is None:
        return jnp.asarray(jnp.nan, x.dtype)
    hidden = mask <= 0
    return jnp.where(jnp.any(hidden), jnp.max(jnp.where(hidden, jnp.abs(x), 0.0)), jnp.nan)


def heldout_error(problem: MatrixProblem, x: Array) -> Array:
    """Mean squared error on the problem's held-out measurements (``problem.test``, e.g.
    the test ratings of MovieLens); NaN when it has none."""
    if problem.test is None:
        return jnp.asarray(jnp.nan, x.dtype)
    return squared_loss(problem.test, x)
