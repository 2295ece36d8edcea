"""One training run as a compiled program; many runs are ``vmap`` of it.

A run advances in *segments* of ``logs_per_segment * log_every`` steps. Inside a segment the
steps run in a ``lax.while_loop`` per logging interval, and the logged measures are computed at
each interval's end. Each step evaluates the data-fit loss and its gradient; the stop rule is
checked on that loss *before* the update, so a run stops at the first step whose loss is at or
below ``stop_loss`` (as in Arora et al.'s code). A finished run is frozen: its state no longer
changes, and under ``vmap`` it costs a full step until the host drops it between segments.
"""

from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

from overparam.measures import compute_measures
from overparam.models import Model
from overparam.optim import make_optimizer
from overparam.train._state import CONVERGED, DIVERGED, MAX_STEPS, RUNNING, TrainState
from overparam.types import Array, HParams, Params, Problem

# objective(model, params, problem, hparams) -> (total loss to differentiate, data-fit loss)
Objective = Callable[[Model, Params, Problem, HParams], tuple[Array, Array]]

HPARAM_KEYS = ("init_scale", "learning_rate", "stop_loss", "max_steps", "divergence_factor")


class Trainer(NamedTuple):
    """Pure functions of one run. All take unbatched inputs; batch with ``jax.vmap``.

    * ``init(problem, hparams, key) -> (state, log)``: initial state and the step-0 log.
    * ``advance(state, problem, hparams) -> (state, logs)``: one segment; ``logs`` holds
      ``logs_per_segment`` entries per logged measure, plus ``step``.
    * ``finalize(state, problem) -> dict``: the final measures.
    """

    init: Callable
    advance: Callable
    finalize: Callable
    segment_steps: int


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
) -> Trainer:
    """Build the pure functions that train one run of ``model`` on ``objective``.

    Args:
      model: what is trained.
      objective: ``objective(model, params, problem, hparams) -> (total, fit)``.
      optimizer: a name from :data:`overparam.optim.OPTIMIZERS`; its step size is
        ``hparams["learning_rate"]`` (batched data).
      optimizer_options: static keyword options of the optimizer.
      log_every: steps between logged measures.
      logs_per_segment: logging intervals per call of ``advance``.
      log_measures, final_measures: names from :data:`overparam.measures.MEASURES`.
      dtype: floating dtype of parameters.
    """
    if log_every < 1:
        raise ValueError(f"log_every must be >= 1, got {log_every}")
    if logs_per_segment < 1:
        raise ValueError(f"logs_per_segment must be >= 1, got {logs_per_segment}")
    options = dict(optimizer_options or {})
    make_optimizer(optimizer, 1.0, **options)  # validate name and options now, not under jit
    log_measures, final_measures = tuple(log_measures), tuple(final_measures)

    def opt(hparams: HParams) -> optax.GradientTransformation:
        return make_optimizer(optimizer, hparams["learning_rate"], **options)

    def fit_and_grad(params, problem, hparams):
        (_, fit), grads = jax.value_and_grad(
            lambda p: objective(model, p, problem, hparams), has_aux=True
        )(params)
        return fit, grads

    def log_of(state: TrainState, problem) -> dict[str, Array]:
        logs = compute_measures(log_measures, model, state.params, problem)
        logs["step"] = state.step
        return logs

    def init(problem, hparams: HParams, key: Array):
        params = model.init(key, hparams["init_scale"], dtype)
        fit, _ = fit_and_grad(params, problem, hparams)
        state = TrainState(
            params=params,
            opt_state=opt(hparams).init(params),
            step=jnp.zeros((), jnp.int32),
            status=jnp.asarray(RUNNING, jnp.int32),
            loss=fit,
            initial_loss=fit,
        )
        return state, log_of(state, problem)

    def one_step(state: TrainState, problem, hparams: HParams) -> TrainState:
        fit, grads = fit_and_grad(state.params, problem, hparams)
        diverged = ~jnp.isfinite(fit) | (fit > hparams["divergence_factor"] * state.initial_loss)
        status = jnp.select(
            [fit <= hparams["stop_loss"], diverged, state.step >= hparams["max_steps"]],
            [CONVERGED, DIVERGED, MAX_STEPS],
            RUNNING,
        ).astype(jnp.int32)
        updates, opt_state = opt(hparams).update(grads, state.opt_state, state.params)
        moving = status == RUNNING
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(moving, a, b), new, old)  # noqa: E731
        return TrainState(
            params=keep(optax.apply_updates(state.params, updates), state.params),
            opt_state=keep(opt_state, state.opt_state),
            step=state.step + moving.astype(jnp.int32),
            status=status,
            loss=fit,
            initial_loss=state.initial_loss,
        )

    def interval(state: TrainState, problem, hparams: HParams) -> TrainState:
        end = (state.step // log_every + 1) * log_every
        # past max_steps one more step runs: it evaluates the loss and sets the final status
        return lax.while_loop(
            lambda s: (s.status == RUNNING) & ((s.step < end) | (s.step >= hparams["max_steps"])),
            lambda s: one_step(s, problem, hparams),
            state,
        )

    def advance(state: TrainState, problem, hparams: HParams):
        def body(s, _):
            s = interval(s, problem, hparams)
            return s, log_of(s, problem)

        return lax.scan(body, state, None, length=logs_per_segment)

    def finalize(state: TrainState, problem) -> dict[str, Array]:
        return compute_measures(final_measures, model, state.params, problem)

    return Trainer(init, advance, finalize, log_every * logs_per_segment)
