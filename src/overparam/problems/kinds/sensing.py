"""Gaussian matrix sensing of a random low-rank matrix (Arora et al. 2019's scaling)."""

from typing import Literal

from overparam.problems.kinds._lowrank import LowRankConfig, truth_and_key


class SensingConfig(LowRankConfig):
    """Gaussian matrix sensing: ``m`` measurements ``<A_i, W*>`` with iid N(0, 1/(d1 d2)) A_i."""

    kind: Literal["sensing"] = "sensing"

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return itemsize * self.d1 * self.d2 * self.m


def build(cfg: SensingConfig, dtype):
    from overparam.problems import make_sensing

    truth, key = truth_and_key(cfg, dtype)
    return make_sensing(key, truth, cfg.m)
