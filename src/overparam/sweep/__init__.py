"""Sweeps: configs, grid expansion, batching by shape, executors and the results store."""

from overparam.sweep._config import CompletionConfig as CompletionConfig
from overparam.sweep._config import FileConfig as FileConfig
from overparam.sweep._config import ModelConfig as ModelConfig
from overparam.sweep._config import OptimizerConfig as OptimizerConfig
from overparam.sweep._config import RunConfig as RunConfig
from overparam.sweep._config import SensingConfig as SensingConfig
from overparam.sweep._config import SolverConfig as SolverConfig
from overparam.sweep._config import SweepConfig as SweepConfig
from overparam.sweep._config import TrainConfig as TrainConfig
from overparam.sweep._grid import expand as expand
from overparam.sweep._grid import flatten as flatten
from overparam.sweep._grid import run_id as run_id
from overparam.sweep._local import execute as execute
from overparam.sweep._store import Store as Store
