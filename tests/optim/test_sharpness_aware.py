"""SAM, 1-SAM and label-noise GD: each against a numpy step with hand-derived gradients on a
3x3 depth-2 sensing problem (5 real measurements, 2 padding), through the trainer; the zero
radius / noise is gradient descent; vmap over runs equals one run at a time; minibatches;
configs (a batched, swept rho) and one end-to-end ``op.run``; bad values."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import overparam as op
from overparam.errors import ConfigError
from overparam.models import deep_factorization
from overparam.objectives import squared_objective
from overparam.optim import make_optimizer, sam, sharpness_aware_gradient
from overparam.problems import MatrixProblem, low_rank_truth, make_completion, make_sensing
from overparam.train import hparams, make_trainer
from overparam.train._trainer import OPTIMIZER_STREAM

HYPER = {"sam": "rho", "sam1": "rho", "label_noise_gd": "sigma"}
LR, STEPS = 0.2, 3


class SampledSensing(MatrixProblem):
    """A sensing problem that hands out minibatches: ``size`` real measurements drawn without
    replacement, as 0/1 weights."""

    def minibatch(self, key, size: int) -> "SampledSensing":
        w = self.weights
        idx = jax.random.choice(key, w.shape[0], (size,), replace=False, p=w / w.sum())
        return self.reweighted(jnp.zeros_like(w).at[idx].set(1.0))


def _problem(cls=MatrixProblem, kind="sensing"):
    """3x3 rank one: 5 Gaussian measurements and 2 padding ones, or 4 observed entries."""
    truth = low_rank_truth(jax.random.PRNGKey(0), 3, 3, 1, jnp.float64)
    if kind == "completion":
        return cls(*make_completion(jax.random.PRNGKey(1), truth, 4))
    return cls(*make_sensing(jax.random.PRNGKey(1), truth, 5).padded(7))


def _trainer(name, batch_size=None, **options):
    return make_trainer(deep_factorization(3, 3, 2), squared_objective, optimizer=name,
                        optimizer_options=options, log_every=STEPS, logs_per_segment=1,
                        dtype=jnp.float64, batch_size=batch_size)


def _hp(name=None, value=None, lr=LR, init=0.5):
    hp = hparams(init_scale=init, learning_rate=lr, dtype=jnp.float64)
    if name in HYPER:
        hp["optimizer"][HYPER[name]] = jnp.asarray(value, jnp.float64)
    return hp


def _np(problem):
    """(A with the A_i as rows, y, w) of either problem as flat numpy arrays."""
    y, w = np.asarray(problem.observations).ravel(), np.asarray(problem.weights).ravel()
    a = getattr(problem.operator, "matrix", None)
    return (np.eye(y.size) if a is None else np.asarray(a)), y, w


# ----- the hand-written steps --------------------------------------------------------------


def np_grad(layers, a, y, w):
    """Gradient of sum_i w_i (<A_i, W2 W1> - y_i)^2 / sum_i w_i in (W1, W2)."""
    w1, w2 = layers
    x = w2 @ w1
    r = a @ x.reshape(-1) - y
    g = (2.0 / w.sum()) * (a.T @ (w * r)).reshape(x.shape)
    return [w2.T @ g, g @ w1.T]


def np_ascent(layers, g, rho, eps=1e-12):
    norm = np.sqrt(sum(np.sum(x * x) for x in g))
    return [p + rho * x / (norm + eps) for p, x in zip(layers, g)]


def np_sam_direction(layers, a, y, w, rho):
    return np_grad(np_ascent(layers, np_grad(layers, a, y, w), rho), a, y, w)


def np_sam1_direction(layers, a, y, w, rho):
    out = [np.zeros_like(p) for p in layers]
    for i in np.flatnonzero(w > 0):
        alone = np.zeros_like(w)
        alone[i] = w[i]
        gi = np_sam_direction(layers, a, y, alone, rho)
        out = [o + w[i] / w.sum() * g for o, g in zip(out, gi)]
    return out


def np_step(layers, direction):
    return [p - LR * g for p, g in zip(layers, direction)]


def _run(trainer, problem, hp, seed=7):
    state, _ = trainer.init(problem, hp, jax.random.PRNGKey(seed))
    start = [np.asarray(w) for w in state.params]
    end, _ = jax.jit(trainer.advance)(state, problem, hp)
    assert int(end.step) == STEPS
    return state, start, end


def _assert_layers(got, want, rtol=1e-11):
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), b, rtol=rtol, atol=1e-14)


# ----- against numpy ------------------------------------------------------------------------


def test_the_model_is_w2_w1(x64):
    model = deep_factorization(3, 3, 2)
    w1, w2 = model.init(jax.random.PRNGKey(0), init_scale=0.5, dtype=jnp.float64)
    np.testing.assert_allclose(model.predict((w1, w2)), w2 @ w1, rtol=1e-14)


@pytest.mark.parametrize("kind", ["sensing", "completion"])
@pytest.mark.parametrize("name, direction", [("sam", np_sam_direction),
                                             ("sam1", np_sam1_direction)])
def test_sharpness_aware_steps_match_numpy(x64, name, direction, kind):
    problem = _problem(kind=kind)
    a, y, w = _np(problem)
    _, layers, end = _run(_trainer(name), problem, _hp(name, 0.3))
    for _ in range(STEPS):
        layers = np_step(layers, direction(layers, a, y, w, 0.3))
    _assert_layers(end.params, layers)


@pytest.mark.parametrize("kind", ["sensing", "completion"])
def test_label_noise_step_matches_numpy_with_a_fresh_key_each_step(x64, kind):
    problem = _problem(kind=kind)
    a, y, w = _np(problem)
    state, layers, end = _run(_trainer("label_noise_gd"), problem, _hp("label_noise_gd", 0.5))
    draws = []
    shape = problem.observations.shape
    for t in range(STEPS):  # the trainer's step key (the run key is not split: no minibatch)
        key = jax.random.fold_in(jax.random.fold_in(state.key, OPTIMIZER_STREAM), t)
        xi = np.asarray(jax.random.normal(key, shape, jnp.float64)).ravel()
        draws.append(xi)
        layers = np_step(layers, np_grad(layers, a, y + 0.5 * xi * (w > 0), w))
    _assert_layers(end.params, layers)
    assert not np.allclose(draws[0], draws[1])


@pytest.mark.parametrize("name", ["sam1", "label_noise_gd"])
def test_per_measurement_steps_use_the_minibatch(x64, name):
    """With train.batch_size, the batch the update sees is the step's minibatch of
    measurements, drawn from the run's key (the key is split before each step)."""
    problem = _problem(SampledSensing)
    a, y, _ = _np(problem)
    value = 0.3 if name == "sam1" else 0.5
    state, layers, end = _run(_trainer(name, batch_size=2), problem, _hp(name, value))
    run_key = state.key
    for t in range(STEPS):
        step_key = jax.random.fold_in(jax.random.fold_in(run_key, OPTIMIZER_STREAM), t)
        run_key, sub = jax.random.split(run_key)
        w = np.asarray(problem.minibatch(sub, 2).weights)
        assert w.sum() == 2 and set(np.flatnonzero(w)) <= {0, 1, 2, 3, 4}
        if name == "sam1":
            d = np_sam1_direction(layers, a, y, w, value)
        else:
            xi = np.asarray(jax.random.normal(step_key, y.shape, jnp.float64))
            d = np_grad(layers, a, y + value * xi * (w > 0), w)
        layers = np_step(layers, d)
    _assert_layers(end.params, layers)


