"""The SLURM executor through submitit: a sweep through submitit's local executor (real
pickling and worker processes) equals the local executor's, and the job array it submits to
SLURM (a fake sbatch on the PATH) asks for what the flags say."""

import os
import stat

import numpy as np
import pytest

import overparam as op
from overparam.cli import main
from overparam.errors import ConfigError
from overparam.sweep import Store, SweepConfig, expand
from overparam.sweep._build import ProblemCache
from overparam.sweep._slurm import SlurmExecutor
from overparam.sweep._work import WorkOptions, plan

SWEEP = {"name": "slurm-sweep",
         "problem": {"kind": "completion", "d1": 6, "d2": 6, "rank": 1, "m": 20},
         "model": {"init_scale": 1e-2}, "train": {"max_steps": 200, "log_every": 100},
         "grid": {"model.depth": [2, 3]}, "seeds": [0, 1], "baselines": ["nuclear_norm"]}


def test_a_sweep_through_submitit_processes_equals_the_local_one(tmp_path):
    local = op.run(SWEEP, out=tmp_path / "local", progress=False).runs
    ex = SlurmExecutor(backend="local", parts=2, poll_s=0.2)
    result = op.run(SWEEP, out=tmp_path / "slurm", progress=False, executor=ex)
    assert result.ran == 5
    runs = Store(tmp_path / "slurm" / "slurm-sweep", "slurm-sweep").runs()
    assert len(runs) == 5 and runs["run_id"].is_unique
    a = local.set_index("run_id").sort_index()
    b = result.runs.set_index("run_id").sort_index()
    assert list(a.index) == list(b.index)
    assert (a["steps"] == b["steps"]).all() and (a["status"] == b["status"]).all()
    for col in ("train_loss", "recon_error", "nuclear_norm", "effective_rank"):
        # bit for bit: a run's result does not depend on its batch-mates (test_determinism)
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy()), col
    assert (tmp_path / "slurm" / "slurm-sweep" / "slurm").is_dir()  # submitit's job files


@pytest.fixture
def fake_sbatch(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "sbatch.log"
    script = bin_dir / "sbatch"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\ncat \"$1\" >> {log}\n"
                      "echo 'Submitted batch job 4242'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    srun = bin_dir / "srun"  # submitit checks that srun exists before it submits
    srun.write_text("#!/bin/sh\nexit 0\n")
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_the_job_array_asks_for_what_the_options_say(tmp_path, fake_sbatch):
    sweep = SweepConfig(**SWEEP)
    store = Store(tmp_path / "slurm-sweep", "slurm-sweep")
    store.open()
    items = plan(store.experiment, expand(sweep),
                 WorkOptions(tuple(sweep.measures), tuple(sweep.log_measures), 10, None, 10, ()),
                 ProblemCache())
    ex = SlurmExecutor(partition="gpu", time_min=30, mem_gb=4, cpus_per_task=2,
                       array_parallelism=2, parts=3)
    jobs = ex.submit(items, store)
    n = len(ex.parts(items))
    assert len(jobs) == n >= 3  # training parts and one task per baseline solve
    assert [j.job_id for j in jobs] == [f"4242_{i}" for i in range(n)]
    text = fake_sbatch.read_text()
    assert text.count("Submitted") == 0 and text.count("#!/bin/bash") == 1  # one sbatch call
    for line in (f"#SBATCH --array=0-{n - 1}%2", "#SBATCH --partition=gpu",
                 "#SBATCH --time=30", "#SBATCH --mem=4096M", "#SBATCH --cpus-per-task=2"):
        assert line in text, line


def test_bad_options_are_one_line(tmp_path, capsys):
    with pytest.raises(ConfigError, match="array_parallelism"):
        SlurmExecutor(array_parallelism=0)
    with pytest.raises(ConfigError, match="backend"):
        SlurmExecutor(backend="pbs")
    toml = tmp_path / "s.toml"
    toml.write_text('name = "s"\n[problem]\nkind = "completion"\n')
    assert main(["run", str(toml), "--slurm-time", "5"]) == 2
    assert "--slurm-time: only with --executor slurm" in capsys.readouterr().err
    assert main(["run", str(toml), "--executor", "slurm", "--slurm-gpus", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --slurm-gpus: must be an integer >= 0") and err.count("\n") == 1
