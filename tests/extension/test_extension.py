"""A user's own kinds, defined outside the package (``toy_kinds.py``), run through the public
entry points exactly as the package's own: ``op.run`` on a dict, a TOML file naming the module
in ``imports`` through the command line, and work items pickled into another process."""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import overparam as op
from overparam.errors import ConfigError
from overparam.sweep import RunConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import toy_kinds  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _toy_kinds_registered():
    """The toy kinds exist only while these tests run (other tests see the built-ins)."""
    toy_kinds.register()
    yield
    toy_kinds.unregister()

SWEEP = {
    "name": "toy",
    "problem": {"kind": "toy_regression", "n": 64, "d": 4},
    "model": {"kind": "toy_linear", "init_scale": 0.1},
    "objective": {"kind": "toy_ridge"},
    "optimizer": {"name": "gd", "learning_rate": 0.05},
    "train": {"max_steps": 600, "log_every": 100, "stop_loss": 0.0, "batch_size": 16},
    "grid": {"objective.weight": [0.0, 0.5]},
    "seeds": [0, 1],
    "baselines": ["toy_least_squares"],
    "measures": ["toy_weight_error", "toy_full_objective", "toy_projection"],
    "log_measures": ["toy_weight_error", "toy_full_objective"],
}
CLAIM = {"name": "sgd-recovers", "statement": "minibatch SGD without ridge finds w*",
         "measure": "toy_weight_error", "where": {"method": "gd", "objective.weight": 0.0},
         "stat": "max", "op": "<=", "value": 1e-3}


def _check_outputs(result_dir: Path) -> None:
    """The contract's files: runs, trajectories, a figure, claims."""
    for name in ("runs.parquet", "trajectories.parquet", "final.png", "claims.json"):
        assert (result_dir / name).is_file(), name


def test_user_kinds_through_op_run(tmp_path):
    result = op.run({**SWEEP, "claims": [CLAIM]}, out=tmp_path, progress=False)
    runs = result.runs
    _check_outputs(result.directory)
    gd = runs[runs["method"] == "gd"]
    base = runs[runs["method"] == "toy_least_squares"]
    assert len(gd) == 4 and len(base) == 1
    assert (gd["steps"] == 600).all() and (gd["status"] == "max_steps").all()
    plain = gd[gd["objective.weight"] == 0.0]["toy_weight_error"]
    ridge = gd[gd["objective.weight"] == 0.5]["toy_weight_error"]
    assert (plain < 1e-3).all() and (ridge > 10 * plain.max()).all()  # the weight is batched
    assert float(base["toy_weight_error"].iloc[0]) < 1e-9  # noiseless least squares
    # measures that need an objective or a key: finite for training runs, NaN for the baseline
    assert gd["toy_full_objective"].notna().all() and gd["toy_projection"].notna().all()
    assert base["toy_full_objective"].isna().all() and base["toy_projection"].isna().all()
    assert result.claims[0]["holds"], result.claims
    traj = result.trajectories
    first = traj.sort_values("step").groupby("run_id")["toy_weight_error"]
    assert (first.first() > 2 * first.last()).all()  # logged along the way, falling


def test_minibatches_come_from_the_runs_key(tmp_path):
    """Same seed: the same minibatch sequence, bit for bit; another seed or the full batch
    takes another path."""
    base = {**SWEEP, "grid": {}, "baselines": [], "seeds": [0, 1], "measures":
            ["toy_weight_error"], "log_measures": ["toy_weight_error"],
            "train": {**SWEEP["train"], "max_steps": 50}}
    a = op.run({**base, "name": "a"}, out=tmp_path, progress=False).runs.sort_values("seed")
    b = op.run({**base, "name": "b"}, out=tmp_path, progress=False).runs.sort_values("seed")
    full = op.run({**base, "name": "full", "train": {**base["train"], "batch_size": None}},
                  out=tmp_path, progress=False).runs.sort_values("seed")
    np.testing.assert_array_equal(a["toy_weight_error"], b["toy_weight_error"])
    assert a["toy_weight_error"].iloc[0] != a["toy_weight_error"].iloc[1]
    assert not np.allclose(a["toy_weight_error"], full["toy_weight_error"])


