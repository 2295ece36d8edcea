"""Numerical edge cases run to the end (store, figures) or are refused with a clear error:
d = 1, full rank, every entry observed, depth 1, width below the rank, float64 on and off."""

import jax
import numpy as np
import pytest

import overparam as op
from overparam.errors import ConfigError


def _run(tmp_path, **kw):
    sweep = {"name": "edge",
             "problem": {"kind": "completion", "d1": 5, "d2": 5, "rank": 1, "m": 15},
             "model": {"init_scale": 1e-2}, "optimizer": {"learning_rate": 3e-2},
             "train": {"max_steps": 200, "log_every": 50}, **kw}
    result = op.run(sweep, out=tmp_path, progress=False)
    assert {p.name for p in result.figures} == {"final.png", "trajectories.png"}
    return result.runs


def test_a_one_by_one_matrix(tmp_path):
    runs = _run(tmp_path, problem={"kind": "completion", "d1": 1, "d2": 1, "rank": 1, "m": 1},
                baselines=["nuclear_norm", "truth"])
    assert sorted(runs["method"]) == ["gd", "nuclear_norm", "truth"]
    assert (runs["status"] == "converged").all()
    assert (runs["recon_error"] < 1e-5).all() and (runs["effective_rank"] == 1.0).all()
    assert runs["unobserved_error"].isna().all()  # no entry is unobserved: NaN, not 0/0 noise
    assert all(len(s) == 1 for s in runs["singular_values"])


def test_full_rank_truth_with_every_entry_observed(tmp_path):
    runs = _run(tmp_path, problem={"kind": "completion", "d1": 4, "d2": 4, "rank": 4, "m": 16},
                baselines=["nuclear_norm"])
    gd = runs[runs["method"] == "gd"].iloc[0]
    assert gd["status"] in ("converged", "max_steps") and np.isfinite(gd["recon_error"])
    # every entry observed: the error over all entries is the training loss (W* has RMS 1)
    np.testing.assert_allclose(gd["recon_error"], gd["train_loss"], rtol=1e-3)
    assert runs["unobserved_error"].isna().all()
    assert runs.loc[runs["method"] == "nuclear_norm", "recon_error"].iloc[0] < 1e-4


def test_width_below_the_rank_is_said_in_the_result(tmp_path):
    runs = _run(tmp_path, problem={"kind": "completion", "d1": 6, "d2": 6, "rank": 3, "m": 30},
                model={"depth": 2, "init_scale": 1e-2}, grid={"model.width": [2, 3]})
    assert runs["status"].isin(["converged", "max_steps"]).all()
    assert np.isfinite(runs["recon_error"].astype(float)).all()
    by = runs.set_index("model.width")
    assert by["width_below_rank"].to_dict() == {2: True, 3: False}
    assert "model.width 2 < problem.rank 3" in by.loc[2, "note"] and by.loc[3, "note"] == ""


def test_depth_one_in_float32_and_float64(tmp_path):
    """Depth 1 (no hidden layer: a width constrains nothing) runs in both dtypes; the rows say
    which, and the float64 runs leave JAX's 64-bit flag as they found it."""
    x64_before = jax.config.jax_enable_x64
    runs = _run(tmp_path, model={"depth": 1, "width": 1, "init_scale": 1e-2},
                grid={"train.dtype": ["float32", "float64"]})
    assert x64_before == jax.config.jax_enable_x64
    assert sorted(runs["dtype"]) == ["float32", "float64"]
    assert not runs["width_below_rank"].any()
    assert runs["status"].isin(["converged", "max_steps"]).all()
    assert np.isfinite(runs["recon_error"].astype(float)).all()
    assert (runs["train_loss"] < 0.5).all()  # both fit (the initial loss is about 1)


@pytest.mark.parametrize("problem, message", [
    ({"d1": 1, "d2": 1, "rank": 2, "m": 1}, "rank must be <= min(d1, d2) = 1, got 2"),
    ({"d1": 1, "d2": 1, "rank": 1, "m": 2}, "m must be <= d1*d2 = 1, got 2"),
])
def test_impossible_sizes_are_refused(tmp_path, problem, message):
    with pytest.raises(ConfigError, match=message.replace("*", r"\*").replace("(", r"\(")
                       .replace(")", r"\)")):
        _run(tmp_path / "o", problem={"kind": "completion", **problem})
    assert not (tmp_path / "o").exists()
