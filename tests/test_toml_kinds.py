"""Every Ding et al. 2022 kind reachable from a user's TOML file: each problem kind with a model
it fits, the flat baseline and the new measures, through ``overparam run`` at a tiny size."""

import textwrap

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
