"""The command line: list, bad input (one line, exit 2, nothing written), a tiny user sweep."""

import json
import subprocess
import sys
import textwrap

import pytest

from overparam.cli import main
from overparam.sweep._store import FORMAT_VERSION


def _run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_names_every_experiment(capsys):
    from overparam.experiments import EXPERIMENTS

    code, out, _ = _run(["list"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == len(EXPERIMENTS)
    assert all(line.split()[0] in EXPERIMENTS for line in lines)


BAD_TOML = {
    "rank-too-large": ('name="x"\n[problem]\nkind="completion"\nd1=5\nd2=5\nrank=6\n',
                       "rank must be <= min"),
    "m-too-large": ('name="x"\n[problem]\nkind="completion"\nd1=5\nd2=5\nrank=1\nm=26\n',
                    "m must be <= d1*d2"),
    "depth-zero": ('name="x"\n[model]\ndepth=0\n', "model.depth"),
    "zero-init": ('name="x"\n[model]\ninit_scale=0.0\n', "model.init_scale"),
    "unknown-key": ('name="x"\n[model]\ndepht=3\n', "model.depht: unknown key"),
    "wrong-type": ('name="x"\n[train]\nmax_steps="many"\n', "train.max_steps"),
    "empty-grid": ('name="x"\n[grid]\n"model.depth"=[]\n', "non-empty list"),
    "missing-file": ('name="x"\n[problem]\nkind="file"\npath="/nonexistent/p.npz"\n',
                     "does not exist"),
    "malformed": ('name="x"\n[problem\n', "malformed TOML"),
    "bad-claim": ('name="x"\n[problem]\nkind="completion"\n[[claims]]\nname="c"\n'
                  'statement="s"\nmeasure="recon_error"\n',
                  "exactly one of value or than"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOML))
def test_bad_toml_gets_one_line_exit_2_and_writes_nothing(case, tmp_path, capsys):
    text, message = BAD_TOML[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out_dir = tmp_path / "out"
    code, out, err = _run(["run", str(path), "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert not out_dir.exists()


@pytest.mark.parametrize("args, message", [
    (["reproduce", "arora2019-complete"], "did you mean 'arora2019-completion'"),
    (["reproduce", "arora2019-completion", "--profile", "quik"], "unknown profile 'quik'"),
    (["reproduce", "arora2019-completion", "--max-batch", "0"], "positive integer"),
    (["reproduce", "arora2019-completion", "--solver", "mosek"], "invalid choice"),
    (["run", "/nonexistent.toml"], "file not found"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_flags(args, message, tmp_path):
    out = subprocess.run([sys.executable, "-m", "overparam.cli", *args, "--out",
                          str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert not (tmp_path / "o").exists()


def test_user_sweep_writes_the_contract(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent("""
        name = "mine"
        baselines = ["nuclear_norm"]
        [problem]
        kind = "completion"
        d1 = 10
        d2 = 10
        rank = 1
        m = 50
        [model]
        init_scale = 1e-2
        [optimizer]
        learning_rate = 3e-2
        [train]
        max_steps = 2000
        log_every = 100
        stop_loss = 1e-5
        [grid]
        "model.depth" = [2, 3]
        [[claims]]
        name = "depth3-recovers"
        statement = "depth 3 recovers"
        measure = "recon_error"
        where = {"model.depth" = 3}
        op = "<="
        value = 1.0
    """))
    code, out, _ = _run(["run", str(path), "--out", str(tmp_path / "o"), "--no-progress",
                         "--check"], capsys)
    assert code == 0, out
    d = tmp_path / "o" / "mine"
    for name in ("runs.parquet", "trajectories.parquet", "claims.json", "final.png",
                 "trajectories.png", "manifest.json"):
        assert (d / name).is_file(), name
    assert "1/1 claims hold" in out
    # a second run resumes: nothing re-runs, same outputs
    code, out, _ = _run(["run", str(path), "--out", str(tmp_path / "o"), "--no-progress"],
                        capsys)
    assert code == 0


def test_other_experiment_in_out_dir_is_refused(tmp_path, capsys):
    (tmp_path / "o" / "arora2019-init").mkdir(parents=True)
    (tmp_path / "o" / "arora2019-init" / "manifest.json").write_text(
        json.dumps({"format_version": FORMAT_VERSION, "experiment": "something-else"}))
    code, _, err = _run(["reproduce", "arora2019-init", "--out", str(tmp_path / "o"),
                         "--no-progress"], capsys)
    assert code == 2 and "holds results of 'something-else'" in err
