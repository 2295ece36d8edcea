"""Import direction (shared/DESIGN.md): the numerical core works with arrays alone, plots
import no JAX, and the command line answers --help, list and config errors without JAX,
cvxpy, pandas or matplotlib. Each check runs in a fresh interpreter."""

import json
import subprocess
import sys
import time

import pytest

from overparam.experiments import EXPERIMENTS
from overparam.experiments._catalog import CATALOG

HEAVY = ("jax", "cvxpy", "pandas", "matplotlib")


def _loaded(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; the heavy modules it loaded and its wall time."""
    probe = (code + "\nimport json, sys\n"
             "print(json.dumps(sorted(m for m in ('jax', 'cvxpy', 'pandas', 'matplotlib', "
             "'rich', 'pydantic') if m in sys.modules)))")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120)
    wall = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr[-2000:]
    return {"modules": set(json.loads(out.stdout.strip().splitlines()[-1])), "wall": wall}


def test_numerical_core_imports_no_tables_plots_or_cvxpy():
    got = _loaded("import overparam.models, overparam.problems, overparam.measures, "
                  "overparam.solvers, overparam.objectives, overparam.optim\n"
                  "from overparam.problems import make_completion, low_rank_truth\n"
                  "from overparam.models import deep_factorization\n"
                  "from overparam.measures import effective_rank, compute_measures\n"
                  "from overparam.solvers import nuclear_norm_min, schatten_p_min")
    assert "jax" in got["modules"]
    assert not got["modules"] & {"pandas", "matplotlib", "rich", "cvxpy"}, got


def test_plots_import_no_jax():
    got = _loaded("import overparam.viz, overparam.viz._arora2019, overparam.viz._dynamics, "
                  "overparam.viz._norms, overparam.viz._razin2020, overparam.viz._sweep\n"
                  "overparam.viz.plot_sweep")
    assert "matplotlib" in got["modules"]
    assert not got["modules"] & {"jax", "cvxpy"}, got


def test_configs_and_registries_import_no_jax():
    got = _loaded("import overparam, overparam.registry, overparam.sweep._config\n"
                  "from overparam.sweep import SweepConfig, RunConfig, expand")
    assert not got["modules"] & set(HEAVY), got


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0),
    (["list"], 0),
    (["run", "{bad}"], 2),
    (["reproduce", "arora2019-complete"], 2),
    (["reproduce", "arora2019-completion", "--profile", "quik"], 2),
])
def test_command_line_answers_without_heavy_imports(argv, code, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[problem]\nkind = "completion"\n[model]\ndepht = 3\n')
    argv = [a.format(bad=bad) for a in argv]
    got = _loaded(f"import sys\nfrom overparam.cli import main\ntry:\n    rc = main({argv!r})\n"
                  f"except SystemExit as e:\n    rc = e.code\nassert rc == {code}, rc")
    assert not got["modules"] & set(HEAVY), got
    print(f"overparam {' '.join(argv)}: {got['wall']:.2f} s")  # about 1 s on 2 cores


def test_catalog_matches_the_experiments():
    for name, entry in CATALOG.items():
        e = EXPERIMENTS[name]
        assert (e.name, e.summary, tuple(e.sweeps)) == (name, entry.summary, entry.profiles)
