"""The depth-k Hadamard product x = v1 ⊙ ... ⊙ vk (a diagonal linear network) as a model kind
for (d, 1) problems: sparse recovery (Ding, Drusvyatskiy, Fazel, Harchaoui 2022, Sec. 9)."""

from typing import Literal

from overparam.configs import Batched, KindConfig, PosFloat, PosInt
from overparam.models.kinds import refuse_data_set

INITS = ("gaussian", "constant")


def _shape(problem) -> tuple[int, int]:
    shape = getattr(problem, "matrix_shape", None)
    return shape() if shape is not None else (1, 1)


class HadamardConfig(KindConfig):
    """x = v1 ⊙ ... ⊙ vk of ``depth`` vectors in R^d, as a (d, 1) matrix.

    For ``init_scale`` c: ``gaussian`` draws every v_l iid N(0, c^(2/k)) (entries of x(0) of
    RMS c); ``constant`` sets every entry of every v_l to c^(1/k) (x(0) = c 1). Under gradient
    descent equal factors stay equal, so a ``constant`` run has x = v^k: nonnegative for even
    k (use it with nonnegative truths, as diagonal networks do).

    Static: ``depth``, ``init``; batched: ``init_scale``."""

    kind: Literal["hadamard"] = "hadamard"
    depth: PosInt = 2
    init: Literal[INITS] = "gaussian"  # type: ignore[valid-type]
    init_scale: Batched[PosFloat] = 1e-3

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        d = _shape(problem)[0]
        return 12 * itemsize * self.depth * d

    def check_problem(self, problem) -> None:
        """Refuse a problem that is not a (d, 1) vector (raises ValueError)."""
        refuse_data_set(self.kind, problem)
        if not hasattr(problem, "matrix_shape"):
            return
        d1, d2 = problem.matrix_shape()
        if d2 != 1:
            raise ValueError(f"model kind 'hadamard' needs a (d, 1) problem (d2 = 1), got "
                             f"d1={d1}, d2={d2}")


def build(cfg: HadamardConfig, problem):
    from overparam.models._factored import hadamard

    d1, d2 = problem.shape
    if d2 != 1:
        raise ValueError(f"model kind 'hadamard' needs a (d, 1) problem, got shape {(d1, d2)}")
    return hadamard(d1, cfg.depth, cfg.init)
