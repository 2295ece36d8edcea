"""Every experiment, by name."""

from overparam.experiments import arora2019
from overparam.experiments._base import Experiment

EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in arora2019.EXPERIMENTS}
