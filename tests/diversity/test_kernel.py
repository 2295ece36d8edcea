"""The ReLU kernel and its Funk-Hecke spectrum, against Monte Carlo over units, sampled Gram
matrices, scipy quadrature with Gegenbauer polynomials, and the table in the paper notes."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special

from helpers import rel_err
from overparam.diversity import (
    feature_gram,
    harmonic_multiplicity,
    kernel_lambda_min,
    kernel_spectrum,
    legendre_d,
    relu_kernel,
)

kernel = jax.jit(relu_kernel)  # once per shape: eager dispatch of each small op is slow
lambda_min = jax.jit(kernel_lambda_min)

# shared/papers/xie2017.md, section 4: lambda_u at degrees 0, 1, 2, 4, 6, 8, 10
NOTES_TABLE = {
    3: ["6.25e-02", "8.33e-02", "2.73e-02", "2.28e-03", "6.56e-04", "2.78e-04", "1.44e-04"],
    10: ["1.67e-02", "2.50e-02", "2.90e-03", "4.01e-05", "2.78e-06", "3.65e-07", "6.95e-08"],
    50: ["3.22e-03", "5.00e-03", "1.25e-04", "9.20e-08", "4.26e-10", "4.52e-12", "8.24e-14"],
}


def _sphere(rng, m, d):
    x = rng.standard_normal((m, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_relu_kernel_matches_its_formula_for_vectors_of_any_norm(x64):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 3)) * 3, rng.standard_normal((5, 3))
    ref = np.empty((4, 5))
    for i, x in enumerate(X):
        for j, y in enumerate(Y):
            theta = math.acos(np.clip(x @ y / np.linalg.norm(x) / np.linalg.norm(y), -1, 1))
            ref[i, j] = x @ y * (math.pi - theta) / (2 * math.pi)
    np.testing.assert_allclose(kernel(X, Y), ref, rtol=1e-12)
    np.testing.assert_allclose(np.diag(kernel(X, X)), np.sum(X * X, 1) / 2, rtol=1e-12)
    assert np.all(np.asarray(kernel(np.zeros((1, 3)), Y)) == 0)


def test_relu_kernel_is_the_mean_of_dtd_over_many_random_units():
    """E_w[D^T D] / n = K: Monte Carlo over n Gaussian units, within 4 standard errors."""
    rng = np.random.default_rng(1)
    X = _sphere(rng, 6, 4)
    n = 40_000
    W = rng.standard_normal((n, 4))
    on = (X @ W.T > 0).astype(np.float64)  # (m, n)
    per_unit = (X @ X.T)[:, :, None] * on[:, None, :] * on[None, :, :]
    mc, se = per_unit.mean(-1), per_unit.std(-1) / np.sqrt(n)
    K = np.asarray(kernel(X, X), np.float64)
    assert np.all(np.abs(mc - K) <= 4 * se + 1e-6), np.max(np.abs(mc - K) / (se + 1e-12))
    gram = np.asarray(feature_gram(W, np.ones(n), X), np.float64) / n
    np.testing.assert_allclose(gram, mc, rtol=1e-4, atol=1e-6)


def test_kernel_lambda_min_matches_numpy_and_the_notes(x64):
    rng = np.random.default_rng(2)
    X = _sphere(rng, 100, 10)
    got = float(lambda_min(X))
    assert got == pytest.approx(np.linalg.eigvalsh(np.asarray(kernel(X, X)))[0], rel=1e-10)
    assert 0.045 < got < 0.065  # notes: d=10, m=100 gives lambda_min(K) = 0.055
    Xs = jnp.asarray(rng.standard_normal((3, 8, 5)))
    np.testing.assert_allclose(jax.jit(jax.vmap(kernel_lambda_min))(Xs),
                               [float(lambda_min(x)) for x in Xs], rtol=1e-10)


@pytest.mark.parametrize("d", [2, 3, 5, 10, 50, 784])
def test_lambda_1_is_one_over_4d_and_odd_degrees_vanish(d):
    s = kernel_spectrum(d, 11)
    assert s.eigenvalues[1] == pytest.approx(1 / (4 * d), rel=1e-12)
    assert np.all(np.abs(s.eigenvalues[3::2]) < 1e-12 * s.eigenvalues[0])
    assert np.all(s.eigenvalues[0::2] > 0)
    assert np.all(np.diff(s.eigenvalues[0::2]) < 0)


def test_lambda_0_in_closed_form():
    assert kernel_spectrum(2, 0).eigenvalues[0] == pytest.approx(1 / math.pi**2, rel=1e-13)
    assert kernel_spectrum(3, 0).eigenvalues[0] == pytest.approx(1 / 16, rel=1e-13)


@pytest.mark.parametrize("d", sorted(NOTES_TABLE))
def test_spectrum_matches_the_notes_table(d):
    lam = kernel_spectrum(d, 10).eigenvalues[[0, 1, 2, 4, 6, 8, 10]]
    assert [f"{x:.2e}" for x in lam] == NOTES_TABLE[d]


@pytest.mark.parametrize("d", [3, 5, 10])
def test_spectrum_matches_scipy_quad_with_gegenbauer_polynomials(d):
    """Slow reference: the Funk-Hecke integral in t with scipy's Gegenbauer C_u^(alpha)."""
    alpha = (d - 2) / 2
    ratio = special.gamma(d / 2) / (math.sqrt(math.pi) * special.gamma((d - 1) / 2))

    def k(t):
        return t / 4 + t * np.arcsin(t) / (2 * math.pi)

    ref = []
    for u in range(9):
        c1 = special.eval_gegenbauer(u, alpha, 1.0)
        val, _ = integrate.quad(
            lambda t: k(t) * special.eval_gegenbauer(u, alpha, t) / c1
            * (1 - t * t) ** ((d - 3) / 2), -1, 1, epsabs=1e-13, epsrel=1e-10, limit=200)
        ref.append(ratio * val)
    np.testing.assert_allclose(kernel_spectrum(d, 8).eigenvalues, ref, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5, 10])
