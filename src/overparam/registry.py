"""Registries: every problem, model, objective, measure, solver, optimizer and executor by name.

A new kind is one module plus one registry entry: its config (a pydantic model with a
``kind`` literal, see :mod:`overparam.configs`) and its builder. Registering it makes it valid
in configs (TOML files, ``op.run``), in the command line (name the module in a sweep's
``imports``) and in every executor; nothing in ``sweep/`` or ``train/`` changes. For example::

    from overparam.registry import ProblemKind, register_problem

    register_problem(ProblemKind("toy", ToyConfig, build_toy))

Entries may name their functions lazily as ``"module:attribute"`` strings, resolved on first
use, so that this module (and config validation) imports no JAX.
"""

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from overparam.errors import ConfigError, closest

E = TypeVar("E")


def resolve(target: Any) -> Any:
    """``target`` itself, or the object a ``"module:attribute"`` string names."""
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[E]):
    """Entries by name, in registration order. ``get`` of an unknown name raises a
    :class:`~overparam.errors.ConfigError` with a "did you mean" hint."""

    def __init__(self, what: str):
        self.what = what
        self._entries: dict[str, E] = {}
        self._listeners: list[Callable[[], None]] = []
        self.version = 0

    def register(self, name: str, entry: E, *, replace: bool = False) -> E:
        """Add ``entry`` under ``name``; an existing name needs ``replace=True``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.what} name must be a non-empty string, got {name!r}")
        if name in self._entries and not replace:
            raise ValueError(f"{self.what} {name!r} is already registered; pass replace=True "
                             "to replace it")
        self._entries[name] = entry
        self.version += 1
        for listener in list(self._listeners):
            listener()
        return entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests and notebooks that register temporary kinds)."""
        self._entries.pop(name)
        self.version += 1
        for listener in list(self._listeners):
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def get(self, name: str) -> E:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ConfigError(f"unknown {self.what} {name!r}{closest(name, self._entries)} "
                              f"(one of {', '.join(map(repr, self._entries))})") from None

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self):
        return self._entries.items()

    def values(self):
        return self._entries.values()

    def __getitem__(self, name: str) -> E:
        return self._entries[name]

    def view(self, load: Callable[[E], Any]) -> "RegistryView":
        """A read-only mapping name -> ``load(entry)``, live as entries are registered."""
        return RegistryView(self, load)


