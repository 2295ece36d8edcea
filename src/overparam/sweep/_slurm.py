"""The SLURM executor, through submitit: one job array per sweep.

``--executor slurm`` submits every work item part as one task of a single job array
(``sbatch --array=0-N%P``: at most ``array_parallelism`` tasks at a time), each asking for
``cpus_per_task`` CPUs, ``gpus_per_node`` GPUs, ``mem_gb`` and ``time_min`` on
``partition``. Each task runs :func:`~overparam.sweep._work.run_part`: it skips the runs the
store already holds and writes its finished runs as store parts, so the results directory
must be on a path every node sees; the head polls the jobs and merges the parts. A task
that fails or is preempted can be resubmitted by rerunning the command: it repeats nothing
that was stored. submitit keeps its job files under ``folder`` (default
``OUT/NAME/slurm/``).

``backend="local"`` runs the same array through submitit's local executor (real pickling and
processes on this machine, no SLURM): for tests and for trying a sweep before a cluster.
"""

import math
import time
from collections.abc import Sequence
from pathlib import Path

from overparam.errors import ConfigError
from overparam.sweep._work import WorkItem, run_part, split_for_workers


def _positive(name: str, value, integer: bool = False):
    ok = isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value) and value > 0 and (not integer or float(value).is_integer())
    if not ok:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"executor {name}: must be {kind} > 0, got {value!r}")
    return int(value) if integer else float(value)


class SlurmExecutor:
    """Runs work items as one SLURM job array through submitit (see the module docstring).

    Args:
      partition: ``--partition`` (None: the cluster's default).
      time_min, mem_gb, cpus_per_task, gpus_per_node: each array task's request.
      array_parallelism: the most array tasks running at once (``%P``).
      parts: how many parts (array tasks) the training items are split into, by cost.
      folder: submitit's job folder (default ``OUT/NAME/slurm``).
      backend: ``"slurm"``, or ``"local"`` for submitit's local processes.
      poll_s: seconds between polls of the jobs.
    """

    def __init__(self, partition: str | None = None, time_min: int = 60, mem_gb: float = 8,
                 cpus_per_task: int = 1, gpus_per_node: int = 0, array_parallelism: int = 64,
                 parts: int = 64, folder: str | Path | None = None, backend: str = "slurm",
                 poll_s: float = 5.0):
        if backend not in ("slurm", "local"):
            raise ConfigError(f"executor backend: must be 'slurm' or 'local', got {backend!r}")
        if partition is not None and (not isinstance(partition, str) or not partition):
            raise ConfigError(f"--slurm-partition: must be a partition name, got {partition!r}")
        self.partition, self.backend = partition, backend
        self.time_min = _positive("time_min", time_min, integer=True)
        self.mem_gb = _positive("mem_gb", mem_gb)
        self.cpus_per_task = _positive("cpus_per_task", cpus_per_task, integer=True)
        if not isinstance(gpus_per_node, int) or gpus_per_node < 0:
            raise ConfigError(f"executor gpus_per_node: must be an integer >= 0, got "
                              f"{gpus_per_node!r}")
        self.gpus_per_node = gpus_per_node
        self.array_parallelism = _positive("array_parallelism", array_parallelism, integer=True)
        self.n_parts = _positive("parts", parts, integer=True)
        self.folder = Path(folder) if folder is not None else None
        self.poll_s = _positive("poll_s", poll_s)

    def parts(self, items: Sequence[WorkItem]) -> list[WorkItem]:
        """The array's tasks: training items split into about :attr:`n_parts` parts by
        cost, and every baseline solve alone."""
        return split_for_workers(items, self.n_parts)

    def executor(self, folder: Path):
        """The configured submitit executor."""
        import submitit

        if self.backend == "local":
            ex = submitit.LocalExecutor(folder=folder)
            ex.update_parameters(timeout_min=self.time_min)
            return ex
        ex = submitit.SlurmExecutor(folder=folder)
        params = dict(time=self.time_min, mem=f"{int(math.ceil(self.mem_gb * 1024))}M",
                      cpus_per_task=self.cpus_per_task, array_parallelism=self.array_parallelism,
                      job_name="overparam")
        if self.partition:
            params["partition"] = self.partition
        if self.gpus_per_node:
            params["gpus_per_node"] = self.gpus_per_node
        ex.update_parameters(**params)
        return ex

    def submit(self, items: Sequence[WorkItem], store) -> list:
        """Submit the job array; return its jobs (one per part)."""
        parts = self.parts(items)
        folder = self.folder or Path(store.root) / "slurm"
        ex = self.executor(folder)
        n = len(parts)
        return ex.map_array(run_part, parts, [str(store.root)] * n, [store.experiment] * n,
                            [float(self.cpus_per_task)] * n, [float(self.gpus_per_node)] * n)

    def run(self, items: Sequence[WorkItem], store, progress) -> None:
        jobs = self.submit(items, store)
        progress.status("slurm", f"job array of {len(jobs)} tasks ({jobs[0].job_id.split('_')[0]})"
                        if jobs else "nothing to submit")
        pending = list(jobs)
        while pending:
            for job in list(pending):
                if job.done():
                    pending.remove(job)
                    progress.advance(job.result())  # a failed task raises here, with its log
            if progress.stopped():
                for job in pending:
                    job.cancel(check=False)
                return
            if pending:
                time.sleep(self.poll_s)
