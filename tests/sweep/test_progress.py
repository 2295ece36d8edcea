"""Progress of a sweep: runs done / total, runs per second, time left on a terminal; quiet
in logs and pipes; one summary line at the end."""

from types import SimpleNamespace

import pandas as pd

from overparam.sweep import Store, SweepConfig, execute, expand
from overparam.sweep._local import _RateColumn, summary_line


def test_summary_line_counts_statuses_and_failures():
    rows = pd.DataFrame({"status": ["converged"] * 3 + ["max_steps", "diverged"]})
    assert summary_line("s", rows, 6, 2.0) == (
        "s: 5/6 runs stored in 2.0 s (2.5 runs/s); converged 3, diverged 1, max_steps 1; "
        "1 failed")
    assert summary_line("s", pd.DataFrame(), 2, 1.0) == (
        "s: 0/2 runs stored in 1.0 s (0 runs/s); 0 failed")


def test_rate_column():
    assert str(_RateColumn().render(SimpleNamespace(completed=10, elapsed=4.0))) == "2.5 runs/s"
    assert str(_RateColumn().render(SimpleNamespace(completed=0, elapsed=None))) == "- runs/s"


def _sweep():
    return SweepConfig(name="prog", problem={"kind": "completion", "d1": 6, "d2": 5, "rank": 1,
                                             "m": 15},
                       train={"max_steps": 30, "log_every": 10}, seeds=[0, 1, 2])


def test_not_a_terminal_prints_only_the_summary(tmp_path, capsys):
    sweep = _sweep()
    execute(expand(sweep), Store(tmp_path / "prog", "prog"), measures=sweep.measures,
            log_measures=sweep.log_measures, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("prog: 3/3 runs stored in "), err
    assert lines[0].endswith("max_steps 3; 0 failed")


def test_no_progress_prints_nothing(tmp_path, capsys):
    sweep = _sweep()
    execute(expand(sweep), Store(tmp_path / "prog", "prog"), measures=sweep.measures,
            log_measures=sweep.log_measures, progress=False)
    assert capsys.readouterr() == ("", "")
