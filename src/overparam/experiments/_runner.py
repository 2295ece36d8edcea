"""Running experiments and user sweeps end to end: runs, store, figures, claims."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from overparam._runtime import enable_compilation_cache, single_threaded_blas, use_all_cpu_cores
from overparam.errors import ConfigError, closest
from overparam.experiments._base import PROFILES, Experiment
from overparam.experiments._catalog import check_name
from overparam.experiments._claims import ClaimSpec, as_expected, evaluate_claim
from overparam.experiments._load import load_sweep
from overparam.experiments._registry import EXPERIMENTS
from overparam.sweep import RunConfig, Store, SweepConfig, execute, expand, run_id
from overparam.sweep._local import check_runs
from overparam.sweep._store import write_json
from overparam.viz import plot_sweep


@dataclass
class Result:
    """What a reproduction or sweep wrote, with its tables loaded."""

    directory: Path
    runs: pd.DataFrame
    trajectories: pd.DataFrame
    figures: list[Path]
    claims: list[dict]
    ran: int  # runs executed now (the rest came from the store)
    # the sessions that ran the store's runs: packages, devices, precision, git commit
    environments: list[dict] = field(default_factory=list)

    @property
    def all_hold(self) -> bool:
        """Every claim holds, except known mismatches, which must still not hold."""
        return all(as_expected(c) for c in self.claims)


def get_experiment(name: str) -> Experiment:
    check_name(name)
    return EXPERIMENTS[name]


def _with_solver(sweep: SweepConfig, solver: str | None) -> SweepConfig:
    if solver is None:
        return sweep
    baseline = {**sweep.baseline, "backend": solver}
    update = {"baseline": baseline}
    if sweep.solver is not None:
        update["solver"] = {**sweep.solver, "backend": solver}
    return sweep.model_copy(update=update)


def _check_options(out, max_batch, progress) -> Path:
    """Validate the options shared by :func:`reproduce` and :func:`run`; return ``out``."""
    if max_batch is not None and (isinstance(max_batch, bool) or not isinstance(max_batch, int)
                                  or max_batch < 1):
        raise ConfigError(f"max_batch: must be a positive integer or None, got {max_batch!r}")
    if not isinstance(progress, bool):
        raise ConfigError(f"progress: must be True or False, got {progress!r}")
    if not isinstance(out, str | Path) or not str(out):
        raise ConfigError(f"out: must be a directory path, got {out!r}")
    return Path(out)


def _plan(sweeps: list[SweepConfig]) -> list[tuple[SweepConfig, list[RunConfig]]]:
    return [(s, expand(s)) for s in sweeps]


def _check_executor(executor) -> None:
    if isinstance(executor, str):
        from overparam import registry

        try:
            registry.EXECUTORS.get(executor)
        except ConfigError as e:
            raise ConfigError(f"executor: {e}") from None
    elif not callable(getattr(executor, "run", None)):
        raise ConfigError(f"executor: must be a registered name or an object with "
                          f"run(items, store, progress), got {executor!r:.60}")


def _execute(name: str, plan, out: Path, max_batch, progress,
             executor="local") -> tuple[Store, set[str], int]:
    _check_executor(executor)
    store = Store(out / name, name)
    store.check()  # before anything is written
    ids: set[str] = set()
    ran = 0
    for sweep, runs in plan:
        ids.update(run_id(r) for r in runs)
        ran += execute(runs, store, measures=sweep.measures, log_measures=sweep.log_measures,
                       top_singular_values=sweep.top_singular_values, max_batch=max_batch,
                       progress=progress, imports=sweep.imports, executor=executor)
    return store, ids, ran


def _config(name: str, plan, **about) -> dict:
    """What ``config.json`` records: the experiment, its profile and every sweep's config."""
    return {"experiment": name, **about,
            "sweeps": [sweep.model_dump(mode="json") for sweep, _ in plan]}


def _finish(store: Store, ids: set[str], plot, claims: list[ClaimSpec], custom,
            ran: int, config: dict) -> Result:
    write_json(config, store.root / "config.json")
    runs, traj = store.consolidate()
    if len(runs):
        runs = runs[runs["run_id"].isin(ids)].reset_index(drop=True)
    if len(traj):
        traj = traj[traj["run_id"].isin(ids)].reset_index(drop=True)
    figures = plot(runs, traj, store.root)
    outcomes = [evaluate_claim(c, runs) for c in claims] + custom(runs, traj)
    write_json({"experiment": store.experiment, "claims": outcomes}, store.root / "claims.json")
    return Result(store.root, runs, traj, figures, outcomes, ran, store.environments())


