"""Hessian measures against the dense ``jax.hessian`` of the objective (flattened with
``ravel_pytree``) and against the closed forms of Ding et al. 2022 at exact minimizers, all in
float64 on problems with d <= 5."""

from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.flatten_util import ravel_pytree

import overparam as op
import overparam.measures._hessian as hessian
from overparam.measures import compute_measures
from overparam.models import Model, deep_factorization, end_to_end, zero_laplacian
from overparam.objectives import LocalLeastSquares, bind_objective, squared_objective
from overparam.problems import (
    EntryMask,
    MatrixProblem,
    low_rank_truth,
    make_completion,
    make_sensing,
    rank_one_sensing_problem,
    sensing_problem,
)

EXACT = ["hessian_trace", "hessian_trace_exact", "scaled_hessian_trace"]
ALL = ["hessian_trace_hutchinson", "hessian_trace_hutchinson_se", *EXACT,
       "hessian_max_eigenvalue"]  # one compiled program per model shape, shared by tests
D1, D2 = 4, 5


# ----- helpers --------------------------------------------------------------------------------


def _measures(names, model, params, problem, objective=squared_objective, key=0):
    """The measures, jitted with params and problem as arguments (same shapes, same program:
    the session's compilation cache serves the repeats)."""
    bound = bind_objective(objective, model, {})
    fn = jax.jit(lambda p, prob, k: compute_measures(names, model, p, prob, objective=bound,
                                                     key=k))
    return {k: float(v) for k, v in fn(params, problem, jax.random.PRNGKey(key)).items()}


def _dense_hessian(f, params, *args) -> np.ndarray:
    """The dense Hessian of ``f(params, *args)`` in the flattened params."""
    flat, unravel = ravel_pytree(params)
    return np.asarray(jax.jit(jax.hessian(lambda x, *a: f(unravel(x), *a)))(flat, *args))


def _loss_hessian(model, params, problem, objective=squared_objective) -> np.ndarray:
    return _dense_hessian(lambda p, prob: objective(model, p, prob, {})[0], params, problem)


def _block_traces(h: np.ndarray, params) -> np.ndarray:
    sizes = [leaf.size for leaf in jax.tree.leaves(params)]
    edges = np.cumsum([0] + sizes)
    return np.array([np.trace(h[a:b, a:b]) for a, b in zip(edges[:-1], edges[1:])])


def _problem(kind: str, truth, key: int = 1, m: int = 12) -> MatrixProblem:
    if kind == "completion":
        return make_completion(jax.random.PRNGKey(key), truth, m)
    if kind == "rank_one":
        ka, kb = jax.random.split(jax.random.PRNGKey(key))
        d1, d2 = truth.shape
        return rank_one_sensing_problem(truth, jax.random.normal(ka, (m, d1), truth.dtype),
                                        jax.random.normal(kb, (m, d2), truth.dtype))
    return make_sensing(jax.random.PRNGKey(key), truth, m)


def _sensing_matrices(problem) -> np.ndarray:
    d1, d2 = problem.shape
    return np.asarray(problem.operator.as_matrix()).reshape(-1, d1, d2)


# ----- models defined here (Ding et al.'s L R^T, U1 U1^T - U2 U2^T, Hadamard) -----------------


def _gaussian_init(shapes):
    def init(key, init_scale=1.0, dtype=jnp.float32):
        keys = jax.random.split(key, len(shapes))
        return tuple(jax.random.normal(k, s, dtype) * init_scale for k, s in zip(keys, shapes))
    return init


def _lr_model(d1: int, d2: int, k: int) -> Model:
    def predict(p):
        return p[0] @ p[1].T
    return Model("test_lr", _gaussian_init([(d1, k), (d2, k)]), predict,
                 info=MappingProxyType({"factor_rows": (d1, d2)}),
                 output_laplacian=zero_laplacian(predict))


def _symmetric_model(d: int, k1: int, k2: int) -> Model:
    """U1 U1^T - U2 U2^T with params (U1, U2); output Laplacian 2 (k1 - k2) I."""
    def predict(p):
        return p[0] @ p[0].T - p[1] @ p[1].T

    def laplacian(p):
        return 2.0 * (k1 - k2) * jnp.eye(d, dtype=p[0].dtype)
    return Model("test_symmetric", _gaussian_init([(d, k1), (d, k2)]), predict,
                 output_laplacian=laplacian)


def _uut_model(d: int, k: int) -> Model:
    """U U^T with params the bare array U; output Laplacian 2k I."""
    def init(key, init_scale=1.0, dtype=jnp.float32):
        return jax.random.normal(key, (d, k), dtype) * init_scale

    def laplacian(u):
        return 2.0 * k * jnp.eye(d, dtype=u.dtype)
    return Model("test_uut", init, lambda u: u @ u.T, output_laplacian=laplacian)


