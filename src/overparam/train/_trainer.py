"""One training run as a compiled program; many runs are ``vmap`` of it.

A run advances in *segments* of ``logs_per_segment * log_every`` steps. Inside a segment the
steps run in a ``lax.while_loop`` per logging interval, and the logged measures are computed at
each interval's end. Each step evaluates the data-fit loss and its gradient; the stop rule is
checked on that loss *before* the update, so a run stops at the first step whose loss is at or
below ``stop_loss`` (as in Arora et al.'s code). A finished run is frozen: its state no longer
changes, and under ``vmap`` it costs a full step until the host drops it between segments.

Hyperparameters are batched data, one nested dict per run::

    {"model": {"init_scale": ...}, "objective": {...}, "optimizer": {"learning_rate": ...},
     "train": {"stop_loss": ..., "max_steps": ..., "divergence_factor": ...}}

``model`` entries go to ``model.init`` as keyword arguments, ``optimizer`` entries to the
optimizer factory, ``objective`` entries to the objective. With ``batch_size`` set, each step
draws a minibatch ``problem.minibatch(key, batch_size)`` from the run's own key; the stop and
divergence rules then see the minibatch loss.

The optimizer's update gets, beyond the gradient, optax extra arguments: ``grad_fn`` (the
objective's gradient on the step's batch, or on a changed batch, at any parameters),
``batch`` and a fresh ``key`` of the step (see :mod:`overparam.optim._extra_args`). Plain
optax transformations ignore them, and nothing is computed for an update that does not use
them.
"""

from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

from overparam.measures import compute_measures, get_measure
from overparam.models import Model
from overparam.objectives._local import bind_objective
from overparam.optim import make_optimizer
from overparam.train._state import CONVERGED, DIVERGED, MAX_STEPS, RUNNING, TrainState
from overparam.types import Array, HParams, Params, Problem

# objective(model, params, batch, hparams) -> (total loss to differentiate, data-fit loss)
Objective = Callable[[Model, Params, Problem, HParams], tuple[Array, Array]]

TRAIN_HPARAMS = ("stop_loss", "max_steps", "divergence_factor")
OPTIMIZER_STREAM = 0x6F707469  # folded into the run key for the optimizer's step keys
HPARAM_SECTIONS = ("model", "objective", "optimizer", "train")


class Trainer(NamedTuple):
    """Pure functions of one run. All take unbatched inputs; batch with ``jax.vmap``.

    * ``init(problem, hparams, key) -> (state, log)``: initial state and the step-0 log.
    * ``advance(state, problem, hparams) -> (state, logs)``: one segment; ``logs`` holds
      ``logs_per_segment`` entries per logged measure, plus ``step``.
    * ``finalize(state, problem, hparams) -> dict``: the final measures.
    """

    init: Callable
    advance: Callable
    finalize: Callable
    segment_steps: int


def hparams(*, init_scale=None, learning_rate, stop_loss=0.0, max_steps=2**31 - 1,
            divergence_factor=1e6, objective=None, model=None, dtype=jnp.float32) -> HParams:
    """The hyperparameter dict of one run of a deep factorization (a convenience for
    notebooks and tests; sweeps derive it from the configs' batched fields)."""
    cast = lambda v: jnp.asarray(v, dtype)  # noqa: E731
    model = dict(model or {})
    if init_scale is not None:
        model["init_scale"] = init_scale
    return {"model": {k: cast(v) for k, v in model.items()},
            "objective": {k: cast(v) for k, v in (objective or {}).items()},
            "optimizer": {"learning_rate": cast(learning_rate)},
            "train": {"stop_loss": cast(stop_loss), "max_steps": jnp.asarray(max_steps, jnp.int32),
                      "divergence_factor": cast(divergence_factor)}}


