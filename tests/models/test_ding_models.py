"""The model kinds of Ding, Drusvyatskiy, Fazel, Harchaoui 2022: L R^T, U1 U1^T - U2 U2^T and
the depth-k Hadamard product. Shapes, predictions against NumPy, the output Laplacian against
jax.hessian, init statistics, config hooks, and training end to end."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from pydantic import ValidationError

import overparam as op
from overparam.models import (
    deep_factorization,
    end_to_end,
    hadamard,
    symmetric,
    two_factor,
)
from overparam.models.kinds.hadamard import HadamardConfig
from overparam.models.kinds.symmetric import SymmetricConfig
from overparam.models.kinds.two_factor import TwoFactorConfig
from overparam.problems.kinds.completion import CompletionConfig
from overparam.problems.kinds.sensing import SensingConfig


def _params64(model, seed=0, scale=1.0):
    return model.init(jax.random.PRNGKey(seed), scale, jnp.float64)


def _params32(model):
    """Parameters at the default dtype (float32), checked to be float32."""
    params = model.init(jax.random.PRNGKey(0), 1.0)
    assert all(p.dtype == jnp.float32 for p in params)
    return params


# --- shapes and predictions ----------------------------------------------------------------

@pytest.mark.parametrize("width, k", [(None, 3), (7, 7)])
def test_two_factor_shapes_and_product(width, k):
    model = two_factor(5, 3, width)
    left, right = _params32(model)
    assert left.shape == (5, k) and right.shape == (3, k)
    a, b = np.asarray(left, np.float64), np.asarray(right, np.float64)
    np.testing.assert_allclose(model.predict((left, right)), a @ b.T, rtol=1e-5, atol=1e-6)
    assert model.name == "two_factor" and model.param_count == 8 * k
    assert model.activation_size == 15
    assert dict(model.info) == {"depth": 2, "factor_rows": (5, 3)}


@pytest.mark.parametrize("init", ["gaussian", "balanced"])
def test_two_factor_init_is_the_depth_2_deep_factorizations(x64, init):
    """Same key, same matrix: L = W_2 and R = W_1^T of the width-k deep factorization."""
    model, deep = two_factor(5, 4, 3, init), deep_factorization(5, 4, 2, 3, init)
    key = jax.random.PRNGKey(3)
    left, right = model.init(key, 0.7, jnp.float64)
    w1, w2 = deep.init(key, 0.7, jnp.float64)
    np.testing.assert_array_equal(left, w2)
    np.testing.assert_array_equal(right, w1.T)
    np.testing.assert_allclose(model.predict((left, right)), end_to_end((w1, w2)), rtol=1e-14)


@pytest.mark.parametrize("k1, k2", [(None, 0), (2, 0), (3, 2), (1, 4)])
def test_symmetric_shapes_and_product(k1, k2):
    d = 4
    model = symmetric(d, k1, k2)
    u1, u2 = _params32(model)
    assert u1.shape == (d, k1 or d) and u2.shape == (d, k2)
    a, b = np.asarray(u1, np.float64), np.asarray(u2, np.float64)
    x = np.asarray(model.predict((u1, u2)))
    np.testing.assert_allclose(x, a @ a.T - b @ b.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(x, x.T)
    assert model.param_count == d * ((k1 or d) + k2) and model.activation_size == d * d


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_hadamard_shapes_and_product(depth):
    model = hadamard(6, depth)
    params = _params32(model)
    assert len(params) == depth and all(v.shape == (6,) for v in params)
    x = np.asarray(model.predict(params))
    assert x.shape == (6, 1)
    np.testing.assert_allclose(x[:, 0], np.prod(np.stack(params).astype(np.float64), axis=0),
                               rtol=1e-5)
    assert model.param_count == 6 * depth and model.activation_size == 6
    assert dict(model.info) == {"depth": depth}


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="init must be one of"):
        two_factor(3, 3, init="xavier")
    with pytest.raises(ValueError, match="init must be one of"):
        hadamard(3, 2, init="identity")
    with pytest.raises(ValueError, match="negative_width must be an integer >= 0"):
        symmetric(3, 2, -1)
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        hadamard(3, 0)


# --- output Laplacian ----------------------------------------------------------------------

def _laplacian_by_hessian(model, params):
    """sum_t d^2 X / dt^2 over every scalar t: the trace of each output entry's Hessian."""
    flat, unravel = ravel_pytree(params)
    hess = jax.jit(jax.hessian(lambda t: model.predict(unravel(t))))(flat)
    return jnp.trace(hess, axis1=-2, axis2=-1)


