"""From validated run configs to arrays: problems, models, objectives, batching keys.

Everything here goes through the registries: a new kind needs no edit of this file.
"""

import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from overparam import registry
from overparam.configs import batched_values, static_key
from overparam.models import Model
from overparam.sweep._config import RunConfig

# the model's label and the progress line


def problem_id(cfg) -> str:
    return json.dumps(cfg.model_dump(mode="json"), sort_keys=True)


def build_problem(cfg, dtype: str):
    """The problem instance of ``cfg`` (its kind's builder, deterministic in ``cfg``)."""
    build = registry.resolve(registry.PROBLEMS.get(cfg.kind).build)
    return build(cfg, jnp.dtype(dtype))


class ProblemCache:
    """Builds each distinct problem once per dtype, and solves each reference of it (see
    :mod:`overparam.sweep._references`) once."""

    def __init__(self):
        self._cache: dict[tuple, Any] = {}
        self._solutions: dict[tuple[str, str], dict] = {}

    def get(self, cfg, dtype: str, references: tuple[str, ...] = ()):
        """The problem of ``cfg`` in ``dtype``, carrying the solutions of the solver kinds
        ``references`` (solved in float64 on its float64 build)."""
        from overparam._runtime import dtype_context

        key = (problem_id(cfg), dtype, tuple(references))
        if key in self._cache:
            return self._cache[key]
        if not references:
            self._cache[key] = build_problem(cfg, dtype)
            return self._cache[key]
        from overparam.sweep._references import attach_references, solve_reference

        base = self.get(cfg, dtype)
        if "references" not in getattr(base, "_fields", ()):  # cannot carry any: NaN measures
            self._cache[key] = base
            return base

        solutions = {}
        for kind in references:
            sol_key = (problem_id(cfg), kind)
            if sol_key not in self._solutions:
                with dtype_context("float64"):
                    problem64 = self.get(cfg, "float64")
                self._solutions[sol_key] = solve_reference(kind, problem64)
            solutions[kind] = self._solutions[sol_key]
        self._cache[key] = attach_references(base, solutions, dtype)
        return self._cache[key]


def problem_nbytes(problem) -> int:
    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(problem))


def problem_signature(problem) -> tuple:
    """What fixes the compiled program's shapes, apart from the padded measurement count: the
    problem's own ``signature()`` when it has one, else its tree structure and leaf shapes."""
    sig = getattr(problem, "signature", None)
    if sig is not None:
        return sig()
    leaves, treedef = jax.tree.flatten(problem)
    return (str(treedef), tuple((x.shape, str(x.dtype)) for x in leaves))


SHARE_ABOVE_BYTES = 8 << 20


def is_large(problem) -> bool:
    """Large padded problems (big dense sensing operators) are shared by a batch rather than
    copied per run: their runs batch only with runs of the same problem. Smaller ones are
    stacked per run, padded to a common number of measurements."""
    return (getattr(problem, "pad_size", None) is not None
            and problem_nbytes(problem) > SHARE_ABOVE_BYTES)


def build_model(run: RunConfig, problem) -> Model:
    return registry.resolve(registry.MODELS.get(run.model.kind).build)(run.model, problem)


def build_objective(run: RunConfig):
    return registry.resolve(registry.OBJECTIVES.get(run.objective.kind).build)(run.objective)


def gd_group_key(run: RunConfig, problem) -> tuple:
    """Runs with equal keys compile to one program and batch together: the problem's shape
    signature and every static config field (see :mod:`overparam.configs`)."""
    key = ("gd", problem_signature(problem), static_key(run.model), static_key(run.objective),
           static_key(run.optimizer), static_key(run.train))
    return key + ((problem_id(run.problem),) if is_large(problem) else ())


def hparams_of(run: RunConfig) -> dict[str, dict[str, Any]]:
    """The run's batched fields by section (see :mod:`overparam.train`); a divergence bound
    beyond the dtype's range means none."""
    hp = {"model": batched_values(run.model), "objective": batched_values(run.objective),
          "optimizer": batched_values(run.optimizer), "train": batched_values(run.train)}
    train = hp["train"]
    train["divergence_factor"] = min(train["divergence_factor"],
                                     float(np.finfo(run.train.dtype).max))
    return hp


def solver_group_key(run: RunConfig, problem) -> tuple:
    return ("solver", problem_signature(problem), run.solver.kind, static_key(run.solver),
            is_large(problem))
