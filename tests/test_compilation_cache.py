"""The persistent compilation cache: a second run of the same sweep compiles nothing."""

import json
import os
import subprocess
import sys

SCRIPT = """
import json, logging, re, sys
from jax import monitoring
counts, written = {}, []
monitoring.register_event_listener(
    lambda name, **kw: counts.__setitem__(name, counts.get(name, 0) + 1))

class Written(logging.Handler):  # the programs compiled and written to the cache
    def emit(self, record):
        hit = re.match(r"Writing (\\S+) to persistent", record.getMessage())
        if hit:
            written.append(hit.group(1))

log = logging.getLogger("jax._src.compilation_cache")
log.setLevel(logging.DEBUG)
log.addHandler(Written())
import overparam as op
small = sys.argv[2] == "small"
op.run({"name": "cache", "problem": {"kind": "completion", "d1": 8, "d2": 8, "rank": 1, "m": 30},
        "grid": {"model.depth": [2] if small else [2, 3]}, "measures": ["train_loss"],
        "log_measures": ["train_loss"], "train": {"max_steps": 200, "log_every": 100},
        "baselines": [] if small else ["nuclear_norm"]}, out=sys.argv[1], progress=False)
print(json.dumps({**{k.rsplit("/", 1)[-1]: v for k, v in counts.items()
                     if "compilation_cache" in k}, "written": sorted(set(written))}))
"""


def _run(tmp_path, out: str, size: str = "full", **env) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), **env}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    if env.get("OVERPARAM_COMPILATION_CACHE") is None:
        env.pop("OVERPARAM_COMPILATION_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / out), size], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# Baseline solves go to whichever device is free first, and a program is cached per device:
# a second run may compile the solver once more, on the other device. Nothing else.
SOLVER_PROGRAMS = {"jit_nuclear_admm"}


def test_second_run_compiles_nothing(tmp_path):
    """By default the cache lives in $XDG_CACHE_HOME/overparam/jax. Trainer programs run on
    the same device every time, so the second run compiles none of them."""
    first = _run(tmp_path, "a", OVERPARAM_COMPILATION_CACHE=None)
    second = _run(tmp_path, "b", OVERPARAM_COMPILATION_CACHE=None)
    print(f"first run: {first}; second run: {second}")
    assert first.get("cache_misses", 0) > 10
    assert len(first["written"]) > 5 and SOLVER_PROGRAMS <= set(first["written"])
    assert any((tmp_path / "xdg" / "overparam" / "jax").iterdir())
    assert set(second["written"]) <= SOLVER_PROGRAMS, second["written"]
    assert second.get("cache_misses", 0) <= 1
    assert (second["cache_hits"] + second.get("cache_misses", 0)
            == first["compile_requests_use_cache"])


def test_cache_off_writes_nothing(tmp_path):
    counts = _run(tmp_path, "a", "small", OVERPARAM_COMPILATION_CACHE="off")
    assert counts.get("cache_misses", 0) == counts.get("cache_hits", 0) == 0
    assert not (tmp_path / "xdg" / "overparam").exists()


def test_cache_in_a_directory_of_ones_choice(tmp_path):
    _run(tmp_path, "a", "small", OVERPARAM_COMPILATION_CACHE=str(tmp_path / "mine"))
    assert any((tmp_path / "mine").iterdir())
    assert not (tmp_path / "xdg" / "overparam").exists()
