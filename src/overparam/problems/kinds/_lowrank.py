"""Shared fields and seeding of the random low-rank problems (completion, sensing)."""

from pydantic import Field, model_validator

from overparam.configs import KindConfig, NonNegInt, PosInt

TRUTH_STREAM, OBSERVATION_STREAM = 0, 1


class LowRankConfig(KindConfig):
    """A random rank-``rank`` ``d1 x d2`` truth with RMS-1 entries and ``m`` observations."""

    d1: PosInt = 100
    d2: PosInt = 100
    rank: PosInt = 5
    m: PosInt = 2000
    seed: NonNegInt = Field(0, description="seeds the truth; observations also depend on m")

    @model_validator(mode="after")
    def _check_sizes(self):
        return check_rank(self)

    def matrix_shape(self) -> tuple[int, int]:
        return self.d1, self.d2


def check_rank(cfg):
    """Refuse a ``rank`` above ``min(d1, d2)`` (a pydantic after-validator's body)."""
    if cfg.rank > min(cfg.d1, cfg.d2):
        raise ValueError(f"rank must be <= min(d1, d2) = {min(cfg.d1, cfg.d2)}, "
                         f"got {cfg.rank}")
    return cfg


def truth_and_key(cfg: LowRankConfig, dtype):
    """The truth and the observation key of ``cfg``.

    The truth is drawn from ``fold_in(key(seed), 0)``; the observations from
    ``fold_in(fold_in(key(seed), 1), m)``. So problems with one seed share their truth across
    m and across completion/sensing, and each m gets its own observation set.
    """
    import jax

    from overparam.problems import low_rank_truth

    key = jax.random.PRNGKey(cfg.seed)
    truth = low_rank_truth(jax.random.fold_in(key, TRUTH_STREAM), cfg.d1, cfg.d2, cfg.rank,
                           dtype)
    obs_key = jax.random.fold_in(jax.random.fold_in(key, OBSERVATION_STREAM), cfg.m)
    return truth, obs_key
