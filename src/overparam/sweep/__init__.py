"""Sweeps: configs, grid expansion, work items, executors and the results store."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "OptimizerConfig": "overparam.sweep._config",
    "RunConfig": "overparam.sweep._config",
    "SweepConfig": "overparam.sweep._config",
    "TrainConfig": "overparam.sweep._config",
    "expand": "overparam.sweep._grid",
    "flatten": "overparam.sweep._grid",
    "run_id": "overparam.sweep._grid",
    "execute": "overparam.sweep._local",
    "Store": "overparam.sweep._store",
    "RayExecutor": "overparam.sweep._ray",
    # the built-in kinds' configs, where earlier versions exported them
    "CompletionConfig": "overparam.problems.kinds.completion",
    "SensingConfig": "overparam.problems.kinds.sensing",
    "FileConfig": "overparam.problems.kinds.npz_file",
    "ModelConfig": "overparam.models.kinds.deep_factorization",
})
