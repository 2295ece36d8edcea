"""Fields every baseline solver config has."""

from typing import Literal

from overparam.configs import KindConfig


class SolverConfigBase(KindConfig):
    """A baseline solution of the problem, computed in ``dtype``."""

    dtype: Literal["float32", "float64"] = "float64"


_JITTED: dict = {}


def cached_jit(name, fn, static: tuple[str, ...] = ("eps", "max_iters")):
    """One jitted wrapper per ``name`` (any hashable), ``static`` its static arguments.

    A solver kind's ``solve`` runs once per group; a ``jax.jit`` made inside it would be a new
    function each time and trace (and compile) again every group, while this one is made once
    per process and finds its programs in the jit cache."""
    import jax

    if name not in _JITTED:
        _JITTED[name] = jax.jit(fn, static_argnames=static)
    return _JITTED[name]


def bucketed(problem):
    """The problem padded to the next power of two measurements (at least 16): solves of a
    sweep over m share a few compiled programs instead of one per m. Padding rows have weight
    0 and are no constraints; problems that do not pad are returned as they are."""
    size = getattr(problem, "pad_size", None)
    if size is None:
        return problem
    return problem.padded(max(16, 1 << (size - 1).bit_length()))
