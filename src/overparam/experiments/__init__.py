"""Experiments: named reproductions of the papers' figures, declared as data."""

from overparam.experiments._base import PROFILES as PROFILES
from overparam.experiments._base import Experiment as Experiment
from overparam.experiments._claims import ClaimSpec as ClaimSpec
from overparam.experiments._claims import Selection as Selection
from overparam.experiments._claims import evaluate_claim as evaluate_claim
from overparam.experiments._registry import EXPERIMENTS as EXPERIMENTS
from overparam.experiments._runner import Result as Result
from overparam.experiments._runner import check_sweep as check_sweep
from overparam.experiments._runner import get_experiment as get_experiment
from overparam.experiments._runner import load_sweep_file as load_sweep_file
from overparam.experiments._runner import reproduce as reproduce
from overparam.experiments._runner import run as run
