"""The local executor end to end on tiny sweeps: outputs, baselines, resume after interruption."""

import numpy as np
import pytest

from overparam.sweep import Store, SweepConfig, execute, expand, run_id


def _sweep(**kw):
    base = dict(name="tiny",
                problem={"kind": "completion", "d1": 12, "d2": 10, "rank": 2, "m": 60},
                model={"init_scale": 1e-2},
                optimizer={"name": "group_rmsprop", "learning_rate": 3e-2},
                train={"max_steps": 3000, "log_every": 100, "stop_loss": 1e-5},
                grid={"model.depth": [1, 2, 3], "problem.m": [60, 90]},
                baselines=["nuclear_norm", "truth"])
    base.update(kw)
    return SweepConfig.model_validate(base)


def _execute(sweep, store, **kw):
    return execute(expand(sweep), store, measures=sweep.measures,
                   log_measures=sweep.log_measures, progress=False, **kw)


def test_outputs_follow_the_contract(tmp_path):
    sweep = _sweep()
    store = Store(tmp_path / "tiny", "tiny")
    assert _execute(sweep, store) == 10
    runs, traj = store.consolidate()
    assert len(runs) == 10 and runs["run_id"].is_unique
    for col in ("run_id", "status", "method", "dtype", "problem.m", "model.depth",
                "optimizer.learning_rate", "train.stop_loss", "seed", "recon_error",
                "nuclear_norm", "effective_rank", "singular_values", "steps"):
        assert col in runs.columns, col
    gd = runs[runs["method"] == "gd"]
    assert set(gd["status"]) <= {"converged", "max_steps"}
    assert (gd["dtype"] == "float32").all()
    truth = runs[runs["method"] == "truth"]
    assert np.allclose(truth["recon_error"], 0.0)
    for erank, sv in zip(truth["effective_rank"], truth["singular_values"]):
        p = np.asarray(sv) / np.sum(sv)  # the rank-2 truth's own spectrum: exact, not "about 2"
        p = p[p > 0]
        assert erank == pytest.approx(np.exp(-np.sum(p * np.log(p))), rel=1e-5)
        assert 1.0 < erank < 2.0  # two unequal singular values
    nn = runs[runs["method"] == "nuclear_norm"]
    assert nn["solver_converged"].all()
    # trajectories: step 0, every log_every steps, and the stop step; one run's steps increase
    for rid in gd["run_id"]:
        t = traj[traj["run_id"] == rid].sort_values("step")
        steps = t["step"].to_numpy()
        assert steps[0] == 0 and np.all(np.diff(steps) > 0)
        assert steps[-1] == gd.set_index("run_id").loc[rid, "steps"]
        assert len(t["singular_values"].iloc[0]) == 10


def test_interrupted_sweep_resumes_without_losing_or_repeating_runs(tmp_path, monkeypatch):
    sweep = _sweep(baselines=[])
    store = Store(tmp_path / "tiny", "tiny")
    calls = []
    original = Store.write_part

    def write_then_die(self, rows, traj):
        original(self, rows, traj)
        calls.append(len(rows))
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "write_part", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        _execute(sweep, store)
    monkeypatch.setattr(Store, "write_part", original)
    first = store.finished_ids()
    assert len(first) == sum(calls) >= 1  # every part written before the interrupt is kept
    ran = _execute(sweep, store)
    assert ran == 6 - len(first)
    runs, _ = store.consolidate()
    assert sorted(runs["run_id"]) == sorted(run_id(r) for r in expand(sweep))
    assert _execute(sweep, store) == 0  # nothing left to do


def test_float64_runs_record_their_dtype(tmp_path):
    sweep = _sweep(train={"max_steps": 200, "log_every": 100, "dtype": "float64"},
                   grid={"model.depth": [2]}, baselines=[])
    store = Store(tmp_path / "tiny", "tiny")
    _execute(sweep, store)
    runs, _ = store.consolidate()
    assert list(runs["dtype"]) == ["float64"]


def test_sensing_runs_with_different_m_batch_together(tmp_path):
    sweep = _sweep(problem={"kind": "sensing", "d1": 6, "d2": 5, "rank": 1, "m": 20},
                   grid={"problem.m": [20, 28], "model.depth": [2]}, baselines=[],
                   train={"max_steps": 300, "log_every": 100})
    store = Store(tmp_path / "s", "s")
    _execute(sweep, store)
    runs, _ = store.consolidate()
    assert len(runs) == 2 and runs["train_loss"].notna().all()


def test_baselines_solve_the_problem_training_sees():
    """Solvers run in float64 and training in float32: the instances must be the same."""
    import jax

    from overparam.problems.kinds.completion import CompletionConfig
    from overparam.problems.kinds.sensing import SensingConfig
    from overparam.sweep._build import build_problem

    for cfg in (CompletionConfig(d1=9, d2=7, rank=2, m=30), SensingConfig(d1=9, d2=7, rank=2,
                                                                         m=30)):
        p32 = build_problem(cfg, "float32")
        with jax.enable_x64(True):
            p64 = build_problem(cfg, "float64")
        for a, b in zip(jax.tree.leaves(p32), jax.tree.leaves(p64)):
            np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b), rtol=1e-5,
                                       atol=1e-6)


def test_cvxpy_baseline_backend(tmp_path):
    sweep = _sweep(grid={"model.depth": [2]}, train={"max_steps": 100, "log_every": 100},
                   baseline={"backend": "cvxpy"}, baselines=["nuclear_norm"])
    store = Store(tmp_path / "c", "c")
    _execute(sweep, store)
    runs, _ = store.consolidate()
    nn = runs[runs["method"] == "nuclear_norm"]
    assert list(nn["solver.backend"]) == ["cvxpy"]
    assert nn["recon_error"].notna().all() and (nn["nuclear_norm"] > 0).all()
