"""A new problem kind: a config with a ``kind`` literal, its builder, one registry entry.
Here a rank-1 matrix observed on a band |i - j| < width, swept over the width.

    python examples/new_problem.py [--tiny] [--out results]
"""

import argparse
from typing import Literal

import jax
import jax.numpy as jnp

import overparam as op
from overparam.configs import KindConfig, PosInt
from overparam.problems import completion_problem, low_rank_truth
from overparam.registry import ProblemKind, register_problem


class BandConfig(KindConfig):
    kind: Literal["band"] = "band"
    n: PosInt = 12  # static: the matrix size chooses the compiled program
    width: PosInt = 3


def build_band(cfg: BandConfig, dtype):
    truth = low_rank_truth(jax.random.PRNGKey(0), cfg.n, cfg.n, 1, dtype)
    i, j = jnp.indices((cfg.n, cfg.n))
    return completion_problem(truth, (abs(i - j) < cfg.width).astype(dtype))


register_problem(ProblemKind("band", BandConfig, build_band), replace=True)

ap = argparse.ArgumentParser()
ap.add_argument("--tiny", action="store_true", help="a seconds-long size (CI runs this)")
ap.add_argument("--out", default="results")
args = ap.parse_args()
n, steps = (8, 300) if args.tiny else (24, 5_000)
result = op.run({"name": "band", "problem": {"kind": "band", "n": n}, "model": {"depth": 3},
                 "optimizer": {"learning_rate": 0.01}, "train": {"max_steps": steps},
                 "grid": {"problem.width": [1, 2, n // 2]}, "measures": ["recon_error"]},
                out=args.out, progress=not args.tiny)
print(result.runs[["problem.width", "status", "recon_error"]].sort_values("problem.width")
      .to_string(index=False))
