"""The exact-constraint path by a host-side affine set, and certified failures: the affine
set against a dense pseudo-inverse, its ADMM against the in-program one, the certificate's
bound against the fully solved error, and the configs that use them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pydantic import ValidationError

from overparam import registry
from overparam.problems import DenseSensing, MatrixProblem
from overparam.solvers import affine_set, nuclear_norm_min
from overparam.solvers._certify import CERTIFY_MARGIN, failure_norm
from overparam.solvers.kinds import nuclear_norm as nuclear_kind
from overparam.solvers.kinds.flat import FlatConfig, solve_one
from overparam.solvers.kinds.nuclear_norm import NuclearNormConfig

_exact = jax.jit(nuclear_norm_min, static_argnames=("max_iters", "eps", "equality"))


def build(fields: dict, dtype=jnp.float64):
    entry = registry.PROBLEMS.get(fields["kind"])
    return registry.resolve(entry.build)(entry.config.model_validate(fields), dtype)


def dense(a: np.ndarray, y: np.ndarray, weights=None, shape=(2, 3)) -> MatrixProblem:
    w = np.ones(len(a)) if weights is None else weights
    op = DenseSensing(jnp.asarray(a), jnp.asarray(w), jnp.zeros(shape))
    return MatrixProblem(op, jnp.asarray(y), None)


def projector(a: np.ndarray) -> np.ndarray:
    """I - A^+ A by numpy's pseudo-inverse (the obvious reference)."""
    return np.eye(a.shape[1]) - np.linalg.pinv(a) @ a


# (rows, weights): independent rows (Cholesky-QR), a padding row, a dependent row and a
# nearly dependent one (the SVD fallback), more rows than entries.
RNG = np.random.default_rng(0)
ROWS = {
    "independent": (RNG.standard_normal((4, 6)), None),
    "padding": (np.vstack([RNG.standard_normal((3, 6)), np.zeros((2, 6))]),
                np.array([1.0, 1.0, 1.0, 0.0, 0.0])),
    "dependent": (np.vstack([RNG.standard_normal((3, 6))] * 2)[:4], None),
    "nearly_dependent": (np.array([[1.0, 0, 0, 0, 0, 0], [1.0, 1e-9, 0, 0, 0, 0]]), None),
    "tall": (RNG.standard_normal((8, 6)), None),
}


@pytest.mark.parametrize("case", sorted(ROWS))
def test_affine_set_matches_the_pseudo_inverse(x64, case):
    a, w = ROWS[case]
    real = np.ones(len(a), bool) if w is None else w > 0
    x_true = RNG.standard_normal(6)
    y = np.where(real, a @ x_true, 0.0)
    s = affine_set(dense(a, y, w))
    basis, x0 = np.asarray(s.basis), np.asarray(s.x0).reshape(-1)
    ar = a[real]
    # the reference itself is only as accurate as cond(A) * eps: about 2e9 * 2.2e-16 = 4e-7
    # for the nearly dependent rows (numpy's pinv missed by 1.2e-7 on one machine)
    atol = 1e-6 if case == "nearly_dependent" else 1e-7
    np.testing.assert_allclose(np.eye(6) - basis.T @ basis, projector(ar), atol=atol)
    np.testing.assert_allclose(x0, np.linalg.pinv(ar) @ y[real], atol=1e-7)
    np.testing.assert_allclose(ar @ x0, y[real], atol=1e-9)


@pytest.mark.parametrize("kind", ["gaussian_sensing", "bilinear_sensing"])
def test_admm_on_the_affine_set_equals_the_in_program_projection(x64, kind):
    problem = build({"kind": kind, "d1": 5, "d2": 4, "rank": 1, "m": 14, "seed": 3})
    a = _exact(problem, eps=1e-10, max_iters=20000, equality=True)
    b = _exact(affine_set(problem), eps=1e-10, max_iters=20000, equality=True)
    assert bool(a.converged) and bool(b.converged)
    np.testing.assert_allclose(np.asarray(b.x), np.asarray(a.x), atol=1e-8)


