"""The MovieLens-100K experiment's sweep, claims and figure on a small ratings file (the real
data is not shipped; the loader's own tests are in tests/problems/test_movielens.py)."""

import numpy as np
import pytest

from overparam.errors import DataError
from overparam.experiments import reproduce, run
from overparam.experiments.arora2019_dynamics import ml100k_claims, ml100k_plot, ml100k_sweeps


def _ratings_file(path, users=12, items=9, count=60, seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.choice(users * items, count, replace=False)
    rows = [f"{p // items + 1}\t{p % items + 1}\t{rng.integers(1, 6)}\t{880000000 + i}"
            for i, p in enumerate(pairs)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_sweep_claims_and_figure_on_a_small_file(tmp_path):
    data = _ratings_file(tmp_path / "u.data")
    (sweep,) = ml100k_sweeps()
    assert sweep.problem["n_train"] == 10_000 and sweep.optimizer["learning_rate"] == 0.01
    small = sweep.model_copy(update={
        "problem": {**sweep.problem, "path": str(data), "n_train": 40},
        "train": {**sweep.train, "max_steps": 300, "log_every": 100}})
    result = run(small, tmp_path / "out", progress=False)
    claims = ml100k_claims(result.runs, result.trajectories)
    assert [c["name"] for c in claims] == ["depth-helps-test-error",
                                           "one-dominant-singular-value"]
    assert all(isinstance(c["holds"], bool) for c in claims)
    assert set(claims[0]["measured"]) == {"depth 1", "depth 2", "depth 3"}
    (fig,) = ml100k_plot(result.runs, result.trajectories, tmp_path)
    assert fig.is_file()


def test_missing_data_is_a_clear_error_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERPARAM_ML100K", str(tmp_path / "nowhere" / "u.data"))
    with pytest.raises(DataError, match="OVERPARAM_ML100K"):
        reproduce("arora2019-ml100k", "paper", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
