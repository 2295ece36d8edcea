"""Bad input, table-driven: every case gets one line naming the field or file and the reason,
exit code 2 from the CLI (a typed exception from the Python API), and nothing written.

A row is ``Case(id, entry, input, error, expect[, setup])``:

* ``entry="toml"``: ``input`` is a dict merged into :data:`BASE` (``DROP`` removes a key) or
  raw TOML text, written to ``{tmp}/sweep.toml`` (``None``: ``setup`` writes the file). It
  runs as ``overparam run FILE`` (exit 2), as ``op.run(FILE)``, and, for dicts, as
  ``op.run(dict)`` (raising ``error``).
* ``entry="cli"``: ``input`` is the argument list (``--out {tmp}/out`` is appended).
* ``entry="api"``: ``input`` is ``api(label, fn)``, ``fn(tmp)`` making the call.

``expect`` holds substrings of the message; ``{tmp}`` in any input is the test's directory.
``setup(tmp, monkeypatch)`` prepares files before the snapshot is taken.
"""

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from hardening_support import call_cli, one_line, snapshot, to_toml, toml_value

import overparam as op
from overparam.errors import ConfigError, DataError, OverparamError, StoreError
from overparam.measures import get_measure
from overparam.models import deep_factorization
from overparam.objectives import squared_objective
from overparam.problems import load_npz_problem, low_rank_truth, uniform_entry_mask
from overparam.sweep import Store, SweepConfig, expand
from overparam.sweep._store import FORMAT_VERSION
from overparam.train import make_trainer

DROP = object()


class new(dict):
    """A section that replaces BASE's instead of being merged into it."""

ENTRIES = {"kind": "entries", "d1": 2, "d2": 2, "rows": [0, 1, 1], "cols": [1, 0, 1],
           "values": [1.0, 1.0, 0.0]}
BASE = {"name": "bad",
        "problem": {"kind": "completion", "d1": 4, "d2": 4, "rank": 1, "m": 8},
        "train": {"max_steps": 20, "log_every": 10}}


@dataclass(frozen=True)
class api:
    label: str
    fn: Callable[[Path], object]

    def __repr__(self):
        return self.label


@dataclass(frozen=True)
class Case:
    id: str
    entry: str  # "toml" | "cli" | "api"
    input: object
    error: type[Exception]
    expect: tuple[str, ...] | str
    setup: Callable | None = None


def base(**sections) -> dict:
    """BASE with some sections replaced or merged (for API rows)."""
    return _merge(BASE, sections)


# --- setups: the state of the test directory before the call --------------------------------

def sweep_file(tmp, monkeypatch):
    (tmp / "sweep.toml").write_text(to_toml(BASE))


def toml_not_utf8(tmp, monkeypatch):
    (tmp / "sweep.toml").write_bytes(b'name = "bad"\n\xff\xfe\x00garbage')


def toml_is_directory(tmp, monkeypatch):
    (tmp / "sweep.toml").mkdir()


def toml_unreadable(tmp, monkeypatch):
    path = tmp / "sweep.toml"
    path.write_text(to_toml(BASE))
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real = Path.read_text

        def read_text(self, *a, **k):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *a, **k)

        monkeypatch.setattr(Path, "read_text", read_text)


def out_is_a_file(tmp, monkeypatch):
    (tmp / "out").write_text("not a directory")


def store_is_a_file(tmp, monkeypatch):
    (tmp / "out").mkdir()
    (tmp / "out" / "bad").write_text("not a directory")


def out_not_writable(tmp, monkeypatch):
    out = tmp / "out"
    out.mkdir()
    out.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: answer os.access as for a user
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: (
            False if str(p).startswith(str(out)) and mode & os.W_OK else real(p, mode, *a, **k)))


def _store(tmp, experiment="bad", version=FORMAT_VERSION) -> Path:
    root = tmp / "out" / "bad"
    (root / "parts").mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps(
        {"format_version": version, "experiment": experiment}))
    return root


def _rows_parquet(path: Path, **cols):
    pd.DataFrame(cols or {"run_id": ["abc"], "recon_error": [0.5]}).to_parquet(path)


def store_of_other_experiment(tmp, monkeypatch):
    _rows_parquet(_store(tmp, experiment="other") / "runs.parquet")