def test_user_kinds_through_a_toml_file_and_the_command_line(tmp_path):
    (tmp_path / "kinds.py").write_text((HERE / "toy_kinds.py").read_text())
    toml = tmp_path / "toy.toml"
    toml.write_text("""
name = "toy-cli"
imports = ["kinds.py"]
seeds = [0]
baselines = ["toy_least_squares"]
measures = ["toy_weight_error"]
log_measures = ["toy_weight_error"]
[problem]
kind = "toy_regression"
[model]
kind = "toy_linear"
[objective]
kind = "toy_ridge"
[optimizer]
name = "gd"
learning_rate = 0.05
[train]
max_steps = 300
log_every = 100
[grid]
"objective.weight" = [0.0, 0.5]
[[claims]]
name = "ridge-hurts"
statement = "the ridge run ends farther from w*"
measure = "toy_weight_error"
where = {"objective.weight" = 0.5}
op = ">="
value = 0.01
""")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "overparam.cli", "run", str(toml), "--out",
                           str(out), "--no-progress", "--check"], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path.parent)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    _check_outputs(out / "toy-cli")
    claims = json.loads((out / "toy-cli" / "claims.json").read_text())["claims"]
    assert [c["holds"] for c in claims] == [True]
    # a misspelled kind of the user's module is one line, exit 2
    toml.write_text(toml.read_text().replace('kind = "toy_linear"', 'kind = "toy_linaer"'))
    proc = subprocess.run([sys.executable, "-m", "overparam.cli", "run", str(toml), "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "did you mean 'toy_linear'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


WORKER = """
import pickle, sys
from overparam.sweep._work import run_item_in_process
item, root, name = pickle.load(open(sys.argv[1], "rb"))
print(run_item_in_process(item, root, name))
"""


def test_work_items_run_pickled_in_another_process(tmp_path):
    """As a Ray or SLURM worker would: the item travels as bytes, the worker imports the
    user's module, rebuilds the problems on its own devices and writes store parts; the head
    consolidates. Rows equal the in-process run's, and an item run twice stores each run once."""
    from overparam.sweep import Store, expand
    from overparam.sweep._build import ProblemCache
    from overparam.sweep._work import WorkOptions, plan

    sweep = op.SweepConfig.model_validate({**SWEEP, "imports": [str(HERE / "toy_kinds.py")]})
    runs = expand(sweep)
    options = WorkOptions(tuple(sweep.measures), tuple(sweep.log_measures),
                          imports=tuple(sweep.imports))
    items = plan("toy", runs, options, ProblemCache())
    assert [it.method for it in items] == ["gd", "solver"]  # one program for both weights
    assert len(items[0].runs) == 4
    store = Store(tmp_path / "toy", "toy")
    store.open()
    for k, item in enumerate(items):
        path = tmp_path / f"item{k}.pkl"
        path.write_bytes(pickle.dumps((item, str(store.root), "toy")))
        proc = subprocess.run([sys.executable, "-c", WORKER, str(path)], capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip().splitlines()[-1] == str(len(item.runs))
    # at-least-once delivery (a retried task): the same item again adds no row
    proc = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path / "item0.pkl")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    remote, traj = store.consolidate()
    local = op.run(SWEEP, out=tmp_path / "local", progress=False).runs
    assert len(remote) == 5 and len(traj) > 0 and not traj.duplicated(["run_id", "step"]).any()
    assert set(remote["run_id"]) == set(local["run_id"])
    merged = remote.merge(local, on="run_id", suffixes=("", "_local"))
    np.testing.assert_allclose(merged["toy_weight_error"], merged["toy_weight_error_local"],
                               rtol=1e-5)
    assert all(RunConfig.model_validate_json(c) for c in remote["config"])


def test_unknown_import_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"imports\[0\]: cannot import 'no_such_module'"):
        op.run({**SWEEP, "imports": ["no_such_module"]}, out=tmp_path, progress=False)
