"""Shared fields and seeding of Ding, Drusvyatskiy, Fazel, Harchaoui 2022's problems.

Their truth has **unit Frobenius norm** (Sec. 8: "a random rank-2 matrix of unit Frobenius
norm"); how it is drawn is not stated. We draw it exactly as :func:`~overparam.problems.
low_rank_truth` does (Gaussian factors ``U V^T``, float32 draws cast to the dtype) and divide by
its Frobenius norm, so a seed gives the same truth *direction* as the ``completion`` and
``sensing`` kinds (whose truth has RMS-1 entries), and every kind here with that seed and shape
shares one truth. Seeding follows :mod:`overparam.problems.kinds._lowrank`: the truth comes from
``fold_in(key(seed), 0)``, the measurements from ``fold_in(fold_in(key(seed), 1), tag)`` with
``tag`` the measurement count (or an integer code of the observation probability), so
problems with one seed share their truth across ``m`` and each ``m`` gets its own measurements.
"""

from pydantic import Field, model_validator

from overparam.configs import KindConfig, NonNegInt, PosInt
from overparam.problems.kinds._lowrank import OBSERVATION_STREAM, TRUTH_STREAM, check_rank

# the paper's grids are unknown; these defaults are small square problems at the paper's rank
DEFAULT_SIZE, DEFAULT_RANK = 20, 2


class UnitLowRankConfig(KindConfig):
    """A random rank-``rank`` ``d1 x d2`` truth of unit Frobenius norm."""

    d1: PosInt = DEFAULT_SIZE
    d2: PosInt = DEFAULT_SIZE
    rank: PosInt = DEFAULT_RANK
    seed: NonNegInt = Field(0, description="seeds the truth; the measurements also depend on "
                            "their count (or probability)")

    @model_validator(mode="after")
    def _check_rank(self):
        return check_rank(self)

    def matrix_shape(self) -> tuple[int, int]:
        return self.d1, self.d2


def truth_key(seed: int):
    """The PRNG key of a problem's truth: ``fold_in(key(seed), 0)``."""
    import jax

    return jax.random.fold_in(jax.random.PRNGKey(seed), TRUTH_STREAM)


def measurement_key(seed: int, tag: int):
    """The PRNG key of a problem's measurements: ``fold_in(fold_in(key(seed), 1), tag)``."""
    import jax

    key = jax.random.fold_in(jax.random.PRNGKey(seed), OBSERVATION_STREAM)
    return jax.random.fold_in(key, tag)


def unit_truth(cfg: UnitLowRankConfig, dtype):
    """The ``(d1, d2)`` rank-``rank`` truth of ``cfg``, with unit Frobenius norm."""
    import jax.numpy as jnp

    from overparam.problems import low_rank_truth

    t = low_rank_truth(truth_key(cfg.seed), cfg.d1, cfg.d2, cfg.rank, dtype)
    return t / jnp.linalg.norm(t)


def signed_psd_truth(seed: int, d: int, r1: int, r2: int, dtype):
    r"""``U_1 U_1^T - U_2 U_2^T`` scaled to unit Frobenius norm, symmetric, shape ``(d, d)``.

    ``[U_1, U_2] = U`` is one ``d x (r1 + r2)`` standard Gaussian draw (float32, cast) from
    :func:`truth_key`, so ``r2 = 0`` gives the same PSD truth as symmetric Gaussian sensing of
    rank ``r1`` with that seed.
    """
    import jax
    import jax.numpy as jnp

    u = jax.random.normal(truth_key(seed), (d, r1 + r2), jnp.float32).astype(dtype)
    signs = jnp.concatenate([jnp.ones(r1, dtype), -jnp.ones(r2, dtype)])
    m = (u * signs[None, :]) @ u.T
    m = 0.5 * (m + m.T)
    return m / jnp.linalg.norm(m)


def probability_tag(p: float) -> int:
    """An integer code of an observation probability for :func:`measurement_key`:
    ``round(p * 1e9)`` (probabilities closer than 1e-9 share their draw)."""
    return int(round(p * 1e9))
