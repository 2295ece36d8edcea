"""ReLU networks on data sets through the engine: teacher-student and a user's .npz data,
minibatches, a batched regularizer weight, bad input."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import overparam as op
from overparam.errors import ConfigError

SWEEP = {
    "name": "ts",
    "problem": {"kind": "teacher_student", "d": 10, "n_teacher": 3, "m": 60, "m_test": 300,
                "validation": 10},
    "model": {"kind": "relu_network", "width": 12, "init_scale": 1.0},
    "objective": {"kind": "data_squared"},
    "optimizer": {"name": "gd", "learning_rate": 0.2},
    "train": {"max_steps": 300, "log_every": 100, "stop_loss": 0.0},
    "grid": {"objective.diversity": [0.0, 0.05]},
    "seeds": [0, 1],
    "measures": ["data_loss", "valid_loss", "test_loss", "s_min_D", "loss_bound",
                 "discrepancy"],
    "log_measures": ["data_loss", "test_loss", "s_min_D", "loss_bound", "discrepancy"],
}
COLS = ["data_loss", "valid_loss", "test_loss", "s_min_D", "loss_bound", "discrepancy"]


def _by_run(runs):
    return runs.sort_values(["objective.diversity", "seed"]).reset_index(drop=True)


def test_teacher_student_trains_batched_like_one_run_at_a_time(tmp_path):
    batched = op.run(SWEEP, out=tmp_path / "a", progress=False)
    single = op.run(SWEEP, out=tmp_path / "b", progress=False, max_batch=1)
    a, b = _by_run(batched.runs), _by_run(single.runs)
    assert len(a) == 4 and set(a["status"]) == {"max_steps"}
    np.testing.assert_allclose(a[COLS].to_numpy(float), b[COLS].to_numpy(float), rtol=2e-4)
    # training fits the teacher; dn = 120 >= m = 50, so the loss bound holds wherever D has
    # full column rank (it is infinite where s_m(D) = 0, e.g. when units die)
    traj = batched.trajectories
    assert (a["data_loss"] < 0.2 * traj[traj["step"] == 0]["data_loss"].max()).all()
    finite = np.isfinite(traj["loss_bound"])
    assert finite.mean() > 0.5 and (traj.loc[~finite, "s_min_D"] < 1e-6).all()
    assert (traj.loc[finite, "loss_bound"] >= traj.loc[finite, "data_loss"] * (1 - 1e-5)).all()
    # the regularizer lowers the first layer's discrepancy at every seed
    d = a.pivot(index="seed", columns="objective.diversity", values="discrepancy")
    assert (d[0.05] < d[0.0]).all(), d


def test_minibatch_training_draws_per_step(tmp_path):
    sweep = {**SWEEP, "grid": {}, "seeds": [0],
             "train": {**SWEEP["train"], "batch_size": 10}}
    full = op.run(SWEEP | {"grid": {}, "seeds": [0]}, out=tmp_path / "f", progress=False)
    mini = op.run(sweep, out=tmp_path / "m", progress=False)
    assert float(mini.runs["data_loss"].iloc[0]) != pytest.approx(
        float(full.runs["data_loss"].iloc[0]), rel=1e-6)
    assert float(mini.runs["data_loss"].iloc[0]) < 0.5 * float(
        mini.trajectories.query("step == 0")["data_loss"].iloc[0])
    # epochs: 300 steps of 10 of the 50 training examples are 60 epochs; full batch, 300
    assert float(mini.runs["epochs"].iloc[0]) == pytest.approx(60.0)
    assert float(full.runs["epochs"].iloc[0]) == pytest.approx(300.0)
    traj = mini.trajectories.sort_values("step")
    np.testing.assert_allclose(traj["epoch"], traj["step"] * 10 / 50)


def test_mnist_like_npz_classification_through_the_command_line(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8)) * 3
    y = rng.integers(0, 3, 90)
    x = centers[y] + rng.normal(size=(90, 8))
    path = tmp_path / "blobs.npz"
    np.savez(path, x_train=x[:60], y_train=y[:60], x_test=x[60:], y_test=y[60:])
    toml = tmp_path / "blobs.toml"
    toml.write_text(f"""name = "blobs"
