"""Grid expansion and run identity."""

import copy
import hashlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter, ValidationError

from overparam import registry
from overparam.errors import ConfigError, closest, format_validation_error
from overparam.sweep._config import RunConfig, SweepConfig, kind_union


def run_id(run: RunConfig) -> str:
    """A stable id of a run: a hash of its full config (canonical JSON)."""
    text = json.dumps(run.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flatten(run: RunConfig) -> dict[str, Any]:
    """Every config field as a dotted column name, e.g. ``{"model.depth": 3, ...}``."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, dict):
            return
        else:
            out[prefix] = value

    walk("", run.model_dump(mode="json", exclude_none=True))
    return out


def _set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"grid.{key}: {part!r} is not a table")
    node[parts[-1]] = value


def _validate(tree: dict[str, Any], context: str) -> RunConfig:
    try:
        return RunConfig.model_validate(tree)
    except ValidationError as e:
        raise ConfigError(context + format_validation_error(e)) from None


def _base_tree(sweep: SweepConfig) -> dict[str, Any]:
    base: dict[str, Any] = {"problem": dict(sweep.problem)}
    if sweep.solver is not None:
        base["solver"] = dict(sweep.solver)
    else:
        base.update(model=dict(sweep.model), objective=dict(sweep.objective),
                    optimizer=dict(sweep.optimizer), train=dict(sweep.train))
    return base


def _points(sweep: SweepConfig) -> Iterator[tuple[dict[str, Any], str]]:
    """Each grid point's config tree (without its seed) and the context its errors name."""
    base, keys = _base_tree(sweep), list(sweep.grid)
    for values in itertools.product(*(sweep.grid[k] for k in keys)):
        tree = copy.deepcopy(base)
        for k, v in zip(keys, values):
            _set_dotted(tree, k, v)
        point = ", ".join(f"{k}={v!r}" for k, v in zip(keys, values))
        yield tree, f"grid point ({point}): " if point else ""


def _seeds(sweep: SweepConfig) -> list[int]:
    return [0] if sweep.solver is not None else sweep.seeds


def check_first_point(sweep: SweepConfig) -> None:
    """Validate the sweep's first run as :func:`expand` does (the same one-line
    :class:`~overparam.errors.ConfigError`), without expanding the grid: what
    ``SweepConfig(...)`` checks when it is constructed."""
    for tree, context in _points(sweep):
        _validate({**tree, "seed": _seeds(sweep)[0]}, context)
        return


def expand(sweep: SweepConfig) -> list[RunConfig]:
    """All runs of a sweep: the grid's product times the seeds, then the baselines.

    Baselines (e.g. the nuclear-norm solution) run once per distinct problem of the sweep.

    Example: 2 depths x 2 values of m x 2 seeds, and one baseline per problem (2 values of m).

    >>> from overparam.sweep import SweepConfig, expand
    >>> runs = expand(SweepConfig(
    ...     name="s", problem={"kind": "completion", "d1": 6, "d2": 6, "rank": 1},
    ...     grid={"model.depth": [2, 3], "problem.m": [10, 20]}, seeds=[0, 1],
    ...     baselines=["nuclear_norm"]))
    >>> len(runs), sum(r.solver is not None for r in runs)
    (10, 2)
    """
    seeds = _seeds(sweep)
    runs = []
    for tree, context in _points(sweep):
        # one validation per grid point: the seeds (validated by SweepConfig) change nothing
        # else, and a copy shares the point's validated sections (fast and small for sweeps
        # of many seeds)
        first = _validate({**tree, "seed": seeds[0]}, context)
        runs.append(first)
        runs.extend(first.model_copy(update={"seed": seed}) for seed in seeds[1:])
    runs.extend(_baselines(sweep, runs))
    return list({run_id(r): r for r in runs}.values())


def _baselines(sweep: SweepConfig, runs: list[RunConfig]) -> list[RunConfig]:
    problems = {json.dumps(r.problem.model_dump(mode="json"), sort_keys=True): r.problem
                for r in runs}
    adapter = TypeAdapter(kind_union(registry.SOLVERS))
    known = {k for entry in registry.SOLVERS.values() for k in entry.config.model_fields}
    for k in sweep.baseline:
        if k in ("kind",) or k not in known:
            raise ConfigError(f"baseline.{k}: unknown key{closest(k, known - {'kind'})}")
    solvers: dict[str, Any] = {}
    for i, item in enumerate(sweep.baselines):
        table = {"kind": item} if isinstance(item, str) else dict(item)
        kind = table.get("kind")
        fields = registry.SOLVERS.get(kind).config.model_fields if kind in registry.SOLVERS \
            else {}
        options = {k: v for k, v in sweep.baseline.items() if k in fields}
        try:
            solver = adapter.validate_python({**options, **table})
        except ValidationError as e:
            raise ConfigError(format_validation_error(e, prefix=f"baselines[{i}]")) from None
        solvers[solver.model_dump_json()] = solver
    return [RunConfig(problem=p, solver=s) for s in solvers.values() for p in problems.values()]
