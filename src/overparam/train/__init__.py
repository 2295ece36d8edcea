"""The trainer: one run as a compiled program of segments; batch runs with ``jax.vmap``."""

from overparam.train._state import CONVERGED as CONVERGED
from overparam.train._state import DIVERGED as DIVERGED
from overparam.train._state import MAX_STEPS as MAX_STEPS
from overparam.train._state import RUNNING as RUNNING
from overparam.train._state import STATUS_NAMES as STATUS_NAMES
from overparam.train._state import TrainState as TrainState
from overparam.train._trainer import HPARAM_SECTIONS as HPARAM_SECTIONS
from overparam.train._trainer import Objective as Objective
from overparam.train._trainer import Trainer as Trainer
from overparam.train._trainer import hparams as hparams
from overparam.train._trainer import make_trainer as make_trainer
