"""Measures by name: functions of one run's state, logged during and after training.

The names, docs and needs live in :data:`overparam.registry.MEASURES`; a measure's function
takes a :class:`MeasureContext`.
"""

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from overparam.models import Model
from overparam.registry import MEASURES as SPECS
from overparam.registry import MeasureSpec, resolve
from overparam.types import Array, Params, Problem


class MeasureContext(NamedTuple):
    """What a measure may use about one run (unbatched).

    Attributes:
      model: the run's model.
      params: its parameters.
      problem: the full problem (all observations, truth, held-out data).
      objective: ``objective(params, batch) -> (total, fit)`` with the run's hyperparameters
        bound, or None where there is none (a baseline's bare matrix).
      key: a PRNG key for stochastic measures (fresh at every log), or None.
      factors: False when ``params`` is a baseline's bare matrix rather than the model's own
        parameters; measures that need factors are then NaN.
      memo: what the measures of one evaluation share (see :meth:`shared`), or None.
    """

    model: Model
    params: Params
    problem: Problem
    objective: Callable | None = None
    key: Array | None = None
    factors: bool = True
    memo: dict | None = None

    def shared(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per evaluation of the measures (one log of one run), however
        many measures ask for it under ``name``: the dynamics' measures share one SVD of the
        end-to-end matrix instead of computing three, the spectral ones one list of singular
        values."""
        if self.memo is None:
            return compute()
        if name not in self.memo:
            self.memo[name] = compute()
        return self.memo[name]

    def prediction(self, inputs: Any = None) -> Array:
        """The model's output: the end-to-end matrix, or its outputs on ``inputs``."""
        if self.model.takes_inputs:
            return self.model.predict(self.params, inputs)
        return self.model.predict(self.params)


class Measure(NamedTuple):
    """A resolved measure: its spec's fields with ``fn(ctx)`` imported."""

    name: str
    fn: Callable[[MeasureContext], Array]
    vector: bool
    top_k: bool
    needs: frozenset
    doc: str


def get_measure(name: str) -> Measure:
    try:
        spec: MeasureSpec = SPECS[name]
    except KeyError:
        raise ValueError(f"measure must be one of {sorted(SPECS)}, got {name!r}") from None
    return Measure(spec.name, resolve(spec.fn), spec.vector, spec.top_k, spec.needs, spec.doc)


MEASURES = SPECS.view(lambda spec: get_measure(spec.name))  # name -> Measure


def nan_like(ctx: MeasureContext):
    """A scalar NaN in the dtype of the run's parameters: a measure's value where it does
    not apply."""
    dtype = jnp.result_type(*[jnp.asarray(p).dtype for p in jax.tree.leaves(ctx.params)])
    return jnp.asarray(jnp.nan, dtype)


def compute_measures(
    names: Sequence[str], model: Model, params: Params, problem: Problem, *,
    objective: Callable | None = None, key: Array | None = None, factors: bool = True,
    share: bool = True,
) -> dict[str, Array]:
    """Evaluate each named measure on one run's state (``share``: measures share their SVDs
    and gradients, see :meth:`MeasureContext.shared`; False only to measure what it saves).

    A measure that needs what the caller cannot give (factors of a baseline, an objective,
    a key) is a scalar NaN; see :class:`overparam.registry.MeasureSpec`.
    """
    ctx = MeasureContext(model, params, problem, objective, key, factors,
                         memo={} if share else None)
    out = {}
    for i, name in enumerate(names):
        m = get_measure(name)
        missing = (("factors" in m.needs and not factors)
                   or ("objective" in m.needs and objective is None)
                   or ("key" in m.needs and key is None))
        if missing:
            out[name] = nan_like(ctx)
            continue
        out[name] = m.fn(ctx._replace(key=None if key is None else jax.random.fold_in(key, i)))
    return out