class RegistryView(Mapping):
    """See :meth:`Registry.view`."""

    def __init__(self, registry: Registry, load: Callable):
        self._registry, self._load = registry, load

    def __getitem__(self, name: str):
        return self._load(self._registry[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry)

    def __len__(self) -> int:
        return len(self._registry)


@dataclass(frozen=True)
class _BuiltKind:
    name: str
    config: type
    build: Callable | str
    doc: str = ""


class ProblemKind(_BuiltKind):
    """A problem kind: ``build(cfg, dtype) -> problem`` (a pytree of arrays, e.g. a
    :class:`~overparam.problems.MatrixProblem`), deterministic in ``cfg``."""


class ModelKind(_BuiltKind):
    """A model kind: ``build(cfg, problem) -> Model`` (see :class:`overparam.models.Model`).

    The model's ``init`` receives the config's batched fields as keyword arguments."""


class ObjectiveKind(_BuiltKind):
    """An objective kind: ``build(cfg) -> fn``, ``fn(model, params, batch, hparams) ->
    (total, fit)``: the loss to differentiate and the data fit, with ``hparams`` the config's
    batched fields (e.g. a regularizer weight) as arrays.

    ``fn`` may carry ``fn.local_least_squares(model, params, problem, hparams) ->
    LocalLeastSquares``, its local least-squares model, so that Hessian measures compute the
    trace exactly (see :mod:`overparam.objectives._local`); the ``squared`` kind does."""


@dataclass(frozen=True)
class SolverKind:
    """A baseline solver: ``solve(cfgs, problems, devices) -> iterable of (index, outcome)``
    for a group of runs of one config's static fields and one problem shape; each outcome a
    :class:`overparam.solvers.SolverOutcome`. Solvers may batch the group or loop over it."""

    name: str
    config: type
    solve: Callable | str
    doc: str = ""


@dataclass(frozen=True)
class MeasureSpec:
    """A measure: ``fn(ctx) -> array`` of one run's state (see
    :class:`overparam.measures.MeasureContext`).

    Attributes:
      vector: the value is a vector (stored as a list column).
      top_k: a vector sorted by importance, cut to the sweep's ``top_singular_values`` when
        logged (e.g. singular values); other vectors are kept whole.
      needs: what the measure uses beyond the prediction: ``"factors"`` (the model's own
        parameters, so a baseline's bare matrix gives NaN), ``"objective"`` (the run's
        objective), ``"key"`` (a PRNG key, e.g. for Hutchinson probes).
      references: solver kinds whose solution of the run's own problem the measure compares
        to (e.g. ``("flat",)``). A sweep that logs such a measure solves each training
        problem once with that kind at its default config, in float64, and hands the result
        to the measure as ``ctx.problem.references[kind]`` (see
        :func:`overparam.sweep.attach_references`): ``{"x": the solution matrix, "hessian_trace":
        the Hessian trace at its factors (NaN without factors)}``, in the run's dtype.
        Baseline rows get no references (the measure is then NaN).
    """

    name: str
    fn: Callable | str
    doc: str
    vector: bool = False
    top_k: bool = False
    needs: frozenset[str] = field(default_factory=frozenset)
    references: tuple[str, ...] = ()


MEASURE_NEEDS = frozenset({"factors", "objective", "key"})


@dataclass(frozen=True)
class OptimizerKind:
    """An optimizer: ``factory(learning_rate, **options) -> optax.GradientTransformation``.

    ``batched`` names the factory's float keywords that are batched data of a run, like the
    learning rate (e.g. SAM's ``rho``): a config gives them in ``optimizer.hyperparams`` (each
    with the factory's default when unset), so a sweep over them compiles one program. The
    factory must accept traced values for them, and check concrete ones. An update may use
    the extra arguments the trainer passes (see :mod:`overparam.optim._extra_args`).
    """

    name: str
    factory: Callable | str
    doc: str = ""
    batched: tuple[str, ...] = ()
    problem_needs: tuple[str, ...] = ()  # attributes its batch must have (e.g. "weights")


@dataclass(frozen=True)
class ExecutorKind:
    """An executor: ``factory(**options)`` returns an object with
    ``run(items, store, progress)`` (see :mod:`overparam.sweep.executors`)."""

    name: str
    factory: Callable | str
    doc: str = ""


PROBLEMS: Registry[ProblemKind] = Registry("problem kind")
MODELS: Registry[ModelKind] = Registry("model kind")
OBJECTIVES: Registry[ObjectiveKind] = Registry("objective kind")
SOLVERS: Registry[SolverKind] = Registry("baseline kind")
MEASURES: Registry[MeasureSpec] = Registry("measure")
OPTIMIZERS: Registry[OptimizerKind] = Registry("optimizer")
EXECUTORS: Registry[ExecutorKind] = Registry("executor")


def _kind(entry, registry: Registry, replace: bool):
    kind = entry.config.model_fields.get("kind")
    if kind is None or kind.default != entry.name:
        raise ValueError(f"{registry.what} {entry.name!r}: its config {entry.config.__name__} "
                         f"needs a field kind: Literal[{entry.name!r}] = {entry.name!r}")
    return registry.register(entry.name, entry, replace=replace)


def register_problem(entry: ProblemKind, *, replace: bool = False) -> ProblemKind:
    return _kind(entry, PROBLEMS, replace)


def register_model(entry: ModelKind, *, replace: bool = False) -> ModelKind:
    return _kind(entry, MODELS, replace)


def register_objective(entry: ObjectiveKind, *, replace: bool = False) -> ObjectiveKind:
    return _kind(entry, OBJECTIVES, replace)


def register_solver(entry: SolverKind, *, replace: bool = False) -> SolverKind:
    return _kind(entry, SOLVERS, replace)


def register_measure(entry: MeasureSpec, *, replace: bool = False) -> MeasureSpec:
    unknown = set(entry.needs) - MEASURE_NEEDS
    if unknown:
        raise ValueError(f"measure {entry.name!r}: unknown needs {sorted(unknown)}; "
                         f"one of {sorted(MEASURE_NEEDS)}")
    return MEASURES.register(entry.name, entry, replace=replace)


def register_optimizer(entry: OptimizerKind, *, replace: bool = False) -> OptimizerKind:
    return OPTIMIZERS.register(entry.name, entry, replace=replace)


def register_executor(entry: ExecutorKind, *, replace: bool = False) -> ExecutorKind:
    return EXECUTORS.register(entry.name, entry, replace=replace)


def _hessian_measures() -> list[MeasureSpec]:
    """The Hessian diagnostics (:mod:`overparam.measures._hessian`), of the objective's total
    on the full problem, in all trainable parameters."""
    h = "overparam.measures._hessian:"
    fok, fo = frozenset({"factors", "objective", "key"}), frozenset({"factors", "objective"})
    return [
        MeasureSpec("hessian_trace", h + "hessian_trace",
                    "trace of the loss Hessian: exact (Gauss-Newton + residual term) for "
                    "objectives with a local least-squares model, else Hutchinson", needs=fok),
        MeasureSpec("hessian_trace_exact", h + "hessian_trace_exact",
                    "1 if hessian_trace and scaled_hessian_trace are exact, 0 if Hutchinson",
                    needs=fo),
        MeasureSpec("scaled_hessian_trace", h + "scaled_hessian_trace",
                    "sum_j tr(H_jj) / factor_rows[j] (Ding et al. 2022's str; NaN without "
                    "factor_rows)", needs=fok),
        MeasureSpec("hessian_trace_hutchinson", h + "hessian_trace_hutchinson",
                    "Hutchinson estimate of tr H, 64 Rademacher probes", needs=fok),
        MeasureSpec("hessian_trace_hutchinson_se", h + "hessian_trace_hutchinson_se",
                    "standard error of hessian_trace_hutchinson", needs=fok),
        MeasureSpec("hessian_max_eigenvalue", h + "hessian_max_eigenvalue",
                    "largest Hessian eigenvalue, 32 Lanczos steps", needs=fok),
    ]


def _reference_measures() -> list[MeasureSpec]:
    """Comparisons with the problem's convex flat solution
    (:mod:`overparam.measures._references`)."""
    r = "overparam.measures._references:"
    return [
        MeasureSpec("distance_to_flat", r + "distance_to_flat",
                    "||X - X_flat||_F / ||X_flat||_F against the problem's flat solution "
                    "(Ding et al. 2022's convex relaxation, solved once per problem)",
                    references=("flat",)),
        MeasureSpec("flat_trace_gap", r + "flat_trace_gap",
                    "hessian_trace / (the flat factors' Hessian trace) - 1",
                    needs=frozenset({"factors", "objective", "key"}), references=("flat",)),
    ]


def _register_builtins() -> None:
    """The kinds overparam ships; one line each."""
    from overparam.models.kinds import deep_factorization as deep
    from overparam.models.kinds import hadamard, symmetric, two_factor
    from overparam.objectives.kinds import robust_pca as rpca_fit
    from overparam.objectives.kinds import squared, trace_penalty
    from overparam.problems.kinds import bernoulli_completion as bern
    from overparam.problems.kinds import bilinear_sensing as bil
    from overparam.problems.kinds import completion, entries, movielens, npz_file, sensing
    from overparam.problems.kinds import gaussian_sensing as gauss
    from overparam.problems.kinds import quadratic_network as quad
    from overparam.problems.kinds import robust_pca as rpca
    from overparam.problems.kinds import sparse_recovery as sparse
    from overparam.solvers.kinds import flat, nuclear_norm, schatten, truth

    register_problem(ProblemKind("completion", completion.CompletionConfig, completion.build))
    register_problem(ProblemKind("sensing", sensing.SensingConfig, sensing.build))
    register_problem(ProblemKind("file", npz_file.FileConfig, npz_file.build))
    register_problem(ProblemKind("entries", entries.EntriesConfig, entries.build))
    register_problem(ProblemKind("movielens100k", movielens.MovieLensConfig, movielens.build))
    register_model(ModelKind("deep_factorization", deep.DeepFactorizationConfig, deep.build))
    register_model(ModelKind("two_factor", two_factor.TwoFactorConfig, two_factor.build))
    register_model(ModelKind("symmetric", symmetric.SymmetricConfig, symmetric.build))
    register_model(ModelKind("hadamard", hadamard.HadamardConfig, hadamard.build))
    register_objective(ObjectiveKind("squared", squared.SquaredConfig, squared.build))
    register_solver(SolverKind("nuclear_norm", nuclear_norm.NuclearNormConfig,
                               nuclear_norm.solve))
    register_solver(SolverKind("truth", truth.TruthConfig, truth.solve))
    register_solver(SolverKind("schatten", schatten.SchattenConfig, schatten.solve))
    register_solver(SolverKind("flat", flat.FlatConfig, flat.solve))

    register_optimizer(OptimizerKind("gd", "optax:sgd", "plain gradient descent"))
    register_optimizer(OptimizerKind("group_rmsprop",
                                     "overparam.optim._group_rmsprop:group_rmsprop",
                                     "RMSprop with one second moment for all layers"))
    register_optimizer(OptimizerKind("adam", "optax:adam", "Adam"))
    register_optimizer(OptimizerKind("sam", "overparam.optim._sam:sam",
                                     "sharpness-aware minimization: the gradient at "
                                     "theta + rho g/||g|| (Foret et al. 2021)", batched=("rho",)))
    register_optimizer(OptimizerKind("sam1", "overparam.optim._sam:sam1",
                                     "1-SAM: SAM's ascent per single measurement, averaged "
                                     "(Wen, Ma, Li 2022)", batched=("rho",),
                                     problem_needs=("weights", "reweighted")))
    register_optimizer(OptimizerKind("label_noise_gd",
                                     "overparam.optim._label_noise:label_noise_gd",
                                     "GD on targets y + sigma xi, xi ~ N(0, I) fresh each step "
                                     "(Blanc et al. 2020)", batched=("sigma",),
                                     problem_needs=("weights", "observations", "relabeled")))

    register_executor(ExecutorKind("local", "overparam.sweep._local:LocalExecutor",
                                   "in-process, one thread per device"))
    register_executor(ExecutorKind("ray", "overparam.sweep._ray:RayExecutor",
                                   "Ray tasks on a cluster, or a local one (the ray extra)"))
    register_executor(ExecutorKind("slurm", "overparam.sweep._slurm:SlurmExecutor",
                                   "one SLURM job array per sweep, through submitit (the slurm "
                                   "extra)"))

    m = "overparam.measures._builtin:"
    for spec in [
        MeasureSpec("train_loss", m + "train_loss",
                    "weighted MSE over the observations (what training minimizes)"),
        MeasureSpec("recon_error", m + "recon_error",
                    "||X - W*||_F^2 / ||W*||_F^2 over all entries (the paper's 'test loss')"),
        MeasureSpec("unobserved_error", m + "unobserved_error",
                    "relative MSE over unobserved entries only (completion)"),
        MeasureSpec("nuclear_norm", m + "nuclear_norm", "sum of singular values"),
        MeasureSpec("effective_rank", m + "effective_rank",
                    "Roy-Vetterli effective rank exp(H(sigma / ||sigma||_1))"),
        MeasureSpec("schatten_quasi_norm", m + "schatten_quasi_norm",
                    "Schatten-p quasi-norm (sum sigma^p)^(1/p) with p = 2/depth",
                    needs=frozenset({"factors"})),
        MeasureSpec("singular_values", m + "singular_values",
                    "singular values of the end-to-end matrix, descending",
                    vector=True, top_k=True),
        MeasureSpec("schatten_quasi_norms", m + "schatten_quasi_norms",
                    "Schatten-p (quasi-)norms at p = 2, 1, 2/3, 1/2, 1/3 (2/N for N = 1, 2, 3, "
                    "4, 6)", vector=True),
        MeasureSpec("determinant", m + "determinant",
                    "determinant of the end-to-end matrix (NaN unless square)"),
        MeasureSpec("unobserved_max_abs", m + "unobserved_max_abs",
                    "largest |entry| outside the observed set (completion)"),
        MeasureSpec("test_error", m + "test_error",
                    "MSE on held-out measurements (e.g. MovieLens test ratings)"),
        MeasureSpec("sv_rate_measured", m + "sv_rate_measured",
                    "d sigma_r / dt under gradient flow, by central finite difference "
                    "(t = lr*step)", vector=True, top_k=True, needs=frozenset({"factors"})),
        MeasureSpec("sv_rate_predicted", m + "sv_rate_predicted",
                    "-N (sigma_r^2)^(1-1/N) <grad l(W), u_r v_r^T> (Arora et al. 2019, Thm. 3)",
                    vector=True, top_k=True, needs=frozenset({"factors"})),
        MeasureSpec("alignment_diag", m + "alignment_diag",
                    "mean |diagonal| of U^T grad l(W) V (Fig. 3, right)"),
        MeasureSpec("alignment_offdiag", m + "alignment_offdiag",
                    "mean |off-diagonal| of U^T grad l(W) V (Fig. 3, right)"),
        *_hessian_measures(),
        *_reference_measures(),
    ]:
        register_measure(spec)

    # Ding, Drusvyatskiy, Fazel, Harchaoui 2022
    register_problem(ProblemKind("gaussian_sensing", gauss.GaussianSensingConfig, gauss.build))
    register_problem(ProblemKind("bilinear_sensing", bil.BilinearSensingConfig, bil.build))
    register_problem(ProblemKind("bernoulli_completion", bern.BernoulliCompletionConfig,
                                 bern.build))
    register_problem(ProblemKind("robust_pca", rpca.RobustPCAConfig, rpca.build))
    register_problem(ProblemKind("quadratic_network", quad.QuadraticNetworkConfig, quad.build))
    register_problem(ProblemKind("sparse_recovery", sparse.SparseRecoveryConfig, sparse.build))
    register_objective(ObjectiveKind("robust_pca", rpca_fit.RobustPCAObjectiveConfig,
                                     rpca_fit.build))
    register_objective(ObjectiveKind("trace_penalty", trace_penalty.TracePenaltyConfig,
                                     trace_penalty.build))
    register_measure(MeasureSpec("frob_error", "overparam.measures._exact_recovery:frob_error",
                                 "||X - M||_F, absolute (Ding et al. 2022's error)"))
    register_measure(MeasureSpec("success", "overparam.measures._exact_recovery:success",
                                 "1 if ||X - M||_F < 1e-6 else 0 (Ding et al. 2022's rule)"))
    register_measure(MeasureSpec("support_size", "overparam.measures._exact_recovery:"
                                 "support_size", "number of entries with |X_ij| > 1e-6"))
    g = "overparam.measures._regularity:"
    register_measure(MeasureSpec("norm_gap", g + "norm_gap",
                                 "(|L|^2/2 + |R|^2/2 - |LR^T|_*) / |LR^T|_*: 0 at norm-minimal "
                                 "factors (two-factor and symmetric models)",
                                 needs=frozenset({"factors"})))
    register_measure(MeasureSpec("balance_gap", g + "balance_gap",
                                 "|L^T L - R^T R|_* / (|L|^2 + |R|^2): 0 when balanced "
                                 "(two-factor models)", needs=frozenset({"factors"})))

    _register_networks()


def _register_networks() -> None:
    """Xie, Liang, Song 2017: ReLU networks on data sets, their fits and measures."""
    from overparam.models.kinds import relu_network
    from overparam.objectives.kinds import data_fit
    from overparam.problems.kinds import dataset_file, mnist, teacher_student

    register_problem(ProblemKind("teacher_student", teacher_student.TeacherStudentConfig,
                                 teacher_student.build))
    register_problem(ProblemKind("mnist", mnist.MnistConfig, mnist.build))
    register_problem(ProblemKind("dataset_file", dataset_file.DatasetFileConfig,
                                 dataset_file.build))
    register_model(ModelKind("relu_network", relu_network.ReluNetworkConfig, relu_network.build))
    register_objective(ObjectiveKind("data_squared", data_fit.DataSquaredConfig,
                                     data_fit.build_squared))
    register_objective(ObjectiveKind("cross_entropy", data_fit.CrossEntropyConfig,
                                     data_fit.build_cross_entropy))
    n = "overparam.measures._network:"
    fit = frozenset({"factors", "objective"})
    for name, doc, needs in [
        ("data_loss", "the data fit (no regularizer) on the whole training set", fit),
        ("valid_loss", "the data fit on the validation split", fit),
        ("test_loss", "the data fit on the test set", fit),
        ("train_error_rate", "% misclassified training examples", frozenset({"factors"})),
        ("valid_error_rate", "% misclassified validation examples", frozenset({"factors"})),
        ("test_error_rate", "% misclassified test examples", frozenset({"factors"})),
        ("s_min_D", "s_m(D): smallest singular value of the extended feature matrix on the "
                    "training inputs (one-output networks)", frozenset({"factors"})),
        ("loss_bound", "m |grad_W L|^2 / (2 s_m(D)^2), a bound on the training loss", fit),
        ("discrepancy", "closed-form L2 lune discrepancy of the first layer's unit directions",
         frozenset({"factors"})),
        ("kernel_lambda_min", "lambda_min of the ReLU kernel <x,y>(pi - theta)/(2 pi) on the "
                              "training inputs", frozenset()),
    ]:
        register_measure(MeasureSpec(name, n + name, doc, needs=needs))


_register_builtins()
