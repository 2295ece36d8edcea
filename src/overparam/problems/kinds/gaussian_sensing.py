"""Gaussian matrix sensing with iid N(0, 1) measurement matrices (Ding et al. 2022, Sec. 4).

``b_i = <A_i, M>`` with the entries of each ``A_i`` iid N(0, 1), the paper's scaling (the
``sensing`` kind keeps Arora et al.'s N(0, 1/(d1 d2))); ``symmetric = true`` uses
``A_i = (G_i + G_i^T)/2`` instead (diagonal variance 1, off-diagonal 1/2) and a symmetric PSD
truth, the PSD variant the notes derive (the paper treats the ``L R^T`` case).

What the paper leaves open and what is chosen here: the truth is rank 2 with unit Frobenius
norm (Sec. 8) but its distribution is unstated; we use Gaussian factors ``U V^T`` normalized
(``U U^T`` normalized when symmetric), see :mod:`overparam.problems.kinds._unit`. The grids of
(d, m) are unknown; the defaults (20 x 20, rank 2, m = 200) are a small point above the
``r (d1 + d2 - r) = 76`` degrees of freedom. The ``A_i`` are stored densely (``m x d1 d2``).
"""

from typing import Literal

from pydantic import model_validator

from overparam.configs import PosInt
from overparam.problems.kinds._unit import UnitLowRankConfig


class GaussianSensingConfig(UnitLowRankConfig):
    """``m`` measurements ``<A_i, M>``, ``A_i`` iid N(0, 1) (``(G + G^T)/2`` when
    ``symmetric``, with a symmetric PSD truth and ``d1 = d2``); unit-Frobenius rank-``rank`` M."""

    kind: Literal["gaussian_sensing"] = "gaussian_sensing"
    m: PosInt = 200
    symmetric: bool = False

    @model_validator(mode="after")
    def _check_square(self):
        if self.symmetric and self.d1 != self.d2:
            raise ValueError(f"symmetric sensing needs d1 = d2, got d1={self.d1}, d2={self.d2}")
        return self

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return itemsize * (self.m * (self.d1 * self.d2 + 2) + 2 * self.d1 * self.d2)


def build(cfg: GaussianSensingConfig, dtype):
    import jax.numpy as jnp

    from overparam.problems import sensing_problem
    from overparam.problems._random import normal
    from overparam.problems.kinds._unit import measurement_key, signed_psd_truth, unit_truth

    d1, d2, m = cfg.d1, cfg.d2, cfg.m
    key = measurement_key(cfg.seed, m)
    g = normal(key, (m, d1 * d2), dtype)  # row i: vec(G_i)
    if cfg.symmetric:
        truth = signed_psd_truth(cfg.seed, d1, cfg.rank, 0, dtype)
        g = g.reshape(m, d1, d2)
        g = (0.5 * (g + jnp.swapaxes(g, 1, 2))).reshape(m, d1 * d2)
    else:
        truth = unit_truth(cfg, dtype)
    return sensing_problem(truth, g)
