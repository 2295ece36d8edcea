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


def exact_nuclear_admm(problem, stop_norm, *, eps: float, max_iters: int, rank=None,
                       device=None):
    """``nuclear_norm_min(..., equality=True)`` of ``problem`` (entry sampling) or of its
    :class:`~overparam.solvers.AffineSet` (any other operator, computed here on the host),
    through one jitted function shared by every kind: the flat relaxation and exact
    nuclear-norm minimization of the same shapes run the same compiled programs.
    ``stop_norm``: None, or a scalar (see ``nuclear_norm_min``); ``device``: where to run
    (None: the default device). Dispatched asynchronously."""
    import jax

    from overparam.solvers import nuclear_norm_min

    def exact_admm(target, stop_norm, eps, max_iters, rank):
        return nuclear_norm_min(target, tol=0.0, eps=eps, max_iters=max_iters, svt_rank=rank,
                                equality=True, stop_norm=stop_norm)

    target = exact_target(problem)
    if device is not None:
        target, stop_norm = jax.device_put((target, stop_norm), device)
    run = cached_jit("exact_nuclear_admm", exact_admm, ("eps", "max_iters", "rank"))
    return run(target, stop_norm, eps=eps, max_iters=max_iters, rank=rank)


def exact_target(problem):
    """What the exact ADMM solves: an entry-sampling problem itself, any other problem's
    :class:`~overparam.solvers.AffineSet` (host-side)."""
    from overparam.solvers import affine_set

    return problem if problem.operator.entry_mask() is not None else affine_set(problem)


def exact_nuclear_admm_batched(targets, stop_norms, *, eps: float, max_iters: int,
                               device=None):
    """:func:`exact_nuclear_admm` of several :func:`exact_target` of one shape at once
    (``vmap``; for accelerators, where one solve leaves the device mostly idle): ``targets``
    a list, ``stop_norms`` an array of one scalar each (-inf: never stop early). Returns the
    batched result, dispatched asynchronously."""
    import jax
    import jax.numpy as jnp

    from overparam.solvers import nuclear_norm_min

    def batched(targets, stops, eps, max_iters):
        return jax.vmap(lambda t, s: nuclear_norm_min(
            t, tol=0.0, eps=eps, max_iters=max_iters, equality=True, stop_norm=s))(
            targets, stops)

    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *targets)
    if device is not None:
        stacked, stop_norms = jax.device_put((stacked, stop_norms), device)
    run = cached_jit("exact_nuclear_admm_batched", batched)
    return run(stacked, stop_norms, eps=eps, max_iters=max_iters)
