"""Every experiment, by name."""

from overparam.experiments import arora2019, arora2019_dynamics, arora2019_norms, razin2020
from overparam.experiments._base import Experiment

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in [*arora2019.EXPERIMENTS, arora2019_dynamics.EXPERIMENT,
                          arora2019_dynamics.ML100K, arora2019_norms.EXPERIMENT,
                          razin2020.EXPERIMENT]}
