"""DataProblem: splits, minibatches under jit and vmap, and the data-set problem kinds."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.errors import ConfigError
from overparam.problems._data import data_problem
from overparam.problems._stack import stack_problems


def _problem(m=10, validation=3):
    x = np.arange(m * 2, dtype=float).reshape(m, 2)
    return data_problem(x, np.arange(m), x[:4], np.arange(4), validation=validation)


def test_validation_is_carved_from_the_end_of_the_training_set():
    p = _problem()
    assert p.inputs.shape == (7, 2) and p.valid_inputs.shape == (3, 2)
    assert p.targets.dtype == jnp.int32 and p.classification
    np.testing.assert_array_equal(p.valid_targets, [7, 8, 9])
    test = p.split("test")
    np.testing.assert_array_equal(test.targets, np.arange(4))
    assert test.inputs.shape == (4, 2)


def test_float_targets_are_regression():
    x = np.ones((5, 3))
    p = data_problem(x, np.linspace(0, 1, 5), x, np.zeros(5))
    assert not p.classification and p.targets.dtype == jnp.float32


@pytest.mark.parametrize("validation", [-1, 10])
def test_bad_validation_names_the_field(validation):
    with pytest.raises(ConfigError, match="problem.validation"):
        _problem(validation=validation)


def test_minibatch_draws_distinct_examples_and_keeps_pairs():
    p = _problem(m=50, validation=0)
    batch = jax.jit(lambda k: p.minibatch(k, 8))(jax.random.PRNGKey(0))
    ids = np.asarray(batch.targets)
    assert len(set(ids.tolist())) == 8
    np.testing.assert_array_equal(np.asarray(batch.inputs)[:, 0], 2 * ids)  # rows stay paired
    assert p.minibatch(jax.random.PRNGKey(0), 50) is p  # full batch


def test_minibatch_draws_are_uniform():
    p = _problem(m=6, validation=0)
    keys = jax.random.split(jax.random.PRNGKey(1), 3000)
    drawn = np.asarray(jax.vmap(lambda k: p.minibatch(k, 2).targets)(keys)).ravel()
    counts = np.bincount(drawn, minlength=6) / len(drawn)
    np.testing.assert_allclose(counts, 1 / 6, atol=0.02)  # 6000 draws: sd 0.005


def test_batched_minibatch_agrees_with_each_problem():
    problems = [_problem(m=12, validation=0), _problem(m=12, validation=0)._replace(
        targets=jnp.arange(12, 24, dtype=jnp.int32))]
    stacked = stack_problems(problems)
    keys = jax.random.split(jax.random.PRNGKey(2), 2)
    both = jax.vmap(lambda p, k: p.minibatch(k, 4))(stacked, keys)
    for i, p in enumerate(problems):
        np.testing.assert_array_equal(both.targets[i], p.minibatch(keys[i], 4).targets)


def test_mnist_kind_takes_the_first_examples_and_carves_validation():
    from overparam.problems.kinds.mnist import MnistConfig, build

    p = build(MnistConfig(n_train=300, n_test=50, validation=100, sphere=True), jnp.float32)
    assert p.inputs.shape == (200, 784) and p.valid_inputs.shape == (100, 784)
    assert p.test_inputs.shape == (50, 784) and p.classification
    np.testing.assert_allclose(np.linalg.norm(p.inputs, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(p.test_targets[:5], [7, 2, 1, 0, 4])  # official test order
    with pytest.raises(ValueError, match="validation"):
        MnistConfig(n_train=10, validation=10)


def test_teacher_student_kind_holds_its_teacher():
    from overparam.problems.kinds.teacher_student import TeacherStudentConfig, build

    p = build(TeacherStudentConfig(d=4, n_teacher=3, m=20, m_test=10), jnp.float32)
    w, v = np.asarray(p.teacher["w"]), np.asarray(p.teacher["v"])
    want = np.maximum(0, np.asarray(p.test_inputs) @ w.T) @ v
    np.testing.assert_allclose(np.asarray(p.test_targets), want, rtol=1e-5, atol=1e-6)
