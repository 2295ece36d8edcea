"""Each measure against a slow numpy reference, and the registry's generic checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.measures import (
    MEASURES,
    MeasureContext,
    effective_rank,
    get_measure,
    nuclear_norm,
    reconstruction_error,
    schatten_quasi_norm,
    singular_values,
    unobserved_error,
)
from overparam.measures._recovery import heldout_error, unobserved_max_abs
from overparam.measures._spectral import SCHATTEN_PS, determinant, schatten_quasi_norms
from overparam.models import deep_factorization
from overparam.problems import entries_problem, low_rank_truth, make_completion, make_sensing


@pytest.fixture
def matrix(x64):
    return jax.random.normal(jax.random.PRNGKey(0), (7, 5), jnp.float64)


def test_spectral_measures_against_numpy(matrix):
    s = np.linalg.svd(np.asarray(matrix), compute_uv=False)
    np.testing.assert_allclose(singular_values(matrix), s, rtol=1e-12)
    assert float(nuclear_norm(matrix)) == pytest.approx(s.sum(), rel=1e-12)
    p = s / s.sum()
    assert float(effective_rank(matrix)) == pytest.approx(np.exp(-(p * np.log(p)).sum()),
                                                          rel=1e-12)
    assert float(schatten_quasi_norm(matrix, 2 / 3)) == pytest.approx(
        (s ** (2 / 3)).sum() ** 1.5, rel=1e-12)
    assert float(schatten_quasi_norm(matrix, 2.0)) == pytest.approx(np.linalg.norm(matrix),
                                                                    rel=1e-12)


def test_effective_rank_of_k_equal_singular_values_is_k(x64):
    x = jnp.diag(jnp.asarray([3.0, 3.0, 3.0, 0.0, 0.0], jnp.float64))
    assert float(effective_rank(x)) == pytest.approx(3.0, rel=1e-12)


def _erank(s: np.ndarray) -> float:
    p = s[s > 0] / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


@pytest.mark.parametrize("dtype, rel", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_effective_rank_of_k_equal_singular_values_in_random_bases_is_k(x64, dtype, rel, k):
    """U diag(2.5 x k, 0, ...) V^T with Haar U, V: worst seen 1.2e-6 (float32), 9e-15 (float64)."""
    rng = np.random.default_rng(k)
    u, _ = np.linalg.qr(rng.normal(size=(7, 7)))
    v, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    s = np.where(np.arange(5) < k, 2.5, 0.0)
    x = jnp.asarray(u[:, :5] @ np.diag(s) @ v.T, dtype)
    assert float(effective_rank(x)) == pytest.approx(k, rel=rel)


@pytest.mark.parametrize("dtype, rel", [("float32", 1e-5), ("float64", 1e-12)])
def test_effective_rank_of_a_rank_5_truth_from_its_singular_values(x64, dtype, rel):
    """The paper's 100x100 rank-5 truth against exp(entropy) of its top 5 singular values (the
    other 95 are rounding: they move float32's value by ~5e-6 relative, float64's by 2e-14)."""
    t = low_rank_truth(jax.random.PRNGKey(0), 100, 100, 5, jnp.dtype(dtype))
    s = np.linalg.svd(np.asarray(t, np.float64), compute_uv=False)
    assert s[5] < 1e-4 * s[4]
    expected = _erank(s[:5])
    assert 4.5 < expected < 5  # unequal singular values: below 5
    assert float(effective_rank(t)) == pytest.approx(expected, rel=rel)


def test_reconstruction_errors_against_numpy(x64):
    t = low_rank_truth(jax.random.PRNGKey(1), 6, 6, 2, jnp.float64)
    p = make_completion(jax.random.PRNGKey(2), t, 10)
    x = t + 0.1 * jax.random.normal(jax.random.PRNGKey(3), (6, 6), jnp.float64)
    tt, xx, mask = np.asarray(t), np.asarray(x), np.asarray(p.operator.mask)
    # the paper's "test loss": mean over all entries of (X - W*)^2 for an RMS-1 truth
    assert float(reconstruction_error(p, x)) == pytest.approx(np.mean((xx - tt) ** 2), rel=1e-10)
    hidden = mask == 0
    expected = np.mean((xx - tt)[hidden] ** 2) / np.mean(tt**2)
    assert float(unobserved_error(p, x)) == pytest.approx(expected, rel=1e-12)
    s = make_sensing(jax.random.PRNGKey(4), t, 5)
    assert np.isnan(float(unobserved_error(s, x)))
    assert np.isnan(float(reconstruction_error(s._replace(truth=None), x)))


# measures of models of data (Xie et al. 2017): run on a ReLU network and a data set; the
# error rates on a 3-class problem, the rest on a one-output regression (s_m(D) needs one)
NETWORK_MEASURES = {"data_loss", "valid_loss", "test_loss", "train_error_rate",
                    "valid_error_rate", "test_error_rate", "s_min_D", "loss_bound",
                    "discrepancy", "kernel_lambda_min"}


def _matrix_case(dt):
    model = deep_factorization(4, 4, 2)
    t = low_rank_truth(jax.random.PRNGKey(0), 4, 4, 1, dt)
    problem = make_completion(jax.random.PRNGKey(1), t, 8)
    problem = problem._replace(test=make_completion(jax.random.PRNGKey(5), t, 4))
    # a reference solution for the measures that compare with one (distance_to_flat)
    problem = problem._replace(references={"flat": {"x": t, "hessian_trace":
                                                    jnp.asarray(2.0, dt)}})
    keys = jax.random.split(jax.random.PRNGKey(2), 3)
    return model, jax.vmap(lambda k: model.init(k, 0.5, dt))(keys), problem, None


def _network_case(dt, classes: bool):
    from overparam.models._relu import relu_network
    from overparam.objectives._data import cross_entropy_fit, make_objective, squared_fit
    from overparam.problems._data import data_problem

    rng = np.random.default_rng(0)
    x = rng.normal(size=(14, 4))
    y = rng.integers(0, 3, 14) if classes else rng.normal(size=14)
    problem = data_problem(x[:10], y[:10], x[10:], y[10:], validation=2, dtype=dt)
    model = relu_network(4, 24, outputs=3 if classes else 1)
    keys = jax.random.split(jax.random.PRNGKey(2), 3)
    params = jax.vmap(lambda k: model.init(k, 1.0, dtype=dt))(keys)
    fit = make_objective(cross_entropy_fit if classes else squared_fit, "lune")
    return model, params, problem, lambda p, b: fit(model, p, b, {"diversity": 0.1})


@pytest.mark.parametrize("name", sorted(MEASURES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_measure_is_finite_jits_vmaps_and_keeps_dtype(name, dtype):
    with jax.enable_x64(dtype == "float64"):
        dt = jnp.dtype(dtype)
        if name in NETWORK_MEASURES:
            model, params, problem, objective = _network_case(dt, "error_rate" in name)
        else:
            model, params, problem, objective = _matrix_case(dt)
        fn = get_measure(name).fn
        traces = []

        def context(p):
            return MeasureContext(model, p, problem, objective)

        def counted(p):
            traces.append(1)
            return fn(context(p))

        f = jax.jit(jax.vmap(counted))
        out = f(params)
        f(jax.tree.map(lambda x: x + 1, params))  # no recompilation on a second call
        assert len(traces) == 1
        single = [fn(context(jax.tree.map(lambda x: x[i], params))) for i in range(3)]
        # sv_rate_measured is a central difference with step eps^(1/3): its rounding error is
        # ~eps^(2/3) = 2.4e-5 relative in float32, and a vmapped program rounds differently
        # (1.3e-4 measured on an AMD EPYC); every other measure agrees to 1e-5
        rtol32 = 1e-3 if name == "sv_rate_measured" else 1e-5
        np.testing.assert_allclose(out, np.stack(single), rtol=rtol32 if dtype == "float32"
                                   else 1e-12)
        assert out.dtype == dt
        assert np.all(np.isfinite(out))
        size = len(SCHATTEN_PS) if name == "schatten_quasi_norms" else 4
        assert out.shape == ((3, size) if get_measure(name).vector else (3,))


def test_network_measures_are_the_registered_ones_of_the_network_module():
    from overparam.registry import MEASURES as SPECS

    ours = {n for n, spec in SPECS.items() if str(spec.fn).startswith(
        "overparam.measures._network:")}
    assert ours == NETWORK_MEASURES


def test_unknown_measure_is_refused():
    with pytest.raises(ValueError, match="measure must be one of"):
        get_measure("nuclear")


def test_razin_measures_against_numpy(x64):
    x = jax.random.normal(jax.random.PRNGKey(7), (3, 3), jnp.float64)
    problem = entries_problem(3, 3, [0, 1, 2], [1, 0, 2], [1.0, 2.0, 3.0], jnp.float64)
    xx = np.asarray(x)
    s = np.linalg.svd(xx, compute_uv=False)
    expected = [(s**p).sum() ** (1 / p) for p in SCHATTEN_PS]
    np.testing.assert_allclose(schatten_quasi_norms(x), expected, rtol=1e-12)
    assert float(determinant(x)) == pytest.approx(np.linalg.det(xx), rel=1e-12)
    assert np.isnan(float(determinant(x[:, :2])))
    hidden = np.ones((3, 3), bool)
    hidden[[0, 1, 2], [1, 0, 2]] = False
    assert float(unobserved_max_abs(problem, x)) == pytest.approx(np.abs(xx[hidden]).max())
    assert np.isnan(float(heldout_error(problem, x)))
    with_test = problem._replace(test=entries_problem(3, 3, [2], [0], [5.0], jnp.float64))
    assert float(heldout_error(with_test, x)) == pytest.approx((xx[2, 0] - 5.0) ** 2)
    full = entries_problem(1, 1, [0], [0], [1.0], jnp.float64)
    assert np.isnan(float(unobserved_max_abs(full, x[:1, :1])))