def _hadamard_model(d: int, depth: int) -> Model:
    def predict(p):
        x = p[0]
        for v in p[1:]:
            x = x * v
        return x[None, :]
    return Model("test_hadamard", _gaussian_init([(d,)] * depth), predict,
                 output_laplacian=zero_laplacian(predict))


def _symmetric_sensing(key, truth, m: int, rank_one: bool):
    """Sensing with symmetric A_i: x_i x_i^T (quadratic network) or (G + G^T)/2."""
    d = truth.shape[0]
    if rank_one:
        x = jax.random.normal(key, (m, d), truth.dtype)
        a = x[:, :, None] * x[:, None, :]
    else:
        g = jax.random.normal(key, (m, d, d), truth.dtype)
        a = (g + jnp.swapaxes(g, 1, 2)) / 2
    return sensing_problem(truth, a.reshape(m, d * d))


# ----- exact traces against the dense Hessian ---------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("kind", ["completion", "sensing", "rank_one"])
@pytest.mark.parametrize("point", ["random", "minimizer"])
def test_deep_factorization_exact_trace_against_dense_hessian(x64, depth, kind, point):
    model = deep_factorization(D1, D2, depth)
    params = model.init(jax.random.PRNGKey(2), 1.0, dtype=jnp.float64)
    truth = (end_to_end(params) if point == "minimizer"
             else low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2, jnp.float64))
    problem = _problem(kind, truth)
    got = _measures(EXACT, model, params, problem)
    h = _loss_hessian(model, params, problem)
    assert got["hessian_trace_exact"] == 1.0
    assert got["hessian_trace"] == pytest.approx(np.trace(h), rel=1e-10)
    if depth == 2:  # factor_rows (d2, d1) for (W1, W2)
        blocks = _block_traces(h, params)
        assert got["scaled_hessian_trace"] == pytest.approx(blocks[0] / D2 + blocks[1] / D1,
                                                            rel=1e-10)
    else:
        assert np.isnan(got["scaled_hessian_trace"])


@pytest.mark.parametrize("chunk_elements", [None, 40])
def test_two_factor_model_generic_path_agrees_with_the_depth_2_closed_form(
        x64, monkeypatch, chunk_elements):
    """L R^T (generic chunked VJPs; 40 numbers per chunk forces chunks of one measurement
    with padding) against the dense Hessian and against W2 W1 with W2 = L, W1 = R^T."""
    if chunk_elements is not None:
        monkeypatch.setattr(hessian, "CHUNK_ELEMENTS", chunk_elements)
    model = _lr_model(D1, D2, 3)
    params = model.init(jax.random.PRNGKey(3), 1.0, jnp.float64)
    problem = _problem("sensing", low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2, jnp.float64))
    got = _measures(EXACT, model, params, problem)
    blocks = _block_traces(_loss_hessian(model, params, problem), params)
    assert got["hessian_trace"] == pytest.approx(blocks.sum(), rel=1e-10)
    assert got["scaled_hessian_trace"] == pytest.approx(blocks[0] / D1 + blocks[1] / D2,
                                                        rel=1e-10)
    deep = deep_factorization(D1, D2, 2, width=3)
    w = (params[1].T, params[0])
    assert _measures(EXACT, deep, w, problem) == pytest.approx(got, rel=1e-10)


@pytest.mark.parametrize("point", ["random", "minimizer"])
@pytest.mark.parametrize("rank_one", [False, True])
def test_symmetric_models_with_their_laplacian(x64, point, rank_one):
    """U U^T (one array, Laplacian 2k I) and U1 U1^T - U2 U2^T (Laplacian 2(k1-k2) I) on
    symmetric sensing: the residual term is exact away from minimizers."""
    d = 4
    for model, params in [
        (_uut_model(d, 2), _uut_model(d, 2).init(jax.random.PRNGKey(4), 1.0, jnp.float64)),
        (_symmetric_model(d, 2, 1),
         _symmetric_model(d, 2, 1).init(jax.random.PRNGKey(5), 1.0, jnp.float64)),
    ]:
        truth = (model.predict(params) if point == "minimizer"
                 else jax.random.normal(jax.random.PRNGKey(6), (d, d), jnp.float64))
        problem = _symmetric_sensing(jax.random.PRNGKey(7), truth, 20, rank_one)
        got = _measures(EXACT, model, params, problem)
        h = _loss_hessian(model, params, problem)
        assert got["hessian_trace_exact"] == 1.0
        assert got["hessian_trace"] == pytest.approx(np.trace(h), rel=1e-10)