measures = ["data_loss", "test_loss", "train_error_rate", "test_error_rate"]
log_measures = ["data_loss", "test_error_rate"]
[problem]
kind = "dataset_file"
path = "{path}"
[model]
kind = "relu_network"
width = 16
[objective]
kind = "cross_entropy"
[optimizer]
name = "adam"
learning_rate = 0.01
[train]
max_steps = 200
log_every = 50
batch_size = 20
""")
    done = subprocess.run([sys.executable, "-m", "overparam.cli", "run", str(toml), "--out",
                           str(tmp_path / "out"), "--no-progress"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(tmp_path / "out" / "blobs" / "runs.parquet")
    assert float(runs["test_error_rate"].iloc[0]) < 10.0  # three separated blobs


@pytest.mark.parametrize("change, field", [
    ({"objective": {"kind": "squared"}, "grid": {}}, "data_squared"),
    ({"problem": {"kind": "completion", "d1": 5, "d2": 5, "rank": 1, "m": 10}},
     "relu_network"),
    ({"problem": {**SWEEP["problem"], "validation": 60}}, "validation"),
    ({"objective": {"kind": "data_squared", "diversity": -1.0}, "grid": {}}, "diversity"),
    ({"objective": {"kind": "data_squared", "form": "cap"}}, "form"),
    ({"model": {"kind": "relu_network", "signs": "free"}}, "signs"),
])
def test_bad_network_configs_name_the_field(change, field, tmp_path):
    with pytest.raises(ConfigError, match=field):
        op.run({**SWEEP, **change}, out=tmp_path, progress=False)
    assert not (tmp_path / "ts").exists()


def test_bad_dataset_file_exits_2_with_one_line(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.ones((4, 2)), y_train=np.ones(3), x_test=np.ones((2, 2)),
             y_test=np.ones(2))
    toml = tmp_path / "bad.toml"
    toml.write_text(f'name = "bad"\n[problem]\nkind = "dataset_file"\npath = "{path}"\n'
                    '[model]\nkind = "relu_network"\n[objective]\nkind = "data_squared"\n')
    done = subprocess.run([sys.executable, "-m", "overparam.cli", "run", str(toml), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "y_train" in lines[0], done.stderr
    assert not (tmp_path / "out" / "bad").exists()


def _program_keys(sweep: dict) -> list[tuple]:
    """The compiled-program key of each run of ``sweep`` (runs with equal keys batch)."""
    from overparam.sweep import SweepConfig
    from overparam.sweep._build import ProblemCache, gd_group_key
    from overparam.sweep._grid import expand

    cache = ProblemCache()
    runs = expand(SweepConfig.model_validate(sweep))
    return [gd_group_key(r, cache.get(r.problem, r.dtype)) for r in runs]


def test_label_noise_learning_rate_and_lambda_batch_in_one_program_widths_one_each(tmp_path):
    sweep = {**SWEEP, "seeds": [0],
             "train": {**SWEEP["train"], "max_steps": 100, "log_every": 50},
             "grid": {"problem.noise": [0.0, 0.1], "optimizer.learning_rate": [0.1, 0.2],
                      "objective.diversity": [0.0, 0.05]}}
    assert len(set(_program_keys(sweep))) == 1
    widths = {**sweep, "grid": {"model.width": [4, 8, 12], "objective.diversity": [0.0, 0.1]}}
    assert len(set(_program_keys(widths))) == 3
    batched = op.run(sweep, out=tmp_path / "a", progress=False)
    single = op.run(sweep, out=tmp_path / "b", progress=False, max_batch=1)
    key = ["problem.noise", "optimizer.learning_rate", "objective.diversity"]
    a = batched.runs.sort_values(key).reset_index(drop=True)
    b = single.runs.sort_values(key).reset_index(drop=True)
    np.testing.assert_allclose(a[COLS].to_numpy(float), b[COLS].to_numpy(float), rtol=2e-4)
    # label noise changes the training targets only: the noisy runs fit worse at equal lr
    noisy = a.set_index(key)["data_loss"]
    assert (noisy.xs(0.1, level=0).to_numpy() > noisy.xs(0.0, level=0).to_numpy()).all()


def test_a_minimal_toml_on_a_data_set_gets_data_measures_by_default(tmp_path):
    """No ``measures`` or ``log_measures``: the defaults are the data measures, not the
    matrix ones (which once failed inside the compiled loop with a traceback)."""
    toml = tmp_path / "ts.toml"
    toml.write_text("""name = "ts-min"
[problem]
kind = "teacher_student"
m = 40
m_test = 50
[model]
kind = "relu_network"
width = 8
[objective]
kind = "data_squared"
[optimizer]
name = "gd"
learning_rate = 0.1
[train]
max_steps = 20
log_every = 10
stop_loss = 0.0
""")
    out = subprocess.run([sys.executable, "-m", "overparam.cli", "run", str(toml), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    runs = pd.read_parquet(tmp_path / "out" / "ts-min" / "runs.parquet")
    traj = pd.read_parquet(tmp_path / "out" / "ts-min" / "trajectories.parquet")
    assert runs[["data_loss", "test_loss", "discrepancy"]].notna().all().all()
    assert {"data_loss", "test_loss", "epoch"} <= set(traj.columns)
    assert "recon_error" not in runs.columns
