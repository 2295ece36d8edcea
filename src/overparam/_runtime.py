"""Process-wide JAX settings that overparam relies on.

Two settings matter for the science and the speed:

* Matrix products run at full float32 precision. On recent NVIDIA GPUs JAX's default
  float32 matmul is TF32 (relative error ~3e-4 instead of ~5e-7), which silently changes
  small-initialization results. Every compiled program in overparam is traced inside
  :func:`full_precision`, which makes every ``dot_general`` (autodiff-generated ones included)
  carry ``precision=HIGHEST``.
* On a CPU, XLA runs each batched matrix product on one thread. Exposing one XLA host
  device per core and sharding the run batch across them runs the batch data-parallel on
  every core: :func:`use_all_cpu_cores` must run before JAX touches a backend.
"""

import contextlib
import os
from collections.abc import Iterator

import jax

MATMUL_PRECISION = "highest"


def full_precision() -> contextlib.AbstractContextManager:
    """Context in which traced matrix products use full float32 (not TF32) precision."""
    return jax.default_matmul_precision(MATMUL_PRECISION)


@contextlib.contextmanager
def dtype_context(dtype: str) -> Iterator[None]:
    """Enable 64-bit arrays inside the block when ``dtype == "float64"``; restore afterwards."""
    if dtype == "float64":
        with jax.enable_x64(True):
            yield
    else:
        yield


def cpu_core_count() -> int:
    """Cores this process may run on (respects CPU affinity, e.g. in containers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def use_all_cpu_cores() -> bool:
    """Expose one XLA CPU device per core so batches of runs shard across cores.

    Must run before JAX initializes a backend; returns False (and changes nothing) when it is
    too late or when the user already chose a device count.
    """
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return False
    if jax.config.jax_num_cpu_devices != -1:  # the user chose already
        return False
    try:
        jax.config.update("jax_num_cpu_devices", cpu_core_count())
    except RuntimeError:  # a backend is already initialized
        return False
    return True