# ----- closed forms at exact minimizers (Ding et al. 2022, notes Secs. 1, 2, 4) ---------------


def test_scaled_trace_of_lr_sensing_is_2_d1l_plus_2_d2r(x64):
    """str = 2||D1 L||^2 + 2||D2 R||^2 with D1^2 = sum A_i A_i^T / (m d2) and
    D2^2 = sum A_i^T A_i / (m d1), at a minimizer; the plain trace 2 d2||D1L||^2 +
    2 d1||D2R||^2."""
    model = _lr_model(D1, D2, 3)
    left, right = model.init(jax.random.PRNGKey(8), 1.0, jnp.float64)
    problem = _problem("sensing", left @ right.T, m=15)
    a = _sensing_matrices(problem)
    m = a.shape[0]
    d1_sq = np.einsum("mij,mkj->ik", a, a) / (m * D2)
    d2_sq = np.einsum("mji,mjk->ik", a, a) / (m * D1)
    lnorm = np.trace(np.asarray(left).T @ d1_sq @ np.asarray(left))
    rnorm = np.trace(np.asarray(right).T @ d2_sq @ np.asarray(right))
    got = _measures(EXACT, model, (left, right), problem)
    assert got["scaled_hessian_trace"] == pytest.approx(2 * lnorm + 2 * rnorm, rel=1e-10)
    assert got["hessian_trace"] == pytest.approx(2 * D2 * lnorm + 2 * D1 * rnorm, rel=1e-10)


def test_trace_of_the_quadratic_network_is_8_d2_u1u1_plus_u2u2(x64):
    """A_i = x_i x_i^T: tr = 8 <D^2, U1 U1^T + U2 U2^T>, D^2 = (1/m) sum ||x_i||^2 x_i x_i^T."""
    d, m = 4, 20
    model = _symmetric_model(d, 2, 1)
    u1, u2 = model.init(jax.random.PRNGKey(9), 1.0, jnp.float64)
    problem = _symmetric_sensing(jax.random.PRNGKey(10), model.predict((u1, u2)), m, True)
    x = np.asarray(jax.random.normal(jax.random.PRNGKey(10), (m, d), jnp.float64))
    d_sq = np.einsum("m,mi,mj->ij", (x * x).sum(1), x, x) / m
    u1, u2 = np.asarray(u1), np.asarray(u2)
    expected = 8 * np.sum(d_sq * (u1 @ u1.T + u2 @ u2.T))
    assert _measures(EXACT, model, (u1, u2), problem)["hessian_trace"] == pytest.approx(
        expected, rel=1e-10)


def test_trace_of_uut_sensing_is_8_tr_ut_d2_u(x64):
    """A_i = (G_i + G_i^T)/2: tr = 8 tr(U^T D^2 U), D^2 = (1/m) sum A_i^2."""
    d, m = 4, 20
    model = _uut_model(d, 2)
    u = model.init(jax.random.PRNGKey(11), 1.0, jnp.float64)
    problem = _symmetric_sensing(jax.random.PRNGKey(12), u @ u.T, m, False)
    a = _sensing_matrices(problem)
    d_sq = np.einsum("mij,mjk->ik", a, a) / m
    expected = 8 * np.trace(np.asarray(u).T @ d_sq @ np.asarray(u))
    assert _measures(EXACT, model, u, problem)["hessian_trace"] == pytest.approx(expected,
                                                                                 rel=1e-10)


@pytest.mark.parametrize("depth", [2, 3])
def test_trace_of_the_hadamard_model(x64, depth):
    """x = v_1 * ... * v_k sensed by A (m x d): tr = 2 sum_j D_jj sum_l prod_{l' != l}
    v_l'(j)^2 with D_jj = ||a_j||^2 / m, at a minimizer (m = 3 < P: chunked VJPs)."""
    d, m = 5, 3
    model = _hadamard_model(d, depth)
    vs = model.init(jax.random.PRNGKey(13), 1.0, jnp.float64)
    a = jax.random.normal(jax.random.PRNGKey(14), (m, d), jnp.float64)
    problem = sensing_problem(model.predict(vs), a)
    v = np.asarray(vs)  # (depth, d)
    others = np.stack([np.prod(np.delete(v, j, axis=0) ** 2, axis=0) for j in range(depth)])
    expected = 2 * np.sum((np.asarray(a) ** 2).sum(0) / m * others.sum(0))
    got = _measures(EXACT, model, vs, problem)
    assert got["hessian_trace"] == pytest.approx(expected, rel=1e-10)
    assert got["hessian_trace"] == pytest.approx(np.trace(_loss_hessian(model, vs, problem)),
                                                 rel=1e-10)


