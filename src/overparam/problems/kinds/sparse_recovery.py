r"""Sparse recovery, the setting of Ding et al. 2022's discussion of depth (Sec. 9): recover an
``s``-sparse :math:`x^\star \in \mathbb{R}^d` from :math:`b = A x^\star`, ``A`` an ``m x d``
matrix with iid N(0, 1) entries.

Represented as a ``(d, 1)`` matrix problem with :class:`~overparam.problems.DenseSensing` rows
of shape ``(d, 1)`` (row ``i`` of ``A``), so the engine, the models and the solvers work
unchanged. Note that the nuclear norm of a ``d x 1`` matrix is its **l2** norm: the
``nuclear_norm`` baseline on this kind is minimum-l2-norm interpolation (the k -> infinity
limit of the paper's flat solutions), not basis pursuit (l1), and a ``deep_factorization`` of
a ``d x 1`` matrix is a product of matrices, not the paper's Hadamard product
:math:`v_1 \odot \cdots \odot v_k`.

What the paper leaves open and what is chosen here: the distribution of the sparse vector. Its
support is uniform among the ``s``-subsets of ``{0..d-1}`` (the first ``s`` entries of a random
permutation), its nonzero values iid N(0, 1), and the vector is scaled to unit l2 norm (the
matrix problems' unit Frobenius norm). The defaults d = 100, s = 5, m = 40 are the notes'
numerical check of the depth discussion.
"""

from typing import Literal

from pydantic import Field, model_validator

from overparam.configs import KindConfig, NonNegInt, PosInt


class SparseRecoveryConfig(KindConfig):
    """``m`` Gaussian measurements ``<a_i, x>`` of an ``s``-sparse, unit-norm ``x`` in R^d,
    as a ``(d, 1)`` matrix problem."""

    kind: Literal["sparse_recovery"] = "sparse_recovery"
    d: PosInt = 100
    s: PosInt = 5
    m: PosInt = 40
    seed: NonNegInt = Field(0, description="seeds the truth; the measurements also depend on m")

    @model_validator(mode="after")
    def _check_sparsity(self):
        if self.s > self.d:
            raise ValueError(f"s must be <= d = {self.d}, got {self.s}")
        return self

    def matrix_shape(self) -> tuple[int, int]:
        return self.d, 1

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return itemsize * (self.m * (self.d + 2) + 2 * self.d)


def sparse_truth(seed: int, d: int, s: int, dtype):
    """The ``(d, 1)`` unit-l2 ``s``-sparse truth of a seed (support from a permutation of the
    truth key's first half, values N(0, 1) from its second, float32 draws cast)."""
    import jax
    import jax.numpy as jnp

    from overparam.problems.kinds._unit import truth_key

    ks, kv = jax.random.split(truth_key(seed))
    support = jax.random.permutation(ks, d)[:s]
    values = jax.random.normal(kv, (s,), jnp.float32).astype(dtype)
    x = jnp.zeros(d, dtype).at[support].set(values)
    return (x / jnp.linalg.norm(x)).reshape(d, 1)


def build(cfg: SparseRecoveryConfig, dtype):

    from overparam.problems import sensing_problem
    from overparam.problems._random import normal
    from overparam.problems.kinds._unit import measurement_key

    truth = sparse_truth(cfg.seed, cfg.d, cfg.s, dtype)
    a = normal(measurement_key(cfg.seed, cfg.m), (cfg.m, cfg.d), dtype)
    return sensing_problem(truth, a)
