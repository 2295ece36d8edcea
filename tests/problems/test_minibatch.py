"""``MatrixProblem.minibatch`` for every operator: the loss is the mean over the drawn
measurements, each real measurement is drawn with frequency size/k, padding never, under vmap;
and ``train.batch_size`` end to end on the built-in matrix problems."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import overparam as op
from overparam.errors import ConfigError
from overparam.objectives import squared_loss
from overparam.problems import (
    low_rank_truth,
    make_completion,
    make_sensing,
    pad_measurements,
    rank_one_sensing_problem,
)

SHAPE = (5, 4)
M_REAL = 9  # real measurements, padded to M_PADDED for the sensing operators
M_PADDED = 13
SIZE = 3
KINDS = ["entries", "dense", "rank_one"]


def _problem(kind: str, seed: int = 0):
    kt, ko, kl = jax.random.split(jax.random.PRNGKey(seed), 3)
    truth = low_rank_truth(kt, *SHAPE, 2)
    if kind == "entries":
        return make_completion(ko, truth, M_REAL)
    if kind == "dense":
        return pad_measurements(make_sensing(ko, truth, M_REAL), M_PADDED)
    left = jax.random.normal(ko, (M_REAL, SHAPE[0]))
    right = jax.random.normal(kl, (M_REAL, SHAPE[1]))
    return pad_measurements(rank_one_sensing_problem(truth, left, right), M_PADDED)


@pytest.mark.parametrize("kind", KINDS)
def test_minibatch_loss_is_the_mean_over_the_drawn_measurements(kind):
    problem = _problem(kind)
    x = jax.random.normal(jax.random.PRNGKey(7), SHAPE)
    r = np.asarray(problem.operator.apply(x) - problem.observations, np.float64).reshape(-1)
    real = np.asarray(problem.weights).reshape(-1) > 0
    for seed in range(5):
        batch = problem.minibatch(jax.random.PRNGKey(seed), SIZE)
        assert type(batch) is type(problem) and type(batch.operator) is type(problem.operator)
        assert jax.tree.map(jnp.shape, batch) == jax.tree.map(jnp.shape, problem)
        drawn = np.asarray(batch.weights).reshape(-1) > 0
        assert drawn.sum() == SIZE and not (drawn & ~real).any()
        np.testing.assert_array_equal(np.asarray(batch.weights).reshape(-1)[drawn], 1.0)
        np.testing.assert_allclose(float(squared_loss(batch, x)), np.mean(r[drawn] ** 2),
                                   rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_every_real_measurement_is_drawn_with_frequency_size_over_k(kind):
    """Monte Carlo over 4000 keys, under vmap: each real measurement's frequency is within
    5 standard errors of size/k; padding and unobserved entries are never drawn."""
    problem = _problem(kind)
    draws = 4000
    keys = jax.random.split(jax.random.PRNGKey(1), draws)
    weights = jax.jit(jax.vmap(lambda k: problem.minibatch(k, SIZE).weights))(keys)
    weights = np.asarray(weights).reshape(draws, -1)
    real = np.asarray(problem.weights).reshape(-1) > 0
    assert (weights.sum(axis=1) == SIZE).all()  # without replacement: SIZE distinct each draw
    assert (weights[:, ~real] == 0).all()
    p = SIZE / M_REAL
    freq = weights[:, real].mean(axis=0)
    assert np.abs(freq - p).max() < 5 * np.sqrt(p * (1 - p) / draws), freq


def test_vmap_over_runs_equals_one_run_at_a_time():
    problem = _problem("dense")
    keys = jax.random.split(jax.random.PRNGKey(3), 4)
    batched = jax.vmap(lambda k: problem.minibatch(k, SIZE).weights)(keys)
    for k, w in zip(keys, batched):
        np.testing.assert_array_equal(w, problem.minibatch(k, SIZE).weights)


@pytest.mark.parametrize("kind", KINDS)
def test_a_size_above_the_real_count_draws_every_real_measurement(kind):
    problem = _problem(kind)
    for size in (M_REAL, M_REAL + 2, 1000):
        batch = problem.minibatch(jax.random.PRNGKey(0), size)
        np.testing.assert_array_equal(batch.weights, problem.weights)


@pytest.mark.parametrize("size", [0, -1, 2.5])
def test_a_bad_size_is_refused(size):
    with pytest.raises(ValueError, match="size"):
        _problem("dense").minibatch(jax.random.PRNGKey(0), size)


# ----- end to end: train.batch_size on the built-in problems ---------------------------------

PROBLEMS = {
    "gaussian_sensing": {"kind": "gaussian_sensing", "d1": 4, "d2": 4, "rank": 1, "m": 20},
    "bernoulli_completion": {"kind": "bernoulli_completion", "d1": 5, "d2": 5, "rank": 1,
                             "p": 0.8},
}


def _sweep(problem: dict, batch_size, name: str) -> dict:
    return {"name": name, "problem": problem, "model": {"kind": "two_factor", "init_scale": 0.1},
            "optimizer": {"name": "gd", "learning_rate": 0.05},
            "train": {"max_steps": 40, "log_every": 20, "stop_loss": 0.0,
                      "batch_size": batch_size},
            "seeds": [0, 1], "baselines": [], "measures": ["train_loss"],
            "log_measures": ["train_loss"]}


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_batch_size_trains_built_in_matrix_problems(kind, tmp_path):
    mini = op.run(_sweep(PROBLEMS[kind], 4, "mini"), out=tmp_path, progress=False).runs
    full = op.run(_sweep(PROBLEMS[kind], None, "full"), out=tmp_path, progress=False).runs
    mini, full = mini.sort_values("seed"), full.sort_values("seed")
    assert (mini["status"] == "max_steps").all() and (mini["steps"] == 40).all()
    assert np.isfinite(mini["train_loss"]).all()
    assert not np.allclose(mini["train_loss"], full["train_loss"])  # another path


def test_batch_size_above_the_measurements_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"train\.batch_size: 21 is more than the 20"):
        op.run(_sweep(PROBLEMS["gaussian_sensing"], 21, "big"), out=tmp_path, progress=False)
    assert not (tmp_path / "big").exists()
