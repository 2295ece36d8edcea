"""Completion of given entries of a matrix with no ground truth (e.g. Razin and Cohen's 2x2)."""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from overparam.configs import FiniteFloat, KindConfig, NonNegInt, PosInt


class EntriesConfig(KindConfig):
    """Completion of given entries: ``values[i]`` observed at (``rows[i]``, ``cols[i]``) of a
    ``d1 x d2`` matrix; no ground truth (e.g. Razin and Cohen's 2x2 problem)."""

    kind: Literal["entries"] = "entries"
    d1: PosInt
    d2: PosInt
    rows: Annotated[list[NonNegInt], Field(min_length=1)]
    cols: Annotated[list[NonNegInt], Field(min_length=1)]
    values: Annotated[list[FiniteFloat], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_entries(self):
        if not len(self.rows) == len(self.cols) == len(self.values):
            raise ValueError(f"rows, cols and values need equal lengths, got {len(self.rows)}, "
                             f"{len(self.cols)}, {len(self.values)}")
        for name, idx, size in (("rows", self.rows, self.d1), ("cols", self.cols, self.d2)):
            if max(idx) >= size:
                raise ValueError(f"{name} must be < {size} (0-based), got {max(idx)}")
        pairs = list(zip(self.rows, self.cols))
        if len(set(pairs)) != len(pairs):
            dup = next(p for p in pairs if pairs.count(p) > 1)
            raise ValueError(f"entry {dup} is given more than once")
        return self

    def matrix_shape(self) -> tuple[int, int]:
        return self.d1, self.d2

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return 3 * itemsize * self.d1 * self.d2


def build(cfg: EntriesConfig, dtype):
    from overparam.problems import entries_problem

    return entries_problem(cfg.d1, cfg.d2, cfg.rows, cfg.cols, cfg.values, dtype)
