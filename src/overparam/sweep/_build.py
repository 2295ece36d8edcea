"""From validated run configs to arrays: problems, models, trainers and batching keys."""

import json
from typing import Any

import jax
import jax.numpy as jnp

from overparam.models import Model, deep_factorization
from overparam.objectives import squared_loss
from overparam.problems import (
    DenseSensing,
    MatrixProblem,
    entries_problem,
    load_npz_problem,
    low_rank_truth,
    make_completion,
    make_sensing,
    movielens_problem,
)
from overparam.sweep._config import ProblemConfig, RunConfig

TRUTH_STREAM, OBSERVATION_STREAM = 0, 1


def problem_id(cfg: ProblemConfig) -> str:
    return json.dumps(cfg.model_dump(mode="json"), sort_keys=True)


def build_problem(cfg: ProblemConfig, dtype: str) -> MatrixProblem:
    """The problem instance of ``cfg``, generated from its own seed.

    The truth is drawn from ``fold_in(key(seed), 0)``; the observations from
    ``fold_in(fold_in(key(seed), 1), m)``. So problems with one seed share their truth across
    m and across completion/sensing, and each m gets its own observation set.
    """
    dt = jnp.dtype(dtype)
    if cfg.kind == "file":
        return load_npz_problem(cfg.path, dt)
    if cfg.kind == "entries":
        return entries_problem(cfg.d1, cfg.d2, cfg.rows, cfg.cols, cfg.values, dt)
    if cfg.kind == "movielens100k":
        return movielens_problem(cfg.path or None, cfg.n_train, cfg.seed, dt)
    key = jax.random.PRNGKey(cfg.seed)
    truth = low_rank_truth(jax.random.fold_in(key, TRUTH_STREAM), cfg.d1, cfg.d2, cfg.rank, dt)
    obs_key = jax.random.fold_in(jax.random.fold_in(key, OBSERVATION_STREAM), cfg.m)
    if cfg.kind == "completion":
        return make_completion(obs_key, truth, cfg.m)
    return make_sensing(obs_key, truth, cfg.m)


class ProblemCache:
    """Builds each distinct problem once per dtype."""

    def __init__(self):
        self._cache: dict[tuple[str, str], MatrixProblem] = {}

    def get(self, cfg: ProblemConfig, dtype: str) -> MatrixProblem:
        key = (problem_id(cfg), dtype)
        if key not in self._cache:
            self._cache[key] = build_problem(cfg, dtype)
        return self._cache[key]


def problem_nbytes(problem: MatrixProblem) -> int:
    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(problem))


def problem_signature(problem: MatrixProblem) -> tuple:
    """What fixes the compiled program's shapes, apart from the measurement count of sensing."""
    return (type(problem.operator).__name__, *problem.shape, problem.truth is None)


SHARE_ABOVE_BYTES = 8 << 20


def is_large(problem: MatrixProblem) -> bool:
    """Large problems (big dense sensing operators) are shared by a batch rather than copied
    per run: their runs batch only with runs of the same problem. Smaller ones are stacked per
    run, sensing operators padded to a common number of measurements."""
    return (isinstance(problem.operator, DenseSensing)
            and problem_nbytes(problem) > SHARE_ABOVE_BYTES)


def build_model(run: RunConfig, problem: MatrixProblem) -> Model:
    m = run.model
    d1, d2 = problem.shape
    return deep_factorization(d1, d2, m.depth, m.width, m.init, m.positive_det)


def matrix_objective(model: Model, params, problem: MatrixProblem, hparams) -> tuple[Any, Any]:
    """Squared loss of the end-to-end matrix; (total, data fit) are the same here."""
    del hparams
    fit = squared_loss(problem, model.predict(params))
    return fit, fit


def gd_group_key(run: RunConfig, problem: MatrixProblem) -> tuple:
    """Runs with equal keys compile to one program and batch together."""
    m, o, t = run.model, run.optimizer, run.train
    key = (
        "gd",
        problem_signature(problem),
        (m.kind, m.depth, m.width, m.init, m.positive_det),
        (o.name, tuple(sorted(o.options.items()))),
        (t.log_every, t.dtype),
    )
    return key + ((problem_id(run.problem),) if is_large(problem) else ())


def hparams_of(run: RunConfig) -> dict[str, float]:
    return {
        "init_scale": run.model.init_scale,
        "learning_rate": run.optimizer.learning_rate,
        "stop_loss": run.train.stop_loss,
        "max_steps": run.train.max_steps,
        "divergence_factor": run.train.divergence_factor,
    }
