"""An experiment: a named reproduction of one paper figure, declared as data."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from overparam.experiments._claims import ClaimSpec
from overparam.sweep import SweepConfig

PROFILES = ("quick", "paper")

Plotter = Callable[[pd.DataFrame, pd.DataFrame, Path], list[Path]]
CustomClaims = Callable[[pd.DataFrame, pd.DataFrame], list[dict]]


@dataclass(frozen=True)
class Experiment:
    """A reproduction: sweeps per profile, the figures it draws and the claims it checks.

    Attributes:
      name: command-line name, e.g. ``arora2019-completion``.
      summary: one line for ``overparam list``.
      paper: the figure reproduced, e.g. "Arora, Cohen, Hu, Luo 2019, Fig. 1".
      sweeps: profile name -> the sweeps to run (``quick`` runs on a 2-core CPU in minutes).
      plot: draws the figures from the results tables into a directory; returns their paths.
      claims: profile name -> declarative claims (see :class:`ClaimSpec`).
      custom_claims: claims that need more than a selection and a threshold.
      converges: every GD run is expected to reach its ``stop_loss`` (False where runs
        are meant to stop at ``max_steps``, e.g. to follow dynamics for a fixed time).
    """

    name: str
    summary: str
    paper: str
    sweeps: dict[str, Callable[[], list[SweepConfig]]]
    plot: Plotter
    claims: Callable[[str], list[ClaimSpec]] = lambda profile: []
    custom_claims: CustomClaims = field(default=lambda runs, traj: [])
    converges: bool = True