# ----- the protocol: declared local models, fallbacks ------------------------------------------

TAU = 0.3


def _box_fit(problem, x):
    """dist^2(Y - X, {|S_ij| <= TAU}) / (d1 d2): C^1, not C^2 (a robust-PCA-like fit)."""
    r = problem.observations - x
    res = r - jnp.clip(r, -TAU, TAU)
    return jnp.sum(res * res) / r.size


def _box_objective(model, params, batch, hparams):
    del hparams
    fit = _box_fit(batch, model.predict(params))
    return fit, fit


def _box_local(model, params, problem, hparams):
    """The paper's local model ||Y - X - P_Omega(Y - X~)||^2 / (d1 d2) at X~ = X(params)."""
    del hparams
    y = problem.observations
    target = lax.stop_gradient(y - jnp.clip(y - model.predict(params), -TAU, TAU))
    return LocalLeastSquares(EntryMask(jnp.ones_like(y)), target, jnp.ones_like(y) / y.size)


_box_objective.local_least_squares = _box_local


@pytest.mark.parametrize("depth", [2, 3])
def test_a_declared_local_model_gives_its_exact_trace(x64, depth):
    model = deep_factorization(D1, D2, depth)
    params = model.init(jax.random.PRNGKey(15), 1.0, jnp.float64)
    y = low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2, jnp.float64)
    y = y.at[0, 1].add(3.0).at[2, 3].add(-2.0)
    problem = MatrixProblem(EntryMask(jnp.ones_like(y)), y, None)
    got = _measures(EXACT, model, params, problem, objective=_box_objective)
    target = _box_local(model, params, problem, {}).target
    h = _dense_hessian(lambda p: jnp.sum((target - model.predict(p)) ** 2) / y.size, params)
    assert got["hessian_trace_exact"] == 1.0
    assert got["hessian_trace"] == pytest.approx(np.trace(h), rel=1e-10)
    if depth == 2:
        blocks = _block_traces(h, params)
        assert got["scaled_hessian_trace"] == pytest.approx(blocks[0] / D2 + blocks[1] / D1,
                                                            rel=1e-10)


def _ridge_objective(model, params, batch, hparams):
    fit = squared_objective(model, params, batch, hparams)[0]
    return fit + 0.1 * sum(jnp.sum(w * w) for w in params), fit


def test_an_undeclared_objective_gets_hutchinson_estimates(x64):
    model = deep_factorization(D1, D2, 2)
    params = model.init(jax.random.PRNGKey(16), 1.0, jnp.float64)
    problem = _problem("sensing", low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2, jnp.float64))
    got = _measures(EXACT + ["hessian_trace_hutchinson_se"], model, params, problem,
                    objective=_ridge_objective)
    h = _dense_hessian(lambda p, prob: _ridge_objective(model, p, prob, {})[0], params, problem)
    se = got["hessian_trace_hutchinson_se"]
    assert got["hessian_trace_exact"] == 0.0
    assert abs(got["hessian_trace"] - np.trace(h)) < 4 * se
    blocks = _block_traces(h, params)
    assert abs(got["scaled_hessian_trace"] - (blocks[0] / D2 + blocks[1] / D1)) < 4 * se / D1


def test_a_model_without_output_laplacian_is_not_exact(x64):
    model = deep_factorization(D1, D2, 2)._replace(output_laplacian=None)
    params = model.init(jax.random.PRNGKey(16), 1.0, jnp.float64)
    problem = _problem("sensing", low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2, jnp.float64))
    assert _measures(["hessian_trace_exact"], model, params, problem)["hessian_trace_exact"] == 0


# ----- Hutchinson, Lanczos, vmap ---------------------------------------------------------------


@pytest.mark.parametrize("depth, kind", [(2, "completion"), (3, "sensing")])
def test_hutchinson_within_three_standard_errors_of_its_own_probes(x64, depth, kind):
    """Within 3 SE of the exact trace; the SE is that of the estimate's own probes (the first
    measure's key, fold_in(key, 0))."""
    model = deep_factorization(D1, D2, depth)
    params = model.init(jax.random.PRNGKey(17), 1.0, jnp.float64)
    problem = _problem(kind, low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2, jnp.float64))
    got = _measures(ALL, model, params, problem, key=5)
    se = got["hessian_trace_hutchinson_se"]
    assert 0 < se < 0.5 * got["hessian_trace"]
    assert abs(got["hessian_trace_hutchinson"] - got["hessian_trace"]) < 3 * se
    if depth == 2:
        bound = bind_objective(squared_objective, model, {})
        samples = jax.jit(lambda p, k: hessian.hutchinson_samples(
            lambda q: bound(q, problem)[0], p, jax.random.fold_in(k, 0)))(
                params, jax.random.PRNGKey(5)).sum(axis=1)
        assert got["hessian_trace_hutchinson"] == pytest.approx(float(samples.mean()),
                                                                rel=1e-12)
        own = np.std(np.asarray(samples), ddof=1) / np.sqrt(hessian.HUTCHINSON_PROBES)
        assert se == pytest.approx(own, rel=1e-12)


