"""Matrix completion with every entry observed independently with probability ``p`` (Ding et
al. 2022, Sec. 5 and Fig. 3(c)), through the :class:`~overparam.problems.EntryMask` operator.

The number of observed entries is random (Binomial(d1 d2, p)), unlike the ``completion`` kind's
exactly ``m``; it can be 0 for tiny ``p``, and then the mean-squared data fit is 0/0 (NaN).

What the paper leaves open and what is chosen here: the truth is rank 2 with unit Frobenius norm
(Sec. 8), drawn as normalized Gaussian factors (:mod:`overparam.problems.kinds._unit`), with
no incoherence condition enforced; the (d, p) grid is unknown, the defaults are 20 x 20, rank 2,
p = 0.5. The mask is ``U < p`` with ``U`` uniform on [0, 1) (float32) from the measurement key
tagged ``round(p * 1e9)``: each p gets its own, independent mask, like each m of ``completion``.
"""

from typing import Annotated, Literal

from pydantic import Field

from overparam.problems.kinds._unit import UnitLowRankConfig

Probability = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class BernoulliCompletionConfig(UnitLowRankConfig):
    """Each entry of a unit-Frobenius rank-``rank`` ``d1 x d2`` matrix observed with
    probability ``p`` (0 < p <= 1), independently."""

    kind: Literal["bernoulli_completion"] = "bernoulli_completion"
    p: Probability = 0.5

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return 3 * itemsize * self.d1 * self.d2


def build(cfg: BernoulliCompletionConfig, dtype):
    import jax
    import jax.numpy as jnp

    from overparam.problems import completion_problem
    from overparam.problems.kinds._unit import measurement_key, probability_tag, unit_truth

    key = measurement_key(cfg.seed, probability_tag(cfg.p))
    mask = jax.random.uniform(key, (cfg.d1, cfg.d2), jnp.float32) < cfg.p
    return completion_problem(unit_truth(cfg, dtype), mask.astype(dtype))
