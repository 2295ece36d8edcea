"""Generated configs: validation either accepts a sweep, which then runs, or refuses it with a
one-line typed error naming the field, never a traceback, and nothing written.

A sweep is drawn valid, then up to two mutations make it bad; each mutation knows which field
the refusal must name. Hypothesis' statistics (``--hypothesis-show-statistics``) list how
often each outcome occurred.
"""

import math
import tempfile
from pathlib import Path

import pytest
from hardening_support import call_cli, snapshot, to_toml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import overparam as op
from overparam.errors import ConfigError, OverparamError
from overparam.experiments._runner import check_sweep
from overparam.sweep import RunConfig

SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


def _set(path: str, value):
    """A mutation setting ``path`` (a dotted key) to ``value``; the grid no longer sets it."""
    def apply(sweep):
        *sections, key = path.split(".")
        node = sweep
        for s in sections:
            node = node.setdefault(s, {})
        node[key] = value
        sweep.get("grid", {}).pop(path, None)
    return apply


def _m_above(sweep):
    p = sweep["problem"]
    p.update(kind="completion", m=p["d1"] * p["d2"] + 1)
    sweep.get("grid", {}).pop("problem.m", None)


def _underflow(sweep):
    _set("model.init_scale", 1e-50)(sweep)
    _set("train.dtype", "float32")(sweep)


# name -> (mutation, text the refusal must contain)
MUTATIONS = {
    "kind-unknown": (_set("problem.kind", "complettion"), "problem.kind"),
    "d1-zero": (_set("problem.d1", 0), "problem.d1"),
    "rank-above-d": (_set("problem.rank", 7), "rank must be <="),
    "m-above-entries": (_m_above, "m must be <="),
    "depth-zero": (_set("model.depth", 0), "model.depth"),
    "depth-float": (_set("model.depth", 2.5), "model.depth"),
    "depth-string": (_set("model.depth", "three"), "model.depth"),
    "depth-bool": (_set("model.depth", True), "model.depth"),
    "width-zero": (_set("model.width", 0), "model.width"),
    "init-unknown": (_set("model.init", "gausian"), "model.init"),
    "init-scale-zero": (_set("model.init_scale", 0.0), "model.init_scale"),
    "init-scale-negative": (_set("model.init_scale", -1e-3), "model.init_scale"),
    "init-scale-nan": (_set("model.init_scale", math.nan), "model.init_scale"),
    "init-scale-inf": (_set("model.init_scale", math.inf), "model.init_scale"),
    "init-scale-underflow": (_underflow, "model.init_scale"),
    "lr-zero": (_set("optimizer.learning_rate", 0.0), "optimizer.learning_rate"),
    "lr-nan": (_set("optimizer.learning_rate", math.nan), "optimizer.learning_rate"),
    "lr-inf": (_set("optimizer.learning_rate", -math.inf), "optimizer.learning_rate"),
    "optimizer-unknown": (_set("optimizer.name", "adma"), "optimizer.name"),
    "max-steps-zero": (_set("train.max_steps", 0), "train.max_steps"),
    "max-steps-string": (_set("train.max_steps", "many"), "train.max_steps"),
    "log-every-zero": (_set("train.log_every", 0), "train.log_every"),
    "stop-loss-negative": (_set("train.stop_loss", -1.0), "train.stop_loss"),
    "dtype-unknown": (_set("train.dtype", "float16"), "train.dtype"),
    "divergence-factor-1": (_set("train.divergence_factor", 1.0), "train.divergence_factor"),
    "name-invalid": (_set("name", "bad name!"), "name"),
    "seeds-empty": (_set("seeds", []), "seeds"),
    "seeds-negative": (_set("seeds", [-1]), "seeds[0]"),
    "grid-axis-empty": (_set("grid", {"model.depth": []}), "grid"),
    "grid-key-misspelled": (_set("grid", {"model.dpeth": [2]}), "model.dpeth"),
    "grid-section-misspelled": (_set("grid", {"modle.depth": [2]}), "grid"),
    "baseline-unknown": (_set("baselines", ["nuclear"]), "baselines[0]"),
    "measure-unknown": (_set("measures", ["recon_eror"]), "measures"),
    "key-misspelled": (_set("model.nmae", 1), "model.nmae"),
    "top-key-misspelled": (_set("seed", 1), "seed"),
}


