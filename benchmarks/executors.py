"""Sweep throughput through the local executor and through Ray on a local two-node Ray
cluster (Ray's cluster utilities), side by side, on the same sweep, and Ray's overhead per
task (a task that returns at once).

    python benchmarks/executors.py [--experiment arora2019-completion] [--nodes 2]

Each executor runs the experiment's quick profile from scratch into its own temporary
directory, each with its own empty compilation cache (the Ray workers, new processes, share
theirs with each other, as on a cluster with a shared home directory).
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
_CACHE = tempfile.TemporaryDirectory(prefix="overparam-bench-cache-")
os.environ["OVERPARAM_COMPILATION_CACHE"] = _CACHE.name

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

import overparam as op  # noqa: E402
from overparam.experiments import EXPERIMENTS  # noqa: E402
from overparam.sweep import expand  # noqa: E402


def _noop() -> int:
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="arora2019-completion")
    ap.add_argument("--nodes", type=int, default=2)
    args = ap.parse_args()
    runs = sum(len(expand(s)) for s in EXPERIMENTS[args.experiment].sweeps["quick"]())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        local = op.reproduce(args.experiment, "quick", f"{tmp}/local", progress=False)
        rows.append(("local", time.perf_counter() - t, local))
        ray_cache = tempfile.TemporaryDirectory(prefix="overparam-bench-ray-cache-")
        os.environ["OVERPARAM_COMPILATION_CACHE"] = ray_cache.name  # the nodes inherit it
        cluster = Cluster(initialize_head=True,
                          head_node_args={"num_cpus": 1, "object_store_memory": 80 * 2**20})
        for _ in range(args.nodes - 1):
            cluster.add_node(num_cpus=1, object_store_memory=80 * 2**20)
        t = time.perf_counter()
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        start_s = time.perf_counter() - t
        noop = ray.remote(_noop)
        ray.get([noop.remote() for _ in range(10)])  # workers up
        t = time.perf_counter()
        ray.get([noop.remote() for _ in range(200)])
        per_task = (time.perf_counter() - t) / 200
        t = time.perf_counter()
        viaray = op.reproduce(args.experiment, "quick", f"{tmp}/ray", progress=False,
                              executor="ray")
        rows.append((f"ray, {args.nodes} nodes", time.perf_counter() - t, viaray))
        ray.shutdown()
        cluster.shutdown()
    steps = int(local.runs.loc[local.runs["method"] == "gd", "steps"].sum())
    print(f"{args.experiment} quick: {runs} runs, {steps:,} GD run-steps; 2-core CPU; "
          f"Ray {ray.__version__}: cluster start {start_s:.1f} s, "
          f"{per_task * 1e3:.1f} ms per empty task")
    print(f"{'executor':>16} {'wall s':>8} {'runs/min':>9} {'steps/s':>9} {'vs local':>9} "
          f"{'claims':>7}")
    base = rows[0][1]
    for name, wall, result in rows:
        held = sum(c["holds"] for c in result.claims)
        print(f"{name:>16} {wall:8.1f} {runs / wall * 60:9.1f} {steps / wall:9,.0f} "
              f"{wall / base:8.2f}x {held:>3}/{len(result.claims)}")


if __name__ == "__main__":
    main()
