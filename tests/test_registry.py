"""Registries and the static/batched declaration: the generic checks every entry passes."""

from typing import Literal

import pytest
from pydantic import ValidationError

from overparam import registry
from overparam.configs import Batched, KindConfig, PosFloat, PosInt, batched_values, static_key
from overparam.errors import ConfigError
from overparam.sweep import RunConfig, TrainConfig
from overparam.sweep._config import OptimizerConfig


class _Toy(KindConfig):
    kind: Literal["toy_reg_check"] = "toy_reg_check"
    size: PosInt = 3
    scale: Batched[PosFloat] = 1.0


def test_unknown_names_get_a_hint_and_duplicates_are_refused():
    with pytest.raises(ConfigError, match="unknown problem kind 'completoin'; did you mean "
                                          "'completion'"):
        registry.PROBLEMS.get("completoin")
    entry = registry.PROBLEMS.get("completion")
    with pytest.raises(ValueError, match="already registered"):
        registry.register_problem(entry)
    with pytest.raises(ValueError, match="needs a field kind"):
        registry.register_problem(registry.ProblemKind("other_name", _Toy, lambda c, d: None))
    with pytest.raises(ValueError, match="unknown needs"):
        registry.register_measure(registry.MeasureSpec("m", lambda ctx: 0, "", needs={"gpu"}))


def test_registering_a_kind_makes_it_valid_in_run_configs_and_unregistering_removes_it():
    base = {"problem": {"kind": "toy_reg_check"}, "solver": {"kind": "truth"}}
    with pytest.raises(ValidationError, match="toy_reg_check"):
        RunConfig.model_validate(base)
    registry.register_problem(registry.ProblemKind("toy_reg_check", _Toy, lambda c, d: None))
    try:
        run = RunConfig.model_validate(base)
        assert isinstance(run.problem, _Toy) and run.problem.size == 3
    finally:
        registry.PROBLEMS.unregister("toy_reg_check")
    with pytest.raises(ValidationError):
        RunConfig.model_validate(base)


@pytest.mark.parametrize("reg", [registry.PROBLEMS, registry.MODELS, registry.OBJECTIVES,
                                 registry.SOLVERS])
def test_every_built_in_kind_resolves_and_validates_its_defaults(reg):
    for name, entry in reg.items():
        assert callable(registry.resolve(getattr(entry, "build", None)
                                         or getattr(entry, "solve", None))), name
        # these need fields without defaults
        if name not in ("file", "entries", "schatten", "dataset_file"):
            assert entry.config().kind == name


def test_every_measure_and_optimizer_resolves():
    from overparam.measures import MEASURES
    from overparam.optim import OPTIMIZERS

    assert all(callable(MEASURES[n].fn) for n in MEASURES)
    assert all(callable(OPTIMIZERS[n]) for n in OPTIMIZERS)
    assert {n for n in MEASURES if MEASURES[n].top_k} == {
        "singular_values", "sv_rate_measured", "sv_rate_predicted"}


def test_batched_fields_are_data_and_static_fields_choose_the_program():
    assert batched_values(TrainConfig()) == {"max_steps": 200_000, "stop_loss": 1e-6,
                                             "divergence_factor": 1e6}
    assert batched_values(OptimizerConfig()) == {"learning_rate": 1e-3}
    a, b = _Toy(scale=1.0), _Toy(scale=2.0)
    assert static_key(a) == static_key(b) and batched_values(b) == {"scale": 2.0}
    assert static_key(_Toy(size=4)) != static_key(a)


def test_runs_differing_only_in_batched_fields_share_a_group():
    from overparam.sweep import SweepConfig, expand
    from overparam.sweep._build import ProblemCache, gd_group_key

    sweep = SweepConfig(name="g", problem={"kind": "completion", "d1": 6, "d2": 6, "rank": 1,
                                           "m": 10},
                        grid={"model.init_scale": [1e-3, 1e-2], "optimizer.learning_rate":
                              [1e-3, 1e-2], "train.max_steps": [5, 9], "model.depth": [2, 3]})
    cache = ProblemCache()
    keys = {gd_group_key(r, cache.get(r.problem, "float32")) for r in expand(sweep)}
    assert len(keys) == 2  # one program per depth
