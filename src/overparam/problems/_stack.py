"""Stacking problems of one shape on a batch axis, padded to a common measurement count."""

from collections.abc import Sequence

import jax
import jax.numpy as jnp


def stack_problems(problems: Sequence):
    """Stack problems on a new leading axis. Problems with a padded measurement axis
    (``pad_size`` not None) are first padded with weight-0 measurements to the largest."""
    sizes = [getattr(p, "pad_size", None) for p in problems]
    if sizes[0] is not None:
        size = max(sizes)
        problems = [p.padded(size) for p in problems]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *problems)
