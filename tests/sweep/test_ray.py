"""The Ray executor on a local two-node Ray cluster (Ray's own cluster utilities, small
object stores, authentication off explicitly): the same runs and values as the local
executor, and a worker that dies in the middle of a task costs nothing but a retry."""

import os

import numpy as np
import pytest

os.environ["RAY_AUTH_MODE"] = "disabled"  # before Ray starts: a home directory changes nothing

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

import overparam as op  # noqa: E402
from overparam.errors import ConfigError  # noqa: E402
from overparam.sweep import Store  # noqa: E402
from overparam.sweep._ray import RayExecutor  # noqa: E402

SWEEP = {"name": "ray-sweep",
         "problem": {"kind": "completion", "d1": 6, "d2": 6, "rank": 1, "m": 20},
         "model": {"init_scale": 1e-2}, "train": {"max_steps": 300, "log_every": 100},
         "grid": {"model.depth": [2, 3]}, "seeds": [0, 1, 2], "baselines": ["nuclear_norm"]}
COLUMNS = ["status", "steps", "train_loss", "recon_error", "nuclear_norm", "effective_rank",
           "frob_error"]


@pytest.fixture(scope="module")
def cluster():
    store = 80 * 2**20
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": store})
    c.add_node(num_cpus=1, object_store_memory=store)
    ray.init(address=c.address, include_dashboard=False, log_to_driver=False)
    yield c
    ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return op.run(SWEEP, out=tmp_path_factory.mktemp("local"), progress=False).runs


def _same(a, b):
    a, b = a.set_index("run_id").sort_index(), b.set_index("run_id").sort_index()
    assert list(a.index) == list(b.index)
    for col in COLUMNS:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind == "f":
            # bit for bit: a run's result does not depend on its batch-mates
            assert np.array_equal(x, y, equal_nan=True), col
        else:
            assert (x == y).all(), col
    assert all(np.array_equal(u, v) for u, v in zip(a["singular_values"], b["singular_values"]))


def test_a_sweep_through_ray_equals_the_local_one(cluster, local, tmp_path):
    assert len(ray.nodes()) == 2
    result = op.run(SWEEP, out=tmp_path, progress=False, executor="ray")
    assert result.ran == 7 and len(result.runs) == 7
    _same(local, result.runs)
    again = op.run(SWEEP, out=tmp_path, progress=False, executor="ray")
    assert again.ran == 0


def test_a_worker_killed_mid_task_is_retried_and_nothing_is_lost_or_doubled(cluster, local,
                                                                            tmp_path):
    marker = tmp_path / "killed-once"

    def kill_first_attempt(item, root, experiment, cpus, gpus):
        import os

        from overparam.sweep._work import run_part

        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies in the middle of its task
        return run_part(item, root, experiment, cpus, gpus)

    result = op.run(SWEEP, out=tmp_path, progress=False,
                    executor=RayExecutor(task=kill_first_attempt))
    assert marker.exists()  # a worker did die
    runs = Store(tmp_path / "ray-sweep", "ray-sweep").runs()
    assert len(runs) == 7 and runs["run_id"].is_unique  # every run exactly once
    _same(local, result.runs)


@pytest.mark.parametrize("options, match", [
    ({"num_cpus": -1}, "num_cpus"), ({"num_gpus": float("nan")}, "num_gpus"),
    ({"num_cpus": 0}, "needs some CPU"),
])
def test_bad_resources_are_one_line(options, match):
    with pytest.raises(ConfigError, match=match):
        RayExecutor(**options)
