import json

import pytest
from pydantic import ValidationError

from overparam.errors import ConfigError
from overparam.experiments._runner import check_sweep
from overparam.sweep import RunConfig, SweepConfig, expand, flatten, run_id


def _sweep(**kw):
    base = dict(name="t", problem={"kind": "completion", "d1": 10, "d2": 10, "rank": 2, "m": 30},
                train={"max_steps": 100})
    base.update(kw)
    return SweepConfig(**base)


def test_grid_expands_product_times_seeds_plus_baselines():
    runs = expand(_sweep(grid={"model.depth": [2, 3], "problem.m": [30, 40]}, seeds=[0, 1],
                         baselines=["nuclear_norm", "truth"]))
    gd = [r for r in runs if r.method == "gd"]
    assert len(gd) == 8
    assert {(r.model.depth, r.problem.m, r.seed) for r in gd} == {
        (d, m, s) for d in (2, 3) for m in (30, 40) for s in (0, 1)}
    baselines = sorted(r.method for r in runs if r.method != "gd")
    assert baselines == ["nuclear_norm"] * 2 + ["truth"] * 2


def test_run_id_is_stable_and_sensitive_to_every_field():
    a = expand(_sweep())[0]
    assert run_id(a) == run_id(RunConfig.model_validate(a.model_dump()))
    b = RunConfig.model_validate({**a.model_dump(), "seed": 1})
    c = RunConfig.model_validate({**a.model_dump(),
                                  "model": {**a.model.model_dump(), "init_scale": 2e-3}})
    assert len({run_id(a), run_id(b), run_id(c)}) == 3


def test_flatten_gives_dotted_columns():
    row = flatten(expand(_sweep())[0])
    assert row["problem.m"] == 30 and row["model.depth"] == 3 and row["seed"] == 0
    assert row["optimizer.name"] == "group_rmsprop"


@pytest.mark.parametrize("sweep, message", [
    (dict(problem={"kind": "completion", "d1": 5, "d2": 5, "rank": 6}), "rank must be <= min"),
    (dict(problem={"kind": "completion", "d1": 5, "d2": 5, "rank": 1, "m": 26}),
     "m must be <= d1\\*d2"),
    (dict(grid={"model.depth": [0]}), "model.depth: Input should be greater than or equal to 1"),
    (dict(grid={"model.init_scale": [-1.0]}), "model.init_scale: Input should be greater than 0"),
    (dict(grid={"model.init_scale": [float("nan")]}), "model.init_scale: Input should be a finite"),
    (dict(model={"depth": "three"}), "model.depth: Input should be a valid integer"),
    (dict(model={"dpeth": 3}), "model.dpeth: unknown key"),
    (dict(optimizer={"name": "sgdd"}), "optimizer.name"),
    (dict(optimizer={"name": "adam", "options": {"alpha": 0.5}}), "bad options"),
    (dict(train={"dtype": "float16"}), "train.dtype"),
])
def test_bad_values_name_the_field(sweep, message):
    with pytest.raises(ConfigError, match=message):
        expand(_sweep(**sweep))


@pytest.mark.parametrize("sweep, message", [
    (dict(grid={"model.depth": []}), "needs a non-empty list"),
    (dict(grid={"modle.depth": [2]}), "did you mean 'model'"),
    (dict(measures=["nuclear"]), "unknown measure 'nuclear'; did you mean 'nuclear_norm'"),
    (dict(seeds=[]), "seeds"),
    (dict(name="bad name!"), "name"),
])
def test_bad_sweep_shapes_are_refused(sweep, message):
    """SweepConfig's own validation raises the one-line ConfigError, not pydantic's error."""
    with pytest.raises(ConfigError, match=message) as info:
        _sweep(**sweep)
    assert "\n" not in str(info.value)
    assert not isinstance(info.value, ValidationError)


def _toml(data: dict) -> str:
    """A flat TOML document of ``data`` (scalars, lists and one level of tables): JSON's
    strings, numbers and arrays are TOML's."""
    top = [f"{k} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    tables = [f"[{k}]\n" + "\n".join(f"{json.dumps(kk)} = {json.dumps(vv)}"
                                      for kk, vv in v.items())
              for k, v in data.items() if isinstance(v, dict)]
    return "\n".join(top + tables) + "\n"


@pytest.mark.parametrize("bad, field", [
    (dict(seeds=[-1]), "seeds[0]"),
    (dict(name="bad name!"), "name"),
    (dict(measures=["nuclear"]), "measures"),
    (dict(problem={"kind": "completion", "d1": 10, "d2": 10, "rank": 2, "m": -3}), "problem.m"),
    (dict(problem={"kind": "completion", "d1": 10, "d2": 10, "rank": 2, "mm": 30}),
     "problem.mm"),
    (dict(model={"depth": 0}), "model.depth"),
    (dict(grid={"model.depth": ["three", 2]}), "grid point (model.depth='three'): model.depth"),
])
def test_python_mapping_and_toml_give_the_same_line(tmp_path, bad, field):
    """SweepConfig(...), a mapping and a TOML file of the same bad sweep all raise one
    ConfigError line naming the field (the file's prefixed by its path)."""
    data = {**dict(name="t", problem={"kind": "completion", "d1": 10, "d2": 10, "rank": 2,
                                      "m": 30}, train={"max_steps": 100}), **bad}
    path = tmp_path / "s.toml"
    path.write_text(_toml(data))
    lines = []
    for make in (lambda: SweepConfig(**data), lambda: check_sweep(data),
                 lambda: check_sweep(path)):
        with pytest.raises(ConfigError) as info:
            make()
        lines.append(str(info.value).removeprefix(f"{path}: "))
    assert len(set(lines)) == 1, lines
    assert lines[0].startswith(field) and "\n" not in lines[0], lines[0]


def test_run_needs_exactly_one_method():
    with pytest.raises(ValidationError, match="either model"):
        RunConfig.model_validate({"problem": {"kind": "completion"}, "model": {},
                                  "optimizer": {}, "train": {}, "solver": {}})