def reproduce(name: str, profile: str = "quick", out: str | Path = "results", *,
              solver: str | None = None, max_batch: int | None = None,
              progress: bool = True, executor="local") -> Result:
    """Run experiment ``name`` at ``profile`` into ``out/name/`` and check its claims.

    ``executor`` is a name from :data:`overparam.registry.EXECUTORS` or an executor object.
    Exposes one JAX CPU device per core first, unless JAX already started (see
    :func:`overparam.use_all_cpu_cores`), runs the host's BLAS on one thread (see
    :func:`overparam._runtime.single_threaded_blas`), and keeps compiled programs on disk (see
    :func:`overparam.enable_compilation_cache`).

    Example (minutes on a CPU; ``overparam reproduce NAME`` on the command line)::

        result = op.reproduce("arora2019-completion", profile="quick", out="results")
        result.all_hold                      # every claim as stated
        result.runs.groupby("model.depth")["recon_error"].median()
    """
    use_all_cpu_cores()
    single_threaded_blas()
    enable_compilation_cache()
    out = _check_options(out, max_batch, progress)
    experiment = get_experiment(name)
    if not isinstance(profile, str) or profile not in experiment.sweeps:
        raise ConfigError(f"--profile: unknown profile {profile!r}; choose from "
                          f"{sorted(experiment.sweeps)}{closest(profile, PROFILES)}")
    if solver not in (None, "jax", "cvxpy"):
        raise ConfigError(f"--solver: must be 'jax' or 'cvxpy', got {solver!r}")
    plan = _plan([_with_solver(s, solver) for s in experiment.sweeps[profile]()])
    store, ids, ran = _execute(name, plan, out, max_batch, progress, executor)
    config = _config(name, plan, paper=experiment.paper, summary=experiment.summary,
                     profile=profile)
    return _finish(store, ids, experiment.plot, experiment.claims(profile),
                   experiment.custom_claims, ran, config)


def _load(sweep, claims) -> tuple[SweepConfig, list[ClaimSpec], list]:
    """Validate a sweep (see :func:`load_sweep`) and what only JAX can check: (sweep, claims,
    plan)."""
    source = sweep if isinstance(sweep, str | Path) else None
    sweep, claims, runs = load_sweep(sweep, claims)
    try:
        check_runs(runs)
    except ConfigError as e:
        if source is None:
            raise
        raise ConfigError(f"{source}: {e}") from None
    return sweep, claims, [(sweep, runs)]


def check_sweep(sweep: SweepConfig | Mapping | str | Path) -> list[RunConfig]:
    """Validate a sweep as :func:`run` does, without running it or writing anything.

    Returns its runs; bad input raises :class:`~overparam.errors.ConfigError` naming the field
    (data files are read, and the output directory checked, only by :func:`run`).

    Example: two depths times two seeds are four runs; a bad value is one line.

    >>> import overparam as op
    >>> sweep = {"name": "s", "problem": {"kind": "completion", "d1": 6, "d2": 6, "rank": 1,
    ...                                   "m": 20},
    ...          "grid": {"model.depth": [2, 3]}, "seeds": [0, 1]}
    >>> len(op.check_sweep(sweep))
    4
    >>> op.check_sweep({"name": "s", "problem": {"kind": "completion", "rank": 0}})
    Traceback (most recent call last):
    overparam.errors.ConfigError: problem.rank: Input should be greater than or equal to 1 (got 0)
    """
    return _load(sweep, None)[2][0][1]


def run(sweep: SweepConfig | Mapping | str | Path, out: str | Path = "results", *,
        claims: list[ClaimSpec] | None = None, max_batch: int | None = None,
        progress: bool = True, executor="local") -> Result:
    """Run a user's sweep into ``out/<name>/``.

    ``sweep`` is a :class:`SweepConfig`, a mapping of the same fields (as the TOML file), or
    the path of a TOML file; ``executor`` a name from :data:`overparam.registry.EXECUTORS`
    or an executor object. Bad input raises :class:`~overparam.errors.OverparamError`
    (ConfigError, DataError or StoreError) before anything is written. Exposes one JAX CPU
    device per core first, unless JAX already started, and keeps compiled programs on disk.

    Example: depth 2 and 3 on a 6 x 6 completion problem (``tmp`` is any directory); run
    again, it finds both runs stored and runs nothing.

    >>> import overparam as op
    >>> sweep = {"name": "doc-run", "problem": {"kind": "completion", "d1": 6, "d2": 6,
    ...                                         "rank": 1, "m": 20},
    ...          "train": {"max_steps": 50}, "grid": {"model.depth": [2, 3]}}
    >>> result = op.run(sweep, out=tmp, progress=False)
    >>> sorted(result.runs["model.depth"].tolist()), result.ran
    ([2, 3], 2)
    >>> op.run(sweep, out=tmp, progress=False).ran
    0
    """
    use_all_cpu_cores()
    single_threaded_blas()
    enable_compilation_cache()
    out = _check_options(out, max_batch, progress)
    sweep, claims, plan = _load(sweep, claims)
    store, ids, ran = _execute(sweep.name, plan, out, max_batch, progress, executor)
    config = _config(sweep.name, plan, paper="", summary=sweep.description, profile=None)
    return _finish(store, ids, plot_sweep, claims, lambda runs, traj: [], ran, config)
