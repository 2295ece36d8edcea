"""Process-wide JAX settings that overparam relies on.

Two settings matter for the science and the speed:

* Matrix products run at full float32 precision. On recent NVIDIA GPUs JAX's default
  float32 matmul is TF32 (relative error ~3e-4 instead of ~5e-7), which silently changes
  small-initialization results. Every compiled program in overparam is traced inside
  :func:`full_precision`, which makes every ``dot_general`` (autodiff-generated ones included)
  carry ``precision=HIGHEST``.
* Compiled programs are kept on disk (:func:`enable_compilation_cache`), so running a
  sweep again compiles nothing it compiled before.
* On a CPU, XLA runs each batched matrix product on one thread. Exposing one XLA host
  device per core and sharding the run batch across them runs the batch data-parallel on
  every core: :func:`use_all_cpu_cores` must run before JAX touches a backend.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

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


BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas() -> bool:
    """Run the host's NumPy/SciPy BLAS on one thread (threadpoolctl), unless the user chose
    a count in the environment (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``,
    ``MKL_NUM_THREADS``); returns whether it changed anything.

    The host's BLAS work here is small glue between JAX programs (a solver's weights and
    factorizations, measures of its solution) while XLA's threads use every core: OpenBLAS's
    own threads then fight them for the cores. Measured on 2 cores: a flat solve of a 20 x 20
    Gaussian sensing problem (m = 228) took 156 ms with OpenBLAS's default threads and 32 ms
    with one."""
    if any(v in os.environ for v in BLAS_ENV):
        return False
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    return True


CACHE_ENV = "OVERPARAM_COMPILATION_CACHE"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/overparam/jax`` (``~/.cache/overparam/jax`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "overparam" / "jax"


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Keep compiled XLA programs on disk, so a second run of the same sweep compiles nothing.

    The directory is ``path``, else the environment variable ``OVERPARAM_COMPILATION_CACHE``,
    else :func:`default_cache_dir`; ``"off"`` disables the cache. A cache directory the user
    gave JAX already (``JAX_COMPILATION_CACHE_DIR``) is left alone. Takes effect only before
    the process's first compilation, so the entry points (CLI, ``op.run``, ``op.reproduce``)
    call it first. Returns the directory in use, or None (off, or not writable).

    The cache is trusted code: do not point it at a directory others can write to.
    """
    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    choice = path if path is not None else os.environ.get(CACHE_ENV)
    if choice is not None and str(choice).lower() in ("off", "none", "0", ""):
        return None
    directory = Path(choice) if choice is not None else default_cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(directory, os.W_OK):
        return None
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    return directory