def test_affine_set_needs_equality(x64):
    a, _ = ROWS["independent"]
    with pytest.raises(ValueError, match="equality"):
        nuclear_norm_min(affine_set(dense(a, np.ones(4))), eps=1e-6)
    with pytest.raises(ValueError, match="stop_norm needs equality"):
        nuclear_norm_min(dense(a, np.ones(4)), stop_norm=1.0)


def _fails_and_succeeds():
    """Seeds of 10 x 10 rank-2 completions at p = 0.5 whose flat relaxation fails (seeds 0-2,
    errors 0.05 to 0.33 when solved to eps) and of one that succeeds (20 x 20, seed 0)."""
    fail = [build({"kind": "bernoulli_completion", "d1": 10, "d2": 10, "rank": 2, "p": 0.5,
                   "seed": s}) for s in range(3)]
    win = build({"kind": "bernoulli_completion", "d1": 20, "d2": 20, "rank": 2, "p": 0.5,
                 "seed": 0})
    return fail, win


def test_certified_failures_are_failures_and_stop_early(x64):
    fail, win = _fails_and_succeeds()
    for problem in fail:
        full = solve_one(FlatConfig(), problem)
        cert = solve_one(FlatConfig(certify_failure=True), problem)
        err_full = np.linalg.norm(np.asarray(full.x) - np.asarray(problem.truth))
        err_cert = np.linalg.norm(np.asarray(cert.x) - np.asarray(problem.truth))
        print(full.status, full.iterations, err_full, cert.status, cert.iterations, err_cert)
        assert cert.status == "certified_failure"
        assert cert.iterations < full.iterations
        assert err_full > CERTIFY_MARGIN * 1e-6 and err_cert > CERTIFY_MARGIN * 1e-6
    full = solve_one(FlatConfig(), win)
    cert = solve_one(FlatConfig(certify_failure=True), win)
    assert full.status == cert.status == "converged"
    np.testing.assert_array_equal(np.asarray(cert.x), np.asarray(full.x))


def test_the_bound_holds_for_the_exact_minimizer(x64):
    # The certificate's inequality itself: at the exact minimizer Y* (solved to 1e-12),
    # ||D1^-1 Y* D2^-1 - M||_F >= (||M_Y||_* - ||Y*||_*) / (sqrt(d) ||D1|| ||D2||).
    from overparam.solvers._flat import flat_weights, rescaled_problem

    for problem in _fails_and_succeeds()[0]:
        w = flat_weights(problem.operator)
        d1, d2 = np.linalg.inv(w.d1_inv), np.linalg.inv(w.d2_inv)
        res = _exact(rescaled_problem(problem, w), eps=1e-12, max_iters=100_000,
                     equality=True)
        y = np.asarray(res.x)
        m = np.asarray(problem.truth)
        gap = np.linalg.norm(d1 @ m @ d2, "nuc") - np.linalg.norm(y, "nuc")
        bound = gap / (np.sqrt(10) * np.linalg.norm(d1, 2) * np.linalg.norm(d2, 2))
        err = np.linalg.norm(w.d1_inv @ y @ w.d2_inv - m)
        print(gap, bound, err)
        assert 0 < bound <= err


def test_no_certificate_without_a_fitting_truth(x64):
    problem = build({"kind": "gaussian_sensing", "d1": 4, "d2": 4, "rank": 1, "m": 10})
    assert failure_norm(problem) is not None
    assert failure_norm(problem._replace(truth=None)) is None
    noisy = problem._replace(observations=problem.observations + 1e-3)
    assert failure_norm(noisy) is None
    out = solve_one(FlatConfig(certify_failure=True), noisy._replace(truth=None))
    assert out.status in ("converged", "max_steps")


