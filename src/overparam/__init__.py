"""overparam: a laboratory for implicit regularization in overparameterized models.

Reproduces Arora, Cohen, Hu, Luo 2019 (deep matrix factorization) and, in progress, Ding et al.
2022 (flat minima) and Xie, Liang, Song 2017 (diverse networks): batched JAX training of many
runs at once, every diagnostic on any run, results as Parquet, figures and checked claims.

Importing overparam exposes one JAX CPU device per core (unless JAX already started or
XLA_FLAGS sets a device count), so batches of runs use every core.
"""

from overparam._runtime import use_all_cpu_cores as use_all_cpu_cores

use_all_cpu_cores()

from overparam.experiments import EXPERIMENTS as EXPERIMENTS  # noqa: E402
from overparam.experiments import ClaimSpec as ClaimSpec  # noqa: E402
from overparam.experiments import Result as Result  # noqa: E402
from overparam.experiments import check_sweep as check_sweep  # noqa: E402
from overparam.experiments import reproduce as reproduce  # noqa: E402
from overparam.experiments import run as run  # noqa: E402
from overparam.sweep import RunConfig as RunConfig  # noqa: E402
from overparam.sweep import SweepConfig as SweepConfig  # noqa: E402
from overparam.sweep import expand as expand  # noqa: E402