def test_sam1_with_one_real_measurement_is_sam(x64):
    problem = _problem()
    one = problem.reweighted(jnp.zeros(7).at[2].set(1.0))
    _, _, a = _run(_trainer("sam"), one, _hp("sam", 0.3))
    _, _, b = _run(_trainer("sam1"), one, _hp("sam1", 0.3))
    _assert_layers(a.params, [np.asarray(x) for x in b.params], rtol=1e-13)


@pytest.mark.parametrize("name", ["sam", "sam1", "label_noise_gd"])
def test_zero_radius_or_noise_is_gradient_descent(x64, name):
    problem = _problem()
    _, _, gd = _run(_trainer("gd"), problem, _hp())
    _, _, got = _run(_trainer(name), problem, _hp(name, 0.0))
    if name == "sam1":  # the mean over measurements sums in another order
        _assert_layers(got.params, [np.asarray(x) for x in gd.params], rtol=1e-13)
    else:
        for x, g in zip(got.params, gd.params):
            np.testing.assert_array_equal(x, g)


@pytest.mark.parametrize("name", ["sam", "sam1", "label_noise_gd"])
def test_annealing_ends_the_run_as_gradient_descent(x64, name):
    """anneal_after = 1: the first step is the optimizer's, the next two are plain GD steps
    (by numpy) from where it left; annealing at the last step changes nothing."""
    problem = _problem()
    a, y, w = _np(problem)
    _, _, annealed = _run(_trainer(name, anneal_after=1), problem, _hp(name, 0.3))
    one = make_trainer(deep_factorization(3, 3, 2), squared_objective, optimizer=name,
                       log_every=1, logs_per_segment=1, dtype=jnp.float64)
    state, _ = one.init(problem, _hp(name, 0.3), jax.random.PRNGKey(7))
    first, _ = jax.jit(one.advance)(state, problem, _hp(name, 0.3))
    layers = [np.asarray(x) for x in first.params]
    for _ in range(STEPS - 1):
        layers = np_step(layers, np_grad(layers, a, y, w))
    _assert_layers(annealed.params, layers)
    _, _, plain = _run(_trainer(name), problem, _hp(name, 0.3))
    _, _, late = _run(_trainer(name, anneal_after=STEPS), problem, _hp(name, 0.3))
    _assert_layers(late.params, [np.asarray(x) for x in plain.params], rtol=1e-13)
    assert not np.allclose(np.asarray(annealed.params[0]), np.asarray(plain.params[0]))


