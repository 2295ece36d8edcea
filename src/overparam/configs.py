"""Building blocks of config models: strict pydantic bases, number types, the batched marker.

A kind's config (a problem, a model, an objective, a solver) is a :class:`Strict` pydantic
model with a ``kind`` literal. Each field is either **static** (it chooses the compiled
program: sizes, depth, an init's name) or **batched** (it is data of the run: an init scale,
a step size, a regularizer weight); batched fields are declared next to the field, once::

    class MyModelConfig(Strict):
        kind: Literal["mine"] = "mine"
        width: PosInt = 10                           # static
        init_scale: Batched[PosFloat] = 1e-3         # batched

Runs whose static fields agree are compiled once and trained together; their batched fields
are stacked along the batch axis (see :func:`batched_values` and :func:`static_key`). This
module imports pydantic only (no JAX), so configs validate without starting JAX.
"""

import functools
import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

PosInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _BatchedMarker:
    """Field metadata: the field is batched data of a run, not part of the compiled program."""

    def __repr__(self) -> str:
        return "BATCHED"


BATCHED = _BatchedMarker()
T = TypeVar("T")
Batched = Annotated[T, BATCHED]


class Strict(BaseModel):
    """Frozen, strictly typed, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


@functools.cache
def batched_field_names(cls: type[BaseModel]) -> tuple[str, ...]:
    """Names of the fields of ``cls`` declared :data:`Batched` (cached per class: a sweep of
    100,000 runs asks three times per run)."""
    return tuple(name for name, f in cls.model_fields.items()
                 if any(m is BATCHED for m in f.metadata))


def batched_values(cfg: BaseModel | None) -> dict[str, Any]:
    """The batched fields of ``cfg`` and their values (empty for None).

    A batched field that holds a dict (``Batched[dict[str, float]]``, e.g. an optimizer's
    ``hyperparams``) contributes its items, not itself: each item is a batched value.
    """
    if cfg is None:
        return {}
    out: dict[str, Any] = {}
    for name in batched_field_names(type(cfg)):
        value = getattr(cfg, name)
        out.update(value if isinstance(value, dict) else {name: value})
    return out


def static_key(cfg: BaseModel | None) -> str:
    """A hashable text of every static (non-batched) field of ``cfg``: runs whose configs
    share it share a compiled program."""
    if cfg is None:
        return "null"
    batched = set(batched_field_names(type(cfg)))
    data = cfg.model_dump(mode="json", exclude=batched)
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


class KindConfig(Strict):
    """Base of a kind's config. Subclasses add ``kind: Literal[...]`` and their fields.

    Optional hooks the executor uses when present (all take validated configs, no arrays):

    * ``estimated_bytes(itemsize, problem=None) -> int``: memory the run needs, to refuse
      problems beyond memory before building them (0: unknown).
    * ``notes(problem) -> dict``: extra columns for the run's row (a model config, e.g. a
      capacity warning when it cannot represent the truth).
    * ``check_problem(problem)``: raise ValueError when a model config does not fit the
      problem's config (e.g. square layers needed).
    * ``check_model(model)``: raise ValueError when an objective config does not fit the
      model's config (e.g. a term defined for two-factor models only).
    """

    def estimated_bytes(self, itemsize: int, problem: "KindConfig | None" = None) -> int:
        del itemsize, problem
        return 0

    def notes(self, problem: "KindConfig") -> dict[str, Any]:
        del problem
        return {}

    def check_problem(self, problem: "KindConfig") -> None:
        """Raise ValueError when this (model) config cannot be used with ``problem``."""
        del problem
