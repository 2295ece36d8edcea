"""The Ray executor: each work item part a Ray task (Ray core, not Ray Tune).

``--executor ray`` (or ``op.run(..., executor="ray")``) connects to the cluster at
``address`` (``--address``, else ``$OVERPARAM_RAY_ADDRESS``, else ``$RAY_ADDRESS``), or starts
a local one for the sweep when none is given. Every training item is split into about two
parts per cluster CPU (so the cluster stays busy and a lost task repeats little), every
baseline solve is its own task; each task requests ``num_cpus`` CPUs and ``num_gpus`` GPUs
(fractions allowed). A task runs :func:`~overparam.sweep._work.run_item` on its worker's
devices (JAX on one CPU device per requested CPU; on a GPU share, JAX's preallocation capped
to that share) and writes its finished runs as parts of the store at the same path, which
must be shared by every node; the head merges them as for the local executor.

Ray retries a task whose worker died (``max_retries``): execution is at least once. A task
skips the runs already in the store, and the store keeps one row per run id, so a retried or
duplicated task never produces a duplicate row.
"""

import math
import os
from collections.abc import Callable, Sequence

from overparam.errors import ConfigError
from overparam.sweep._work import WorkItem, run_part, split_for_workers

ray_task = run_part  # what a task runs by default

ADDRESS_ENV = "OVERPARAM_RAY_ADDRESS"


class RayExecutor:
    """Runs work items as Ray tasks on a cluster (see the module docstring).

    Args:
      address: the cluster (``ray://host:10001`` or ``host:6379``); None starts a local one
        (or uses ``$OVERPARAM_RAY_ADDRESS`` / ``$RAY_ADDRESS`` when set).
      num_cpus, num_gpus: resources each task requests (fractional GPUs allowed).
      max_retries: Ray's retries of a task whose worker died.
      parts_per_cpu: training parts per cluster CPU.
      task: the function each task runs (default :func:`ray_task`; tests wrap it).
    """

    def __init__(self, address: str | None = None, num_cpus: float = 1.0,
                 num_gpus: float = 0.0, max_retries: int = 3, parts_per_cpu: int = 2,
                 task: Callable | None = None):
        for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"executor {name}: must be a number >= 0, got {value!r}")
        if num_cpus <= 0 and num_gpus <= 0:
            raise ConfigError("executor num_cpus: a task needs some CPU or GPU")
        self.address = address or os.environ.get(ADDRESS_ENV) or None
        self.num_cpus, self.num_gpus = float(num_cpus), float(num_gpus)
        self.max_retries, self.parts_per_cpu = int(max_retries), max(1, int(parts_per_cpu))
        self.task = task or ray_task

    def _connect(self):
        try:
            import ray
        except ImportError:
            raise ConfigError("--executor ray: Ray is not installed (pip install -e '.[ray]')") \
                from None
        if ray.is_initialized():
            return ray, False
        try:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        except ConnectionError as e:
            raise ConfigError(f"--address: cannot connect to a Ray cluster at "
                              f"{self.address!r} ({e})") from None
        return ray, True

    def parts(self, items: Sequence[WorkItem], cpus: float) -> list[WorkItem]:
        """Training items split into about ``parts_per_cpu`` parts per CPU (by cost), and
        every baseline solve alone."""
        n = max(1, int(cpus / max(self.num_cpus, 1e-9)) * self.parts_per_cpu)
        return split_for_workers(items, n)

    def run(self, items: Sequence[WorkItem], store, progress) -> None:
        ray, started = self._connect()
        try:
            cpus = ray.cluster_resources().get("CPU", 1.0)
            remote = ray.remote(self.task).options(num_cpus=self.num_cpus,
                                                   num_gpus=self.num_gpus,
                                                   max_retries=self.max_retries)
            pending = [remote.remote(part, str(store.root), store.experiment, self.num_cpus,
                                     self.num_gpus) for part in self.parts(items, cpus)]
            progress.status("ray", f"{len(pending)} tasks on {cpus:g} CPUs")
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=0.5)
                for ref in ready:
                    progress.advance(ray.get(ref))
                if progress.stopped():
                    for ref in pending:
                        ray.cancel(ref, force=True)
                    return
        finally:
            if started:
                ray.shutdown()
