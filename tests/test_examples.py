"""Every script in examples/ runs at its tiny size and prints what it promises."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXPECTED = {  # script -> text its output must contain
    "custom_sweep.py": ["depth 2", "depth 3", "nuclear_norm", "figures: final.png"],
    "new_measure.py": ["frobenius", "max_entry"],
    "new_problem.py": ["problem.width", "recon_error"],
    "read_results.py": ["effective_rank", "logged rows per run", "most_steps"],
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)
    for p in EXAMPLES.glob("*.py"):
        assert len(p.read_text().splitlines()) <= 45, f"{p.name}: keep examples short"


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_at_its_tiny_size(script, tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), "--tiny", "--out",
                           str(tmp_path / "results")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for text in EXPECTED[script]:
        assert text in done.stdout, (text, done.stdout[-2000:])
