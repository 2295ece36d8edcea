"""End to end: each quick profile runs, writes the contract, and its claims hold.

These are the slowest tests (1.5-2 minutes each on a 2-core CPU); they are what says the
reproductions still reproduce.
"""

import json

import pandas as pd
import pytest

from overparam.experiments import EXPERIMENTS, reproduce


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, e in EXPERIMENTS.items() if "quick" in e.sweeps))
def test_quick_profile_claims_hold(name, tmp_path):
    result = reproduce(name, "quick", tmp_path, progress=False)
    d = tmp_path / name
    runs = pd.read_parquet(d / "runs.parquet")
    assert len(runs) == len(result.runs) > 0
    expected = {"converged"} if EXPERIMENTS[name].converges else {"converged", "max_steps"}
    solver = runs["method"] != "gd"
    assert set(runs.loc[~solver, "status"]) <= expected, runs[["run_id", "status"]]
    # a flat solve with singular weights (e.g. completion with an empty row) is data, and so
    # is a failure certified before convergence (certify_failure): a failure, never a success
    assert set(runs.loc[solver, "status"]) <= expected | {"singular_weights",
                                                          "certified_failure"}, runs["status"]
    certified = runs[runs["status"] == "certified_failure"]
    assert (certified["success"] == 0).all() and (certified["frob_error"] > 1e-5).all()
    if (~solver).any():  # solver-only experiments have no trajectories
        assert len(pd.read_parquet(d / "trajectories.parquet"))
    assert result.figures and all(p.is_file() for p in result.figures)
    claims = json.loads((d / "claims.json").read_text())["claims"]
    assert len(claims) >= 3
    # a known mismatch (computed as the paper states it; documented as not reproducing)
    # must still not hold; every other claim must hold
    failing = [c for c in claims if c["holds"] != c.get("expected", True)]
    assert not failing, json.dumps(failing, indent=1)
    assert all(c["known_mismatch"] for c in claims if c.get("expected", True) is False)
    again = reproduce(name, "quick", tmp_path, progress=False)  # resumes: nothing to re-run
    assert again.ran == 0 and len(again.runs) == len(runs)