@pytest.mark.parametrize("model", [
    two_factor(3, 5, 6), symmetric(4), symmetric(4, 2, 3), hadamard(5, 3),
], ids=["LR^T", "UU^T", "U1U1^T-U2U2^T", "hadamard"])
def test_output_laplacian_is_the_hessian_trace(x64, model):
    params = _params64(model, seed=5)
    expected = _laplacian_by_hessian(model, params)
    got = model.output_laplacian(params)
    assert got.shape == expected.shape and got.dtype == jnp.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_symmetric_laplacian_is_2_k1_minus_k2_identity(x64):
    for model, expected in ((symmetric(4, 2, 3), -2 * np.eye(4)), (symmetric(3), 6 * np.eye(3))):
        np.testing.assert_array_equal(model.output_laplacian(_params64(model)), expected)


# --- init statistics -----------------------------------------------------------------------

def _many(model, scale, n=256, dtype=jnp.float64):
    keys = jax.random.split(jax.random.PRNGKey(0), n)
    return jax.jit(jax.vmap(lambda k: model.init(k, scale, dtype)))(keys)


def test_two_factor_gaussian_init_scales(x64):
    """L iid N(0, c/d1), R iid N(0, c/k): the depth-2 deep factorization's scales (its norm
    statistics are tested there; the init is the same, bit for bit, see above). One draw of
    16000 and 9600 entries: the std estimates are within 2 %."""
    c, (d1, d2, k) = 0.5, (200, 120, 80)
    left, right = two_factor(d1, d2, k).init(jax.random.PRNGKey(0), c, jnp.float64)
    assert float(np.std(left)) == pytest.approx(np.sqrt(c / d1), rel=0.02)
    assert float(np.std(right)) == pytest.approx(np.sqrt(c / k), rel=0.02)


def test_symmetric_gaussian_init_statistics(x64):
    """Entries iid N(0, c/d); E||X||_F^2 = (c/d)^2 d [k1(d+k1+1) + k2(d+k2+1) - 2 k1 k2].
    512 draws: the mean square within 5 % (its standard error is about 2 %)."""
    c, d, k1, k2 = 0.5, 12, 5, 3
    model = symmetric(d, k1, k2)
    keys = jax.random.split(jax.random.PRNGKey(0), 512)
    u1, u2 = jax.jit(jax.vmap(lambda k: model.init(k, c, jnp.float64)))(keys)
    assert float(np.std(np.concatenate([np.ravel(u1), np.ravel(u2)]))) == pytest.approx(
        np.sqrt(c / d), rel=0.01)
    x = np.asarray(jax.jit(jax.vmap(model.predict))((u1, u2)))
    expected = (c / d) ** 2 * d * (k1 * (d + k1 + 1) + k2 * (d + k2 + 1) - 2 * k1 * k2)
    assert float(np.mean(np.sum(x**2, axis=(1, 2)))) == pytest.approx(expected, rel=0.05)


