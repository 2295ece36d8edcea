"""Deep matrix factorization W = W_N ... W_1 as a model kind (Arora, Cohen, Hu, Luo 2019)."""

from typing import Literal

from pydantic import Field

from overparam.configs import Batched, KindConfig, PosFloat, PosInt
from overparam.models.kinds import refuse_data_set

INITS = ("gaussian", "identity", "orthogonal", "balanced")


class DeepFactorizationConfig(KindConfig):
    """Deep factorization W_N ... W_1 (hidden width defaults to min(d1, d2)).

    Static: ``depth``, ``width``, ``init``, ``positive_det``; batched: ``init_scale``."""

    kind: Literal["deep_factorization"] = "deep_factorization"
    depth: PosInt = 3
    width: PosInt | None = None
    init: Literal[INITS] = "gaussian"  # type: ignore[valid-type]
    init_scale: Batched[PosFloat] = 1e-3
    positive_det: bool = Field(False, description="flip the sign of one column of W_1 where "
                               "needed so det W(0) > 0 (square layers only)")

    def _shape(self, problem) -> tuple[int, int]:
        shape = getattr(problem, "matrix_shape", None)
        return shape() if shape is not None else (1, 1)

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        d1, d2 = self._shape(problem)
        width = self.width or min(d1, d2)
        return 12 * itemsize * max(d1 * d2, self.depth * width * max(width, d1, d2))

    def notes(self, problem) -> dict:
        """``width_below_rank`` (and a ``note``) when the model cannot represent the truth.

        A factorization whose hidden ``width`` is below the rank of a generated problem's
        ground truth is rank-limited: it runs, but cannot reach the truth, and the row says so.
        """
        width, depth = self.width, self.depth
        rank = getattr(problem, "rank", None)
        below = width is not None and depth > 1 and rank is not None and width < rank
        note = (f"model.width {width} < problem.rank {rank}: W = W_N...W_1 has rank <= "
                f"{width} and cannot equal the ground truth") if below else ""
        return {"width_below_rank": below, "note": note}

    def check_problem(self, problem) -> None:
        """Refuse a data set, and ``positive_det`` unless every layer is square (raises
        ValueError)."""
        refuse_data_set(self.kind, problem)
        if not self.positive_det or not hasattr(problem, "matrix_shape"):
            return
        d1, d2 = problem.matrix_shape()
        if d1 != d2 or (self.width is not None and self.width != d1):
            raise ValueError("model.positive_det needs square layers (d1 = d2 = width), got "
                             f"d1={d1}, d2={d2}, width={self.width}")


ModelConfig = DeepFactorizationConfig  # its name before models were registered kinds


def build(cfg: DeepFactorizationConfig, problem):
    from overparam.models import deep_factorization

    d1, d2 = problem.shape
    return deep_factorization(d1, d2, cfg.depth, cfg.width, cfg.init, cfg.positive_det)
