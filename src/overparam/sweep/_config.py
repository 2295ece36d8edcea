"""Validated configuration of runs and sweeps (pydantic models, checked once at the edge).

The ``problem``, ``model``, ``objective`` and ``solver`` sections are unions of the configs
in :mod:`overparam.registry`, discriminated by ``kind``; registering a kind rebuilds them.
No JAX is imported here.
"""

import inspect
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_serializer, model_validator
from pydantic.fields import FieldInfo

from overparam import registry
from overparam.configs import (
    Batched,
    FiniteFloat,
    KindConfig,
    NonNegFloat,
    NonNegInt,
    PosFloat,
    PosInt,
    Strict,
)
from overparam.errors import closest

__all__ = ["OptimizerConfig", "RunConfig", "Strict", "SweepConfig", "TrainConfig"]


def _known(names: list[str], reg: registry.Registry) -> list[str]:
    for n in names:
        if n not in reg:
            raise ValueError(f"unknown {reg.what} {n!r}{closest(n, reg)}")
    return names


ALWAYS_MEASURED = ("frob_error", "success")  # final columns of every row (Ding et al.)

class OptimizerConfig(Strict):
    """An optax optimizer by name (see :data:`overparam.registry.OPTIMIZERS`).

    Batched: the step size and the ``hyperparams``, the float options that the optimizer's
    entry declares batched (e.g. ``{rho = 0.05}`` for ``sam``; each unset one takes the
    factory's default, so every run of an optimizer has the same ones). ``options`` are
    static keyword options (they choose the compiled program).
    """

    name: str = "group_rmsprop"
    learning_rate: Batched[PosFloat] = 1e-3
    hyperparams: Batched[dict[str, FiniteFloat]] = Field(
        default_factory=dict, validate_default=True,
        description="batched float options of the optimizer (those its registry entry "
        "declares batched), e.g. sam's rho; swept without recompiling")
    options: dict[str, float | str] = Field(
        default_factory=dict, description="extra keyword options of the optimizer: numbers, "
        "or names such as sam's base = 'adam'")

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str) -> str:
        if name not in registry.OPTIMIZERS:
            valid = registry.OPTIMIZERS.names()
            raise ValueError(f"unknown optimizer {name!r}{closest(name, valid)} "
                             f"(one of {', '.join(map(repr, valid))})")
        return name

    @field_validator("hyperparams")
    @classmethod
    def _declared_hyperparams(cls, hyperparams: dict[str, float], info) -> dict[str, float]:
        """Only the entry's batched names; the unset ones filled with the factory's defaults,
        and the values checked by the factory."""
        name = info.data.get("name")
        if name is None:  # the name failed validation; that error is reported
            return hyperparams
        entry = registry.OPTIMIZERS.get(name)
        unknown = sorted(set(hyperparams) - set(entry.batched))
        if unknown:
            declared = ", ".join(map(repr, entry.batched)) or "none"
            raise ValueError(f"optimizer {name!r} has no batched hyperparameter {unknown[0]!r}"
                             f"{closest(unknown[0], entry.batched)} (its batched ones: "
                             f"{declared}; static options go in optimizer.options)")
        if not entry.batched:
            return hyperparams
        factory = registry.resolve(entry.factory)
        full = {**_defaults(factory, entry.batched, name), **hyperparams}
        factory(1.0, **full)  # its own checks of the values (e.g. rho >= 0)
        return full

    @model_validator(mode="after")
    def _check_options(self):
        if not self.options:
            return self
        entry = registry.OPTIMIZERS.get(self.name)
        batched = sorted(set(self.options) & set(entry.batched))
        if batched:
            raise ValueError(f"options.{batched[0]}: {batched[0]!r} is a batched "
                             f"hyperparameter of optimizer {self.name!r}; give it as "
                             f"optimizer.hyperparams.{batched[0]}")
        factory = registry.resolve(entry.factory)
        try:
            factory(self.learning_rate, **self.hyperparams, **self.options)
        except TypeError as e:
            raise ValueError(f"bad options for optimizer {self.name!r}: {e}") from None
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        """Empty ``hyperparams`` are left out, so optimizers without any keep their run ids."""
        data = handler(self)
        if isinstance(data, dict) and not data.get("hyperparams", True):
            del data["hyperparams"]
        return data