def test_legendre_d_is_the_normalised_gegenbauer(d):
    t = np.linspace(-1, 1, 7)
    p = legendre_d(6, d, t)
    for u in range(7):
        ref = (special.eval_chebyt(u, t) if d == 2 else
               special.eval_gegenbauer(u, (d - 2) / 2, t) / special.eval_gegenbauer(
                   u, (d - 2) / 2, 1.0))
        np.testing.assert_allclose(p[u], ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("d", [2, 3, 4, 10])
def test_multiplicity_is_the_dimension_of_harmonic_polynomials(d):
    """N(d, u) = dim of homogeneous degree-u polynomials minus those of degree u - 2."""
    for u in range(8):
        dim = math.comb(u + d - 1, d - 1) - (math.comb(u + d - 3, d - 1) if u >= 2 else 0)
        assert harmonic_multiplicity(d, u) == dim
    np.testing.assert_array_equal(kernel_spectrum(d, 7).multiplicities,
                                  [harmonic_multiplicity(d, u) for u in range(8)])


def test_the_spectrum_sums_to_the_trace_and_expands_the_kernel():
    """sum_u N(d,u) lambda_u P_u(t) = k(t); at t = 1 this is E K(x, x) = 1/2."""
    s = kernel_spectrum(3, 400)
    partial = np.cumsum(s.eigenvalues * s.multiplicities)
    assert np.all(partial < 0.5 + 1e-12)
    assert 0.0 < 0.5 - partial[-1] < 1e-3  # the tail decays like 1/U for d = 3
    assert 0.5 - partial[100] > 0.5 - partial[-1]
    d, U = 5, 200
    s = kernel_spectrum(d, U)
    t = np.array([-0.7, -0.2, 0.0, 0.4, 0.9])
    series = (s.eigenvalues * s.multiplicities) @ legendre_d(U, d, t)
    np.testing.assert_allclose(series, t / 4 + t * np.arcsin(t) / (2 * np.pi), atol=1e-5)


def test_sampled_gram_eigenvalues_over_m_approach_the_spectrum():
    """Monte Carlo: the top eigenvalues of K(X, X)/m for m uniform points on S^2 are lambda_1
    (x3), lambda_0 (x1), lambda_2 (x5), up to O(1/sqrt(m))."""
    rng = np.random.default_rng(3)
    m = 1500
    X = _sphere(rng, m, 3)
    ev = np.linalg.eigvalsh(np.asarray(kernel(X, X), np.float64))[::-1] / m
    s = kernel_spectrum(3, 2)
    ref = np.sort(np.repeat(s.eigenvalues, s.multiplicities.astype(int)))[::-1]
    assert rel_err(ev[:9], ref) < 0.1, (ev[:9], ref)
    assert ev.sum() == pytest.approx(0.5, rel=1e-5)  # trace / m = k(1)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="d must be >= 2"):
        kernel_spectrum(1, 3)
    with pytest.raises(ValueError, match="max_degree"):
        kernel_spectrum(3, -1)
    with pytest.raises(ValueError, match="need X"):
        relu_kernel(np.ones((2, 3)), np.ones((2, 4)))
