"""Bilinear (rank-one) sensing, ``A_i = a_i b_i^T`` with a_i, b_i iid N(0, I) (Ding et al.
2022, Sec. 4, Thm. 4.11).

Stored and applied as the vectors through :class:`~overparam.problems.RankOneSensing`
(``m (d1 + d2)`` numbers; the ``m`` matrices are never formed, except by the ``nuclear_norm``
baseline's ADMM, which materializes ``operator.as_matrix()``).

What the paper leaves open and what is chosen here: the truth is rank 2 with unit Frobenius
norm (Sec. 8), drawn as normalized Gaussian factors (:mod:`overparam.problems.kinds._unit`);
the (d, m) grid is unknown, the defaults are 20 x 20, rank 2, m = 200. ``a_i`` and ``b_i``
are drawn from one key, ``a`` first (shape (m, d1)), then ``b`` (shape (m, d2)), float32, cast.
"""

from typing import Literal

from overparam.configs import PosInt
from overparam.problems.kinds._unit import UnitLowRankConfig


class BilinearSensingConfig(UnitLowRankConfig):
    """``m`` measurements ``a_i^T M b_i``, a_i, b_i iid N(0, I); unit-Frobenius rank-``rank`` M."""

    kind: Literal["bilinear_sensing"] = "bilinear_sensing"
    m: PosInt = 200

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return itemsize * (self.m * (self.d1 + self.d2 + 2) + 2 * self.d1 * self.d2)


def build(cfg: BilinearSensingConfig, dtype):
    import jax

    from overparam.problems import rank_one_sensing_problem
    from overparam.problems._random import normal
    from overparam.problems.kinds._unit import measurement_key, unit_truth

    ka, kb = jax.random.split(measurement_key(cfg.seed, cfg.m))
    a = normal(ka, (cfg.m, cfg.d1), dtype)
    b = normal(kb, (cfg.m, cfg.d2), dtype)
    return rank_one_sensing_problem(unit_truth(cfg, dtype), a, b)