@st.composite
def valid_sweeps(draw, max_d: int = 6):
    d1, d2 = draw(st.integers(1, max_d)), draw(st.integers(1, max_d))
    kind = draw(st.sampled_from(["completion", "sensing"]))
    problem = {"kind": kind, "d1": d1, "d2": d2, "rank": draw(st.integers(1, min(d1, d2))),
               "m": draw(st.integers(1, d1 * d2 if kind == "completion" else 12))}
    model = {"depth": draw(st.integers(1, 3)), "init_scale": draw(st.floats(1e-3, 1.0)),
             "init": draw(st.sampled_from(["gaussian", "identity", "orthogonal", "balanced"]))}
    if draw(st.booleans()):
        model["width"] = draw(st.integers(1, 4))
    sweep = {"name": "prop", "problem": problem, "model": model,
             "optimizer": {"name": draw(st.sampled_from(["gd", "group_rmsprop", "adam"])),
                           "learning_rate": draw(st.floats(1e-3, 0.3))},
             "train": {"max_steps": draw(st.integers(1, 40)),
                       "log_every": draw(st.integers(1, 20)),
                       "stop_loss": draw(st.floats(0, 1e-3)),
                       "dtype": draw(st.sampled_from(["float32", "float64"]))},
             "seeds": draw(st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True))}
    axis = draw(st.sampled_from([None, "model.depth", "problem.m", "optimizer.learning_rate"]))
    if axis is not None:
        top = min(3, problem["m"]) if axis == "problem.m" else 3
        values = draw(st.lists(st.integers(1, top), min_size=1, max_size=2, unique=True))
        sweep["grid"] = {axis: [v / 10 if axis.endswith("rate") else v for v in values]}
    if draw(st.booleans()):
        sweep["baselines"] = ["truth"]
    return sweep


@st.composite
def sweeps(draw, max_mutations: int = 2, max_d: int = 6):
    """(sweep, names of the mutations that made it bad)."""
    sweep = draw(valid_sweeps(max_d))
    names = draw(st.lists(st.sampled_from(sorted(MUTATIONS)), max_size=max_mutations,
                          unique=True))
    for name in names:
        MUTATIONS[name][0](sweep)
    return sweep, names


def _refusal(error: Exception, mutations: list[str]) -> str:
    """The message of a refusal, after checking it is one line naming a mutated field."""
    message = str(error)
    assert isinstance(error, OverparamError), repr(error)
    assert "\n" not in message and "Traceback" not in message, message
    assert mutations, f"a valid sweep was refused: {message}"
    assert any(MUTATIONS[m][1] in message for m in mutations), (mutations, message)
    event(f"refused ({MUTATIONS[mutations[0]][1]}...)" if len(mutations) > 1 else
          f"refused: {mutations[0]}")
    return message


@settings(max_examples=300, **SETTINGS)
@given(case=sweeps())
def test_validation_accepts_valid_sweeps_and_names_the_field_of_bad_ones(case):
    sweep, mutations = case
    try:
        runs = check_sweep(sweep)
    except Exception as e:  # noqa: BLE001 - anything but a typed one-line refusal fails
        _refusal(e, mutations)
        return
    assert not mutations, f"{mutations} accepted"
    event("accepted")
    assert all(isinstance(r, RunConfig) for r in runs)
    points = math.prod(len(v) for v in sweep.get("grid", {}).values())
    assert sum(r.method == "gd" for r in runs) == len(sweep["seeds"]) * points


@settings(max_examples=100, **SETTINGS)
@given(case=sweeps(max_mutations=1))
def test_the_cli_refuses_the_same_way_with_exit_2_and_writes_nothing(case, capsys):
    sweep, mutations = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "sweep.toml").write_text(to_toml(sweep))
        try:
            check_sweep(tmp / "sweep.toml")
            assert not mutations
            return  # accepted: running it is the next test's business
        except ConfigError as e:
            expected = _refusal(e, mutations)
        before = snapshot(tmp)
        code, _, err = call_cli(["run", str(tmp / "sweep.toml"), "--out", str(tmp / "out"),
                                 "--no-progress"], capsys)
        assert code == 2 and err == f"error: {expected}\n", err
        assert snapshot(tmp) == before


@settings(max_examples=12, **SETTINGS)
@given(case=sweeps(max_mutations=1, max_d=4))
def test_accepted_sweeps_run(case):
    """A sweep that validation accepts runs to the end: one row per run, a known status; a
    refused one raises before anything is written."""
    sweep, mutations = case
    with tempfile.TemporaryDirectory() as tmp:
        try:
            runs = check_sweep(sweep)
        except ConfigError as e:
            _refusal(e, mutations)
            with pytest.raises(ConfigError) as again:
                op.run(sweep, out=tmp, progress=False)
            assert str(again.value) == str(e) and not any(Path(tmp).iterdir())
            return
        event("accepted and run")
        result = op.run(sweep, out=tmp, progress=False)
    assert len(result.runs) == len(runs) and result.ran == len(runs)
    assert set(result.runs["status"]) <= {"converged", "max_steps", "diverged"}
    gd = result.runs[result.runs["method"] == "gd"]
    assert (gd["steps"] <= gd["train.max_steps"]).all()
