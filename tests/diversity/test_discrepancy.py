"""L2 discrepancy in closed form against Monte Carlo over pairs (x, y), its constants against
quadrature and sampling, and the regularizer's gradient against central finite differences."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from overparam.diversity import (
    discrepancy_constant,
    diversity_regularizer,
    l2_discrepancy,
    unit_directions,
)

# jitted once per shape: eager dispatch of each small op would dominate the test time
l2 = jax.jit(l2_discrepancy, static_argnames=("form", "squared"))
reg = jax.jit(diversity_regularizer, static_argnames=("form", "eps", "include_constant"))

# shared/papers/xie2017.md, section 5
NOTES_CONSTANTS = {3: (0.047358, 0.074339), 5: (0.024842, 0.068710), 10: (0.011212, 0.065303),
                   50: (0.002067, 0.063017), 784: (0.000129, 0.062532)}


def _sphere(rng, m, d):
    x = rng.standard_normal((m, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _mc_discrepancy_sq(W, form, pairs, seed):
    """Mean of disc(x, y)^2 over random pairs, counting the units in each set directly; and
    its standard error."""
    rng = np.random.default_rng(seed)
    d = W.shape[1]
    x, y = _sphere(rng, pairs, d), _sphere(rng, pairs, d)
    sx, sy = x @ W.T > 0, y @ W.T > 0  # (pairs, n)
    theta = np.arccos(np.clip(np.sum(x * y, 1), -1, 1))
    if form == "lune":
        disc = np.mean(sx & sy, 1) - (np.pi - theta) / (2 * np.pi)
    elif form == "wedge":
        disc = np.mean(sx != sy, 1) - theta / np.pi
    else:
        disc = np.mean(sx, 1) - 0.5
    sq = disc**2
    return sq.mean(), sq.std() / math.sqrt(pairs)


@pytest.mark.parametrize("d, n", [(5, 7), (3, 4), (10, 30)])
@pytest.mark.parametrize("form", ["lune", "wedge", "hemisphere"])
def test_closed_form_matches_monte_carlo(x64, d, n, form):
    W = np.random.default_rng(d + n).standard_normal((n, d)) * 2.0
    mc, se = _mc_discrepancy_sq(W, form, 200_000, seed=n)
    got = float(l2(W, form=form, squared=True))
    assert abs(got - mc) < 4 * se, (got, mc, se)
    assert float(l2(W, form=form)) == pytest.approx(math.sqrt(got), rel=1e-12)


@pytest.mark.parametrize("d", sorted(NOTES_CONSTANTS))
def test_constants_match_the_notes_and_the_identity(d):
    wedge, lune = discrepancy_constant(d, "wedge"), discrepancy_constant(d, "lune")
    assert (round(wedge, 6), round(lune, 6)) == NOTES_CONSTANTS[d]
    assert lune == pytest.approx(1 / 16 + wedge / 4, rel=1e-12)
    assert discrepancy_constant(d, "hemisphere") == pytest.approx(0.25, rel=1e-12)


def test_constants_in_closed_form():
    assert discrepancy_constant(2, "wedge") == pytest.approx(1 / 12, rel=1e-12)  # theta ~ U[0, pi]
    assert discrepancy_constant(3, "wedge") == pytest.approx(0.25 - 2 / math.pi**2, rel=1e-12)


@pytest.mark.parametrize("d", [4, 50])
def test_constants_match_scipy_quad_and_sampled_angles(d):
    def density(t):
        return math.sin(t) ** (d - 2)

    z, _ = integrate.quad(density, 0, math.pi, epsabs=0, epsrel=1e-13)
    for form, g in [("lune", lambda t: ((math.pi - t) / (2 * math.pi)) ** 2),
                    ("wedge", lambda t: (0.5 - t / math.pi) ** 2)]:
        val, _ = integrate.quad(lambda t: g(t) * density(t), 0, math.pi, epsabs=0, epsrel=1e-13)
        assert discrepancy_constant(d, form) == pytest.approx(val / z, rel=1e-9)
    rng = np.random.default_rng(d)
    theta = np.arccos(np.clip(np.sum(_sphere(rng, 100_000, d) * _sphere(rng, 100_000, d), 1),
                              -1, 1))
    g = (0.5 - theta / np.pi) ** 2
    assert abs(g.mean() - discrepancy_constant(d, "wedge")) < 4 * g.std() / math.sqrt(g.size)


def test_lune_is_half_hemisphere_plus_a_quarter_wedge_and_is_invariant(x64):
    rng = np.random.default_rng(4)
    W = rng.standard_normal((9, 4))

    def sq(w, form):
        return float(l2(w, form=form, squared=True))

    assert sq(W, "lune") == pytest.approx(sq(W, "hemisphere") / 2 + sq(W, "wedge") / 4,
                                          rel=1e-10)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    moved = (rng.uniform(0.1, 5, (9, 1)) * W @ Q.T)[rng.permutation(9)]
    for form in ("lune", "wedge", "hemisphere"):
        assert sq(moved, form) == pytest.approx(sq(W, form), rel=1e-10)
    flipped = W * np.where(np.arange(9) % 3 == 0, -1.0, 1.0)[:, None]
    assert sq(flipped, "wedge") == pytest.approx(sq(W, "wedge"), rel=1e-10)
    assert sq(flipped, "lune") != pytest.approx(sq(W, "lune"), rel=1e-6)


def test_unit_directions_normalise_rows_and_keep_zero_rows():
    W = jnp.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(unit_directions(W), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    assert np.all(np.isfinite(jax.jit(jax.grad(lambda w: unit_directions(w).sum()))(W)))


@pytest.mark.parametrize("form", ["lune", "wedge", "hemisphere"])
def test_regularizer_with_its_constant_is_the_squared_discrepancy(x64, form):
    W = np.random.default_rng(5).standard_normal((6, 3))
    np.testing.assert_allclose(reg(W, form=form, include_constant=True),
                               l2(W, form=form, squared=True), rtol=1e-10)


@pytest.mark.parametrize("form", ["lune", "wedge"])
def test_regularizer_gradient_matches_central_differences(x64, form):
    W = np.random.default_rng(6).standard_normal((5, 3))
    f = jax.jit(lambda w: diversity_regularizer(w, form=form))
    grad = np.asarray(jax.jit(jax.grad(f))(jnp.asarray(W)))
    h, fd = 1e-6, np.empty_like(W)
    for idx in np.ndindex(W.shape):
        e = np.zeros_like(W)
        e[idx] = h
        fd[idx] = (float(f(W + e)) - float(f(W - e))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-10)
    # scale invariance: the gradient is orthogonal to each row (Euler's identity, degree 0)
    np.testing.assert_allclose(np.sum(grad * W, 1), 0, atol=1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", ["lune", "wedge"])
def test_duplicated_and_antipodal_units_give_finite_gradients(form, dtype):
    with jax.enable_x64(dtype == "float64"):
        rng = np.random.default_rng(7)
        W = rng.standard_normal((5, 4))
        W[1] = W[0]  # duplicated
        W[2] = -2.0 * W[0]  # antipodal
        W[3] = W[0] * (1 + 1e-9)  # duplicated up to roundoff
        W = jnp.asarray(W, dtype)
        value, grad = jax.jit(jax.value_and_grad(lambda w: reg(w, form=form)))(W)
        assert grad.dtype == W.dtype
        assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
        assert np.any(np.asarray(grad) != 0)


def test_regularizer_under_jit_and_vmap_equals_a_loop():
    Ws = jnp.asarray(np.random.default_rng(8).standard_normal((3, 6, 4)), jnp.float32)
    loop = np.array([float(reg(w)) for w in Ws])
    np.testing.assert_allclose(jax.jit(jax.vmap(reg))(Ws), loop, rtol=1e-5)
    grads = jax.jit(jax.vmap(jax.grad(reg)))(Ws)
    np.testing.assert_allclose(grads[1], jax.jit(jax.grad(reg))(Ws[1]), rtol=1e-5)


def test_spreading_the_units_lowers_the_regularizer():
    rng = np.random.default_rng(9)
    mu = _sphere(rng, 1, 6)
    g = rng.standard_normal((40, 6))
    values = [float(reg(mu + s * g)) for s in (0.1, 0.5, 2.0)]
    assert values[0] > values[1] > values[2]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="form must be one of"):
        l2(np.ones((3, 2)), form="cap")
    with pytest.raises(ValueError, match="eps must be in"):
        reg(np.ones((3, 2)), eps=0.0)
    with pytest.raises(ValueError, match="d must be >= 2"):
        discrepancy_constant(1)