def test_nuclear_kind_exact_path_agrees_with_nuclear_norm_min(x64):
    # The kind's exact path (affine set, shared program, certificate) reaches the verdicts
    # of nuclear_norm_min's own equality path solved to eps, and its successes.
    fail, win = _fails_and_succeeds()
    cfg = NuclearNormConfig(tol=0.0, eps=1e-9, max_iters=50_000, equality=True,
                            certify_failure=True)
    problems = [*fail, win]
    outs = dict(nuclear_kind.solve([cfg] * len(problems), problems, devices=jax.devices(),
                                   max_batch=4))
    ref = [_exact(p, eps=1e-9, max_iters=50_000, equality=True) for p in problems]
    for i, problem in enumerate(problems):
        err = np.linalg.norm(np.asarray(outs[i].x) - np.asarray(problem.truth))
        err_ref = np.linalg.norm(np.asarray(ref[i].x) - np.asarray(problem.truth))
        print(outs[i].status, outs[i].iterations, err, int(ref[i].iterations), err_ref)
        assert (err < 1e-6) == (err_ref < 1e-6)
        if outs[i].status == "certified_failure":
            assert err > CERTIFY_MARGIN * 1e-6
        else:
            assert outs[i].status == "converged"
            np.testing.assert_allclose(np.asarray(outs[i].x), np.asarray(ref[i].x), atol=1e-8)


def test_nuclear_kind_batched_exact_path_agrees(x64, monkeypatch):
    fail, win = _fails_and_succeeds()
    problems = [fail[0], fail[1]]
    cfg = NuclearNormConfig(tol=0.0, eps=1e-9, max_iters=50_000, equality=True,
                            certify_failure=True)
    one = dict(nuclear_kind.solve([cfg] * 2, problems, devices=jax.devices(), max_batch=2))
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    many = dict(nuclear_kind.solve([cfg] * 2, problems, devices=jax.devices()[:1],
                                   max_batch=2))
    for i in range(2):
        assert one[i].status == many[i].status == "certified_failure"


def test_exact_options_are_validated():
    with pytest.raises(ValidationError, match="equality = true needs tol = 0"):
        NuclearNormConfig(tol=1e-3, equality=True)
    with pytest.raises(ValidationError, match="equality = true needs tol = 0"):
        NuclearNormConfig(tol=0.0, equality=True, backend="cvxpy")
    with pytest.raises(ValidationError, match="certify_failure = true needs equality"):
        NuclearNormConfig(tol=0.0, certify_failure=True)


def test_flat_batched_path_agrees_with_one_solve_each(x64, monkeypatch):
    # The accelerator path (vmap over solves of one shape), run here on one CPU device by
    # pretending the backend is a GPU: the same statuses and solutions as solve_one.
    from overparam.solvers.kinds import flat as flat_kind

    problems = [build({"kind": "gaussian_sensing", "d1": 5, "d2": 5, "rank": 1, "m": 14,
                       "seed": s}) for s in range(2)]
    problems.append(build({"kind": "bilinear_sensing", "d1": 5, "d2": 5, "rank": 1, "m": 10,
                           "seed": 0}))
    problems += [build({"kind": "bernoulli_completion", "d1": 10, "d2": 10, "rank": 2,
                        "p": 0.5, "seed": s}) for s in range(2)]
    problems.append(build({"kind": "bernoulli_completion", "d1": 6, "d2": 6, "rank": 1,
                           "p": 0.05, "seed": 0}))  # an empty row: singular weights
    cfgs = [FlatConfig(certify_failure=i % 2 == 0) for i in range(len(problems))]
    ref = [solve_one(c, p) for c, p in zip(cfgs, problems)]
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    got = dict(flat_kind.solve(cfgs, problems, devices=jax.devices()[:1], max_batch=2))
    assert sorted(got) == list(range(len(problems)))
    for i, r in enumerate(ref):
        print(i, r.status, got[i].status, r.iterations, got[i].iterations)
        assert got[i].status == r.status
        assert got[i].iterations == r.iterations
        np.testing.assert_allclose(np.asarray(got[i].x), np.asarray(r.x), atol=1e-9,
                                   equal_nan=True)
    assert {r.status for r in ref} >= {"converged", "certified_failure", "singular_weights"}
