"""Optimizers as optax transformations."""

from overparam.optim._group_rmsprop import ScaleByGroupRmsState as ScaleByGroupRmsState
from overparam.optim._group_rmsprop import group_rmsprop as group_rmsprop
from overparam.optim._group_rmsprop import scale_by_group_rms as scale_by_group_rms
from overparam.optim._registry import OPTIMIZERS as OPTIMIZERS
from overparam.optim._registry import make_optimizer as make_optimizer
