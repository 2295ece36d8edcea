"""The two-factor model X = L R^T as a model kind (Ding, Drusvyatskiy, Fazel, Harchaoui 2022)."""

from typing import Literal

from overparam.configs import Batched, KindConfig, PosFloat, PosInt
from overparam.models.kinds import refuse_data_set

INITS = ("gaussian", "identity", "orthogonal", "balanced")


def _shape(problem) -> tuple[int, int]:
    shape = getattr(problem, "matrix_shape", None)
    return shape() if shape is not None else (1, 1)


class TwoFactorConfig(KindConfig):
    """X = L R^T with L (d1 x k), R (d2 x k), k = ``width`` (default min(d1, d2)).

    Initializations are the depth-2 deep factorization's, with L = W_2 and R = W_1^T
    (``gaussian``: L iid N(0, c/d1), R iid N(0, c/k) for ``init_scale`` c).

    Static: ``width``, ``init``; batched: ``init_scale``."""

    kind: Literal["two_factor"] = "two_factor"
    width: PosInt | None = None
    init: Literal[INITS] = "gaussian"  # type: ignore[valid-type]
    init_scale: Batched[PosFloat] = 1e-3

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        d1, d2 = _shape(problem)
        width = self.width or min(d1, d2)
        return 12 * itemsize * max(d1 * d2, (d1 + d2) * width)

    def check_problem(self, problem) -> None:
        """Refuse a data-set problem (raises ValueError)."""
        refuse_data_set(self.kind, problem)

    def notes(self, problem) -> dict:
        """``width_below_rank`` (and a ``note``) when L R^T cannot reach the truth's rank."""
        rank = getattr(problem, "rank", None)
        below = self.width is not None and rank is not None and self.width < rank
        note = (f"model.width {self.width} < problem.rank {rank}: X = L R^T has rank <= "
                f"{self.width} and cannot equal the ground truth") if below else ""
        return {"width_below_rank": below, "note": note}


def build(cfg: TwoFactorConfig, problem):
    from overparam.models._factored import two_factor

    d1, d2 = problem.shape
    return two_factor(d1, d2, cfg.width, cfg.init)
