"""Every Ding et al. 2022 kind reachable from a user's TOML file: each problem kind with a model
it fits, the flat baseline and the new measures, through ``overparam run`` at a tiny size."""

import textwrap

import numpy as np
import pandas as pd
import pytest

from overparam.cli import main

# problem table, model table (each kind's new model), extra lines (objective, ...)
CASES = {
    "gaussian_sensing": ('d1 = 4\nd2 = 4\nrank = 1\nm = 14', 'kind = "two_factor"', ""),
    "gaussian_sensing_symmetric": ('d1 = 4\nd2 = 4\nrank = 1\nm = 14\nsymmetric = true',
                                   'kind = "symmetric"\nwidth = 4', ""),
    "bilinear_sensing": ('d1 = 4\nd2 = 4\nrank = 1\nm = 14', 'kind = "two_factor"', ""),
    "bernoulli_completion": ('d1 = 5\nd2 = 5\nrank = 1\np = 0.9', 'kind = "two_factor"', ""),
    "robust_pca": ('d1 = 6\nd2 = 6\nrank = 1\nl = 1', 'kind = "two_factor"',
                   '[objective]\nkind = "robust_pca"'),
    "quadratic_network": ('d = 4\nr1 = 1\nr2 = 1\nm = 20',
                          'kind = "symmetric"\nwidth = 2\nnegative_width = 1', ""),
    "sparse_recovery": ('d = 12\ns = 2\nm = 10', 'kind = "hadamard"\ndepth = 2', ""),
}
MEASURES = ["norm_gap", "balance_gap", "support_size", "hessian_trace"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_kind_runs_from_a_toml_file(case, tmp_path, capsys):
    problem, model, extra = CASES[case]
    kind = case.removesuffix("_symmetric")
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent(f"""
        name = "toml-{case.replace('_', '-')}"
        baselines = [{{kind = "flat"}}]
        measures = {MEASURES!r}
        [problem]
        kind = "{kind}"
        """) + problem + "\n[model]\n" + model + "\n" + extra + textwrap.dedent("""
        [optimizer]
        learning_rate = 1e-2
        [train]
        max_steps = 20
        log_every = 10
        """))
    code = main(["run", str(path), "--out", str(tmp_path / "o"), "--no-progress"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    [store] = (tmp_path / "o").iterdir()
    runs = pd.read_parquet(store / "runs.parquet")
    assert sorted(runs["method"]) == ["flat", "gd"], runs["method"].tolist()
    assert set(runs["problem.kind"]) == {kind}
    for column in ("frob_error", "success", *MEASURES):
        assert column in runs, column
    flat = runs[runs["method"] == "flat"].iloc[0]
    assert flat["status"] in {"converged", "max_steps", "singular_weights"}
    assert flat["frob_error"] >= 0 or flat["status"] == "singular_weights"


# ----- the new optimizers, objective, minibatches and certified baselines -------------------

SENSING = 'kind = "gaussian_sensing"\nd1 = 4\nd2 = 4\nrank = 1\nm = 14'


def _toml(tmp_path, body: str, name: str = "mine") -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(body))
    return str(path)


def _run(tmp_path, capsys, body: str):
    """``overparam run`` of the TOML ``body``: (exit code, stdout, stderr, out dir)."""
    out_dir = tmp_path / "o"
    code = main(["run", _toml(tmp_path, body), "--out", str(out_dir), "--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err, out_dir


def _runs(tmp_path, capsys, body: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs.parquet and trajectories.parquet of a successful ``overparam run``."""
    code, out, err, out_dir = _run(tmp_path, capsys, body)
    assert code == 0, out + err
    [store] = out_dir.iterdir()
    traj = store / "trajectories.parquet"  # none for a sweep of baselines alone
    return (pd.read_parquet(store / "runs.parquet"),
            pd.read_parquet(traj) if traj.exists() else None)


def _refused(tmp_path, capsys, body: str, *names: str) -> str:
    """Assert ``overparam run`` of ``body`` exits 2 with one error line naming ``names``,
    having written nothing; the line."""
    code, out, err, out_dir = _run(tmp_path, capsys, body)
    assert code == 2, out + err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for name in names:
        assert name in err, (name, err)
    assert not out_dir.exists() or not any(out_dir.iterdir())
    return err


def _trained(problem: str, optimizer: str, extra: str = "", *, max_steps: int = 20,
             measures=("train_loss",), grid: str = "") -> str:
    """A TOML sweep: ``problem`` fitted by a two-factor model, ``optimizer`` lines, ``extra``
    sections (objective, train options) and an optional ``[grid]`` body."""
    return (f'name = "toml-new"\nmeasures = {list(measures)!r}\n'
            f'log_measures = ["train_loss"]\n[problem]\n{problem}\n'
            '[model]\nkind = "two_factor"\ninit_scale = 0.3\n'
            f'[optimizer]\nlearning_rate = 5e-2\n{optimizer}\n'
            f'[train]\nmax_steps = {max_steps}\nlog_every = 10\nstop_loss = 0.0\n{extra}\n'
            + (f"[grid]\n{grid}\n" if grid else ""))


def _trains(runs: pd.DataFrame, traj: pd.DataFrame) -> None:
    """Every run ran its 20 steps, ends finite and lowered its training loss."""
    assert (runs["status"] == "max_steps").all(), runs["status"].tolist()
    assert (runs["steps"] == 20).all(), runs["steps"].tolist()
    assert np.isfinite(runs["train_loss"]).all() and np.isfinite(runs["frob_error"]).all()
    first = traj.sort_values("step").groupby("run_id")["train_loss"].first()
    last = runs.set_index("run_id")["train_loss"]
    assert (last < first.loc[last.index]).all(), (first, last)


OPTIMIZER_CASES = {
    "sam": ("rho", 0.05),
    "sam1": ("rho", 0.05),
    "label_noise_gd": ("sigma", 0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
def test_new_optimizer_runs_from_a_toml_file(name, tmp_path, capsys):
    hp, value = OPTIMIZER_CASES[name]
    runs, traj = _runs(tmp_path, capsys, _trained(
        SENSING, f'name = "{name}"\nhyperparams = {{{hp} = {value}}}'))
    assert len(runs) == 1
    [row] = runs.to_dict("records")
    assert row["method"] == "gd" and row["optimizer.name"] == name
    assert row[f"optimizer.hyperparams.{hp}"] == value
    _trains(runs, traj)


def test_a_sweep_over_rho_gives_one_row_per_value(tmp_path, capsys):
    rhos = [0.0, 0.05, 0.2]
    runs, traj = _runs(tmp_path, capsys, _trained(
        SENSING, 'name = "sam"', grid=f'"optimizer.hyperparams.rho" = {rhos!r}'))
    assert len(runs) == len(rhos) and set(runs["optimizer.name"]) == {"sam"}
    runs = runs.sort_values("optimizer.hyperparams.rho")
    assert list(runs["optimizer.hyperparams.rho"]) == rhos
    assert runs["run_id"].nunique() == len(rhos)
    _trains(runs, traj)
    loss = runs["train_loss"].tolist()  # each run used its own rho, not the first one's
    assert loss[0] != pytest.approx(loss[1], rel=1e-4) and loss[1] != pytest.approx(loss[2],
                                                                                   rel=1e-4)


def test_rho_zero_in_a_toml_file_is_gradient_descent(tmp_path, capsys):
    grid = ('optimizer = [{name = "gd", learning_rate = 5e-2}, '
            '{name = "sam", learning_rate = 5e-2, hyperparams = {rho = 0.0}}]')
    runs, traj = _runs(tmp_path, capsys, _trained(SENSING, "", grid=grid))
    assert sorted(runs["optimizer.name"]) == ["gd", "sam"]
    _trains(runs, traj)
    gd, sam = (runs[runs["optimizer.name"] == n]["train_loss"].iloc[0] for n in ("gd", "sam"))
    assert sam == pytest.approx(gd, rel=1e-5)


@pytest.mark.parametrize("optimizer, grid, names", [
    ('name = "sam"\nhyperparams = {rho = -0.1}', "", ["optimizer.hyperparams", "rho"]),
    ('name = "sam1"\nhyperparams = {rho = -1.0}', "", ["optimizer.hyperparams", "rho"]),
    ('name = "label_noise_gd"\nhyperparams = {sigma = -0.5}', "",
     ["optimizer.hyperparams", "sigma"]),
    ('name = "sam"\nhyperparams = {sigma = 0.1}', "", ["hyperparams", "'sigma'"]),
    ('name = "label_noise_gd"\nhyperparams = {rho = 0.1}', "", ["hyperparams", "'rho'"]),
    ('name = "sam"\noptions = {rho = 0.1}', "", ["optimizer.hyperparams.rho"]),
    ('name = "sam"\noptions = {base = 3.0}', "", ["optimizer"]),
    ('name = "sam"', '"optimizer.hyperparams.rho" = [0.1, -0.1]',
     ["optimizer.hyperparams", "rho", "-0.1"]),
    ('name = "sma"', "", ["optimizer", "'sam'"]),
], ids=["negative-rho", "negative-rho-sam1", "negative-sigma", "sigma-for-sam",
        "rho-for-label-noise", "rho-as-option", "bad-option", "negative-rho-in-grid",
        "misspelled-name"])
def test_bad_optimizer_hyperparameters_in_a_toml_file(optimizer, grid, names, tmp_path,
                                                     capsys):
    _refused(tmp_path, capsys, _trained(SENSING, optimizer, grid=grid), *names)


def test_trace_penalty_runs_from_a_toml_file(tmp_path, capsys):
    runs, traj = _runs(tmp_path, capsys, _trained(
        SENSING, 'name = "gd"', '[objective]\nkind = "trace_penalty"\nweight = 0.1',
        measures=("train_loss", "hessian_trace"),
        grid='"objective.weight" = [0.0, 0.1]'))
    assert set(runs["objective.kind"]) == {"trace_penalty"}
    runs = runs.sort_values("objective.weight")
    assert list(runs["objective.weight"]) == [0.0, 0.1]
    _trains(runs, traj)
    assert np.isfinite(runs["hessian_trace"]).all() and (runs["hessian_trace"] > 0).all()
    free, penalized = runs["hessian_trace"].tolist()
    assert penalized < free  # the penalty lowers the trace it weighs


def test_trace_penalty_weight_alone_from_a_toml_file(tmp_path, capsys):
    runs, traj = _runs(tmp_path, capsys, _trained(
        SENSING, 'name = "gd"', '[objective]\nkind = "trace_penalty"\nweight = 0.05'))
    [row] = runs.to_dict("records")
    assert row["objective.kind"] == "trace_penalty" and row["objective.weight"] == 0.05
    assert row["objective.scaled"] is False or row["objective.scaled"] == 0
    _trains(runs, traj)


@pytest.mark.parametrize("objective, model, names", [
    ('weight = -0.1', "", ["objective.weight"]),
    ('weight = 0.1\nscaled = true', 'kind = "symmetric"\nwidth = 4', ["objective.scaled"]),
    ('weight = 0.1\nscale = true', "", ["objective", "scale"]),
], ids=["negative-weight", "scaled-symmetric", "unknown-field"])
def test_bad_trace_penalty_in_a_toml_file(objective, model, names, tmp_path, capsys):
    body = _trained(SENSING, 'name = "gd"',
                    f'[objective]\nkind = "trace_penalty"\n{objective}')
    if model:
        body = body.replace('kind = "two_factor"', model)
    _refused(tmp_path, capsys, body, *names)


def test_minibatches_from_a_toml_file(tmp_path, capsys):
    runs, traj = _runs(tmp_path, capsys, _trained(
        SENSING, 'name = "gd"', "batch_size = 4", grid='"train.batch_size" = [4, 14]'))
    runs = runs.sort_values("train.batch_size")
    assert list(runs["train.batch_size"]) == [4, 14]
    _trains(runs, traj)
    minibatch, whole = runs["train_loss"].tolist()  # same init: the draws change the path
    assert minibatch != pytest.approx(whole, rel=1e-3)


def test_minibatches_with_label_noise_and_sam1_from_a_toml_file(tmp_path, capsys):
    grid = ('optimizer = [{name = "label_noise_gd", learning_rate = 5e-2, '
            'hyperparams = {sigma = 0.01}}, {name = "sam1", learning_rate = 5e-2, '
            'hyperparams = {rho = 0.05}}]')
    runs, traj = _runs(tmp_path, capsys, _trained(SENSING, "", "batch_size = 5", grid=grid))
    assert sorted(runs["optimizer.name"]) == ["label_noise_gd", "sam1"]
    assert (runs["train.batch_size"] == 5).all()
    _trains(runs, traj)


@pytest.mark.parametrize("batch_size, names", [
    (15, ["train.batch_size", "15", "14 measurements"]),
    (0, ["train.batch_size"]),
    ('"all"', ["train.batch_size"]),
], ids=["above-m", "zero", "not-a-number"])
def test_bad_batch_size_in_a_toml_file(batch_size, names, tmp_path, capsys):
    _refused(tmp_path, capsys, _trained(SENSING, 'name = "gd"', f"batch_size = {batch_size}"),
             *names)


def test_a_batch_size_above_one_grid_points_m_names_the_field(tmp_path, capsys):
    _refused(tmp_path, capsys, _trained(SENSING, 'name = "gd"', "batch_size = 10",
                                        grid='"problem.m" = [14, 8]'),
             "train.batch_size", "10", "8 measurements")


# gaussian_sensing 6 x 6, rank 2: r (d1 + d2 - r) = 20 degrees of freedom; 8 measurements
# are too few for any relaxation, 36 (= d1 d2 Gaussian ones) determine the matrix.
FEW, MANY = 8, 36


def _certified(solver: str, baselines: str = "[]") -> str:
    return textwrap.dedent(f"""
        name = "toml-certify"
        measures = ["nuclear_norm"]
        baselines = {baselines}
        [problem]
        kind = "gaussian_sensing"
        d1 = 6
        d2 = 6
        rank = 2
        [solver]
        {solver}
        [grid]
        "problem.m" = [{FEW}, {MANY}]
        """)


def _verdicts(runs: pd.DataFrame, method: str) -> None:
    rows = runs[runs["method"] == method].sort_values("problem.m")
    assert list(rows["problem.m"]) == [FEW, MANY], rows["problem.m"].tolist()
    fail, win = rows.to_dict("records")
    assert fail["status"] == "certified_failure" and fail["success"] == 0, fail
    assert np.isfinite(fail["frob_error"]) and fail["frob_error"] > 1e-5, fail["frob_error"]
    assert win["status"] == "converged" and win["success"] == 1, win
    assert 0 <= win["frob_error"] < 1e-6


def test_flat_certify_failure_from_a_toml_file(tmp_path, capsys):
    runs, _ = _runs(tmp_path, capsys, _certified('kind = "flat"\ncertify_failure = true'))
    assert set(runs["method"]) == {"flat"} and len(runs) == 2
    assert runs["solver.certify_failure"].all()
    _verdicts(runs, "flat")


def test_nuclear_norm_certify_failure_from_a_toml_file(tmp_path, capsys):
    runs, _ = _runs(tmp_path, capsys, _certified(
        'kind = "nuclear_norm"\ntol = 0\nequality = true\ncertify_failure = true',
        baselines='[{kind = "flat", certify_failure = true}]'))
    assert sorted(runs["method"]) == ["flat", "flat", "nuclear_norm", "nuclear_norm"]
    assert runs["solver.certify_failure"].all()
    assert runs[runs["method"] == "nuclear_norm"]["solver.equality"].all()
    _verdicts(runs, "nuclear_norm")
    _verdicts(runs, "flat")


@pytest.mark.parametrize("solver, names", [
    ('kind = "nuclear_norm"\ntol = 0\ncertify_failure = true', ["certify_failure", "equality"]),
    ('kind = "nuclear_norm"\ntol = 1e-3\nequality = true', ["equality", "tol"]),
    ('kind = "flat"\ncertify_failure = "yes"', ["certify_failure"]),
    ('kind = "flat"\ncertify_failures = true', ["certify_failures"]),
], ids=["certify-without-equality", "equality-with-tol", "certify-not-a-bool",
        "misspelled-field"])
def test_bad_certify_options_in_a_toml_file(solver, names, tmp_path, capsys):
    _refused(tmp_path, capsys, _certified(solver), "solver", *names)


def test_bad_certify_options_in_a_baseline_table(tmp_path, capsys):
    _refused(tmp_path, capsys, _certified(
        'kind = "flat"', baselines='[{kind = "nuclear_norm", tol = 0, certify_failure = true}]'),
        "baselines[0]", "certify_failure", "equality")