def test_hadamard_gaussian_init_statistics(x64):
    """Each v_l iid N(0, c^(2/k)); the entries of x(0) are iid with mean square c^2
    (E||x||^2 = c^2 d). x_j^2 / c^2 is a product of three chi-square(1): variance 26, so over
    d = 50000 entries the standard error of the mean square is 2.3 %; 10 % is four of them."""
    c, d, depth = 0.3, 50_000, 3
    model = hadamard(d, depth)
    params = model.init(jax.random.PRNGKey(0), c, jnp.float64)
    for v in params:
        assert float(np.std(v)) == pytest.approx(c ** (1 / depth), rel=0.02)
    assert float(np.mean(np.asarray(model.predict(params)) ** 2)) == pytest.approx(c**2, rel=0.1)


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_hadamard_constant_init_gives_init_scale_ones(x64, depth):
    model = hadamard(7, depth, "constant")
    params = _params64(model, scale=1e-3)
    for v in params:
        np.testing.assert_allclose(v, np.full(7, 1e-3 ** (1 / depth)), rtol=1e-15)
    np.testing.assert_allclose(model.predict(params), np.full((7, 1), 1e-3), rtol=1e-14)


# --- configs: hooks and problem checks ----------------------------------------------------

def test_configs_validate_and_refuse_problems_they_do_not_fit():
    square = SensingConfig(d1=6, d2=6, rank=2, m=10)
    wide = SensingConfig(d1=6, d2=5, rank=2, m=10)
    vector = SensingConfig(d1=8, d2=1, rank=1, m=5)
    SymmetricConfig().check_problem(square)
    with pytest.raises(ValueError, match="'symmetric' needs a square problem") as err:
        SymmetricConfig(width=3).check_problem(wide)
    assert "\n" not in str(err.value)
    HadamardConfig().check_problem(vector)
    with pytest.raises(ValueError, match="'hadamard' needs a \\(d, 1\\) problem") as err:
        HadamardConfig().check_problem(square)
    assert "\n" not in str(err.value)
    with pytest.raises(ValidationError):
        SymmetricConfig(negative_width=-1)
    with pytest.raises(ValidationError):
        HadamardConfig(init="orthogonal")
    with pytest.raises(ValidationError):
        TwoFactorConfig(width=0)


def test_notes_flag_widths_below_the_truths_rank():
    problem = CompletionConfig(d1=8, d2=8, rank=3, m=20)
    assert TwoFactorConfig(width=2).notes(problem)["width_below_rank"]
    assert "rank <= 2" in TwoFactorConfig(width=2).notes(problem)["note"]
    assert not TwoFactorConfig().notes(problem)["width_below_rank"]
    assert SymmetricConfig(width=1, negative_width=1).notes(problem)["width_below_rank"]
    assert not SymmetricConfig(width=2, negative_width=1).notes(problem)["width_below_rank"]


def test_estimated_bytes_cover_parameters_and_prediction():
    problem = SensingConfig(d1=40, d2=30, rank=2, m=10)
    assert TwoFactorConfig(width=100).estimated_bytes(4, problem) == 12 * 4 * 70 * 100
    assert TwoFactorConfig().estimated_bytes(4, problem) == 12 * 4 * 70 * 30
    assert TwoFactorConfig(width=1).estimated_bytes(4, problem) == 12 * 4 * 40 * 30
    assert SymmetricConfig(width=50, negative_width=10).estimated_bytes(8, problem) == (
        12 * 8 * 40 * 60)
    assert HadamardConfig(depth=3).estimated_bytes(4, SensingConfig(d1=50, d2=1, rank=1,
                                                                   m=5)) == 12 * 4 * 150


def test_builders_refuse_mismatched_problem_instances():
    from overparam.models.kinds import hadamard as hadamard_kind
    from overparam.models.kinds import symmetric as symmetric_kind

    rect = SimpleNamespace(shape=(4, 3))  # what the builders read of a problem
    with pytest.raises(ValueError, match="square"):
        symmetric_kind.build(SymmetricConfig(), rect)
    with pytest.raises(ValueError, match=r"\(d, 1\)"):
        hadamard_kind.build(HadamardConfig(), rect)


# --- training ------------------------------------------------------------------------------