def test_sam_base_step_is_configurable(x64):
    params = {"w": jnp.asarray([1.0, -2.0, 0.5])}
    grad_fn = lambda p: jax.tree.map(lambda x: x**3, p)  # noqa: E731
    g = grad_fn(params)
    opt = sam(0.1, rho=0.2, base="adam")
    u, _ = opt.update(g, opt.init(params), params, grad_fn=grad_fn)
    sam_grad, _ = sharpness_aware_gradient(0.2).update(g, optax.EmptyState(), params,
                                                       grad_fn=grad_fn)
    adam = optax.adam(0.1)
    want, _ = adam.update(sam_grad, adam.init(params), params)
    np.testing.assert_allclose(u["w"], want["w"], rtol=1e-14)
    n = np.linalg.norm(np.asarray(g["w"]))
    np.testing.assert_allclose(sam_grad["w"], (np.asarray(params["w"]) + 0.2 * np.asarray(
        g["w"]) / (n + 1e-12)) ** 3, rtol=1e-14)


# ----- batched runs -------------------------------------------------------------------------


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


@pytest.mark.parametrize("name", ["sam", "sam1", "label_noise_gd"])
def test_vmap_over_runs_equals_one_run_at_a_time(x64, name):
    problem, trainer = _problem(), _trainer(name)
    hps = [_hp(name, v, lr=lr) for v, lr in ((0.0, 0.2), (0.1, 0.1), (0.4, 0.2))]
    keys = [jax.random.PRNGKey(s) for s in (1, 2, 3)]
    singles = []
    for hp, key in zip(hps, keys):
        s, _ = trainer.init(problem, hp, key)
        singles.append(trainer.advance(s, problem, hp))
    state, _ = jax.vmap(trainer.init, in_axes=(None, 0, 0))(problem, _stack(hps),
                                                            jnp.stack(keys))
    state, logs = jax.vmap(trainer.advance, in_axes=(0, None, 0))(state, problem, _stack(hps))
    for i, single in enumerate(singles):
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a[i], b, rtol=1e-12, atol=1e-15),
                     (state, logs), single)
    assert not np.allclose(logs["train_loss"][0], logs["train_loss"][2])  # rho is data


