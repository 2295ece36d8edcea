"""The ground truth as a baseline: its measures are the reference lines of the figures."""

import time
from typing import Literal

from overparam.solvers.kinds._base import SolverConfigBase


class TruthConfig(SolverConfigBase):
    """The ground truth itself (needs a problem with a known truth)."""

    kind: Literal["truth"] = "truth"


def solve(cfgs, problems, *, devices, max_batch):
    from overparam.errors import DataError
    from overparam.solvers import SolverOutcome

    del cfgs, devices, max_batch
    for i, problem in enumerate(problems):
        t0 = time.perf_counter()
        if problem.truth is None:
            raise DataError("baseline 'truth' needs a problem with a known ground truth")
        yield i, SolverOutcome(problem.truth, "converged", 0, time.perf_counter() - t0, {})
