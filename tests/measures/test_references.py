"""``distance_to_flat`` and ``flat_trace_gap``: measures against the problem's flat solution,
which the sweep solves once per problem and hands over in ``problem.references``."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from overparam import registry
from overparam.measures import compute_measures
from overparam.solvers.kinds.flat import FlatConfig, solve_one
from overparam.sweep._build import ProblemCache
from overparam.sweep._references import attach_references, references_of, solve_reference

SENSING = {"kind": "gaussian_sensing", "d1": 5, "d2": 4, "rank": 1, "m": 24, "seed": 3}


def _cfg(table):
    return registry.PROBLEMS.get(table["kind"]).config(**table)


def _two_factor(problem):
    return registry.resolve(registry.MODELS.get("two_factor").build)(
        registry.MODELS.get("two_factor").config(), problem)


def _squared(model):
    from overparam.objectives._local import bind_objective

    kind = registry.OBJECTIVES.get("squared")
    return bind_objective(registry.resolve(kind.build)(kind.config()), model, {})


def test_the_registry_declares_the_flat_reference():
    assert references_of(["distance_to_flat", "hessian_trace"]) == ("flat",)
    assert references_of(["flat_trace_gap", "distance_to_flat"]) == ("flat",)
    assert references_of(["frob_error", "hessian_trace"]) == ()


def test_the_cache_solves_each_problem_once_and_attaches_the_flat_solution(x64, monkeypatch):
    from overparam.sweep import _references

    calls = []
    real = _references.solve_reference
    monkeypatch.setattr(_references, "solve_reference",
                        lambda kind, p: calls.append(kind) or real(kind, p))
    cache = ProblemCache()
    cfg = _cfg(SENSING)
    p32 = cache.get(cfg, "float32", references=("flat",))
    p64 = cache.get(cfg, "float64", references=("flat",))
    assert calls == ["flat"]  # one float64 solve serves both dtypes
    assert cache.get(cfg, "float32").references is None  # the bare problem is unchanged
    direct = solve_one(FlatConfig(), cache.get(cfg, "float64"))
    np.testing.assert_allclose(np.asarray(p64.references["flat"]["x"]), np.asarray(direct.x),
                               atol=1e-12)
    assert p32.references["flat"]["x"].dtype == jnp.float32
    assert p64.references["flat"]["hessian_trace"].dtype == jnp.float64
    # stacking and padding keep the references
    padded = p32.padded(40)
    assert padded.references is p32.references


def test_distance_is_zero_at_the_flat_factors_and_exact_off_them(x64):
    cache = ProblemCache()
    problem = cache.get(_cfg(SENSING), "float64", references=("flat",))
    out = solve_one(FlatConfig(), cache.get(_cfg(SENSING), "float64"))
    f = out.factors
    names = ["distance_to_flat", "flat_trace_gap", "hessian_trace"]
    at = compute_measures(names, f.model, f.params, problem, objective=_squared(f.model),
                          key=jax.random.PRNGKey(0))
    assert float(at["distance_to_flat"]) == pytest.approx(0.0, abs=1e-12)
    assert float(at["flat_trace_gap"]) == pytest.approx(0.0, abs=1e-10)
    # an unbalanced factorization of the same matrix: same distance, a larger trace
    model = _two_factor(problem)
    left, right = f.params
    unbalanced = (2.0 * left, 0.5 * right)
    off = compute_measures(names, model, unbalanced, problem, objective=_squared(model),
                           key=jax.random.PRNGKey(0))
    assert float(off["distance_to_flat"]) == pytest.approx(0.0, abs=1e-12)
    assert float(off["flat_trace_gap"]) > 0.1
    want = float(off["hessian_trace"]) / float(at["hessian_trace"]) - 1
    assert float(off["flat_trace_gap"]) == pytest.approx(want, rel=1e-12)
    # a perturbed matrix: the relative Frobenius distance, by numpy
    shifted = (left + 0.01, right)
    x = np.asarray(model.predict(shifted))
    flat = np.asarray(out.x)
    got = compute_measures(["distance_to_flat"], model, shifted, problem)["distance_to_flat"]
    assert float(got) == pytest.approx(np.linalg.norm(x - flat) / np.linalg.norm(flat),
                                       rel=1e-12)


def test_nan_without_references_and_on_problems_that_cannot_carry_them(x64):
    cache = ProblemCache()
    problem = cache.get(_cfg(SENSING), "float64")
    model = _two_factor(problem)
    params = model.init(jax.random.PRNGKey(0), 0.1)
    out = compute_measures(["distance_to_flat", "flat_trace_gap"], model, params, problem,
                           objective=_squared(model))
    assert np.isnan(float(out["distance_to_flat"])) and np.isnan(float(out["flat_trace_gap"]))
    rpca = {"kind": "robust_pca", "d1": 6, "d2": 6, "rank": 1, "l": 1}
    bare = cache.get(_cfg(rpca), "float64")
    assert cache.get(_cfg(rpca), "float64", references=("flat",)) is bare


def test_attach_references_casts_to_the_run_dtype(x64):
    problem = ProblemCache().get(_cfg(SENSING), "float32")
    sol = {"x": np.ones((5, 4)), "hessian_trace": np.asarray(2.0)}
    out = attach_references(problem, {"flat": sol}, "float32")
    assert out.references["flat"]["x"].dtype == jnp.float32
    assert attach_references(problem, {}, "float32") is problem


def test_solve_reference_gives_nan_for_singular_weights(x64):
    # completion with an empty row: no relaxation
    from overparam.problems import completion_problem

    truth = jnp.outer(jnp.arange(1.0, 5.0), jnp.ones(3)) / 10
    mask = jnp.ones((4, 3)).at[0].set(0.0)
    sol = solve_reference("flat", completion_problem(truth, mask))
    assert np.isnan(sol["x"]).all() and np.isnan(sol["hessian_trace"])


def test_a_sweep_logs_the_distance_batched_as_unbatched(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text("""
name = "dtf"
baselines = [{kind = "flat"}]
measures = ["distance_to_flat", "flat_trace_gap", "hessian_trace", "frob_error"]
log_measures = ["train_loss", "distance_to_flat"]
[problem]
kind = "gaussian_sensing"
d1 = 5
d2 = 4
rank = 1
m = 24
[model]
kind = "two_factor"
[optimizer]
name = "gd"
learning_rate = 0.1
[train]
max_steps = 3000
log_every = 500
[grid]
"problem.seed" = [0, 1, 2]
""")
    from overparam.cli import main

    assert main(["run", str(toml), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    [store] = (tmp_path / "o").iterdir()
    runs = pd.read_parquet(store / "runs.parquet")
    gd, flat = runs[runs["method"] == "gd"], runs[runs["method"] == "flat"]
    assert len(gd) == 3 and len(flat) == 3
    assert flat["distance_to_flat"].isna().all()  # baselines carry no reference
    assert (gd["distance_to_flat"] > 0).all() and (gd["distance_to_flat"] < 0.5).all()
    assert np.isfinite(gd["flat_trace_gap"]).all()
    traj = pd.read_parquet(store / "trajectories.parquet")
    assert "distance_to_flat" in traj and traj["distance_to_flat"].notna().all()
    # the same runs one at a time (max_batch 1) give the same values
    assert main(["run", str(toml), "--out", str(tmp_path / "one"), "--no-progress",
                 "--max-batch", "1"]) == 0
    [one] = (tmp_path / "one").iterdir()
    alone = pd.read_parquet(one / "runs.parquet").set_index("run_id")
    for rid, row in gd.set_index("run_id").iterrows():
        assert alone.loc[rid, "distance_to_flat"] == pytest.approx(row["distance_to_flat"],
                                                                   rel=1e-4)
