"""Small sweeps, in the TOML-as-dict form of ``overparam.run``, that cover every kind of run.

``reference_values.json`` holds their final numbers under the code of commit 2589b16 (written
by ``record_reference.py``); ``test_reference_values.py`` reruns them and compares, matching
rows by :func:`run_key`. The ``file`` sweep's ``problem.path`` is the placeholder
:data:`NPZ_PLACEHOLDER`: :func:`materialize` writes the problem file and fills the path in.
"""

import copy
import math
from pathlib import Path

import numpy as np

NPZ_PLACEHOLDER = "{problem_npz}"
NPZ_NAME = "file_problem.npz"

_COMPLETION = {"kind": "completion", "d1": 10, "d2": 10, "rank": 2, "m": 60, "seed": 0}
_RAZIN = {"kind": "entries", "d1": 2, "d2": 2, "rows": [0, 1, 1], "cols": [1, 0, 1],
          "values": [1.0, 1.0, 0.0]}  # Razin and Cohen 2020: every completion has det -1
_DYNAMICS = ["sv_rate_measured", "sv_rate_predicted", "alignment_diag", "alignment_offdiag"]
_DEFAULT_MEASURES = ["train_loss", "recon_error", "unobserved_error", "nuclear_norm",
                     "effective_rank", "schatten_quasi_norm", "singular_values"]

SWEEPS: list[dict] = [
    {   # depths 1-3, Gaussian init, group RMSprop; the three kinds of baseline
        "name": "completion-depths",
        "problem": _COMPLETION,
        "model": {"init": "gaussian", "init_scale": 1e-2},
        "optimizer": {"name": "group_rmsprop", "learning_rate": 1e-2},
        "train": {"max_steps": 2000, "log_every": 250},
        "grid": {"model.depth": [1, 2, 3]},
        "baselines": ["nuclear_norm", "truth", {"kind": "schatten", "p": 0.5}],
        "baseline": {"backend": "jax"},
    },
    {   # Gaussian sensing, orthogonal init, Adam; hidden width 1 is below the truth's rank 2
        "name": "sensing-width",
        "problem": {**_COMPLETION, "kind": "sensing"},
        "model": {"depth": 2, "init": "orthogonal", "init_scale": 1e-2},
        "optimizer": {"name": "adam", "learning_rate": 3e-3},
        "train": {"max_steps": 1500, "log_every": 250},
        "grid": {"model.width": [1]},
        "log_measures": ["train_loss", "recon_error", "singular_values"],
        "top_singular_values": 4,
    },
    {   # identity init, plain GD in float64, the dynamics measures final and logged
        "name": "dynamics-float64",
        "problem": _COMPLETION,
        "model": {"depth": 2, "init": "identity", "init_scale": 1e-2},
        "optimizer": {"name": "gd", "learning_rate": 0.05},
        "train": {"max_steps": 1000, "log_every": 200, "dtype": "float64"},
        "grid": {"model.depth": [2]},
        "measures": [*_DEFAULT_MEASURES, *_DYNAMICS],
        "log_measures": ["train_loss", "singular_values", *_DYNAMICS],
        "top_singular_values": 3,
    },
    {   # Razin and Cohen's 2x2 entries, balanced init with det W(0) > 0, GD in float64, two
        # seeds in one group; no truth, so recon_error is NaN
        "name": "razin-entries",
        "problem": _RAZIN,
        "model": {"init": "balanced", "init_scale": 1e-1, "positive_det": True},
        "optimizer": {"name": "gd", "learning_rate": 0.01},
        "train": {"max_steps": 3000, "log_every": 500, "dtype": "float64"},
        "grid": {"model.depth": [3]},
        "seeds": [0, 1],
        "measures": ["train_loss", "recon_error", "unobserved_max_abs", "determinant",
                     "schatten_quasi_norms"],
        "log_measures": ["train_loss", "determinant", "unobserved_max_abs"],
    },
    {   # a completion problem from an .npz file with a truth
        "name": "file-completion",
        "problem": {"kind": "file", "path": NPZ_PLACEHOLDER},
        "model": {"depth": 2, "init": "gaussian", "init_scale": 1e-2},
        "optimizer": {"name": "group_rmsprop", "learning_rate": 1e-2},
        "train": {"max_steps": 1500, "log_every": 500},
        "grid": {"model.depth": [2]},
        "baselines": ["truth"],
        "log_measures": ["train_loss", "recon_error"],
    },
]


def write_problem_file(path: str | Path) -> Path:
    """Write the ``file`` sweep's problem: 24 entries of a fixed rank-1 8x8 truth (RMS 1)."""
    rng = np.random.default_rng(20240601)
    u, v = rng.standard_normal(8), rng.standard_normal(8)
    truth = np.outer(u, v)
    truth /= np.sqrt(np.mean(truth**2))
    flat = np.sort(rng.choice(64, size=24, replace=False))
    rows, cols = flat // 8, flat % 8
    np.savez(path, rows=rows.astype(np.int64), cols=cols.astype(np.int64),
             values=truth[rows, cols], shape=np.array([8, 8], np.int64), truth=truth)
    return Path(path)


def materialize(sweep: dict, directory: str | Path) -> dict:
    """A deep copy of ``sweep`` whose placeholder path names a problem file written there."""
    sweep = copy.deepcopy(sweep)
    if sweep["problem"].get("path") == NPZ_PLACEHOLDER:
        sweep["problem"]["path"] = str(write_problem_file(Path(directory) / NPZ_NAME))
    return sweep


def plain(value):
    """``value`` as JSON data: numpy scalars and arrays to Python, NaN (and None) to None."""
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"unexpected value {value!r} of type {type(value).__name__}")


def _key_value(value):
    """A config value as a key part; integral floats as ints (a column holding NaN for some
    rows is read as floats)."""
    value = plain(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def run_key(sweep: dict, row) -> dict:
    """The matching key of one runs.parquet row (a mapping of column to value).

    Trained runs: ``method``, ``seed`` and the sweep's grid keys. Baselines: ``method``, the
    grid keys of the problem, and ``solver.p`` for Schatten-p.
    """
    method = row["method"]
    grid = list(sweep.get("grid", {}))
    if method == "gd":
        names = ["seed", *grid]
    else:
        names = [k for k in grid if k.startswith("problem.")]
        names += ["solver.p"] if method == "schatten" else []
    return {"method": method, **{n: _key_value(row[n]) for n in names}}