def _defaults(factory, names: tuple[str, ...], optimizer: str) -> dict[str, float]:
    """The defaults of ``factory``'s keywords ``names``."""
    params = inspect.signature(factory).parameters
    out = {}
    for n in names:
        default = params[n].default if n in params else inspect.Parameter.empty
        if default is inspect.Parameter.empty:
            raise ValueError(f"optimizer {optimizer!r}: its factory needs a default for the "
                             f"batched hyperparameter {n!r}")
        out[n] = float(default)
    return out


class TrainConfig(Strict):
    """How a run is trained. Static: ``log_every``, ``dtype``, ``batch_size``; batched: the
    stop rule's ``max_steps``, ``stop_loss`` and ``divergence_factor``."""

    max_steps: Batched[PosInt] = 200_000
    log_every: PosInt = 1000
    stop_loss: Batched[NonNegFloat] = 1e-6
    divergence_factor: Batched[Annotated[float, Field(gt=1, allow_inf_nan=False)]] = 1e6
    dtype: Literal["float32", "float64"] = "float32"
    batch_size: PosInt | None = Field(
        None, description="measurements (or examples) per step, drawn from the run's key; "
        "None: the full problem every step")


def kind_union(reg: registry.Registry):
    """The discriminated union of the configs registered in ``reg``."""
    configs = [entry.config for entry in reg.values()]
    if len(configs) == 1:
        return Annotated[configs[0], Field(discriminator="kind")]
    return Annotated[Union[tuple(configs)], Field(discriminator="kind")]  # noqa: UP007


DEFAULT_KINDS = {"model": "deep_factorization", "objective": "squared",
                 "solver": "nuclear_norm"}


