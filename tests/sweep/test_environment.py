"""Every stored sweep records the environment of each session that ran its runs."""

import json
import subprocess
from pathlib import Path

import jax
import pytest

import overparam
from overparam.errors import StoreError
from overparam.sweep import Store, SweepConfig, execute, expand
from overparam.sweep._environment import git_commit


def _sweep(seeds):
    return SweepConfig(name="env", problem={"kind": "completion", "d1": 6, "d2": 5, "rank": 1,
                                            "m": 15},
                       train={"max_steps": 30, "log_every": 10}, seeds=seeds)


def _execute(sweep, store):
    return execute(expand(sweep), store, measures=sweep.measures,
                   log_measures=sweep.log_measures, progress=False)


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_each_session_that_runs_records_its_environment(tmp_path):
    store = Store(tmp_path / "env", "env")
    assert _execute(_sweep([0, 1]), store) == 2
    assert _execute(_sweep([0, 1]), store) == 0  # nothing ran: no new session
    assert _execute(_sweep([0, 1, 2]), store) == 1
    sessions = json.loads((tmp_path / "env" / "environment.json").read_text())["sessions"]
    assert sessions == store.environments()
    assert [(s["runs_pending"], s["runs_finished"]) for s in sessions] == [(2, 2), (1, 1)]
    first = sessions[0]
    assert first["session"] != sessions[1]["session"]
    assert first["finished"] >= first["started"]
    assert first["packages"]["jax"] == jax.__version__
    assert first["packages"]["overparam"]
    assert first["backend"] == jax.default_backend()
    assert first["device_count"] == len(jax.devices())
    assert first["matmul_precision"] == "highest"  # full float32, never TF32
    assert first["x64_enabled"] is False
    source = Path(overparam.__file__).resolve().parent
    try:
        head = _git("rev-parse", "HEAD", cwd=source)
    except (OSError, subprocess.CalledProcessError):
        head = None  # not run from a clone: nothing to record
    assert (first["git"] or {}).get("commit") == head


def test_an_interrupted_session_stays_unfinished(tmp_path, monkeypatch):
    store = Store(tmp_path / "env", "env")

    def die(self, rows, traj):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "write_part", die)
    with pytest.raises(KeyboardInterrupt):
        _execute(_sweep([0]), store)
    (session,) = store.environments()
    assert session["finished"] is None and session["runs_finished"] is None


def test_git_commit_of_a_checkout_and_of_a_plain_directory(tmp_path):
    assert git_commit(tmp_path) is None
    repo = tmp_path / "repo"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    (repo / "a.txt").write_text("a")
    _git("add", "a.txt", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a", cwd=repo)
    got = git_commit(repo)
    assert got["commit"] == _git("rev-parse", "HEAD", cwd=repo) and got["dirty"] is False
    (repo / "a.txt").write_text("b")
    assert git_commit(repo)["dirty"] is True


def test_a_corrupt_environment_file_is_one_line_and_kept(tmp_path):
    store = Store(tmp_path / "env", "env")
    _execute(_sweep([0]), store)
    store.environment_file.write_text("{not json")
    with pytest.raises(StoreError, match="environment.json: unreadable") as info:
        _execute(_sweep([0, 1]), store)
    assert "\n" not in str(info.value)
    assert store.environment_file.read_text() == "{not json"
    assert len(store.finished_ids()) == 1
