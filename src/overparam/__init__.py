"""overparam: a laboratory for implicit regularization in overparameterized models.

Reproduces Arora, Cohen, Hu, Luo 2019 (deep matrix factorization, with Razin & Cohen 2020's
2x2 case), Ding, Drusvyatskiy, Fazel, Harchaoui 2022 (flat minima) and Xie, Liang, Song 2017
(diverse networks): batched JAX training of many
runs at once, every diagnostic on any run, results as Parquet, figures and checked claims.

Names are imported on first use, so ``import overparam`` is quick and starts no JAX. The entry
points :func:`run` and :func:`reproduce` (and the command line) expose one JAX CPU device per
core before JAX starts, unless the caller chose a device count (see
:func:`use_all_cpu_cores`).
"""

from overparam._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "EXPERIMENTS": "overparam.experiments",
    "ClaimSpec": "overparam.experiments",
    "Result": "overparam.experiments",
    "check_sweep": "overparam.experiments",
    "reproduce": "overparam.experiments",
    "run": "overparam.experiments",
    "RunConfig": "overparam.sweep",
    "SweepConfig": "overparam.sweep",
    "expand": "overparam.sweep",
    "use_all_cpu_cores": "overparam._runtime",
    "enable_compilation_cache": "overparam._runtime",
    "registry": "overparam.registry",
    "write_report": "overparam.report",
    # bad input raises these, each with one line naming the field or file
    "OverparamError": "overparam.errors",
    "ConfigError": "overparam.errors",
    "DataError": "overparam.errors",
    "StoreError": "overparam.errors",
})
