r"""A network with quadratic activation, covariance estimation and phase retrieval (Ding et al.
2022, Sec. 7 and Fig. 3(d)).

Teacher :math:`y(x) = x^\top M x` with :math:`M = U_1 U_1^\top - U_2 U_2^\top`
(:math:`U_1 \in \mathbb{R}^{d\times r_1}`, :math:`U_2 \in \mathbb{R}^{d\times r_2}`), scaled
to unit Frobenius norm; inputs :math:`x_i` iid :math:`N(0, I_d)`, so the sensing matrices are
:math:`A_i = x_i x_i^\top`. ``r2 = 0`` is covariance estimation, ``r1 = 1, r2 = 0`` phase
retrieval.

Operator: the existing :class:`~overparam.problems.RankOneSensing` with ``left = right = x``
(``a_i = b_i = x_i``), rather than a new class: it is the whole Operator protocol already,
pads and stacks like bilinear sensing, and costs ``2 m d`` stored numbers instead of ``m d``.
Only the :math:`x_i` are stored; the ``nuclear_norm`` baseline's ADMM materializes the
``m x d^2`` rows. The baseline minimizes the nuclear norm over all (not only symmetric) X; since
every :math:`A_i` is symmetric, symmetrizing a solution keeps it feasible and does not raise
its nuclear norm.

What the paper leaves open and what is chosen here: Sec. 8 says rank 3 for the network but not
how it splits into (r1, r2); the default is r1 = 2, r2 = 1 (both signs present, so it is a
network and not covariance estimation). The distribution of :math:`U_1, U_2` is unstated: one
standard Gaussian ``d x (r1 + r2)`` draw, split into columns (see
:func:`~overparam.problems.kinds._unit.signed_psd_truth`). The (d, m) grid is unknown; the
defaults are d = 20, m = 300 (the rank-3 symmetric truth has about 57 degrees of freedom). The
student (``deep_factorization`` or any model) is the engine's, not the paper's fixed output
weights :math:`(1_{k_1}, -1_{k_2})`.
"""

from typing import Literal

from pydantic import Field, model_validator

from overparam.configs import KindConfig, NonNegInt, PosInt


class QuadraticNetworkConfig(KindConfig):
    """``m`` measurements ``x_i^T M x_i``, x_i iid N(0, I_d), M = U1 U1^T - U2 U2^T of rank
    r1 + r2 (r1 positive, r2 negative eigenvalues), unit Frobenius norm."""

    kind: Literal["quadratic_network"] = "quadratic_network"
    d: PosInt = 20
    r1: NonNegInt = 2
    r2: NonNegInt = 1
    m: PosInt = 300
    seed: NonNegInt = Field(0, description="seeds the truth; the inputs also depend on m")

    @model_validator(mode="after")
    def _check_ranks(self):
        if not 1 <= self.r1 + self.r2 <= self.d:
            raise ValueError(f"r1 + r2 must be between 1 and d = {self.d}, got "
                             f"r1={self.r1}, r2={self.r2}")
        return self

    @property
    def rank(self) -> int:
        """The truth's rank ``r1 + r2`` (read by model notes such as ``width_below_rank``)."""
        return self.r1 + self.r2

    def matrix_shape(self) -> tuple[int, int]:
        return self.d, self.d

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return itemsize * (self.m * (2 * self.d + 2) + 2 * self.d * self.d)


def build(cfg: QuadraticNetworkConfig, dtype):

    from overparam.problems import rank_one_sensing_problem
    from overparam.problems._random import normal
    from overparam.problems.kinds._unit import measurement_key, signed_psd_truth

    truth = signed_psd_truth(cfg.seed, cfg.d, cfg.r1, cfg.r2, dtype)
    x = normal(measurement_key(cfg.seed, cfg.m), (cfg.m, cfg.d), dtype)
    return rank_one_sensing_problem(truth, x, x)
