"""Experiments: named reproductions of the papers' figures, declared as data."""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "PROFILES": "overparam.experiments._base",
    "Experiment": "overparam.experiments._base",
    "ClaimSpec": "overparam.experiments._claims",
    "Selection": "overparam.experiments._claims",
    "evaluate_claim": "overparam.experiments._claims",
    "EXPERIMENTS": "overparam.experiments._registry",
    "Result": "overparam.experiments._runner",
    "check_sweep": "overparam.experiments._runner",
    "get_experiment": "overparam.experiments._runner",
    "load_sweep_file": "overparam.experiments._runner",
    "reproduce": "overparam.experiments._runner",
    "run": "overparam.experiments._runner",
})