# ----- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, options, match", [
    ("sam", {"rho": -0.1}, "rho must be a number >= 0"),
    ("sam1", {"rho": float("nan")}, "rho must be a number >= 0"),
    ("label_noise_gd", {"sigma": -1.0}, "sigma must be a number >= 0"),
    ("sam1", {"chunk_size": 0}, "chunk_size must be an integer >= 1"),
    ("sam", {"base": "sam1"}, "base must name an optimizer"),
    ("sam", {"anneal_after": -1}, "anneal_after must be an integer"),
    ("sam1", {"anneal_after": 2.5}, "anneal_after must be an integer"),
    ("label_noise_gd", {"anneal_after": "soon"}, "anneal_after must be an integer"),
])
def test_bad_values_are_refused_by_the_factory(name, options, match):
    with pytest.raises(ValueError, match=match):
        make_optimizer(name, 0.1, **options)


def test_an_update_without_its_extra_arguments_says_what_is_missing():
    params = {"w": jnp.ones(2)}
    opt = make_optimizer("sam", 0.1)
    with pytest.raises(TypeError, match="needs the extra argument 'grad_fn'"):
        opt.update(params, opt.init(params), params)


def test_sam1_refuses_a_problem_without_measurement_weights():
    class Plain:  # a problem of no weighted measurements
        pass

    params = {"w": jnp.ones(2)}
    opt = make_optimizer("sam1", 0.1)
    with pytest.raises(TypeError, match="sam1 needs a problem of weighted measurements"):
        opt.update(params, opt.init(params), params, grad_fn=lambda p, b=None: p, batch=Plain())


# ----- configs and end to end ---------------------------------------------------------------


SWEEP = {"name": "flat-smoke",
         "problem": {"kind": "sensing", "d1": 3, "d2": 3, "rank": 1, "m": 6},
         "model": {"depth": 2, "init_scale": 0.3},
         "optimizer": {"name": "sam", "learning_rate": 0.1},
         "train": {"max_steps": 20, "log_every": 10, "stop_loss": 0.0},
         "measures": ["train_loss"], "log_measures": ["train_loss"]}


def test_a_swept_rho_is_batched_data_of_one_program():
    from overparam.sweep import SweepConfig, expand, run_id
    from overparam.sweep._build import ProblemCache, gd_group_key, hparams_of

    runs = expand(SweepConfig(**SWEEP, grid={"optimizer.hyperparams.rho": [0.0, 0.05, 0.1]}))
    cache = ProblemCache()
    assert len({gd_group_key(r, cache.get(r.problem, "float32")) for r in runs}) == 1
    assert len({run_id(r) for r in runs}) == 3
    assert [hparams_of(r)["optimizer"] for r in runs] == [
        {"learning_rate": 0.1, "rho": v} for v in (0.0, 0.05, 0.1)]
    unset = expand(SweepConfig(**SWEEP))[0]
    assert unset.optimizer.hyperparams == {"rho": 0.05}  # the factory's default
    gd = expand(SweepConfig(**{**SWEEP, "optimizer": {"name": "gd"}}))[0]
    assert "hyperparams" not in gd.model_dump()["optimizer"]  # run ids of gd runs unchanged


@pytest.mark.parametrize("optimizer, match", [
    ({"name": "sam", "hyperparams": {"rho": -0.1}}, "optimizer.hyperparams: rho must be"),
    ({"name": "label_noise_gd", "hyperparams": {"sigma": -1.0}},
     "optimizer.hyperparams: sigma must be"),
    ({"name": "sam", "hyperparams": {"sigma": 0.1}}, "no batched hyperparameter 'sigma'"),
    ({"name": "sam", "options": {"rho": 0.1}}, "give it as optimizer.hyperparams.rho"),
    ({"name": "gd", "hyperparams": {"rho": 0.1}}, "its batched ones: none"),
])
def test_bad_hyperparameters_in_a_config_name_the_field(tmp_path, optimizer, match):
    with pytest.raises(ConfigError, match=match):
        op.run({**SWEEP, "optimizer": optimizer}, out=tmp_path, progress=False)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["sam1", "label_noise_gd"])
