"""Matrix completion: ``m`` entries of a random low-rank matrix, observed uniformly."""

from typing import Literal

from pydantic import model_validator

from overparam.problems.kinds._lowrank import LowRankConfig, truth_and_key


class CompletionConfig(LowRankConfig):
    """Matrix completion: ``m`` entries of a random rank-``rank`` ``d1 x d2`` matrix."""

    kind: Literal["completion"] = "completion"

    @model_validator(mode="after")
    def _check_m(self):
        if self.m > self.d1 * self.d2:
            raise ValueError(f"m must be <= d1*d2 = {self.d1 * self.d2}, got {self.m}")
        return self

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return 3 * itemsize * self.d1 * self.d2


def build(cfg: CompletionConfig, dtype):
    from overparam.problems import make_completion

    truth, key = truth_and_key(cfg, dtype)
    return make_completion(key, truth, cfg.m)
