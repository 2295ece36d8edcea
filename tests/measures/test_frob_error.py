"""``frob_error`` and ``success`` (Ding et al. 2022's exact-recovery rule): known answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.measures import compute_measures, get_measure
from overparam.measures._exact_recovery import (
    SUCCESS_THRESHOLD,
    exact_recovery,
    frobenius_error,
)
from overparam.models import deep_factorization
from overparam.problems import MatrixProblem, entries_problem, low_rank_truth, make_completion


@pytest.fixture
def problem(x64):
    t = low_rank_truth(jax.random.PRNGKey(0), 5, 4, 2, jnp.float64)
    return make_completion(jax.random.PRNGKey(1), t / jnp.linalg.norm(t), 8)


def test_frob_error_is_the_absolute_frobenius_distance(problem):
    x = jax.random.normal(jax.random.PRNGKey(2), (5, 4), jnp.float64)
    want = np.linalg.norm(np.asarray(x) - np.asarray(problem.truth))
    assert float(frobenius_error(problem, x)) == pytest.approx(want, rel=1e-12)
    assert float(frobenius_error(problem, problem.truth)) == 0.0


@pytest.mark.parametrize("distance, expected", [
    (0.0, 1.0), (1e-9, 1.0), (0.5 * SUCCESS_THRESHOLD, 1.0), (0.99 * SUCCESS_THRESHOLD, 1.0),
    (1.01 * SUCCESS_THRESHOLD, 0.0), (1e-3, 0.0), (1.0, 0.0)])
def test_success_is_one_exactly_below_the_threshold(problem, distance, expected):
    direction = jnp.ones((5, 4), jnp.float64) / jnp.sqrt(20.0)  # unit Frobenius norm
    x = problem.truth + distance * direction
    assert float(frobenius_error(problem, x)) == pytest.approx(distance, rel=1e-6, abs=1e-15)
    assert float(exact_recovery(problem, x)) == expected


def test_success_threshold_is_ding_et_al_s_rule():
    assert SUCCESS_THRESHOLD == 1e-6


def test_nan_without_truth_and_zero_for_a_nan_prediction(problem):
    bare = entries_problem(2, 2, [0, 1], [1, 0], [1.0, 2.0], jnp.float64)
    x = jnp.zeros((2, 2), jnp.float64)
    assert np.isnan(float(frobenius_error(bare, x))) and np.isnan(float(exact_recovery(bare, x)))
    nan = jnp.full((5, 4), jnp.nan, jnp.float64)
    assert float(exact_recovery(problem, nan)) == 0.0


def test_registered_measures_on_a_model(problem):
    model = deep_factorization(5, 4, 1)  # depth 1: the parameter is the matrix itself
    out = compute_measures(["frob_error", "success"], model, (problem.truth,), problem)
    assert float(out["frob_error"]) == 0.0 and float(out["success"]) == 1.0
    out = compute_measures(["frob_error", "success"], model, (problem.truth + 1e-3,), problem)
    assert float(out["frob_error"]) == pytest.approx(np.sqrt(20) * 1e-3, rel=1e-9)
    assert float(out["success"]) == 0.0
    assert out["success"].dtype == jnp.float64
    assert not get_measure("success").vector and not get_measure("frob_error").needs


def test_support_size_counts_entries_above_the_threshold():
    import jax.numpy as jnp

    from overparam.measures import compute_measures
    from overparam.problems import MatrixProblem
    from overparam.sweep._references import MATRIX

    x = jnp.asarray([[0.5], [1e-7], [-2e-6], [0.0], [-1e-6]])
    problem = MatrixProblem(None, None, None)
    out = compute_measures(["support_size"], MATRIX, (x,), problem, factors=False)
    assert float(out["support_size"]) == 2.0


def test_nan_for_a_model_of_data_on_every_row():
    """frob_error and success are on every sweep's rows, so a model that takes inputs (a
    user's regression, a network) gets NaN rather than a call of its predict without data."""
    from overparam.models import Model

    def predict(params, inputs):
        return inputs @ params["w"]

    model = Model("data", lambda *a: None, predict, label="data", param_count=2,
                  activation_size=3, takes_inputs=True)
    problem = MatrixProblem(None, None, None)._replace(truth=jnp.ones(2))
    out = compute_measures(["frob_error", "success"], model, {"w": jnp.ones(2)}, problem)
    assert np.isnan(float(out["frob_error"])) and np.isnan(float(out["success"]))