def test_a_per_measurement_optimizer_on_a_problem_without_measurements_is_refused(tmp_path,
                                                                                  name):
    """Robust PCA's problem has no measurement weights: refused before anything is written,
    naming the field, instead of failing inside training."""
    sweep = {"name": "x", "measures": ["train_loss"],
             "problem": {"kind": "robust_pca", "d1": 4, "d2": 4, "rank": 1, "l": 1},
             "model": {"kind": "two_factor"}, "objective": {"kind": "robust_pca"},
             "optimizer": {"name": name, "learning_rate": 1e-2},
             "train": {"max_steps": 4, "log_every": 2}}
    with pytest.raises(ConfigError, match=f"optimizer.name: '{name}' needs a problem of "
                       "weighted measurements .*'robust_pca' has no weights"):
        op.run(sweep, out=tmp_path, progress=False)
    assert not any(tmp_path.iterdir())


def test_a_named_base_step_is_an_option_of_a_config(tmp_path):
    """optimizer.options takes names as well as numbers: sam with base = "adam" runs, stores
    the option, and steps differently from sam over gradient descent."""
    import pandas as pd

    grid = [{"name": "sam", "learning_rate": 0.05, "hyperparams": {"rho": 0.05},
             "options": {"base": base}} for base in ("adam", "gd")]
    op.run({**SWEEP, "grid": {"optimizer": grid}}, out=tmp_path, progress=False)
    [store] = tmp_path.iterdir()
    runs = pd.read_parquet(store / "runs.parquet").set_index("optimizer.options.base")
    assert sorted(runs.index) == ["adam", "gd"]
    assert runs.loc["adam", "train_loss"] != pytest.approx(runs.loc["gd", "train_loss"])
    with pytest.raises(ConfigError, match="base must name an optimizer"):
        op.run({**SWEEP, "optimizer": {"name": "sam", "options": {"base": "nope"}}},
               out=tmp_path / "bad", progress=False)


def test_each_optimizer_end_to_end_through_op_run(tmp_path):
    grid = [{"name": "gd", "learning_rate": 0.1}]
    grid += [{"name": "sam", "learning_rate": 0.1, "hyperparams": {"rho": r}}
             for r in (0.0, 0.1)]
    grid += [{"name": "sam1", "learning_rate": 0.1, "hyperparams": {"rho": 0.1}},
             {"name": "label_noise_gd", "learning_rate": 0.1, "hyperparams": {"sigma": 0.1}}]
    result = op.run({**SWEEP, "grid": {"optimizer": grid}}, out=tmp_path, progress=False)
    runs = result.runs
    assert len(runs) == 5 and (runs["status"] == "max_steps").all()
    assert (runs["steps"] == 20).all() and np.isfinite(runs["train_loss"]).all()
    first = result.trajectories.sort_values("step").groupby("run_id")["train_loss"].first()
    last = runs.set_index("run_id")["train_loss"]
    assert (last < first.loc[last.index]).all()  # every one trains
    gd = runs[runs["optimizer.name"] == "gd"]["train_loss"].iloc[0]
    sam_runs = runs[runs["optimizer.name"] == "sam"].sort_values("optimizer.hyperparams.rho")
    assert list(sam_runs["optimizer.hyperparams.rho"]) == [0.0, 0.1]
    assert sam_runs["train_loss"].iloc[0] == pytest.approx(gd, rel=1e-5)  # rho = 0 is GD
    assert sam_runs["train_loss"].iloc[1] != pytest.approx(gd, rel=1e-3)
