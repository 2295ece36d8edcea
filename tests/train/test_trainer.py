"""The trainer: stop rule, frozen runs, batched == unbatched, precision, against a numpy GD loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.models import deep_factorization
from overparam.objectives import squared_objective
from overparam.problems import low_rank_truth, make_completion
from overparam.sweep._batch import compiled_functions, run_group
from overparam.train import CONVERGED, DIVERGED, MAX_STEPS, RUNNING, hparams, make_trainer


def _setup(depth=3, n=8, m=40, optimizer="gd", log_every=5, logs=4, dtype=jnp.float64,
           top_k=None):
    truth = low_rank_truth(jax.random.PRNGKey(0), n, n, 1, dtype)
    problem = make_completion(jax.random.PRNGKey(1), truth, m)
    model = deep_factorization(n, n, depth)
    trainer = make_trainer(model, squared_objective, optimizer=optimizer, log_every=log_every,
                           logs_per_segment=logs, log_measures=("train_loss", "singular_values"),
                           final_measures=("train_loss", "recon_error"), dtype=dtype,
                           top_k=top_k)
    return problem, model, trainer


def _hp(lr=0.5, init=0.3, stop=0.0, max_steps=10**6, div=1e6, dtype=jnp.float64):
    return hparams(init_scale=init, learning_rate=lr, stop_loss=stop, max_steps=max_steps,
                   divergence_factor=div, dtype=dtype)


def numpy_gd(layers, mask, obs, lr, steps):
    """Plain GD on the weighted MSE with the hand-derived depth-N gradient."""
    layers = [np.asarray(w, np.float64) for w in layers]
    for _ in range(steps):
        prefix = [layers[0]]
        for w in layers[1:]:
            prefix.append(w @ prefix[-1])
        g = 2 * mask * (prefix[-1] - obs) / mask.sum()
        grads, back = [], g
        for j in range(len(layers) - 1, -1, -1):
            right = prefix[j - 1] if j > 0 else np.eye(layers[0].shape[1])
            grads.append(back @ right.T)
            back = layers[j].T @ back
        layers = [w - lr * gw for w, gw in zip(layers, grads[::-1])]
    return layers


def test_segment_matches_numpy_gradient_descent(x64):
    problem, model, trainer = _setup()
    hp = _hp()
    state, _ = trainer.init(problem, hp, jax.random.PRNGKey(7))
    start = [np.asarray(w) for w in state.params]
    state, logs = jax.jit(trainer.advance)(state, problem, hp)
    assert int(state.step) == 20 and int(state.status) == RUNNING
    np.testing.assert_array_equal(logs["step"], [5, 10, 15, 20])
    expected = numpy_gd(start, np.asarray(problem.operator.mask), np.asarray(problem.observations),
                        0.5, 20)
    for a, b in zip(state.params, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_stop_rule_freezes_a_run_at_the_first_step_below_threshold(x64):
    problem, model, trainer = _setup()
    hp = _hp()
    state, _ = trainer.init(problem, hp, jax.random.PRNGKey(7))
    _, logs = jax.jit(trainer.advance)(state, problem, hp)
    stop = float(logs["train_loss"][1])  # the loss after 10 steps
    hp = _hp(stop=stop)
    state, _ = trainer.init(problem, hp, jax.random.PRNGKey(7))
    state, logs = jax.jit(trainer.advance)(state, problem, hp)
    assert int(state.status) == CONVERGED
    assert int(state.step) == 10
    assert float(state.loss) <= stop
    np.testing.assert_array_equal(logs["step"], [5, 10, 10, 10])  # frozen after stopping
    again, _ = jax.jit(trainer.advance)(state, problem, hp)
    for a, b in zip(again.params, state.params):
        np.testing.assert_array_equal(a, b)


def test_max_steps_and_divergence_statuses(x64):
    problem, model, trainer = _setup()
    state, _ = trainer.init(problem, _hp(max_steps=7), jax.random.PRNGKey(7))
    state, _ = jax.jit(trainer.advance)(state, problem, _hp(max_steps=7))
    assert int(state.status) == MAX_STEPS and int(state.step) == 7
    hp = _hp(lr=1e3, init=1.0)
    state, _ = trainer.init(problem, hp, jax.random.PRNGKey(7))
    state, _ = jax.jit(trainer.advance)(state, problem, hp)
    assert int(state.status) == DIVERGED
    assert 0 < int(state.step) < 20


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def test_vmap_equals_python_loop(x64):
    problem, model, trainer = _setup(optimizer="group_rmsprop")
    hps = [_hp(lr=0.05, init=0.1), _hp(lr=0.02, init=0.5, stop=0.05), _hp(lr=0.1, max_steps=9)]
    keys = [jax.random.PRNGKey(s) for s in (1, 2, 3)]
    singles = []
    for hp, key in zip(hps, keys):
        s, _ = trainer.init(problem, hp, key)
        s, logs = trainer.advance(s, problem, hp)
        singles.append((s, logs))
    init = jax.vmap(trainer.init, in_axes=(None, 0, 0))
    advance = jax.vmap(trainer.advance, in_axes=(0, None, 0))
    state, _ = init(problem, _stack(hps), jnp.stack(keys))
    state, logs = advance(state, problem, _stack(hps))
    for i, (s, lg) in enumerate(singles):
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a[i], b, rtol=1e-12, atol=1e-15),
                     (state, logs), (s, lg))


def test_compiled_programs_use_full_precision_matmuls():
    problem, model, trainer = _setup(dtype=jnp.float32)
    hp = jax.tree.map(lambda x: x[None], _hp(dtype=jnp.float32))
    init, advance, finalize, _ = compiled_functions(trainer, True)
    state, _ = init(problem, hp, jax.random.PRNGKey(0)[None])
    texts = [advance.lower(state, problem, hp).as_text(), init.lower(
        problem, hp, jax.random.PRNGKey(0)[None]).as_text()]
    for text in texts:
        dots = [line for line in text.splitlines() if "dot_general" in line]
        assert dots, "expected matrix products in the program"
        assert all("precision = [HIGHEST, HIGHEST]" in line for line in dots), dots[0]


@pytest.mark.parametrize("max_batch, shared", [(8, True), (2, True), (2, False)])
def test_run_group_with_repacking_equals_unbatched_runs(x64, max_batch, shared):
    """The executor's batched, sharded, refilled and repacked path gives each run's unbatched
    result (max_batch 2 < 5 runs: freed slots are refilled with pending runs)."""
    problem, model, trainer = _setup(optimizer="group_rmsprop", log_every=3, logs=2, top_k=2)
    hps = [_hp(init=0.3, lr=0.05, stop=0.0, max_steps=s) for s in (4, 9, 30, 13, 2)]
    seeds = [0, 1, 2, 3, 4]
    truth = problem.truth
    problems = ([problem] * 5 if shared else
                [make_completion(jax.random.PRNGKey(10 + i), truth, 30 + 5 * i) for i in range(5)])
    finished = {}
    run_group(trainer, problems, hps, seeds, dtype="float64", max_batch=max_batch,
              report=lambda fs: finished.update({f.index: f for f in fs}))
    assert sorted(finished) == [0, 1, 2, 3, 4]
    for i, (hp, seed) in enumerate(zip(hps, seeds)):
        s, _ = trainer.init(problems[i], hp, jax.random.PRNGKey(seed))
        while int(s.status) == RUNNING:
            s, _ = trainer.advance(s, problems[i], hp)
        f = finished[i]
        assert f.status == "max_steps"
        assert f.steps == int(s.step) == int(hps[i]["train"]["max_steps"])
        final = trainer.finalize(s, problems[i], hp)
        np.testing.assert_allclose(f.final["train_loss"], final["train_loss"], rtol=1e-12)
        assert f.trajectory["step"][0] == 0 and f.trajectory["step"][-1] == f.steps
        assert f.trajectory["singular_values"].shape[1] == 2
        assert np.all(np.diff(f.trajectory["step"]) > 0)


def test_trainer_validates_at_build_time():
    with pytest.raises(ValueError, match="log_every must be >= 1"):
        make_trainer(deep_factorization(2, 2, 1), squared_objective, optimizer="gd", log_every=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_trainer(deep_factorization(2, 2, 1), squared_objective, optimizer="nope")
