"""Divergence is contained: a run whose loss blows up stops inside the compiled loop, is stored
with status "diverged" and its step, and the other runs of its batch finish unchanged."""

import jax
import jax.numpy as jnp
import numpy as np

import overparam as op
from overparam.models import deep_factorization
from overparam.objectives import squared_objective
from overparam.problems import low_rank_truth, make_completion
from overparam.train import DIVERGED, MAX_STEPS, RUNNING, make_trainer

GOOD, BAD = 0.5, 10.0  # step sizes of plain GD on the 6x6 depth-3 problem below


def _setup():
    truth = low_rank_truth(jax.random.PRNGKey(0), 6, 6, 2)
    problem = make_completion(jax.random.PRNGKey(1), truth, 20)
    trainer = make_trainer(deep_factorization(6, 6, 3), squared_objective, optimizer="gd",
                           log_every=5, logs_per_segment=4,
                           log_measures=("train_loss", "singular_values"),
                           final_measures=("train_loss", "recon_error", "singular_values"))
    return problem, trainer


def _hparams(lrs, max_steps=60, factor=1e6):
    n = len(lrs)
    return {"model": {"init_scale": jnp.full(n, 1.0, jnp.float32)}, "objective": {},
            "optimizer": {"learning_rate": jnp.asarray(lrs, jnp.float32)},
            "train": {"stop_loss": jnp.zeros(n, jnp.float32),
                      "max_steps": jnp.full(n, max_steps, jnp.int32),
                      "divergence_factor": jnp.full(n, factor, jnp.float32)}}


def _train(problem, trainer, hp, seeds):
    """The batch trained to the end, with every segment's logs."""
    init = jax.jit(jax.vmap(trainer.init, in_axes=(None, 0, 0)))
    advance = jax.jit(jax.vmap(trainer.advance, in_axes=(0, None, 0)))
    state, _ = init(problem, hp, jnp.stack([jax.random.PRNGKey(s) for s in seeds]))
    logs = []
    while (np.asarray(state.status) == RUNNING).any():
        state, log = advance(state, problem, hp)
        logs.append(log)
    return state, jax.tree.map(lambda *xs: np.concatenate(xs, axis=1), *logs)


def test_diverging_run_stops_in_the_loop_and_leaves_its_batch_unchanged():
    problem, trainer = _setup()
    seeds = [0, 1, 2, 3]
    with_bad, logs_bad = _train(problem, trainer, _hparams([GOOD, 0.3, BAD, 0.2]), seeds)
    without, logs_ok = _train(problem, trainer, _hparams([GOOD, 0.3, GOOD, 0.2]), seeds)

    status = np.asarray(with_bad.status)
    assert status[2] == DIVERGED and list(status[[0, 1, 3]]) == [MAX_STEPS] * 3
    step = int(with_bad.step[2])
    assert 0 < step < 60
    bound = 1e6 * float(with_bad.initial_loss[2])
    loss = float(with_bad.loss[2])
    assert not np.isfinite(loss) or loss > bound  # its state is frozen at the bad step
    # the other runs of the batch: the same program, the same numbers, to the last bit
    for i in (0, 1, 3):
        jax.tree.map(lambda a, b: np.testing.assert_array_equal(np.asarray(a)[i],
                                                                np.asarray(b)[i]),
                     (with_bad, logs_bad), (without, logs_ok))

    # the recorded step is the first whose loss breaks the bound: one step less is fine
    single, _ = _train(problem, trainer, _hparams([BAD], max_steps=step - 1), [2])
    assert int(single.status[0]) == MAX_STEPS and int(single.step[0]) == step - 1
    assert float(single.loss[0]) <= bound


def test_non_finite_loss_is_caught_without_a_growth_bound():
    """With a bound beyond float32's range, only NaN / infinity stops the run."""
    problem, trainer = _setup()
    state, _ = _train(problem, trainer, _hparams([BAD, GOOD], factor=np.inf), [0, 1])
    assert list(np.asarray(state.status)) == [DIVERGED, MAX_STEPS]
    assert not np.isfinite(float(state.loss[0]))
    assert np.isfinite(np.asarray(state.loss[1]))


def _sweep(lrs, factor=1e6, **kw):
    return {"name": "div",
            "problem": {"kind": "completion", "d1": 6, "d2": 6, "rank": 2, "m": 20},
            "model": {"depth": 3, "init_scale": 1.0},
            "optimizer": {"name": "gd"},
            "train": {"max_steps": 60, "log_every": 10, "stop_loss": 0.0,
                      "divergence_factor": factor},
            "grid": {"optimizer.learning_rate": lrs}, "seeds": [0, 1], **kw}


def _diverged(result, n):
    runs = result.runs.set_index("run_id")
    bad = runs[(runs["method"] == "gd") & (runs["optimizer.learning_rate"] == BAD)]
    assert len(bad) == n and (bad["status"] == "diverged").all()
    assert ((bad["steps"] > 0) & (bad["steps"] < 60)).all()
    for rid, row in bad.iterrows():  # the trajectory ends at the divergence step
        traj = result.trajectories[result.trajectories["run_id"] == rid]
        assert traj["step"].max() == row["steps"]
    assert {p.name for p in result.figures} == {"final.png", "trajectories.png"}
    return bad


def test_a_sweep_with_a_diverging_run_finishes_and_stores_it(tmp_path):
    """The whole sweep (store, baseline, figures, claims) survives; the diverged rows say
    where they stopped; the stable runs equal those of a sweep without the diverging step."""
    claim = {"name": "good-fits", "statement": "the stable runs fit", "measure": "train_loss",
             "where": {"optimizer.learning_rate": GOOD}, "op": "<=", "value": 1.0}
    result = op.run(_sweep([GOOD, BAD, 0.2], baselines=["truth"], claims=[claim]),
                    out=tmp_path / "a", progress=False)
    _diverged(result, 2)
    runs = result.runs
    assert (runs.loc[runs["method"] == "truth", "status"] == "converged").all()
    assert result.all_hold

    gd = runs[runs["method"] == "gd"].set_index("run_id")
    alone = op.run(_sweep([GOOD, 0.2]), out=tmp_path / "b", progress=False)
    ok = alone.runs.set_index("run_id")
    assert len(ok) == 4 and set(ok.index) < set(gd.index)
    for col in ("status", "steps"):
        assert (gd.loc[ok.index, col] == ok[col]).all(), col
    for col in ("train_loss", "recon_error", "nuclear_norm"):
        np.testing.assert_allclose(gd.loc[ok.index, col].astype(float),
                                   ok[col].astype(float), rtol=1e-5, err_msg=col)


def test_a_float32_sweep_with_an_unbounded_factor_stops_on_infinity(tmp_path):
    """divergence_factor = 1e300 does not fit float32: it means no growth bound, and the
    non-finite loss still stops the run."""
    result = op.run(_sweep([GOOD, BAD], factor=1e300, seeds=[0]), out=tmp_path, progress=False)
    bad = _diverged(result, 1)
    assert not np.isfinite(bad["train_loss"].astype(float)).all()
