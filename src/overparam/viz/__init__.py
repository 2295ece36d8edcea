"""Figures, drawn from the results tables only."""

from overparam.viz._sweep import plot_sweep as plot_sweep
