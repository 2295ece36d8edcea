"""A new measure in a few lines: register it, name it in a sweep, read its column.

``fn(ctx)`` gets one run's :class:`~overparam.measures.MeasureContext` (model, params,
problem); it is traced once and batched over runs by the engine. Here: the end-to-end
matrix's Frobenius norm ||W||_F and its largest entry max |W_ij|.

    python examples/new_measure.py [--tiny] [--out results]
"""

import argparse

import jax.numpy as jnp

import overparam as op
from overparam.registry import MeasureSpec, register_measure

ap = argparse.ArgumentParser()
ap.add_argument("--tiny", action="store_true", help="a seconds-long size (CI runs this)")
ap.add_argument("--out", default="results")
args = ap.parse_args()

register_measure(MeasureSpec("frobenius", lambda ctx: jnp.linalg.norm(ctx.prediction()),
                             "||W||_F of the end-to-end matrix"), replace=True)
register_measure(MeasureSpec("max_entry", lambda ctx: jnp.abs(ctx.prediction()).max(),
                             "max |W_ij|"), replace=True)

n, steps = (8, 500) if args.tiny else (40, 5_000)
result = op.run({"name": "my-measures",
                 "problem": {"kind": "completion", "d1": n, "d2": n, "rank": 2, "m": 5 * n},
                 "model": {"init_scale": 1e-2}, "train": {"max_steps": steps},
                 "grid": {"model.depth": [1, 2, 3]},
                 "measures": ["recon_error", "frobenius", "max_entry"],
                 "log_measures": ["train_loss", "frobenius"]},
                out=args.out, progress=not args.tiny)
print(result.runs[["model.depth", "recon_error", "frobenius", "max_entry"]]
      .sort_values("model.depth").to_string(index=False))
# logged measures are in the trajectories, one row per logged step
print(result.trajectories.groupby("run_id")["frobenius"].agg(["first", "last"]).to_string())