class RunConfig(Strict):
    """One run: a problem and either a trained model (model + objective + optimizer + train)
    or a baseline solver."""

    problem: KindConfig
    model: KindConfig | None = None
    objective: KindConfig | None = None
    optimizer: OptimizerConfig | None = None
    train: TrainConfig | None = None
    solver: KindConfig | None = None
    seed: NonNegInt = 0

    @model_validator(mode="before")
    @classmethod
    def _default_kinds(cls, data: Any) -> Any:
        """A model without ``kind`` is a deep factorization, a solver without one the
        nuclear norm; a trained run without objective minimizes the squared loss."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("model"), dict):
            data["model"] = {"kind": DEFAULT_KINDS["model"], **data["model"]}
            if data.get("objective") is None:
                data["objective"] = {"kind": DEFAULT_KINDS["objective"]}
        for section in ("objective", "solver"):
            if isinstance(data.get(section), dict):
                data[section] = {"kind": DEFAULT_KINDS[section], **data[section]}
        return data

    @model_validator(mode="after")
    def _one_method(self):
        trained = self.model is not None
        if trained and self.solver is not None:
            raise ValueError("give either model (with optimizer and train) or solver, not both")
        if not trained and self.solver is None:
            raise ValueError("give model (with optimizer and train) or solver")
        return self

    @model_validator(mode="after")
    def _model_fits_problem(self):
        if self.model is not None:
            self.model.check_problem(self.problem)
            check_model = getattr(self.objective, "check_model", None)
            if check_model is not None:
                check_model(self.model)
        return self

    @property
    def method(self) -> str:
        return "gd" if self.model is not None else self.solver.kind

    @property
    def dtype(self) -> str:
        return self.train.dtype if self.train is not None else self.solver.dtype


def _rebuild() -> None:
    """Point RunConfig's kind sections at the registries' current configs."""
    fields = {
        "problem": (kind_union(registry.PROBLEMS), ...),
        "model": (kind_union(registry.MODELS) | None, None),
        "objective": (kind_union(registry.OBJECTIVES) | None, None),
        "solver": (kind_union(registry.SOLVERS) | None, None),
    }
    for name, (annotation, default) in fields.items():
        RunConfig.model_fields[name] = FieldInfo.from_annotated_attribute(annotation, default)
    RunConfig.model_rebuild(force=True)


for _reg in (registry.PROBLEMS, registry.MODELS, registry.OBJECTIVES, registry.SOLVERS):
    _reg.on_change(_rebuild)
_rebuild()


SECTIONS = ("problem", "model", "objective", "optimizer", "train", "solver", "seed")


# the default measures of a sweep whose problem is a data set
DATA_MEASURES = ("data_loss", "valid_loss", "test_loss", "discrepancy")
DATA_LOG_MEASURES = ("data_loss", "test_loss")


class SweepConfig(Strict):
    """A grid of runs: a base run config, grid axes over dotted keys, seeds and baselines.

    Example (TOML)::

        name = "depth-vs-m"
        seeds = [0, 1]
        baselines = ["nuclear_norm"]
        [problem]
        kind = "completion"
        rank = 5
        [model]
        init_scale = 1e-3
        [grid]
        "model.depth" = [2, 3]
        "problem.m" = [1000, 2000]
    """

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
    description: str = ""
    imports: list[str] = Field(default_factory=list, description="modules (names or .py paths) "
                               "that register the sweep's own kinds, imported first")
    problem: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    objective: dict[str, Any] = Field(default_factory=dict)
    optimizer: dict[str, Any] = Field(default_factory=dict)
    train: dict[str, Any] = Field(default_factory=dict)
    solver: dict[str, Any] | None = None
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: Annotated[list[NonNegInt], Field(min_length=1)] = Field(default_factory=lambda: [0])
    baselines: list[str | dict[str, Any]] = Field(
        default_factory=list, description="baseline solvers run once per problem: a kind, or a "
        "solver table such as {kind = 'schatten', p = 0.5}")
    baseline: dict[str, Any] = Field(default_factory=dict, description="options of baselines "
                                     "(each applied to the baseline kinds that have the field)")
    measures: list[str] = Field(default_factory=lambda: [
        "train_loss", "recon_error", "unobserved_error", "nuclear_norm", "effective_rank",
        "schatten_quasi_norm", "singular_values", *ALWAYS_MEASURED],
        description="final measures of every run; frob_error and success are always added")
    log_measures: list[str] = Field(default_factory=lambda: [
        "train_loss", "recon_error", "nuclear_norm", "effective_rank", "singular_values"])
    top_singular_values: NonNegInt = 10

    def __init__(self, /, **data: Any) -> None:
        """Validate as a TOML file is validated: a bad value raises one
        :class:`~overparam.errors.ConfigError` line naming the field (for the sections, the
        first grid point is checked here; :func:`~overparam.sweep.expand` checks every one).
        The ``imports`` are imported first, so that the sections may use their kinds."""
        from pydantic import ValidationError

        from overparam._imports import import_kinds
        from overparam.errors import ConfigError, format_validation_error
        from overparam.sweep._grid import check_first_point

        imports = data.get("imports")
        if isinstance(imports, list) and all(isinstance(m, str) for m in imports):
            import_kinds(imports)
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise ConfigError(format_validation_error(e)) from None
        check_first_point(self)

    @model_validator(mode="before")
    @classmethod
    def _data_set_defaults(cls, data: Any) -> Any:
        """A data-set problem (its kind's config has ``input_dim``) gets data measures by
        default: the matrix defaults above would need a matrix prediction."""
        if not isinstance(data, dict) or not isinstance(data.get("problem"), dict):
            return data
        kind = data["problem"].get("kind")
        if kind not in registry.PROBLEMS.names():
            return data
        if "input_dim" not in dir(registry.PROBLEMS.get(kind).config):
            return data
        data = dict(data)
        data.setdefault("measures", list(DATA_MEASURES))
        data.setdefault("log_measures", list(DATA_LOG_MEASURES))
        return data

    @field_validator("grid")
    @classmethod
    def _check_grid(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            head = key.split(".")[0]
            if head not in SECTIONS:
                raise ValueError(f"grid key {key!r} must start with one of {SECTIONS}"
                                 f"{closest(head, SECTIONS)}")
            if not values:
                raise ValueError(f"grid key {key!r} needs a non-empty list of values")
            if key == "seed":
                raise ValueError("use 'seeds' for seeds, not grid key 'seed'")
        return grid

    @field_validator("measures", "log_measures")
    @classmethod
    def _measures(cls, names: list[str]) -> list[str]:
        return _known(names, registry.MEASURES)

    @field_validator("measures")
    @classmethod
    def _always_measured(cls, names: list[str]) -> list[str]:
        return [*names, *(n for n in ALWAYS_MEASURED if n not in names)]
