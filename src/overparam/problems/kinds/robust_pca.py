r"""Robust PCA (Ding et al. 2022, Sec. 6): observe every entry of :math:`Y = M + S`, with
:math:`M` low rank and :math:`S` sparse, at most ``l`` nonzeros per row and per column.

The paper's data fit is :math:`\operatorname{dist}^2(Y - X, \Omega)` with :math:`\Omega` the
l1 ball of radius :math:`\|S\|_{1,1}` (an oracle constraint). The problem is a
:class:`RobustPCAProblem`: a :class:`~overparam.problems.MatrixProblem` with the same fields
(``operator`` an all-ones :class:`~overparam.problems.EntryMask`, ``observations`` = Y,
``truth`` = M, ``test``) plus ``radius`` and the true ``sparse`` part. Train it with the
``robust_pca`` objective (:mod:`overparam.objectives.kinds.robust_pca`); under the default
``squared`` objective it is plain denoising of Y, and the ``nuclear_norm`` baseline (which
enforces ``X = Y`` on the observed entries) returns Y itself, not the paper's convex program.
The ``train_loss`` measure is likewise the squared loss against Y.

What the paper leaves open and what is chosen here:

- M: rank 2, unit Frobenius norm (as in Sec. 8's other problems), normalized Gaussian factors
  (:mod:`overparam.problems.kinds._unit`); strong incoherence is not enforced.
- The support of S: ``l`` disjoint permutation patterns. With ``a = min(d1, d2)``,
  ``b = max(d1, d2)``, random permutations :math:`\sigma` of ``a`` and :math:`\tau` of ``b``,
  the support is :math:`\{(\sigma(i), \tau((i + k) \bmod b)) : i < a, k < l\}` (transposed
  when ``d1 > d2``): exactly ``l`` nonzeros in each row (column) of the shorter side, at most
  ``l`` in the others, ``l * min(d1, d2)`` in all.
- The values of S: ``sparse_values = "gaussian"`` draws iid :math:`N(0, \text{scale}^2)`,
  ``"sign"`` draws :math:`\pm\text{scale}` with random signs; ``sparse_scale`` defaults to 1,
  i.e. N(0, 1) corruptions, large next to M's entries (RMS :math:`1/\sqrt{d_1 d_2}`).
- Seeding: the truth as for the other kinds; S from the measurement key tagged ``l``, so the
  support and the draws do not depend on ``sparse_values``/``sparse_scale`` beyond their scale.
"""

from typing import Any, Literal, NamedTuple

from pydantic import model_validator

from overparam.configs import NonNegInt, PosFloat
from overparam.problems.kinds._unit import UnitLowRankConfig


class RobustPCAProblem(NamedTuple):
    """A :class:`~overparam.problems.MatrixProblem` (same fields, same methods) with the l1
    radius of the oracle constraint set and the true sparse part.

    Attributes:
      operator: an all-ones :class:`~overparam.problems.EntryMask` (every entry observed).
      observations: ``Y = M + S``, shape (d1, d2).
      truth: ``M``, shape (d1, d2).
      radius: ``||S||_{1,1}``, a scalar array.
      sparse: ``S``, shape (d1, d2).
      test: held-out measurements, None here.
    """

    operator: Any
    observations: Any
    truth: Any
    radius: Any
    sparse: Any
    test: Any = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.operator.shape

    @property
    def pad_size(self) -> None:
        """None: every entry is a measurement, a fixed shape (nothing to pad)."""
        return self.operator.pad_size

    def padded(self, size: int) -> "RobustPCAProblem":
        """The problem itself: an entry mask has no measurement axis to pad."""
        del size
        return self


class RobustPCAConfig(UnitLowRankConfig):
    """All entries of ``Y = M + S``: ``M`` rank ``rank`` with unit Frobenius norm, ``S`` with
    ``l`` nonzeros per row/column (``sparse_values`` N(0, scale^2) or +-scale)."""

    kind: Literal["robust_pca"] = "robust_pca"
    l: NonNegInt = 2  # noqa: E741 (the paper's name)
    sparse_values: Literal["gaussian", "sign"] = "gaussian"
    sparse_scale: PosFloat = 1.0

    @model_validator(mode="after")
    def _check_l(self):
        if self.l > min(self.d1, self.d2):
            raise ValueError(f"l must be <= min(d1, d2) = {min(self.d1, self.d2)}, got {self.l}")
        return self

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return 6 * itemsize * self.d1 * self.d2


def sparse_corruption(key, d1: int, d2: int, l: int, values: str, scale: float,  # noqa: E741
                      dtype):
    """The ``(d1, d2)`` sparse matrix S of the module docstring, from ``key``."""
    import jax
    import jax.numpy as jnp

    a, b = min(d1, d2), max(d1, d2)
    k_short, k_long, k_vals = jax.random.split(key, 3)
    i = jnp.arange(a)[:, None]
    k = jnp.arange(l)[None, :]
    short = jnp.broadcast_to(jax.random.permutation(k_short, a)[i], (a, l))
    long = jax.random.permutation(k_long, b)[(i + k) % b]
    rows, cols = (short, long) if d1 <= d2 else (long, short)
    if values == "gaussian":
        draws = jax.random.normal(k_vals, (a, l), jnp.float32)
    else:
        draws = jax.random.rademacher(k_vals, (a, l), jnp.float32)
    vals = draws.astype(dtype) * jnp.asarray(scale, dtype)
    return jnp.zeros((d1, d2), dtype).at[rows, cols].set(vals)


def build(cfg: RobustPCAConfig, dtype):
    import jax.numpy as jnp

    from overparam.problems import EntryMask
    from overparam.problems.kinds._unit import measurement_key, unit_truth

    truth = unit_truth(cfg, dtype)
    s = sparse_corruption(measurement_key(cfg.seed, cfg.l), cfg.d1, cfg.d2, cfg.l,
                          cfg.sparse_values, cfg.sparse_scale, dtype)
    op = EntryMask(jnp.ones((cfg.d1, cfg.d2), dtype))
    return RobustPCAProblem(op, truth + s, truth, jnp.sum(jnp.abs(s)), s)
