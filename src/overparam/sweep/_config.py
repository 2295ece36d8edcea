"""Validated configuration of runs and sweeps (pydantic models, checked once at the edge)."""

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from overparam.measures import MEASURES
from overparam.models import DEEP_FACTORIZATION_INITS
from overparam.optim import OPTIMIZERS

PosInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Strict(BaseModel):
    """Frozen, strictly typed, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _LowRankProblem(Strict):
    d1: PosInt = 100
    d2: PosInt = 100
    rank: PosInt = 5
    m: PosInt = 2000
    seed: NonNegInt = Field(0, description="seeds the truth; observations also depend on m")

    @model_validator(mode="after")
    def _check_sizes(self):
        if self.rank > min(self.d1, self.d2):
            raise ValueError(f"rank must be <= min(d1, d2) = {min(self.d1, self.d2)}, "
                             f"got {self.rank}")
        return self


class CompletionConfig(_LowRankProblem):
    """Matrix completion: ``m`` entries of a random rank-``rank`` ``d1 x d2`` matrix."""

    kind: Literal["completion"] = "completion"

    @model_validator(mode="after")
    def _check_m(self):
        if self.m > self.d1 * self.d2:
            raise ValueError(f"m must be <= d1*d2 = {self.d1 * self.d2}, got {self.m}")
        return self


class SensingConfig(_LowRankProblem):
    """Gaussian matrix sensing: ``m`` measurements ``<A_i, W*>`` with iid N(0, 1/(d1 d2)) A_i."""

    kind: Literal["sensing"] = "sensing"


class FileConfig(Strict):
    """A user's problem from an ``.npz`` file (see :func:`overparam.problems.load_npz_problem`)."""

    kind: Literal["file"] = "file"
    path: str

    @field_validator("path")
    @classmethod
    def _exists(cls, path: str) -> str:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"file {path!r} does not exist or is not a file")
        return path


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class EntriesConfig(Strict):
    """Completion of given entries: ``values[i]`` observed at (``rows[i]``, ``cols[i]``) of a
    ``d1 x d2`` matrix; no ground truth (e.g. Razin and Cohen's 2x2 problem)."""

    kind: Literal["entries"] = "entries"
    d1: PosInt
    d2: PosInt
    rows: Annotated[list[NonNegInt], Field(min_length=1)]
    cols: Annotated[list[NonNegInt], Field(min_length=1)]
    values: Annotated[list[FiniteFloat], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_entries(self):
        if not len(self.rows) == len(self.cols) == len(self.values):
            raise ValueError(f"rows, cols and values need equal lengths, got {len(self.rows)}, "
                             f"{len(self.cols)}, {len(self.values)}")
        for name, idx, size in (("rows", self.rows, self.d1), ("cols", self.cols, self.d2)):
            if max(idx) >= size:
                raise ValueError(f"{name} must be < {size} (0-based), got {max(idx)}")
        pairs = list(zip(self.rows, self.cols))
        if len(set(pairs)) != len(pairs):
            dup = next(p for p in pairs if pairs.count(p) > 1)
            raise ValueError(f"entry {dup} is given more than once")
        return self


class MovieLensConfig(Strict):
    """MovieLens-100K ratings (943 users x 1682 movies): ``n_train`` random ratings are observed,
    the rest are the test set (Arora et al. 2019, Fig. 3 uses 10,000). ``path`` is ``u.data``
    or its directory; empty means the environment variable ``OVERPARAM_ML100K``."""

    kind: Literal["movielens100k"] = "movielens100k"
    path: str = ""
    n_train: Annotated[int, Field(ge=1, le=99_999)] = 10_000
    seed: NonNegInt = 0


ProblemConfig = Annotated[
    CompletionConfig | SensingConfig | FileConfig | EntriesConfig | MovieLensConfig,
    Field(discriminator="kind")]


class ModelConfig(Strict):
    """Deep factorization W_N ... W_1 (hidden width defaults to min(d1, d2))."""

    kind: Literal["deep_factorization"] = "deep_factorization"
    depth: PosInt = 3
    width: PosInt | None = None
    init: Literal[DEEP_FACTORIZATION_INITS] = "gaussian"  # type: ignore[valid-type]
    init_scale: PosFloat = 1e-3
    positive_det: bool = Field(False, description="flip the sign of one column of W_1 where "
                               "needed so det W(0) > 0 (square layers only)")


class OptimizerConfig(Strict):
    name: Literal[tuple(OPTIMIZERS)] = "group_rmsprop"  # type: ignore[valid-type]
    learning_rate: PosFloat = 1e-3
    options: dict[str, float] = Field(default_factory=dict,
                                      description="extra keyword options of the optimizer")

    @model_validator(mode="after")
    def _check_options(self):
        from overparam.optim import make_optimizer

        try:
            make_optimizer(self.name, self.learning_rate, **self.options)
        except TypeError as e:
            raise ValueError(f"bad options for optimizer {self.name!r}: {e}") from None
        return self


class TrainConfig(Strict):
    max_steps: PosInt = 200_000
    log_every: PosInt = 1000
    stop_loss: NonNegFloat = 1e-6
    divergence_factor: Annotated[float, Field(gt=1, allow_inf_nan=False)] = 1e6
    dtype: Literal["float32", "float64"] = "float32"


class SolverConfig(Strict):
    """A baseline solution of the problem.

    ``nuclear_norm``: min ||X||_* s.t. |A(X) - y| <= tol on every observation.
    ``truth``: the ground truth itself (its measures are the reference lines of the figures).
    ``schatten``: min sum_i sigma_i^p s.t. A(X) = y, for ``p`` in (0, 1], by iteratively
    reweighted least squares (a local minimizer for p < 1; see
    :func:`overparam.solvers.schatten_p_min`).
    """

    kind: Literal["nuclear_norm", "truth", "schatten"] = "nuclear_norm"
    p: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    tol: NonNegFloat = 1e-3
    backend: Literal["jax", "cvxpy"] = "jax"
    dtype: Literal["float32", "float64"] = "float64"
    eps: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = Field(
        1e-6, description="ADMM relative residual tolerance (jax backend)")
    max_iters: PosInt | None = Field(
        None, description="iteration cap: ADMM (nuclear_norm, default 20000) or IRLS "
        "(schatten, default 5000)")

    @model_validator(mode="after")
    def _check_p(self):
        if (self.kind == "schatten") != (self.p is not None):
            raise ValueError("p is required for kind 'schatten' and only for it")
        return self


def _known_measures(names: list[str]) -> list[str]:
    for n in names:
        if n not in MEASURES:
            from overparam.errors import closest

            raise ValueError(f"unknown measure {n!r}{closest(n, MEASURES)}")
    return names


class RunConfig(Strict):
    """One run: a problem and either a trained model (model + optimizer + train) or a solver."""

    problem: ProblemConfig
    model: ModelConfig | None = None
    optimizer: OptimizerConfig | None = None
    train: TrainConfig | None = None
    solver: SolverConfig | None = None
    seed: NonNegInt = 0

    @model_validator(mode="after")
    def _one_method(self):
        trained = self.model is not None
        if trained and self.solver is not None:
            raise ValueError("give either model (with optimizer and train) or solver, not both")
        if not trained and self.solver is None:
            raise ValueError("give model (with optimizer and train) or solver")
        return self

    @model_validator(mode="after")
    def _square_for_positive_det(self):
        m, p = self.model, self.problem
        if m is None or not m.positive_det or not hasattr(p, "d1"):
            return self
        if p.d1 != p.d2 or (m.width is not None and m.width != p.d1):
            raise ValueError("model.positive_det needs square layers (d1 = d2 = width), got "
                             f"d1={p.d1}, d2={p.d2}, width={m.width}")
        return self

    @property
    def method(self) -> str:
        return "gd" if self.model is not None else self.solver.kind


SECTIONS = ("problem", "model", "optimizer", "train", "solver", "seed")


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
    problem: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    optimizer: dict[str, Any] = Field(default_factory=dict)
    train: dict[str, Any] = Field(default_factory=dict)
    solver: dict[str, Any] | None = None
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: Annotated[list[NonNegInt], Field(min_length=1)] = Field(default_factory=lambda: [0])
    baselines: list[Literal["nuclear_norm", "truth"] | dict[str, Any]] = Field(
        default_factory=list, description="baseline solvers run once per problem: a kind, or a "
        "solver table such as {kind = 'schatten', p = 0.5}")
    baseline: dict[str, Any] = Field(default_factory=dict, description="options of baselines")
    measures: list[str] = Field(default_factory=lambda: [
        "train_loss", "recon_error", "unobserved_error", "nuclear_norm", "effective_rank",
        "schatten_quasi_norm", "singular_values"])
    log_measures: list[str] = Field(default_factory=lambda: [
        "train_loss", "recon_error", "nuclear_norm", "effective_rank", "singular_values"])
    top_singular_values: NonNegInt = 10

    @field_validator("grid")
    @classmethod
    def _check_grid(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            head = key.split(".")[0]
            if head not in SECTIONS:
                from overparam.errors import closest

                raise ValueError(f"grid key {key!r} must start with one of {SECTIONS}"
                                 f"{closest(head, SECTIONS)}")
            if not values:
                raise ValueError(f"grid key {key!r} needs a non-empty list of values")
            if key == "seed":
                raise ValueError("use 'seeds' for seeds, not grid key 'seed'")
        return grid

    _measures = field_validator("measures", "log_measures")(classmethod(
        lambda cls, v: _known_measures(v)))
