"""Every kind of run gives the final numbers it gave before the refactor (commit 2589b16).

Each sweep of ``reference_sweeps.py`` runs through ``overparam.run`` with the installed code;
its rows are matched to ``reference_values.json`` by :func:`reference_sweeps.run_key` and every
recorded value is compared. Regenerate the reference with ``record_reference.py``.
"""

import json
import math
from pathlib import Path

import pytest
from reference_sweeps import SWEEPS, materialize, plain, run_key

import overparam

REFERENCE = json.loads((Path(__file__).parent / "reference_values.json").read_text())

# Relative tolerance by the row's dtype: float32 runs, and float64 ones (the float64 runs and
# every baseline: the solvers work in float64).
RTOL = {"float32": 1e-3, "float64": 1e-9}
# Absolute floor for values near 0. Measured across CPUs (the recording machine against an AMD
# EPYC, same jax 0.10.2, 2026-12-02): a float32 depth-3 completion stopped at max_steps with a
# loss still falling ends at train_loss 1.50e-5 vs 1.61e-5 and recon_error within 4.1e-4
# relative (XLA's CPU code and so its rounding differ by machine, and GD amplifies it), and the
# Schatten solver's tail singular values (~3e-10, its accuracy, not the matrix's) move by
# 1.3e-11. So float32 values are compared to 1e-3 relative above a floor of 2e-6, and float64
# ones to 1e-9 relative above 1e-11 (far above float64 rounding at the unit scale of these
# problems). A vector (singular values, their rates) has one scale, its largest entry: an SVD
# resolves small singular values only to about eps * sigma_max, so its floor is
# ATOL * max(1, max |v|).
ATOL = {"float32": 2e-6, "float64": 1e-11}


def _mismatch(old, new, dtype: str) -> bool:
    """Whether ``new`` differs from ``old`` (JSON values; None is NaN) beyond tolerance."""
    if isinstance(old, list):
        if not isinstance(new, list) or len(new) != len(old):
            return True
        scale = max([1.0] + [abs(v) for v in old if isinstance(v, float | int)])
        return any(_scalar_mismatch(o, n, dtype, scale) for o, n in zip(old, new))
    return _scalar_mismatch(old, new, dtype)


def _scalar_mismatch(old, new, dtype: str, scale: float = 1.0) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)  # NaN matches only NaN
    if isinstance(old, bool | str) or isinstance(new, bool | str):
        return old != new or type(old) is not type(new)
    return not math.isclose(old, new, rel_tol=RTOL[dtype], abs_tol=ATOL[dtype] * scale)


def _show(value) -> str:
    """A JSON value for a message, None (a NaN) written as NaN."""
    if isinstance(value, list):
        return "[" + ", ".join(map(_show, value)) + "]"
    return "NaN" if value is None else repr(value)


def _run(sweep: dict, tmp_path: Path):
    result = overparam.run(materialize(sweep, tmp_path), out=tmp_path / "out", progress=False)
    return result.runs, result.trajectories


def _last_logged(trajectories, run_id: str) -> dict | None:
    if not len(trajectories):
        return None
    traj = trajectories[trajectories["run_id"] == run_id]
    return traj.sort_values("step").iloc[-1].to_dict() if len(traj) else None


def _compare(name: str, ref: dict, row: dict, last: dict | None) -> list[str]:
    """Readable lines, one per value of ``ref`` that ``row`` (and ``last``) do not reproduce."""
    where = f"{name} {json.dumps(ref['key'], sort_keys=True)}"
    dtype = ref["dtype"]
    problems = []
    for field in ("status", "steps"):
        if plain(row[field]) != ref[field]:
            problems.append(f"{where}: {field}: old={ref[field]!r} new={plain(row[field])!r}")
    checks = [("", name_, old, row) for section in ("measures", "extra")
              for name_, old in ref[section].items()]
    if "trajectory_last" in ref:
        if last is None:
            problems.append(f"{where}: trajectory: old has one, new has no logged rows")
        else:
            checks += [("trajectory ", n, old, last) for n, old in ref["trajectory_last"].items()]
    for prefix, measure, old, values in checks:
        if measure not in values:
            problems.append(f"{where}: {prefix}{measure}: old={_show(old)} new=<missing>")
            continue
        new = plain(values[measure])
        if (measure == "step" and new != old) or _mismatch(old, new, dtype):
            problems.append(f"{where}: {prefix}{measure}: old={_show(old)} new={_show(new)}")
    return problems


@pytest.mark.parametrize("sweep", SWEEPS, ids=[s["name"] for s in SWEEPS])
def test_final_numbers_match_the_reference(sweep, tmp_path):
    name = sweep["name"]
    reference = {json.dumps(r["key"], sort_keys=True): r for r in REFERENCE["sweeps"][name]}
    runs, trajectories = _run(sweep, tmp_path)
    rows = {}
    for _, row in runs.iterrows():
        key = json.dumps(run_key(sweep, row), sort_keys=True)
        assert key not in rows, f"{name}: two rows have the key {key}"
        rows[key] = row.to_dict()
    missing, extra = sorted(reference.keys() - rows.keys()), sorted(rows.keys() - reference)
    assert not missing and not extra, (f"{name}: keys differ from the reference; only old: "
                                       f"{missing}; only new: {extra}")
    problems = []
    for key, ref in reference.items():
        problems += _compare(name, ref, rows[key], _last_logged(trajectories,
                                                                 rows[key]["run_id"]))
    if problems:
        pytest.fail(f"{len(problems)} value(s) differ from commit {REFERENCE['commit']}:\n"
                    + "\n".join(problems), pytrace=False)
