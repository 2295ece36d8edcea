"""Reading results: ``runs.parquet`` (one row per run, every config field a dotted column)
and ``trajectories.parquet`` with pandas, and the same files queried in SQL with DuckDB
(``pip install duckdb``), without loading them first.

    python examples/read_results.py [--tiny] [--out results]

It runs a small sweep first (skipped when ``OUT/read-me/`` already holds it).
"""

import argparse
from pathlib import Path

import duckdb
import pandas as pd

import overparam as op

ap = argparse.ArgumentParser()
ap.add_argument("--tiny", action="store_true", help="a seconds-long size (CI runs this)")
ap.add_argument("--out", default="results")
args = ap.parse_args()
n, steps = (8, 400) if args.tiny else (30, 10_000)
op.run({"name": "read-me", "problem": {"kind": "completion", "d1": n, "d2": n, "rank": 1,
                                       "m": 4 * n},
        "model": {"init_scale": 1e-3}, "train": {"max_steps": steps},
        "grid": {"model.depth": [2, 3]}, "seeds": [0, 1, 2]}, out=args.out, progress=False)
runs_file = Path(args.out, "read-me", "runs.parquet")

runs = pd.read_parquet(runs_file)  # pandas
print(runs.groupby("model.depth")[["recon_error", "effective_rank"]].median().to_string())
traj = pd.read_parquet(runs_file.with_name("trajectories.parquet"))
print("logged rows per run:", traj.groupby("run_id").size().to_dict())

print(duckdb.sql(f"""
    SELECT "model.depth" AS depth, count(*) AS runs, median(recon_error) AS error,
           max(steps) AS most_steps
    FROM read_parquet('{runs_file}') WHERE method = 'gd'
    GROUP BY depth ORDER BY depth"""))