def make_trainer(
    model: Model,
    objective: Objective,
    *,
    optimizer: str,
    optimizer_options: dict | None = None,
    log_every: int = 1000,
    logs_per_segment: int = 10,
    log_measures: Sequence[str] = ("train_loss",),
    final_measures: Sequence[str] = ("train_loss",),
    dtype=jnp.float32,
    top_k: int | None = None,
    batch_size: int | None = None,
) -> Trainer:
    """Build the pure functions that train one run of ``model`` on ``objective``.

    Args:
      model: what is trained.
      objective: ``objective(model, params, batch, hparams) -> (total, fit)``.
      optimizer: a name from :data:`overparam.registry.OPTIMIZERS`; its step size is
        ``hparams["optimizer"]["learning_rate"]`` (batched data), and the other entries of
        ``hparams["optimizer"]`` (e.g. SAM's ``rho``) are its batched hyperparameters.
      optimizer_options: static keyword options of the optimizer.
      log_every: steps between logged measures.
      logs_per_segment: logging intervals per call of ``advance``.
      log_measures, final_measures: names from :data:`overparam.registry.MEASURES`.
      dtype: floating dtype of parameters.
      top_k: logged top-k measures (singular values and their rates) keep this many entries
        (None: all).
      batch_size: measurements per step drawn by ``problem.minibatch`` (None: all).
    """
    if log_every < 1:
        raise ValueError(f"log_every must be >= 1, got {log_every}")
    if logs_per_segment < 1:
        raise ValueError(f"logs_per_segment must be >= 1, got {logs_per_segment}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    options = dict(optimizer_options or {})
    make_optimizer(optimizer, 1.0, **options)  # validate name and options now, not under jit
    log_measures, final_measures = tuple(log_measures), tuple(final_measures)
    cut = {n for n in log_measures if get_measure(n).top_k} if top_k is not None else set()

    def opt(hp: HParams) -> optax.GradientTransformationExtraArgs:
        return optax.with_extra_args_support(
            make_optimizer(optimizer, **hp["optimizer"], **options))

    def fit_and_grad(params, batch, hp):
        (_, fit), grads = jax.value_and_grad(
            lambda p: objective(model, p, batch, hp["objective"]), has_aux=True
        )(params)
        return fit, grads

    def step_args(state: TrainState, batch, hp) -> dict:
        """The update's extra arguments at this step (:mod:`overparam.optim._extra_args`)."""

        def grad_fn(params, other=None):
            return fit_and_grad(params, batch if other is None else other, hp)[1]

        stream = jax.random.fold_in(state.key, OPTIMIZER_STREAM)
        return {"grad_fn": grad_fn, "batch": batch,
                "key": jax.random.fold_in(stream, state.step)}

    def bound_objective(hp):
        return bind_objective(objective, model, hp["objective"])

    def log_of(state: TrainState, problem, hp) -> dict[str, Array]:
        logs = compute_measures(log_measures, model, state.params, problem,
                                objective=bound_objective(hp),
                                key=jax.random.fold_in(state.key, state.step))
        logs = {k: v[..., :top_k] if k in cut else v for k, v in logs.items()}
        logs["step"] = state.step
        return logs

    def batch_of(problem, key):
        if batch_size is None:
            return problem, key
        key, sub = jax.random.split(key)
        return problem.minibatch(sub, batch_size), key

    def init(problem, hp: HParams, key: Array):
        init_key, run_key = jax.random.split(key)
        params = model.init(key if batch_size is None else init_key, **hp["model"], dtype=dtype)
        fit, _ = fit_and_grad(params, problem, hp)
        state = TrainState(
            params=params,
            opt_state=opt(hp).init(params),
            step=jnp.zeros((), jnp.int32),
            status=jnp.asarray(RUNNING, jnp.int32),
            loss=fit,
            initial_loss=fit,
            key=run_key,
        )
        return state, log_of(state, problem, hp)

    def one_step(state: TrainState, problem, hp: HParams) -> TrainState:
        batch, key = batch_of(problem, state.key)
        fit, grads = fit_and_grad(state.params, batch, hp)
        train = hp["train"]
        diverged = ~jnp.isfinite(fit) | (fit > train["divergence_factor"] * state.initial_loss)
        status = jnp.select(
            [fit <= train["stop_loss"], diverged, state.step >= train["max_steps"]],
            [CONVERGED, DIVERGED, MAX_STEPS],
            RUNNING,
        ).astype(jnp.int32)
        updates, opt_state = opt(hp).update(grads, state.opt_state, state.params,
                                            **step_args(state, batch, hp))
        moving = status == RUNNING
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(moving, a, b), new, old)  # noqa: E731
        return TrainState(
            params=keep(optax.apply_updates(state.params, updates), state.params),
            opt_state=keep(opt_state, state.opt_state),
            step=state.step + moving.astype(jnp.int32),
            status=status,
            loss=fit,
            initial_loss=state.initial_loss,
            key=keep(key, state.key),
        )

    def interval(state: TrainState, problem, hp: HParams) -> TrainState:
        end = (state.step // log_every + 1) * log_every
        max_steps = hp["train"]["max_steps"]
        # past max_steps one more step runs: it evaluates the loss and sets the final status
        return lax.while_loop(
            lambda s: (s.status == RUNNING) & ((s.step < end) | (s.step >= max_steps)),
            lambda s: one_step(s, problem, hp),
            state,
        )

    def advance(state: TrainState, problem, hp: HParams):
        def body(s, _):
            s = interval(s, problem, hp)
            return s, log_of(s, problem, hp)

        return lax.scan(body, state, None, length=logs_per_segment)

    def finalize(state: TrainState, problem, hp: HParams) -> dict[str, Array]:
        return compute_measures(final_measures, model, state.params, problem,
                                objective=bound_objective(hp),
                                key=jax.random.fold_in(state.key, state.step))

    return Trainer(init, advance, finalize, log_every * logs_per_segment)
