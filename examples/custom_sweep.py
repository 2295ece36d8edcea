"""A custom sweep from Python: depth-2 against depth-3 factorizations on matrix completion,
with the minimum-nuclear-norm baseline, as a TOML file would declare it.

    python examples/custom_sweep.py [--tiny] [--out results]
"""

import argparse

import overparam as op

ap = argparse.ArgumentParser()
ap.add_argument("--tiny", action="store_true", help="a seconds-long size (CI runs this)")
ap.add_argument("--out", default="results")
args = ap.parse_args()

n, ms, steps = (10, [40, 70], 2_000) if args.tiny else (30, [150, 300], 20_000)
sweep = op.SweepConfig(
    name="depth-vs-m",
    problem={"kind": "completion", "d1": n, "d2": n, "rank": 2},
    model={"init_scale": 1e-3},
    optimizer={"name": "group_rmsprop", "learning_rate": 1e-2},
    train={"max_steps": steps, "stop_loss": 1e-6},
    grid={"model.depth": [2, 3], "problem.m": ms},
    seeds=[0, 1],
    baselines=["nuclear_norm"],
)
result = op.run(sweep, out=args.out, progress=not args.tiny)
runs = result.runs
runs["label"] = runs["method"].where(runs["method"] != "gd",
                                     "depth " + runs["model.depth"].astype("Int64").astype(str))
table = runs.pivot_table(index="problem.m", columns="label", values="recon_error",
                         aggfunc="median")  # median over the seeds
print(table.to_string(float_format="%.2e"))
print("figures:", ", ".join(p.name for p in result.figures))
