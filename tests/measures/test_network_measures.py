"""The ReLU-network measures and data fits against numpy references on small cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.measures import compute_measures
from overparam.models._relu import relu_network
from overparam.objectives._data import make_objective, squared_fit
from overparam.objectives._local import bind_objective
from overparam.objectives.kinds.data_fit import (
    CrossEntropyConfig,
    DataSquaredConfig,
    build_cross_entropy,
    build_squared,
)
from overparam.problems._data import data_problem

NETWORK = ["data_loss", "valid_loss", "test_loss", "train_error_rate", "test_error_rate",
           "s_min_D", "loss_bound", "discrepancy"]


def _explicit_D(w, v, x):
    """Column i = (v * 1[W x_i > 0]) kron x_i, one column at a time."""
    return np.stack([np.kron(v * (w @ xi > 0), xi) for xi in x], axis=1)


def _regression(m=12, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m + 5, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = rng.normal(size=m + 5)
    return data_problem(x[:m + 2], y[:m + 2], x[m + 2:], y[m + 2:], validation=2,
                        dtype=jnp.float64)


def _measures(model, params, problem, objective_cfg):
    build = build_squared if objective_cfg.kind == "data_squared" else build_cross_entropy
    hp = {"diversity": jnp.asarray(objective_cfg.diversity)}
    obj = bind_objective(build(objective_cfg), model, hp)
    return compute_measures(NETWORK, model, params, problem, objective=obj)


def test_regression_measures_match_numpy(x64):
    problem = _regression()
    model = relu_network(6, 24)  # dn = 144 >= m = 12; no input with every unit off
    params = model.init(jax.random.PRNGKey(1), init_scale=1.0, dtype=jnp.float64)
    out = _measures(model, params, problem, DataSquaredConfig(diversity=0.3))
    w, v = np.asarray(params["w"]), np.array([1.0] * 12 + [-1.0] * 12)
    x, y = np.asarray(problem.inputs), np.asarray(problem.targets)
    r = np.maximum(0, x @ w.T) @ v - y
    assert float(out["data_loss"]) == pytest.approx(0.5 * np.mean(r ** 2), rel=1e-12)
    xt, yt = np.asarray(problem.test_inputs), np.asarray(problem.test_targets)
    rt = np.maximum(0, xt @ w.T) @ v - yt
    assert float(out["test_loss"]) == pytest.approx(0.5 * np.mean(rt ** 2), rel=1e-12)
    D = _explicit_D(w, v, x)
    s = np.linalg.svd(D, compute_uv=False)[x.shape[0] - 1]
    assert s > 1e-2  # D has full column rank here, so the bound is finite
    assert float(out["s_min_D"]) == pytest.approx(s, rel=1e-9)
    # grad_W L = D r / m (the notes' identity), so the bound is m |D r / m|^2 / (2 s^2)
    m = x.shape[0]
    bound = m * np.sum((D @ r / m) ** 2) / (2 * s ** 2)
    assert float(out["loss_bound"]) == pytest.approx(bound, rel=1e-9)
    assert float(out["loss_bound"]) >= float(out["data_loss"])  # the bound holds
    assert np.isnan(float(out["test_error_rate"])) and np.isnan(float(out["train_error_rate"]))
    assert float(out["discrepancy"]) >= 0


def test_classification_error_rates_and_cross_entropy_match_numpy(x64):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 5))
    y = rng.integers(0, 3, size=30)
    problem = data_problem(x[:20], y[:20], x[20:], y[20:], dtype=jnp.float64)
    model = relu_network(5, 7, outputs=3)
    params = model.init(jax.random.PRNGKey(0), init_scale=1.0, dtype=jnp.float64)
    out = _measures(model, params, problem, CrossEntropyConfig())
    logits = np.maximum(0, x @ np.asarray(params["w"]).T) @ np.asarray(params["v"])
    wrong = lambda sl: 100 * np.mean(np.argmax(logits[sl], 1) != y[sl])  # noqa: E731
    assert float(out["train_error_rate"]) == pytest.approx(wrong(slice(0, 20)))
    assert float(out["test_error_rate"]) == pytest.approx(wrong(slice(20, 30)))
    z = logits[:20] - logits[:20].max(1, keepdims=True)
    ce = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(20), y[:20]])
    assert float(out["data_loss"]) == pytest.approx(ce, rel=1e-10)
    # one-output quantities and an empty validation split: NaN
    for name in ("s_min_D", "loss_bound", "valid_loss"):
        assert np.isnan(float(out[name])), name


def test_squared_fit_one_hot_encodes_labels(x64):
    logits = jnp.asarray([[0.5, 0.0], [0.0, 2.0]])
    want = 0.5 * np.mean([(0.5 - 1) ** 2 + 0, 0 + (2 - 1) ** 2])
    assert float(squared_fit(logits, jnp.asarray([0, 1]))) == pytest.approx(want)


def test_diversity_term_is_added_to_the_total_only(x64):
    from overparam.diversity import diversity_regularizer

    problem = _regression()
    model = relu_network(6, 4)
    params = model.init(jax.random.PRNGKey(1), init_scale=1.0, dtype=jnp.float64)
    obj = make_objective(squared_fit, "lune")
    total, fit = obj(model, params, problem, {"diversity": jnp.asarray(0.5)})
    reg = diversity_regularizer(params["w"], form="lune")
    assert float(total - fit) == pytest.approx(0.5 * float(reg), rel=1e-12)
    total0, fit0 = obj(model, params, problem, {"diversity": jnp.asarray(0.0)})
    assert float(total0) == float(fit0) == float(fit)


def test_network_measures_are_nan_on_a_matrix_problem(x64):
    from overparam.models import deep_factorization
    from overparam.problems import entries_problem

    bare = entries_problem(2, 2, [0, 1], [1, 0], [1.0, 2.0], jnp.float64)
    model = deep_factorization(2, 2, 2)
    params = model.init(jax.random.PRNGKey(0), init_scale=1e-2, dtype=jnp.float64)
    out = compute_measures(NETWORK, model, params, bare, objective=lambda p, b: (0.0, 0.0))
    assert all(np.isnan(float(v)) for v in out.values()), out


def test_kernel_lambda_min_matches_the_kernel_written_out(x64):
    problem = _regression(m=15, d=4)
    model = relu_network(4, 3)
    params = model.init(jax.random.PRNGKey(0), init_scale=1.0, dtype=jnp.float64)
    got = compute_measures(["kernel_lambda_min"], model, params, problem)["kernel_lambda_min"]
    x = np.asarray(problem.inputs)
    k = np.empty((15, 15))
    for i in range(15):
        for j in range(15):
            c = np.clip(x[i] @ x[j] / np.linalg.norm(x[i]) / np.linalg.norm(x[j]), -1, 1)
            k[i, j] = x[i] @ x[j] * (np.pi - np.arccos(c)) / (2 * np.pi)
    assert float(got) == pytest.approx(np.linalg.eigvalsh(k)[0], rel=1e-8, abs=1e-12)