def store_of_other_version(tmp, monkeypatch):
    _rows_parquet(_store(tmp, version=999) / "runs.parquet")


def store_garbage_manifest(tmp, monkeypatch):
    _store(tmp)
    (tmp / "out" / "bad" / "manifest.json").write_text("{not json")


def store_manifest_not_object(tmp, monkeypatch):
    _store(tmp)
    (tmp / "out" / "bad" / "manifest.json").write_text("[1, 2]")


def store_parquet_without_manifest(tmp, monkeypatch):
    (tmp / "out" / "bad").mkdir(parents=True)
    _rows_parquet(tmp / "out" / "bad" / "runs.parquet")


def store_parts_without_manifest(tmp, monkeypatch):
    (tmp / "out" / "bad" / "parts").mkdir(parents=True)
    _rows_parquet(tmp / "out" / "bad" / "parts" / "runs-0123.parquet")


def store_corrupt_part(tmp, monkeypatch):
    _rows_parquet(_store(tmp) / "runs.parquet")
    (tmp / "out" / "bad" / "parts" / "runs-0123.parquet").write_bytes(b"PAR1 garbage")


def store_truncated_part(tmp, monkeypatch):
    root = _store(tmp)
    _rows_parquet(root / "parts" / "runs-0123.parquet", run_id=[f"r{i}" for i in range(50)])
    data = (root / "parts" / "runs-0123.parquet").read_bytes()
    (root / "parts" / "runs-0123.parquet").write_bytes(data[: len(data) // 2])


def store_corrupt_runs_table(tmp, monkeypatch):
    (_store(tmp) / "runs.parquet").write_bytes(b"\x00" * 100)


def store_foreign_table(tmp, monkeypatch):
    _rows_parquet(_store(tmp) / "runs.parquet", id=[1, 2], score=[0.1, 0.2])


def other_experiment_in_reproduce_dir(tmp, monkeypatch):
    root = tmp / "out" / "arora2019-init"
    root.mkdir(parents=True)
    (root / "manifest.json").write_text(
        json.dumps({"format_version": FORMAT_VERSION, "experiment": "x"}))


def npz_junk(tmp, monkeypatch):
    (tmp / "p.npz").write_text("not a zip archive")


def npz_wrong_keys(tmp, monkeypatch):
    np.savez(tmp / "p.npz", foo=np.ones(3))


def npz_nan(tmp, monkeypatch):
    np.savez(tmp / "p.npz", rows=np.array([0]), cols=np.array([1]), values=np.array([np.nan]),
             shape=np.array([2, 2]))


def npz_sensing_without_truth(tmp, monkeypatch):
    np.savez(tmp / "p.npz", A=np.ones((3, 2, 2)), y=np.ones(3))


KEY = jax.random.PRNGKey(0)
def dataset_short_labels(tmp, monkeypatch):
    np.savez(tmp / "d.npz", x_train=np.ones((4, 2)), y_train=np.ones(3),
             x_test=np.ones((2, 2)), y_test=np.ones(2))


def dataset_nan(tmp, monkeypatch):
    np.savez(tmp / "d.npz", x_train=np.full((4, 2), np.nan), y_train=np.ones(4),
             x_test=np.ones((2, 2)), y_test=np.ones(2))


FILE = new(kind="file", path="{tmp}/p.npz")
DATASET = new(kind="dataset_file", path="{tmp}/d.npz")
NET = {"model": new(kind="relu_network", width=4), "objective": new(kind="data_squared")}
NAME = "arora2019-completion"

CASES = [
    # problem sizes
    Case("rank-above-min-d", "toml", {"problem": {"rank": 5}}, ConfigError,
         ("problem", "rank must be <= min(d1, d2) = 4, got 5")),
    Case("m-above-entries", "toml", {"problem": {"m": 17}}, ConfigError,
         ("problem", "m must be <= d1*d2 = 16, got 17")),
    Case("m-zero", "toml", {"problem": {"m": 0}}, ConfigError,
         ("problem.m", "greater than or equal to 1", "got 0")),
    Case("d1-zero", "toml", {"problem": {"d1": 0}}, ConfigError, ("problem.d1", "got 0")),
    Case("d2-negative", "toml", {"problem": {"d2": -3}}, ConfigError, ("problem.d2", "got -3")),
    Case("rank-zero", "toml", {"problem": {"rank": 0}}, ConfigError, "problem.rank"),
    Case("problem-seed-negative", "toml", {"problem": {"seed": -1}}, ConfigError,
         "problem.seed"),
    Case("problem-too-large", "toml", {"problem": {"d1": 10**6, "d2": 10**6}}, ConfigError,
         ("problem: a 1000000x1000000 completion problem needs", "GiB")),
    Case("seed-beyond-32-bits", "toml", {"seeds": [2**32]}, ConfigError,
         ("seed", "< 2**32", "4294967296")),
    Case("problem-seed-beyond-32-bits", "toml", {"problem": {"seed": 2**40}}, ConfigError,
         ("problem.seed", "< 2**32")),
    Case("grid-point-invalid", "toml", {"grid": {"problem.rank": [1, 9]}}, ConfigError,
         ("grid point (problem.rank=9)", "rank must be <= min")),
    # model
    Case("depth-zero", "toml", {"model": {"depth": 0}}, ConfigError,
         ("model.depth", "greater than or equal to 1", "got 0")),
    Case("depth-negative", "toml", {"model": {"depth": -2}}, ConfigError,
         ("model.depth", "got -2")),
    Case("width-zero", "toml", {"model": {"width": 0}}, ConfigError, "model.width"),
    Case("init-scale-zero", "toml", {"model": {"init_scale": 0.0}}, ConfigError,
         ("model.init_scale", "greater than 0")),
    Case("init-scale-negative", "toml", {"model": {"init_scale": -1e-3}}, ConfigError,
         ("model.init_scale", "greater than 0")),
    Case("init-scale-nan", "toml", {"model": {"init_scale": float("nan")}}, ConfigError,
         ("model.init_scale", "finite number")),
    Case("init-scale-inf", "toml", {"model": {"init_scale": float("inf")}}, ConfigError,
         ("model.init_scale", "finite number")),
    Case("init-unknown", "toml", {"model": {"init": "gausian"}}, ConfigError,
         ("model.init", "did you mean 'gaussian'")),
    Case("model-kind-unknown", "toml", {"model": {"kind": "deep_factorisation"}}, ConfigError,
         ("model.kind", "did you mean 'deep_factorization'")),
    # optimizer and training
    Case("step-size-zero", "toml", {"optimizer": {"learning_rate": 0.0}}, ConfigError,
         ("optimizer.learning_rate", "greater than 0")),
    Case("step-size-negative", "toml", {"optimizer": {"learning_rate": -0.1}}, ConfigError,
         ("optimizer.learning_rate", "greater than 0")),
    Case("step-size-nan", "toml", {"optimizer": {"learning_rate": float("nan")}}, ConfigError,
         ("optimizer.learning_rate", "finite number")),
    Case("step-size-inf", "toml", {"optimizer": {"learning_rate": float("inf")}}, ConfigError,
         ("optimizer.learning_rate", "finite number")),
    Case("optimizer-unknown", "toml", {"optimizer": {"name": "adma"}}, ConfigError,
         ("optimizer.name", "did you mean 'adam'")),
    Case("optimizer-bad-option", "toml", {"optimizer": {"name": "adam", "options": {"alpha": 1.0}}},
         ConfigError, ("optimizer", "bad options for optimizer 'adam'", "alpha")),
    Case("init-scale-underflows", "toml", {"model": {"init_scale": 1e-50}}, ConfigError,
         ("model.init_scale", "1e-50 is 0 in float32", "float64")),
    Case("step-size-overflows", "toml", {"optimizer": {"learning_rate": 1e39}}, ConfigError,
         ("optimizer.learning_rate", "infinite in float32")),
    Case("max-steps-beyond-int32", "toml", {"train": {"max_steps": 2**31}}, ConfigError,
         ("train.max_steps", "<= 2147483647")),
    Case("max-steps-zero", "toml", {"train": {"max_steps": 0}}, ConfigError, "train.max_steps"),
    Case("log-every-zero", "toml", {"train": {"log_every": 0}}, ConfigError, "train.log_every"),
    Case("stop-loss-negative", "toml", {"train": {"stop_loss": -1e-6}}, ConfigError,
         "train.stop_loss"),
    Case("stop-loss-nan", "toml", {"train": {"stop_loss": float("nan")}}, ConfigError,
         ("train.stop_loss", "finite")),
    Case("divergence-factor-below-1", "toml", {"train": {"divergence_factor": 0.5}}, ConfigError,
         ("train.divergence_factor", "greater than 1")),
    Case("dtype-unknown", "toml", {"train": {"dtype": "float16"}}, ConfigError,
         ("train.dtype", "'float32' or 'float64'")),
    # names
    Case("problem-kind-unknown", "toml", {"problem": {"kind": "complettion"}}, ConfigError,
         ("problem.kind", "unknown kind 'complettion'", "did you mean 'completion'")),
    Case("problem-kind-missing", "toml", {"problem": {"kind": DROP}}, ConfigError,
         ("problem.kind", "missing", "'completion'")),
    Case("measure-unknown", "toml", {"measures": ["recon_eror"]}, ConfigError,
         ("measures", "did you mean 'recon_error'")),
    Case("log-measure-unknown", "toml", {"log_measures": ["train_los"]}, ConfigError,
         ("log_measures", "did you mean 'train_loss'")),
    Case("baseline-unknown", "toml", {"baselines": ["nuclear"]}, ConfigError,
         ("baselines[0]", "did you mean 'nuclear_norm'")),
    Case("schatten-p-above-1", "toml", {"baselines": [{"kind": "schatten", "p": 1.5}]},
         ConfigError, ("baselines[0].p", "less than or equal to 1")),
    Case("schatten-p-zero", "toml", {"baselines": [{"kind": "schatten", "p": 0.0}]},
         ConfigError, ("baselines[0].p", "greater than 0")),
    # keys
    Case("key-misspelled", "toml", {"model": {"depht": 3}}, ConfigError,
         ("model.depht: unknown key", "did you mean 'depth'")),
    Case("problem-key-misspelled", "toml", {"problem": {"rnak": 1}}, ConfigError,
         ("problem.rnak: unknown key", "did you mean 'rank'")),
    Case("top-key-misspelled", "toml", {"seed": 3}, ConfigError,
         ("seed: unknown key", "did you mean 'seeds'")),
    Case("section-misspelled", "toml", {"modle": {"depth": 2}}, ConfigError,
         ("modle: unknown key", "did you mean 'model'")),
    Case("grid-section-misspelled", "toml", {"grid": {"modle.depth": [2]}}, ConfigError,
         ("grid", "did you mean 'model'")),
    Case("grid-key-misspelled", "toml", {"grid": {"model.dpeth": [2]}}, ConfigError,
         ("model.dpeth: unknown key", "did you mean 'depth'")),
    Case("grid-key-seed", "toml", {"grid": {"seed": [1, 2]}}, ConfigError, "use 'seeds'"),
    Case("claim-key-misspelled", "toml",
         {"claims": [{"name": "c", "statement": "s", "measure": "recon_error", "vlaue": 1.0}]},
         ConfigError, ("claims[0].vlaue: unknown key", "did you mean 'value'")),
    Case("claim-without-target", "toml",
         {"claims": [{"name": "c", "statement": "s", "measure": "recon_error"}]}, ConfigError,
         ("claims[0]", "exactly one of value or than")),
    # types
    Case("int-as-string", "toml", {"train": {"max_steps": "many"}}, ConfigError,
         ("train.max_steps", "valid integer", "'many'")),
    Case("int-as-float", "toml", {"model": {"depth": 2.5}}, ConfigError,
         ("model.depth", "valid integer")),
    Case("int-as-bool", "toml", {"model": {"depth": True}}, ConfigError, "model.depth"),
    Case("float-as-string", "toml", {"optimizer": {"learning_rate": "0.1"}}, ConfigError,
         ("optimizer.learning_rate", "valid number")),
    Case("section-not-table", "toml", {"problem": 3}, ConfigError,
         ("problem", "valid dictionary", "got 3")),
    Case("grid-axis-not-list", "toml", {"grid": {"model.depth": 3}}, ConfigError,
         ("grid.model.depth", "valid list")),
    Case("name-invalid", "toml", {"name": "bad name!"}, ConfigError, ("name", "pattern")),
    Case("name-missing", "toml", {"name": DROP}, ConfigError, ("name", "Field required")),
    # empty
    Case("grid-axis-empty", "toml", {"grid": {"model.depth": []}}, ConfigError,
         ("grid key 'model.depth'", "non-empty list")),
    Case("seeds-empty", "toml", {"seeds": []}, ConfigError, ("seeds", "at least 1")),
    Case("seed-negative", "toml", {"seeds": [0, -1]}, ConfigError, "seeds[1]"),
    Case("toml-empty", "toml", "", ConfigError, ("name", "Field required")),
    # the TOML file itself
    Case("toml-malformed", "toml", 'name = "bad"\n[problem\n', ConfigError, "malformed TOML"),
    Case("toml-duplicate-key", "toml", 'name = "a"\nname = "b"\n', ConfigError,
         "malformed TOML"),
    Case("toml-not-utf8", "toml", None, ConfigError, "not a text file", toml_not_utf8),
    Case("toml-is-directory", "toml", None, ConfigError, "is a directory", toml_is_directory),
    Case("toml-unreadable", "toml", None, ConfigError, "not readable", toml_unreadable),
    Case("toml-missing", "cli", ["run", "{tmp}/nope.toml"], ConfigError, "file not found"),
    # data files
    Case("dataset-missing", "toml", {"problem": new(FILE, path="{tmp}/missing.npz")},
         ConfigError, ("problem.path", "missing.npz", "does not exist")),
    Case("dataset-not-npz", "toml", {"problem": FILE}, DataError,
         ("p.npz", "not a readable .npz"), npz_junk),
    Case("dataset-wrong-arrays", "toml", {"problem": FILE}, DataError,
         ("p.npz", "expected rows/cols/values or A/y"), npz_wrong_keys),
    Case("dataset-nan", "toml", {"problem": FILE}, DataError, ("p.npz", "'values' has NaN"),
         npz_nan),
    Case("truth-baseline-without-truth", "toml", {"problem": FILE, "baselines": ["truth"]},
         DataError, ("p.npz", "known ground truth"), npz_sensing_without_truth),
    Case("entries-out-of-range", "toml",
         {"problem": new(ENTRIES, rows=[0, 2, 1])}, ConfigError, ("problem", "rows must be < 2")),
    Case("entries-duplicate", "toml", {"problem": new(ENTRIES, rows=[0, 0, 1], cols=[1, 1, 1])},
         ConfigError, ("problem", "more than once")),
    Case("entries-lengths", "toml", {"problem": new(ENTRIES, values=[1.0])}, ConfigError,
         ("problem", "equal lengths")),
    Case("positive-det-rectangular", "toml",
         {"problem": new(BASE["problem"], d2=3), "model": {"positive_det": True}}, ConfigError,
         ("positive_det needs square",)),
    Case("dataset-file-short-labels", "toml", {"problem": DATASET, **NET}, DataError,
         ("d.npz", "y_train"), dataset_short_labels),
    Case("dataset-file-nan", "toml", {"problem": DATASET, **NET}, DataError,
         ("d.npz", "x_train", "NaN"), dataset_nan),
    Case("mnist-idx-missing", "toml",
         {"problem": new(kind="mnist", path="{tmp}/nowhere", n_train=10, n_test=10), **NET},
         DataError, ("nowhere", "train-images-idx3-ubyte")),
    Case("data-set-with-matrix-model", "toml", {"problem": new(kind="teacher_student")},
         ConfigError, ("deep_factorization", "relu_network")),
    Case("network-with-matrix-objective", "toml",
         {"problem": new(kind="teacher_student"), "model": new(kind="relu_network")},
         ConfigError, ("squared", "data_squared")),
    Case("movielens-missing", "toml",
         {"problem": new(kind="movielens100k", path="{tmp}/nowhere/u.data", n_train=10)},
         DataError, ("u.data", "grouplens")),
    Case("movielens-n-train-too-large", "toml",
         {"problem": new(kind="movielens100k", n_train=100_000)}, ConfigError,
         ("problem.n_train", "less than or equal to 99999")),
    # output directory and store
    Case("out-is-a-file", "toml", {}, StoreError, ("out", "not a directory"), out_is_a_file),
    Case("store-is-a-file", "toml", {}, StoreError, ("bad", "not a directory"), store_is_a_file),
    Case("out-not-writable", "toml", {}, StoreError, ("out", "not writable"), out_not_writable),
    Case("store-other-experiment", "toml", {}, StoreError,
         ("holds results of 'other', not 'bad'", "another --out"), store_of_other_experiment),
    Case("store-other-version", "toml", {}, StoreError,
         ("manifest.json", "format version 999"), store_of_other_version),
    Case("store-manifest-garbage", "toml", {}, StoreError,
         ("manifest.json", "unreadable manifest"), store_garbage_manifest),
    Case("store-manifest-not-object", "toml", {}, StoreError,
         ("manifest.json", "not a JSON object"), store_manifest_not_object),
    Case("store-without-manifest", "toml", {}, StoreError, ("no manifest.json", "refusing"),
         store_parquet_without_manifest),
    Case("store-parts-without-manifest", "toml", {}, StoreError,
         ("no manifest.json", "refusing"), store_parts_without_manifest),
    Case("store-corrupt-part", "toml", {}, StoreError,
         ("runs-0123.parquet", "corrupt Parquet"), store_corrupt_part),
    Case("store-truncated-part", "toml", {}, StoreError,
         ("runs-0123.parquet", "corrupt Parquet"), store_truncated_part),
    Case("store-corrupt-table", "toml", {}, StoreError,
         ("runs.parquet", "corrupt Parquet"), store_corrupt_runs_table),
    Case("store-foreign-table", "toml", {}, StoreError,
         ("runs.parquet", "no run_id column"), store_foreign_table),
    # command line
    Case("experiment-unknown", "cli", ["reproduce", "arora2019-complete"], ConfigError,
         ("experiment", "did you mean 'arora2019-completion'")),
    Case("profile-unknown", "cli", ["reproduce", NAME, "--profile", "quik"], ConfigError,
         ("--profile", "unknown profile 'quik'", "did you mean 'quick'")),
    Case("max-batch-zero", "cli", ["reproduce", NAME, "--max-batch", "0"], ConfigError,
         ("--max-batch", "positive integer")),
    Case("max-batch-not-int", "cli", ["run", "{tmp}/sweep.toml", "--max-batch", "x"],
         ConfigError, ("--max-batch", "positive integer", "'x'"), sweep_file),
    Case("solver-unknown", "cli", ["reproduce", NAME, "--solver", "mosek"], ConfigError,
         ("--solver", "invalid choice", "'mosek'")),
    Case("batch-size-without-minibatches", "toml",
         {"problem": new({"kind": "robust_pca", "d1": 6, "d2": 6, "rank": 1, "l": 1}),
          "train": {"batch_size": 10}}, ConfigError, ("train.batch_size", "no minibatches")),
    Case("batch-size-above-measurements", "toml", {"train": {"batch_size": 10}}, ConfigError,
         ("train.batch_size", "10 is more than the 8 measurements")),
    Case("trace-penalty-negative-weight", "toml",
         {"objective": {"kind": "trace_penalty", "weight": -1.0}}, ConfigError,
         ("objective.weight", "greater than or equal to 0")),
    Case("executor-unknown", "cli", ["run", "{tmp}/sweep.toml", "--executor", "rai"],
         ConfigError, ("--executor", "unknown executor 'rai'", "'local'"), sweep_file),
    Case("command-unknown", "cli", ["frobnicate"], ConfigError, "invalid choice"),
    Case("file-argument-missing", "cli", ["run"], ConfigError, "required: file"),
    Case("flag-unknown", "cli", ["run", "{tmp}/sweep.toml", "--chek"], ConfigError,
         ("unrecognized arguments", "--chek"), sweep_file),
    Case("reproduce-out-is-a-file", "cli", ["reproduce", NAME], StoreError, "not a directory",
         out_is_a_file),
    Case("reproduce-other-experiment", "cli", ["reproduce", "arora2019-init"], StoreError,
         "holds results of 'x'", other_experiment_in_reproduce_dir),
    # Python API
    Case("api-run-mapping", "api", api("run({.., model: {depth: 0}})", lambda t: op.run(
        base(model={"depth": 0}), out=t / "out")), ConfigError, "model.depth"),
    Case("api-run-sweepconfig", "api", api("run(SweepConfig(.., model: {depth: 0}))",
         lambda t: op.run(SweepConfig(**base(model={"depth": 0})), out=t / "out")),
         ConfigError, "model.depth"),
    Case("api-run-wrong-type", "api", api("run(42)", lambda t: op.run(42, out=t / "out")),
         ConfigError, ("sweep", "SweepConfig", "int")),
    Case("api-max-batch-zero", "api", api("run(.., max_batch=0)", lambda t: op.run(
        BASE, out=t / "out", max_batch=0)), ConfigError, ("max_batch", "positive integer")),
    Case("api-max-batch-float", "api", api("run(.., max_batch=2.5)", lambda t: op.run(
        BASE, out=t / "out", max_batch=2.5)), ConfigError, ("max_batch", "2.5")),
    Case("api-out-none", "api", api("run(.., out=None)", lambda t: op.run(BASE, out=None)),
         ConfigError, ("out", "directory path")),
    Case("api-executor-unknown", "api", api("run(.., executor='rai')", lambda t: op.run(
        BASE, out=t / "out", executor="rai")), ConfigError, ("executor", "'rai'")),
    Case("api-claims-bad", "api", api("run(.., claims=[{name: c}])", lambda t: op.run(
        BASE, out=t / "out", claims=[{"name": "c"}])), ConfigError, ("claims[0]", "statement")),
    Case("api-reproduce-unknown", "api", api("reproduce('arora2019-complete')", lambda t:
         op.reproduce("arora2019-complete", out=t / "out")), ConfigError, "did you mean"),
    Case("api-reproduce-name-type", "api", api("reproduce(None)", lambda t: op.reproduce(
        None, out=t / "out")), ConfigError, ("experiment", "string")),
    Case("api-reproduce-profile", "api", api("reproduce(.., profile='paperr')", lambda t:
         op.reproduce(NAME, "paperr", out=t / "out")), ConfigError, "did you mean 'paper'"),
    Case("api-reproduce-solver", "api", api("reproduce(.., solver='mosek')", lambda t:
         op.reproduce(NAME, solver="mosek", out=t / "out")), ConfigError, ("--solver", "mosek")),
    Case("api-reproduce-max-batch", "api", api("reproduce(.., max_batch=-1)", lambda t:
         op.reproduce(NAME, out=t / "out", max_batch=-1)), ConfigError, "max_batch"),
    Case("api-expand-grid-point", "api", api("expand(SweepConfig(grid rank [1, 9]))", lambda t:
         expand(SweepConfig(**base(grid={"problem.rank": [1, 9]})))), ConfigError,
         ("grid point (problem.rank=9)", "rank must be <= min")),
    Case("api-model-depth-zero", "api", api("deep_factorization(4, 4, depth=0)", lambda t:
         deep_factorization(4, 4, 0)), ValueError, "depth must be >= 1, got 0"),
    Case("api-model-init-unknown", "api", api("deep_factorization(.., init='gausian')", lambda t:
         deep_factorization(4, 4, 2, init="gausian")), ValueError, ("init", "'gausian'")),
    Case("api-truth-rank", "api", api("low_rank_truth(key, 4, 4, rank=5)", lambda t:
         low_rank_truth(KEY, 4, 4, 5)), ValueError, "rank must be <= min(d1, d2) = 4, got 5"),
    Case("api-truth-size", "api", api("low_rank_truth(key, 0, 4, 1)", lambda t:
         low_rank_truth(KEY, 0, 4, 1)), ValueError, "d1 must be a positive integer, got 0"),
    Case("api-mask-too-many", "api", api("uniform_entry_mask(key, 2, 2, m=5)", lambda t:
         uniform_entry_mask(KEY, 2, 2, 5)), ValueError, "m must be <= d1*d2 = 4, got 5"),
    Case("api-trainer-optimizer", "api", api("make_trainer(.., optimizer='adma')", lambda t:
         make_trainer(deep_factorization(2, 2, 1), squared_objective, optimizer="adma")),
         ValueError, ("optimizer must be one of", "'adma'")),
    Case("api-trainer-log-every", "api", api("make_trainer(.., log_every=0)", lambda t:
         make_trainer(deep_factorization(2, 2, 1), squared_objective, optimizer="gd",
                      log_every=0)), ValueError, "log_every must be >= 1, got 0"),
    Case("api-measure-unknown", "api", api("get_measure('nuclear')", lambda t: get_measure(
        "nuclear")), ValueError, ("measure must be one of", "'nuclear'")),
    Case("api-npz-missing", "api", api("load_npz_problem('{tmp}/missing.npz')", lambda t:
         load_npz_problem(t / "missing.npz")), DataError, ("missing.npz", "file not found")),
    Case("api-store-other", "api", api("Store(dir of 'other', 'bad').check()", lambda t: Store(
        t / "out" / "bad", "bad").check()), StoreError, "holds results of 'other'",
         store_of_other_experiment),
]


def _merge(a: dict, b: dict) -> dict:
    out = copy.deepcopy(a)
    for k, v in b.items():
        if v is DROP:
            out.pop(k, None)
        elif isinstance(v, dict) and not isinstance(v, new) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _fill(value, tmp: Path):
    """``value`` with ``{tmp}`` replaced by the test directory, recursively."""
    if isinstance(value, str):
        return value.replace("{tmp}", str(tmp))
    if isinstance(value, dict):
        return {k: _fill(v, tmp) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, tmp) for v in value]
    return value


def _flat(data: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in data.items():
        key = f"{prefix}{k}" if prefix != "grid" else f'grid["{k}"]'
        if v is DROP:
            out.append(f"no {key}")
        elif isinstance(v, dict) and k != "options" and v:
            out.extend(_flat(v, "grid" if k == "grid" else f"{key}."))
        else:
            out.append(f"{key} = {toml_value(v)}")
    return out


def _label(case: Case) -> str:
    if isinstance(case.input, dict):
        return ", ".join(_flat(case.input)) or "(valid sweep)"
    if isinstance(case.input, list):
        return "overparam " + " ".join(case.input)
    if case.input is None:
        return f"sweep file: {case.setup.__name__}"
    if isinstance(case.input, str):
        return f"TOML {case.input!r}"
    return repr(case.input)


def _check_message(message: str, case: Case) -> None:
    expect = (case.expect,) if isinstance(case.expect, str) else case.expect
    assert "\n" not in message.strip() and "Traceback" not in message, message
    for text in expect:
        assert text in message, f"{text!r} not in {message!r}"


def test_at_least_30_distinct_cases():
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids) >= 30
    assert {c.entry for c in CASES} == {"toml", "cli", "api"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, monkeypatch, capsys, outcomes):
    tmp = tmp_path
    if case.setup is not None:
        case.setup(tmp, monkeypatch)
    sweep = None
    if case.entry == "toml" and isinstance(case.input, dict):
        sweep = _fill(_merge(BASE, case.input), tmp)
        (tmp / "sweep.toml").write_text(to_toml(sweep))
    elif case.entry == "toml" and isinstance(case.input, str):
        (tmp / "sweep.toml").write_text(case.input)
    before = snapshot(tmp)
    label = _fill(_label(case), tmp).replace(str(tmp), "{tmp}")

    if case.entry in ("toml", "cli"):
        args = (["run", str(tmp / "sweep.toml"), "--no-progress"] if case.entry == "toml"
                else _fill(case.input, tmp))
        code, out, err = call_cli(args + ["--out", str(tmp / "out")], capsys)
        outcomes(case=case.id, entry="cli", input=label, outcome=f"exit {code}",
                 message=err.strip().replace(str(tmp), "{tmp}"))
        assert code == 2, (code, out, err)
        assert err.startswith("error: ") and one_line(err), err
        _check_message(err, case)
        assert snapshot(tmp) == before, "the CLI wrote or changed a file"

    calls = []
    if case.entry == "toml":
        calls.append(("file", lambda: op.run(tmp / "sweep.toml", out=tmp / "out",
                                             progress=False)))
        if sweep is not None:
            calls.append(("dict", lambda: op.run(sweep, out=tmp / "out", progress=False)))
    elif case.entry == "api":
        calls.append(("api", lambda: case.input.fn(tmp)))
    for how, call in calls:
        with pytest.raises(case.error) as info:
            call()
        message = str(info.value)
        outcomes(case=case.id, entry=how, input=label, outcome=type(info.value).__name__,
                 message=message.replace(str(tmp), "{tmp}"))
        assert type(info.value) is case.error, repr(info.value)  # the exact type, no subclass
        if case.entry != "api" or issubclass(case.error, OverparamError):
            assert isinstance(info.value, OverparamError), repr(info.value)
        _check_message(message, case)
        assert snapshot(tmp) == before, "the API wrote or changed a file"
