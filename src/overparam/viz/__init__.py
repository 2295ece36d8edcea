"""Figures, drawn from the results tables only."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "plot_sweep": "overparam.viz._sweep",
})
