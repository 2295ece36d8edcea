"""The problem kinds of Ding, Drusvyatskiy, Fazel, Harchaoui 2022: each operator against a slow
dense reference (the A_i materialized one by one), the truth's rank and unit norm, the
observations, seeding, padding and stacking, config errors, and a tiny sweep per kind."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam import registry
from overparam.errors import ConfigError
from overparam.objectives import squared_loss
from overparam.problems import (
    DenseSensing,
    EntryMask,
    RankOneSensing,
    low_rank_truth,
    stack_problems,
)
from overparam.problems.kinds._unit import truth_key
from overparam.problems.kinds.robust_pca import RobustPCAProblem
from overparam.solvers import nuclear_norm_min
from overparam.sweep import Store, SweepConfig, execute, expand

# small instances of every kind, in few shapes (each new shape compiles JAX's eager ops anew)
CASES = {
    "gaussian": {"kind": "gaussian_sensing", "d1": 5, "d2": 4, "rank": 2, "m": 30},
    "gaussian_sym": {"kind": "gaussian_sensing", "d1": 5, "d2": 5, "rank": 2, "m": 30,
                     "symmetric": True},
    "bilinear": {"kind": "bilinear_sensing", "d1": 5, "d2": 4, "rank": 2, "m": 30},
    "bernoulli": {"kind": "bernoulli_completion", "d1": 5, "d2": 4, "rank": 2, "p": 0.6},
    "robust_pca": {"kind": "robust_pca", "d1": 5, "d2": 4, "rank": 2, "l": 2},
    "quadratic": {"kind": "quadratic_network", "d": 5, "r1": 2, "r2": 1, "m": 30},
    "sparse": {"kind": "sparse_recovery", "d": 12, "s": 3, "m": 8},
}
# the truth's rank for each case
RANKS = {"gaussian": 2, "gaussian_sym": 2, "bilinear": 2, "bernoulli": 2, "robust_pca": 2,
         "quadratic": 3, "sparse": 1}


def config(fields: dict):
    entry = registry.PROBLEMS.get(fields["kind"])
    return entry.config.model_validate(fields)


def build(fields: dict, dtype=jnp.float64):
    cfg = config(fields)
    return registry.resolve(registry.PROBLEMS.get(cfg.kind).build)(cfg, dtype)


def reference_matrices(problem) -> np.ndarray:
    """The ``A_i`` of every measurement (padding included), materialized one by one from what
    the operator stores: shape (M, d1, d2)."""
    op = problem.operator
    d1, d2 = op.shape
    if isinstance(op, EntryMask):  # every entry is a measurement: A_(jk) = e_j e_k^T
        mats = []
        for j in range(d1):
            for k in range(d2):
                e = np.zeros((d1, d2))
                e[j, k] = 1.0
                mats.append(e)
        return np.stack(mats)
    if isinstance(op, RankOneSensing):
        a, b = np.asarray(op.left), np.asarray(op.right)
        return np.stack([np.outer(a[i], b[i]) for i in range(a.shape[0])])
    assert isinstance(op, DenseSensing)
    rows = np.asarray(op.matrix)
    return np.stack([rows[i].reshape(d1, d2) for i in range(rows.shape[0])])


@pytest.mark.parametrize("case", sorted(CASES))
def test_operator_truth_and_observations_match_the_dense_reference(x64, case):
    fields = CASES[case]
    p = build(fields)
    op = p.operator
    a = reference_matrices(p)
    d1, d2 = op.shape
    assert (d1, d2) == config(fields).matrix_shape()
    x = np.random.default_rng(1).normal(size=(d1, d2))
    r = np.random.default_rng(2).normal(size=a.shape[0])
    apply_ref = np.array([np.sum(ai * x) for ai in a])
    adjoint_ref = sum(ri * ai for ri, ai in zip(r, a))
    np.testing.assert_allclose(np.asarray(op.apply(jnp.asarray(x))).reshape(-1), apply_ref,
                               rtol=1e-12, atol=1e-12)
    r_shaped = jnp.asarray(r).reshape(np.shape(op.weights))
    np.testing.assert_allclose(op.adjoint(r_shaped), adjoint_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.as_matrix(), a.reshape(a.shape[0], -1), rtol=1e-12,
                               atol=1e-15)
    real = np.asarray(op.weights).reshape(-1) > 0
    np.testing.assert_allclose(op.dense_rows(), a[real].reshape(real.sum(), -1), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(op.sparse_rows().toarray(), op.dense_rows(), atol=0)
    assert int(op.count()) == real.sum()
    # the truth: the kind's rank, unit Frobenius norm
    t = np.asarray(p.truth)
    assert np.linalg.norm(t) == pytest.approx(1.0, rel=1e-12)
    sv = np.linalg.svd(t, compute_uv=False)
    assert sv[RANKS[case] - 1] > 1e-3 and np.all(sv[RANKS[case]:] < 1e-12)
    # the observations are A(truth), measurement by measurement (robust PCA: of M + S)
    target = t + (np.asarray(p.sparse) if case == "robust_pca" else 0)
    obs_ref = np.array([np.sum(ai * target) for ai in a])
    np.testing.assert_allclose(np.asarray(p.observations).reshape(-1)[real], obs_ref[real],
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.observed(p.observations), obs_ref[real], rtol=1e-12,
                               atol=1e-12)
    # the memory estimate covers what the problem stores
    stored = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(p))
    assert config(fields).estimated_bytes(8) >= stored


def test_gaussian_entries_have_variance_one_and_symmetric_ones_are_symmetric(x64):
    # loose tolerances (3 sd): they tell N(0, 1) from Arora's N(0, 1/(d1 d2)) = N(0, 1/20)
    p = build(CASES["gaussian"])  # 600 entries
    assert isinstance(p.operator, DenseSensing)
    assert float(jnp.var(p.operator.matrix)) == pytest.approx(1.0, rel=0.2)
    arora = build({**CASES["gaussian"], "kind": "sensing"})  # unchanged: N(0, 1/(d1 d2))
    assert float(jnp.var(arora.operator.matrix)) == pytest.approx(1 / 20, rel=0.2)
    sym = build(CASES["gaussian_sym"])
    a = np.asarray(sym.operator.matrix).reshape(30, 5, 5)
    np.testing.assert_array_equal(a, np.swapaxes(a, 1, 2))
    iu = np.triu_indices(5, 1)
    # diagonal N(0, 1), off-diagonal N(0, 1/2): 150 and 300 draws, 3 sd
    assert a[:, np.arange(5), np.arange(5)].var() == pytest.approx(1.0, rel=0.35)
    assert a[:, iu[0], iu[1]].var() == pytest.approx(0.5, rel=0.35)
    t = np.asarray(sym.truth)
    np.testing.assert_array_equal(t, t.T)
    assert np.linalg.eigvalsh(t).min() > -1e-12  # PSD


def test_bilinear_sensing_stores_the_vectors_only(x64):
    p = build(CASES["bilinear"])
    op = p.operator
    assert isinstance(op, RankOneSensing)
    assert op.left.shape == (30, 5) and op.right.shape == (30, 4)
    assert max(leaf.size for leaf in jax.tree.leaves(p)) == 150  # no m x d1 x d2 array
    assert float(jnp.var(op.left)) == pytest.approx(1.0, rel=0.35)
    assert float(jnp.var(op.right)) == pytest.approx(1.0, rel=0.35)


def test_bernoulli_mask_frequency_is_p_and_p_one_observes_everything(x64):
    masks = np.stack([np.asarray(build({**CASES["bernoulli"], "p": 0.3, "seed": seed})
                                 .operator.mask) for seed in range(100)])
    assert set(np.unique(masks)) <= {0.0, 1.0}
    assert masks.mean() == pytest.approx(0.3, abs=0.04)  # 2000 Bernoulli draws, sd 0.01
    p = build({**CASES["bernoulli"], "p": 0.3})
    np.testing.assert_array_equal(p.observations, p.truth * p.operator.mask)
    full = build({**CASES["bernoulli"], "p": 1.0})
    assert int(full.operator.count()) == 20
    # each p its own draw: over 100 seeds, p = 0.3 and 0.31 differ beyond the nesting U < p
    other = np.stack([np.asarray(build({**CASES["bernoulli"], "p": 0.31, "seed": seed})
                                 .operator.mask) for seed in range(100)])
    assert np.mean(other != masks) > 0.2


@pytest.mark.parametrize("d1, d2, per_line, values", [
    (5, 4, 2, "gaussian"), (4, 5, 3, "sign"), (5, 5, 1, "sign"), (5, 4, 0, "gaussian")])
def test_robust_pca_sparse_part_has_at_most_l_per_row_and_column(x64, d1, d2, per_line, values):
    p = build({"kind": "robust_pca", "d1": d1, "d2": d2, "l": per_line,
               "sparse_values": values, "sparse_scale": 2.0})
    assert isinstance(p, RobustPCAProblem)
    s = np.asarray(p.sparse)
    support = s != 0
    assert support.sum(axis=1).max() <= per_line and support.sum(axis=0).max() <= per_line
    assert support.sum() == per_line * min(d1, d2)
    np.testing.assert_array_equal(p.observations, np.asarray(p.truth) + s)
    assert float(p.radius) == pytest.approx(np.abs(s).sum(), rel=1e-12)
    assert int(p.operator.count()) == d1 * d2  # every entry observed
    if values == "sign":
        np.testing.assert_allclose(np.abs(s[support]), 2.0)


def test_quadratic_network_truth_has_r1_positive_and_r2_negative_eigenvalues(x64):
    p = build(CASES["quadratic"])
    assert isinstance(p.operator, RankOneSensing)
    np.testing.assert_array_equal(p.operator.left, p.operator.right)  # A_i = x_i x_i^T
    x = np.asarray(p.operator.left)
    t = np.asarray(p.truth)
    np.testing.assert_allclose(p.observations, np.einsum("mi,ij,mj->m", x, t, x), rtol=1e-12)
    ev = np.linalg.eigvalsh(t)
    assert (ev > 1e-6).sum() == 2 and (ev < -1e-6).sum() == 1
    # covariance estimation (r2 = 0) has the PSD truth of symmetric sensing of rank r1
    cov = build({**CASES["quadratic"], "r2": 0})
    np.testing.assert_allclose(cov.truth, build(CASES["gaussian_sym"]).truth, rtol=1e-12)
    phase = build({**CASES["quadratic"], "r1": 1, "r2": 0})
    assert np.linalg.matrix_rank(np.asarray(phase.truth), tol=1e-10) == 1
    assert config(CASES["quadratic"]).rank == 3  # read by the model's width_below_rank note
    model = registry.MODELS.get("deep_factorization").config(depth=2, width=2)
    assert model.notes(config(CASES["quadratic"]))["width_below_rank"]


def test_sparse_recovery_is_a_d_by_1_dense_sensing_problem(x64):
    p = build(CASES["sparse"])
    assert isinstance(p.operator, DenseSensing) and p.shape == (12, 1)
    t = np.asarray(p.truth)
    assert (t != 0).sum() == 3 and np.linalg.norm(t) == pytest.approx(1.0, rel=1e-12)
    a = np.asarray(p.operator.matrix)
    assert a.shape == (8, 12)
    np.testing.assert_allclose(p.observations, a @ t[:, 0], rtol=1e-12)
    # the nuclear norm of a d x 1 matrix is its l2 norm: the ADMM baseline finds the
    # minimum-l2-norm interpolant A^+ b (not basis pursuit)
    res = nuclear_norm_min(p, tol=0.0, eps=1e-10)
    np.testing.assert_allclose(res.x[:, 0], np.linalg.pinv(a) @ np.asarray(p.observations),
                               atol=1e-6)


def test_one_seed_shares_the_truth_across_counts_and_kinds(x64):
    a = build(CASES["gaussian"])
    b = build({**CASES["gaussian"], "m": 34})
    for other in (b, *(build(CASES[c]) for c in ("bilinear", "bernoulli", "robust_pca"))):
        np.testing.assert_array_equal(a.truth, other.truth)
    assert not np.allclose(a.operator.matrix, b.operator.matrix[:30])  # each m its own draw
    # the direction of the Arora-style truth of that seed, at unit norm
    arora = low_rank_truth(truth_key(0), 5, 4, 2, jnp.float64)
    np.testing.assert_allclose(a.truth, arora / jnp.linalg.norm(arora), rtol=1e-12)
    other_seed = build({**CASES["gaussian"], "seed": 1})
    assert not np.allclose(a.truth, other_seed.truth)


# one kind per operator class (quadratic_network and sparse_recovery reuse these classes)
@pytest.mark.parametrize("case, more", [("gaussian", {"m": 34}), ("bilinear", {"m": 34})])
def test_padding_and_stacking_measurement_kinds(x64, case, more):
    small, large = build(CASES[case]), build({**CASES[case], **more})
    m, size = small.pad_size, large.pad_size
    padded = small.padded(size)
    assert padded.pad_size == size
    np.testing.assert_array_equal(padded.operator.weights, [1.0] * m + [0.0] * (size - m))
    np.testing.assert_array_equal(padded.observations[m:], 0.0)
    x = jnp.asarray(np.random.default_rng(0).normal(size=small.shape))
    assert float(squared_loss(padded, x)) == pytest.approx(float(squared_loss(small, x)),
                                                           rel=1e-12)
    stacked = stack_problems([small, large])
    assert stacked.observations.shape == (2, size)
    losses = jax.vmap(squared_loss)(stacked, jnp.stack([x, x]))
    np.testing.assert_allclose(losses, [squared_loss(small, x), squared_loss(large, x)],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="cannot pad"):
        large.padded(m)


@pytest.mark.parametrize("case, other", [("bernoulli", {"p": 0.3}), ("robust_pca", {"l": 1})])
def test_stacking_entry_kinds(x64, case, other):
    a, b = build(CASES[case]), build({**CASES[case], **other})
    assert a.pad_size is None and a.padded(100) is a
    stacked = stack_problems([a, b])
    assert type(stacked) is type(a)
    assert stacked.observations.shape == (2, *a.shape)
    if case == "robust_pca":
        np.testing.assert_allclose(stacked.radius, [a.radius, b.radius])
    x = jnp.zeros(a.shape, jnp.float64)
    np.testing.assert_allclose(jax.vmap(squared_loss)(stacked, jnp.stack([x, x])),
                               [squared_loss(a, x), squared_loss(b, x)], rtol=1e-12)


@pytest.mark.parametrize("fields, message", [
    ({"kind": "gaussian_sensing", "d1": 3, "d2": 4, "rank": 4}, "rank must be <= min"),
    ({"kind": "gaussian_sensing", "d1": 3, "d2": 4, "symmetric": True},
     "symmetric sensing needs d1 = d2"),
    ({"kind": "gaussian_sensing", "m": 0}, r"problem\.m: .*greater than or equal to 1"),
    ({"kind": "bilinear_sensing", "d2": 0}, r"problem\.d2"),
    ({"kind": "bernoulli_completion", "p": 0.0}, r"problem\.p: .*greater than 0"),
    ({"kind": "bernoulli_completion", "p": 1.5}, r"problem\.p: .*less than or equal to 1"),
    ({"kind": "robust_pca", "d1": 4, "d2": 6, "l": 5}, "l must be <= min"),
    ({"kind": "robust_pca", "sparse_values": "laplace"}, r"problem\.sparse_values"),
    ({"kind": "robust_pca", "sparse_scale": 0.0}, r"problem\.sparse_scale"),
    ({"kind": "quadratic_network", "r1": 0, "r2": 0}, r"r1 \+ r2 must be between 1"),
    ({"kind": "quadratic_network", "d": 2, "r1": 2, "r2": 1}, r"r1 \+ r2 must be between 1"),
    ({"kind": "sparse_recovery", "d": 3, "s": 4}, "s must be <= d"),
])
def test_bad_configs_are_refused_naming_the_field(fields, message):
    with pytest.raises(ConfigError, match=message):
        expand(SweepConfig(name="bad", problem=fields))


# ----- end to end: each kind through a tiny sweep ---------------------------------------------

# one problem per kind (the symmetric option of gaussian_sensing takes the engine's path of the
# plain one: a DenseSensing problem of the same shape)
SMOKE = [
    {"kind": "gaussian_sensing", "d1": 4, "d2": 4, "rank": 1, "m": 12},
    {"kind": "bilinear_sensing", "d1": 4, "d2": 4, "rank": 1, "m": 12},
    {"kind": "bernoulli_completion", "d1": 4, "d2": 4, "rank": 1, "p": 0.7},
    {"kind": "quadratic_network", "d": 4, "r1": 1, "r2": 1, "m": 12},
    {"kind": "sparse_recovery", "d": 8, "s": 2, "m": 6},
]
ROBUST = {"kind": "robust_pca", "d1": 4, "d2": 4, "rank": 1, "l": 1}


def _sweep(tmp_path, name: str, nuclear_norm, **fields):
    sweep = SweepConfig(
        name=name, model={"depth": 2, "init_scale": 0.1, "init": "balanced"},
        optimizer={"name": "gd", "learning_rate": 0.05},
        train={"max_steps": 40, "log_every": 20, "dtype": "float64", "stop_loss": 0.0},
        baselines=[nuclear_norm, "truth"], measures=["train_loss", "frob_error", "success"],
        log_measures=["train_loss", "frob_error"], **fields)
    store = Store(tmp_path / name, name)
    execute(expand(sweep), store, measures=sweep.measures, log_measures=sweep.log_measures,
            top_singular_values=sweep.top_singular_values, progress=False)
    return store.consolidate()


def _check_runs(runs, traj, kinds: int, loss_falls: bool = True):
    assert len(runs) == 3 * kinds and (runs["status"] != "error").all(), runs
    assert sorted(set(runs["method"])) == ["gd", "nuclear_norm", "truth"]
    assert np.isfinite(runs["frob_error"]).all()
    gd = runs[runs["method"] == "gd"]
    assert (gd["steps"] == 40).all() and gd["success"].isin([0.0, 1.0]).all()
    truth = runs[runs["method"] == "truth"]
    assert (truth["frob_error"] == 0.0).all() and (truth["success"] == 1.0).all()  # known answer
    if loss_falls:
        loss = traj.sort_values("step").groupby("run_id")["train_loss"]
        assert (loss.last() < loss.first()).all()


def test_each_squared_loss_kind_runs_through_one_sweep(tmp_path):
    """Depth-2 GD, nuclear-norm minimization and the truth on every kind (the problem is a grid
    axis). The nuclear norm is solved by cvxpy here: the ADMM compiles once per problem (about
    2 s each); it runs on the new kinds in the robust-PCA sweep and the sparse-recovery test."""
    runs, traj = _sweep(tmp_path, "ding-kinds", {"kind": "nuclear_norm", "backend": "cvxpy"},
                        problem=SMOKE[0], grid={"problem": SMOKE})
    _check_runs(runs, traj, len(SMOKE))
    assert set(runs["problem.kind"]) == {p["kind"] for p in SMOKE}


def test_robust_pca_runs_through_a_sweep_with_its_objective(tmp_path):
    runs, traj = _sweep(tmp_path, "ding-rpca", "nuclear_norm", problem=ROBUST,
                        objective={"kind": "robust_pca"})
    # train_loss is the squared loss against Y; the objective's fit is what GD lowers
    _check_runs(runs, traj, 1, loss_falls=False)
    gd = runs[runs["method"] == "gd"].iloc[0]
    assert gd["objective.kind"] == "robust_pca"
    nn = runs[runs["method"] == "nuclear_norm"].iloc[0]
    assert nn["solver.backend"] == "jax"  # the ADMM: with every entry observed it returns Y
