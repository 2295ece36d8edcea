"""The symmetric model X = U1 U1^T - U2 U2^T as a model kind: a quadratic-activation network
with output weights (1, ..., 1, -1, ..., -1) (Ding, Drusvyatskiy, Fazel, Harchaoui 2022)."""

from typing import Literal

from overparam.configs import Batched, KindConfig, NonNegInt, PosFloat, PosInt
from overparam.models.kinds import refuse_data_set

INITS = ("gaussian",)


def _shape(problem) -> tuple[int, int]:
    shape = getattr(problem, "matrix_shape", None)
    return shape() if shape is not None else (1, 1)


class SymmetricConfig(KindConfig):
    """X = U1 U1^T - U2 U2^T with U1 (d x k1), U2 (d x k2); square problems only.

    ``width`` is k1 (default d), ``negative_width`` k2 (default 0: X = U U^T). ``gaussian``
    init: every entry iid N(0, c/d) for ``init_scale`` c.

    Static: ``width``, ``negative_width``, ``init``; batched: ``init_scale``."""

    kind: Literal["symmetric"] = "symmetric"
    width: PosInt | None = None
    negative_width: NonNegInt = 0
    init: Literal[INITS] = "gaussian"  # type: ignore[valid-type]
    init_scale: Batched[PosFloat] = 1e-3

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        d = _shape(problem)[0]
        width = (self.width or d) + self.negative_width
        return 12 * itemsize * max(d * d, d * width)

    def notes(self, problem) -> dict:
        """``width_below_rank`` (and a ``note``) when k1 + k2 is below the truth's rank."""
        rank = getattr(problem, "rank", None)
        total = None if self.width is None else self.width + self.negative_width
        below = total is not None and rank is not None and total < rank
        note = (f"model.width + model.negative_width = {total} < problem.rank {rank}: "
                f"X = U1 U1^T - U2 U2^T has rank <= {total} and cannot equal the ground "
                "truth") if below else ""
        return {"width_below_rank": below, "note": note}

    def check_problem(self, problem) -> None:
        """Refuse a non-square problem (raises ValueError)."""
        refuse_data_set(self.kind, problem)
        if not hasattr(problem, "matrix_shape"):
            return
        d1, d2 = problem.matrix_shape()
        if d1 != d2:
            raise ValueError(f"model kind 'symmetric' needs a square problem (d1 = d2), got "
                             f"d1={d1}, d2={d2}")


def build(cfg: SymmetricConfig, problem):
    from overparam.models._factored import symmetric

    d1, d2 = problem.shape
    if d1 != d2:
        raise ValueError(f"model kind 'symmetric' needs a square problem, got shape {(d1, d2)}")
    return symmetric(d1, cfg.width, cfg.negative_width, cfg.init)
