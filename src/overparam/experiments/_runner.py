"""Running experiments and user sweeps end to end: runs, store, figures, claims."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from overparam.errors import ConfigError, closest, format_validation_error
from overparam.experiments._base import PROFILES, Experiment
from overparam.experiments._claims import ClaimSpec, evaluate_claim
from overparam.experiments._registry import EXPERIMENTS
from overparam.sweep import RunConfig, Store, SweepConfig, execute, expand, run_id
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

    @property
    def all_hold(self) -> bool:
        return all(c["holds"] for c in self.claims)


def get_experiment(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ConfigError(f"experiment: unknown name {name!r}{closest(name, EXPERIMENTS)}; "
                          "run 'overparam list'") from None


def _with_solver(sweep: SweepConfig, solver: str | None) -> SweepConfig:
    if solver is None:
        return sweep
    baseline = {**sweep.baseline, "backend": solver}
    update = {"baseline": baseline}
    if sweep.solver is not None:
        update["solver"] = {**sweep.solver, "backend": solver}
    return sweep.model_copy(update=update)


def _plan(sweeps: list[SweepConfig]) -> list[tuple[SweepConfig, list[RunConfig]]]:
    return [(s, expand(s)) for s in sweeps]


def _execute(name: str, plan, out: Path, max_batch, progress) -> tuple[Store, set[str], int]:
    store = Store(out / name, name)
    store.check()  # before anything is written
    ids: set[str] = set()
    ran = 0
    for sweep, runs in plan:
        ids.update(run_id(r) for r in runs)
        ran += execute(runs, store, measures=sweep.measures, log_measures=sweep.log_measures,
                       top_singular_values=sweep.top_singular_values, max_batch=max_batch,
                       progress=progress)
    return store, ids, ran


def _finish(store: Store, ids: set[str], plot, claims: list[ClaimSpec], custom,
            ran: int) -> Result:
    runs, traj = store.consolidate()
    if len(runs):
        runs = runs[runs["run_id"].isin(ids)].reset_index(drop=True)
    if len(traj):
        traj = traj[traj["run_id"].isin(ids)].reset_index(drop=True)
    figures = plot(runs, traj, store.root)
    outcomes = [evaluate_claim(c, runs) for c in claims] + custom(runs, traj)
    write_json({"experiment": store.experiment, "claims": outcomes}, store.root / "claims.json")
    return Result(store.root, runs, traj, figures, outcomes, ran)


def reproduce(name: str, profile: str = "quick", out: str | Path = "results", *,
              solver: str | None = None, max_batch: int | None = None,
              progress: bool = True) -> Result:
    """Run experiment ``name`` at ``profile`` into ``out/name/`` and check its claims."""
    experiment = get_experiment(name)
    if profile not in experiment.sweeps:
        raise ConfigError(f"--profile: unknown profile {profile!r}; choose from "
                          f"{sorted(experiment.sweeps)}{closest(profile, PROFILES)}")
    if solver not in (None, "jax", "cvxpy"):
        raise ConfigError(f"--solver: must be 'jax' or 'cvxpy', got {solver!r}")
    plan = _plan([_with_solver(s, solver) for s in experiment.sweeps[profile]()])
    store, ids, ran = _execute(name, plan, Path(out), max_batch, progress)
    return _finish(store, ids, experiment.plot, experiment.claims(profile),
                   experiment.custom_claims, ran)


def load_sweep_file(path: str | Path) -> tuple[SweepConfig, list[ClaimSpec]]:
    """Read and validate a user's sweep TOML (with optional ``[[claims]]``)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except PermissionError:
        raise ConfigError(f"{path}: not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: malformed TOML ({e})") from None
    raw_claims = data.pop("claims", [])
    try:
        sweep = SweepConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{path}: {format_validation_error(e)}") from None
    if not isinstance(raw_claims, list):
        raise ConfigError(f"{path}: claims: must be an array of tables ([[claims]])")
    claims = []
    for i, c in enumerate(raw_claims):
        try:
            claims.append(ClaimSpec.model_validate(c))
        except ValidationError as e:
            raise ConfigError(f"{path}: {format_validation_error(e, prefix=f'claims[{i}]')}") \
                from None
    return sweep, claims


def run(sweep: SweepConfig | str | Path, out: str | Path = "results", *,
        claims: list[ClaimSpec] | None = None, max_batch: int | None = None,
        progress: bool = True) -> Result:
    """Run a user's sweep (a :class:`SweepConfig` or a TOML path) into ``out/<name>/``."""
    if not isinstance(sweep, SweepConfig):
        sweep, file_claims = load_sweep_file(sweep)
        claims = (claims or []) + file_claims
    plan = _plan([sweep])
    store, ids, ran = _execute(sweep.name, plan, Path(out), max_batch, progress)
    return _finish(store, ids, plot_sweep, claims or [], lambda runs, traj: [], ran)
