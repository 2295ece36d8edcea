"""Every measurement operator against the same contract: adjoint, rows, padding, jit and vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse

from overparam.problems import (
    DenseSensing,
    EntryMask,
    MatrixProblem,
    Operator,
    RankOneSensing,
    completion_problem,
    low_rank_truth,
    make_sensing,
    observed_count,
    pad_measurements,
    rank_one_sensing_problem,
    uniform_entry_mask,
)

SHAPE = (5, 4)
M_REAL = 7  # real measurements of the sensing operators, padded to M_PADDED
M_PADDED = 10
KINDS = ["entries", "dense", "rank_one"]


def _make(kind: str, seed: int, shape=SHAPE) -> Operator:
    """An operator of ``kind`` with some weight-0 measurements, in the default float dtype."""
    d1, d2 = shape
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    dtype = jnp.zeros(()).dtype
    if kind == "entries":
        return EntryMask(uniform_entry_mask(k1, d1, d2, 8, dtype))
    if kind == "dense":
        matrix = jax.random.normal(k1, (M_REAL, d1 * d2), dtype)
        op = DenseSensing(matrix, jnp.ones(M_REAL, dtype), jnp.zeros(shape, dtype))
    else:
        left = jax.random.normal(k1, (M_REAL, d1), dtype)
        right = jax.random.normal(k2, (M_REAL, d2), dtype)
        op = RankOneSensing(left, right, jnp.ones(M_REAL, dtype))
    return op.padded(M_PADDED)


def _random_pair(op: Operator, seed: int):
    """Random x of shape (d1, d2) and r shaped like the measurements."""
    kx, kr = jax.random.split(jax.random.PRNGKey(100 + seed))
    x = jax.random.normal(kx, op.shape, jnp.float64)
    r = jax.random.normal(kr, op.weights.shape, jnp.float64)
    return x, r


def _real(op: Operator) -> np.ndarray:
    return np.asarray(op.weights).reshape(-1) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_adjoint_is_the_adjoint(x64, kind):
    op = _make(kind, 0)
    for seed in range(3):
        x, r = _random_pair(op, seed)
        lhs = jnp.vdot(op.apply(x), r)
        rhs = jnp.vdot(x, op.adjoint(r))
        assert op.adjoint(r).shape == op.shape
        np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_apply_agrees_with_the_rows(x64, kind):
    op = _make(kind, 0)
    x, _ = _random_pair(op, 0)
    k = int(np.sum(_real(op)))
    rows, sparse = op.dense_rows(), op.sparse_rows()
    assert isinstance(rows, np.ndarray) and rows.dtype == np.float64
    assert rows.shape == (k, x.size)
    assert scipy.sparse.issparse(sparse) and sparse.format == "csr"
    np.testing.assert_array_equal(sparse.toarray(), rows)
    measured = op.observed(op.apply(x))
    assert measured.dtype == np.float64 and measured.shape == (k,)
    np.testing.assert_allclose(rows @ np.asarray(x).reshape(-1), measured, rtol=1e-12)
    np.testing.assert_allclose(sparse @ np.asarray(x).reshape(-1), measured, rtol=1e-12)
    # as_matrix: every measurement (padding included) as a row, in the operator's dtype.
    full = op.as_matrix()
    assert full.shape == (np.size(op.weights), x.size)
    np.testing.assert_allclose(full @ x.reshape(-1), op.apply(x).reshape(-1), rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(full)[_real(op)], rows)


@pytest.mark.parametrize("kind", KINDS)
def test_observed_picks_the_real_measurements(kind):
    op = _make(kind, 1)
    y = np.arange(np.size(op.weights), dtype=np.float32).reshape(op.weights.shape)
    got = op.observed(y)
    assert got.dtype == np.float64
    if kind == "entries":
        rows, cols = np.nonzero(np.asarray(op.mask) > 0)
        np.testing.assert_array_equal(got, y[rows, cols])
    else:
        np.testing.assert_array_equal(got, np.arange(M_REAL))  # padding comes last
    with pytest.raises(ValueError, match="observations"):
        op.observed(np.zeros(3))


@pytest.mark.parametrize("kind", KINDS)
def test_count(kind):
    op = _make(kind, 2)
    expected = 8 if kind == "entries" else M_REAL
    assert int(op.count()) == expected
    assert int(observed_count(op)) == expected


@pytest.mark.parametrize("kind", ["dense", "rank_one"])
def test_padding_adds_weight_zero_measurements(x64, kind):
    op = _make(kind, 3)
    assert op.pad_size == M_PADDED and isinstance(op.pad_size, int)
    bigger = op.padded(M_PADDED + 4)
    assert type(bigger) is type(op) and bigger.pad_size == M_PADDED + 4
    np.testing.assert_array_equal(bigger.weights[M_PADDED:], 0.0)
    np.testing.assert_array_equal(bigger.weights[:M_PADDED], op.weights)
    assert int(bigger.count()) == int(op.count())
    x, _ = _random_pair(op, 3)
    np.testing.assert_allclose(bigger.apply(x)[:M_PADDED], op.apply(x), rtol=1e-14)
    np.testing.assert_array_equal(bigger.dense_rows(), op.dense_rows())
    assert op.padded(M_PADDED).pad_size == M_PADDED
    with pytest.raises(ValueError, match=rf"cannot pad {M_PADDED} measurements down to 3"):
        op.padded(3)


def test_entry_mask_has_nothing_to_pad():
    op = _make("entries", 3)
    assert op.pad_size is None
    assert op.padded(1000) is op
    assert op.entry_mask() is op.mask
    assert _make("dense", 3).entry_mask() is None
    assert _make("rank_one", 3).entry_mask() is None


@pytest.mark.parametrize("kind", KINDS)
def test_signature_ignores_padding_only(kind):
    op = _make(kind, 4)
    other_seed = _make(kind, 5)
    assert op.signature() == op.padded(M_PADDED + 6).signature() == other_seed.signature()
    assert hash(op.signature()) == hash(op.padded(M_PADDED + 6).signature())
    assert op.signature() != _make(kind, 4, (4, 5)).signature()
    assert op.signature()[1] == SHAPE
    assert len({_make(k, 4).signature() for k in KINDS}) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_operators_satisfy_the_protocol(kind):
    assert isinstance(_make(kind, 0), Operator)


def _evaluate(op: Operator, x, r):
    return op.apply(x), op.adjoint(r), op.count(), op.as_matrix()


@pytest.mark.parametrize("kind", KINDS)
def test_jit_and_vmap(x64, kind):
    ops = [_make(kind, seed) for seed in (6, 7)]
    pairs = [_random_pair(op, seed) for seed, op in enumerate(ops)]
    loop = [_evaluate(op, x, r) for op, (x, r) in zip(ops, pairs, strict=True)]
    jitted = jax.jit(_evaluate)(ops[0], *pairs[0])
    for got, want in zip(jitted, loop[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *ops)
    xs = jnp.stack([x for x, _ in pairs])
    rs = jnp.stack([r for _, r in pairs])
    batched = jax.jit(jax.vmap(_evaluate))(stacked, xs, rs)
    for i in range(2):
        for got, want in zip(batched, loop[i], strict=True):
            np.testing.assert_allclose(got[i], want, rtol=1e-12)


def test_rank_one_apply_and_adjoint_against_the_definition(x64):
    op = _make("rank_one", 8)
    x, r = _random_pair(op, 8)
    left, right = np.asarray(op.left), np.asarray(op.right)
    expected = np.array([left[i] @ np.asarray(x) @ right[i] for i in range(M_PADDED)])
    np.testing.assert_allclose(op.apply(x), expected, rtol=1e-12)
    adjoint = sum(float(r[i]) * np.outer(left[i], right[i]) for i in range(M_PADDED))
    np.testing.assert_allclose(op.adjoint(r), adjoint, rtol=1e-12)


def test_rank_one_problem(x64):
    truth = low_rank_truth(jax.random.PRNGKey(0), 6, 5, 1, jnp.float64)
    left = jax.random.normal(jax.random.PRNGKey(1), (9, 6), jnp.float64)
    right = jax.random.normal(jax.random.PRNGKey(2), (9, 5), jnp.float64)
    problem = rank_one_sensing_problem(truth, left, right)
    assert isinstance(problem.operator, RankOneSensing) and problem.shape == (6, 5)
    np.testing.assert_allclose(problem.observations, jnp.einsum("mi,ij,mj->m", left, truth, right))
    np.testing.assert_array_equal(problem.operator.weights, np.ones(9))
    given = rank_one_sensing_problem(None, left, right, problem.observations)
    np.testing.assert_array_equal(given.observations, problem.observations)
    with pytest.raises(ValueError, match="truth shape"):
        rank_one_sensing_problem(truth.T, left, right)
    with pytest.raises(ValueError, match="left and right"):
        rank_one_sensing_problem(truth, left, right[:8])
    with pytest.raises(ValueError, match="observations are required"):
        rank_one_sensing_problem(None, left, right)


@pytest.mark.parametrize("kind", ["dense", "rank_one"])
def test_problem_padding(kind, getkey):
    truth = low_rank_truth(getkey(), 4, 4, 1)
    if kind == "dense":
        problem = make_sensing(getkey(), truth, 5)
    else:
        left, right = jax.random.normal(getkey(), (5, 4)), jax.random.normal(getkey(), (5, 4))
        problem = rank_one_sensing_problem(truth, left, right)
    test = completion_problem(truth, jnp.ones((4, 4)))
    problem = problem._replace(test=test)
    assert problem.pad_size == 5
    padded = problem.padded(9)
    assert padded.pad_size == 9 and padded.operator.pad_size == 9
    np.testing.assert_array_equal(padded.observations[5:], 0.0)
    np.testing.assert_array_equal(padded.observations[:5], problem.observations)
    assert padded.test is test and padded.truth is truth
    same = pad_measurements(problem, 9)
    for a, b in zip(jax.tree.leaves(same), jax.tree.leaves(padded), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="cannot pad 5 measurements down to 4"):
        problem.padded(4)


def test_completion_problem_is_not_padded(getkey):
    truth = low_rank_truth(getkey(), 4, 4, 1)
    problem = completion_problem(truth, uniform_entry_mask(getkey(), 4, 4, 6))
    assert problem.pad_size is None
    assert problem.padded(100) is problem
    assert isinstance(problem, MatrixProblem)
