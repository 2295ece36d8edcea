"""Record ``reference_values.json``: run every sweep of ``reference_sweeps.py`` with the
overparam on the path and store, per row of runs.parquet, its key, status, steps, final values
and the last logged trajectory row.

The reference is the code of commit 2589b16, so run it against that tree::

    PYTHONPATH=/work/ref/src python tests/regression/record_reference.py
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", 2)  # as tests/conftest.py: the same batches
jax.config.update("jax_numpy_rank_promotion", "raise")

import numpy as np  # noqa: E402

import overparam  # noqa: E402
from overparam.measures import MEASURES  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from reference_sweeps import SWEEPS, materialize, plain, run_key  # noqa: E402

COMMIT = "2589b16"
HERE = Path(__file__).parent
# columns that are neither config nor results (`note` is prose; `width_below_rank` says it)
BOOKKEEPING = {"run_id", "experiment", "method", "status", "steps", "wall_time_s", "dtype",
               "overparam_version", "config", "note"}


def _is_config(column: str) -> bool:
    return "." in column or column == "seed"


def summarize(sweep: dict, runs, trajectories) -> list[dict]:
    """One reference entry per row of ``runs``: key, status, steps, dtype, ``measures`` (every
    registered measure column, NaN as None), ``extra`` (the other non-missing result columns,
    e.g. ``width_below_rank`` and the solvers' residuals) and ``trajectory_last``.

    Entries and names are sorted: the stored tables' row and column order is not stable."""
    entries = []
    for _, row in runs.iterrows():
        extra = {c: plain(row[c]) for c in runs.columns
                 if c not in MEASURES and c not in BOOKKEEPING and not _is_config(c)}
        entry = {
            "key": run_key(sweep, row),
            "status": row["status"],
            "steps": int(row["steps"]),
            "dtype": row["dtype"],
            "measures": {c: plain(row[c]) for c in sorted(runs.columns) if c in MEASURES},
            "extra": {c: v for c, v in sorted(extra.items()) if v is not None},
        }
        if len(trajectories):
            traj = trajectories[trajectories["run_id"] == row["run_id"]]
            if len(traj):
                last = traj.sort_values("step").iloc[-1]
                entry["trajectory_last"] = {c: plain(last[c]) for c in sorted(traj.columns)
                                            if c != "run_id"}
        entries.append(entry)
    keys = [json.dumps(e["key"], sort_keys=True) for e in entries]
    if len(set(keys)) != len(keys):
        raise RuntimeError(f"sweep {sweep['name']}: keys are not unique: {sorted(keys)}")
    return sorted(entries, key=lambda e: json.dumps(e["key"], sort_keys=True))


def record() -> dict:
    """Run every sweep into a temporary directory and return the reference document."""
    sweeps = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sweep in SWEEPS:
            result = overparam.run(materialize(sweep, tmp), out=Path(tmp) / "out",
                                   progress=False)
            sweeps[sweep["name"]] = summarize(sweep, result.runs, result.trajectories)
    return {
        "commit": COMMIT,
        "generated_by": "tests/regression/record_reference.py",
        "recorded_with": {"jax": jax.__version__, "numpy": np.__version__,
                          "devices": len(jax.devices()), "backend": jax.default_backend()},
        "sweeps": sweeps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "reference_values.json")
    args = parser.parse_args()
    print(f"recording with {overparam.__file__}", file=sys.stderr)
    doc = record()
    args.out.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {args.out}: {sum(map(len, doc['sweeps'].values()))} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