FAST = {"measures": ["train_loss", "recon_error"], "log_measures": ["train_loss"]}
CASES = {
    "two_factor": ({"kind": "completion", "d1": 7, "d2": 6, "rank": 1, "m": 30},
                   {"kind": "two_factor", "width": 3}),
    # U U^T (U2 has zero columns) is PSD; with m = 8 measurements of the (non-symmetric) truth
    # a PSD X still interpolates them
    "symmetric": ({"kind": "sensing", "d1": 6, "d2": 6, "rank": 1, "m": 8},
                  {"kind": "symmetric"}),
    "hadamard": ({"kind": "sensing", "d1": 8, "d2": 1, "rank": 1, "m": 6},
                 {"kind": "hadamard", "depth": 2}),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_training_end_to_end_and_batched_equals_unbatched(tmp_path, kind):
    """Through ``op.run`` on one device: two init scales in one group (one ``vmap`` of two
    runs) reach a low loss, and each equals its run trained alone (``max_batch=1``)."""
    from overparam.sweep import Store, SweepConfig, execute, expand
    from overparam.sweep._local import LocalExecutor

    one_device = LocalExecutor(devices=jax.devices()[:1])  # else each device takes one run
    problem, model = CASES[kind]
    sweep = {"name": kind, "problem": problem, "model": model,
             "optimizer": {"name": "group_rmsprop", "learning_rate": 1e-2},
             "train": {"max_steps": 2500, "log_every": 500, "stop_loss": 1e-5,
                       "dtype": "float64"},  # float32 vmap reorders sums: rounding drifts
             "grid": {"model.init_scale": [1e-2, 3e-2]}, "seeds": [0], **FAST}
    runs = op.run(sweep, out=tmp_path, progress=False, executor=one_device).runs
    runs = runs.sort_values("model.init_scale")
    assert len(runs) == 2 and (runs["status"] == "converged").all(), runs
    assert (runs["train_loss"] <= 1e-5).all()

    alone = Store(tmp_path / "alone", "alone")
    cfg = SweepConfig.model_validate({**sweep, "name": "alone"})
    execute(expand(cfg), alone, max_batch=1, progress=False, executor=one_device, **FAST)
    single = alone.consolidate()[0].sort_values("model.init_scale")
    np.testing.assert_array_equal(single["steps"], runs["steps"])
    for col in ("train_loss", "recon_error"):
        np.testing.assert_allclose(single[col], runs[col], rtol=1e-9)


def test_hadamard_trains_on_a_sparse_vector_problem(x64):
    """Sparse recovery as a (d, 1) dense-sensing problem, trained with the trainer itself."""
    from overparam.objectives import squared_objective
    from overparam.problems import gaussian_sensing_matrix, sensing_problem
    from overparam.train import CONVERGED, RUNNING, hparams, make_trainer

    d, m = 10, 6
    truth = jnp.zeros((d, 1), jnp.float64).at[2, 0].set(1.0).at[7, 0].set(-0.7)
    problem = sensing_problem(truth, gaussian_sensing_matrix(jax.random.PRNGKey(0), m, d, 1,
                                                             jnp.float64))
    assert problem.shape == (d, 1)
    model = hadamard(d, 2)
    trainer = make_trainer(model, squared_objective, optimizer="group_rmsprop", log_every=500,
                           logs_per_segment=4, dtype=jnp.float64)
    hp = hparams(init_scale=1e-3, learning_rate=1e-2, stop_loss=1e-8, max_steps=8000,
                 dtype=jnp.float64)
    state, log = jax.jit(trainer.init)(problem, hp, jax.random.PRNGKey(1))
    advance = jax.jit(trainer.advance)
    while int(state.status) == RUNNING:
        state, _ = advance(state, problem, hp)
    assert int(state.status) == CONVERGED
    assert float(state.loss) <= 1e-8 < 1e-6 * float(log["train_loss"])