@pytest.mark.parametrize("depth, kind, point", [(3, "sensing", "random"),
                                                (2, "completion", "minimizer")])
def test_lanczos_max_eigenvalue_against_eigvalsh(x64, depth, kind, point):
    """At the minimizer the Hessian has rank <= m: Lanczos breaks down and restarts."""
    model = deep_factorization(D1, D2, depth)
    params = model.init(jax.random.PRNGKey(19), 1.0, jnp.float64)
    truth = (end_to_end(params) if point == "minimizer"
             else low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2, jnp.float64))
    problem = _problem(kind, truth)
    got = _measures(ALL, model, params, problem)
    top = np.linalg.eigvalsh(_loss_hessian(model, params, problem))[-1]
    assert got["hessian_max_eigenvalue"] == pytest.approx(top, rel=1e-8)


def test_lanczos_on_an_indefinite_hessian(x64):
    """A saddle, and P = 12 < LANCZOS_STEPS: the Krylov space is the whole space."""
    model = _symmetric_model(4, 2, 1)
    params = model.init(jax.random.PRNGKey(20), 1.0, jnp.float64)
    truth = jax.random.normal(jax.random.PRNGKey(21), (4, 4), jnp.float64)
    problem = _symmetric_sensing(jax.random.PRNGKey(22), truth, 20, False)
    eig = np.linalg.eigvalsh(_loss_hessian(model, params, problem))
    assert eig[0] < 0 < eig[-1]
    got = _measures(["hessian_max_eigenvalue"], model, params, problem)
    assert got["hessian_max_eigenvalue"] == pytest.approx(eig[-1], rel=1e-8)


def test_vmap_over_two_runs_equals_the_unbatched_values(x64):
    model = deep_factorization(D1, D2, 2)
    problem = _problem("completion", low_rank_truth(jax.random.PRNGKey(0), D1, D2, 2,
                                                    jnp.float64))
    inits = [model.init(jax.random.PRNGKey(s), 1.0, jnp.float64) for s in (23, 24)]
    keys = jnp.stack([jax.random.PRNGKey(1), jax.random.PRNGKey(2)])
    bound = bind_objective(squared_objective, model, {})

    def measures(params, key):
        return compute_measures(ALL, model, params, problem, objective=bound, key=key)

    batched = jax.jit(jax.vmap(measures))(jax.tree.map(lambda *a: jnp.stack(a), *inits), keys)
    for i, params in enumerate(inits):
        single = _measures(ALL, model, params, problem, key=i + 1)
        for name in ALL:
            assert float(batched[name][i]) == pytest.approx(single[name], rel=1e-10,
                                                            abs=1e-12), name


# ----- end to end ------------------------------------------------------------------------------


def test_hessian_measures_through_op_run(tmp_path):
    result = op.run({
        "name": "hessian",
        "problem": {"kind": "completion", "d1": 5, "d2": 4, "rank": 1, "m": 14},
        "model": {"kind": "deep_factorization", "depth": 2, "init_scale": 0.1},
        "optimizer": {"name": "gd", "learning_rate": 0.2},
        "train": {"max_steps": 40, "log_every": 20},
        "seeds": [0],
        "baselines": ["truth"],
        "measures": ALL + ["train_loss"],
        "log_measures": ["hessian_trace"],
    }, out=tmp_path, progress=False)
    runs = result.runs
    gd, base = runs[runs["method"] == "gd"], runs[runs["method"] == "truth"]
    assert len(gd) == 1
    for name in ALL:
        assert np.isfinite(gd[name].to_numpy(float)).all(), name
        assert base[name].isna().all(), name  # a baseline's bare matrix: NaN
    assert (gd["hessian_trace_exact"] == 1.0).all()
    traj = result.trajectories
    traj = traj[traj["run_id"].isin(gd["run_id"])]
    assert len(traj) >= 3  # steps 0, 20, 40
    assert np.isfinite(traj["hessian_trace"].to_numpy(float)).all()
