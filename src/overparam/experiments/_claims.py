"""Claims: statements of a paper checked against measured results, declared as data.

A claim selects runs (``where``), reduces a measure over them (``stat``) and compares the
result with a number (``value``) or with another selection (``than``). Its outcome records
the measured numbers next to the paper's, and ``holds``.

A claim that is checked as the paper states it but is known not to reproduce here carries
``expected: False`` and the reason in ``known_mismatch`` (see :func:`mark_known_mismatches`):
it is still computed on every run, reported as not holding, and ``--check`` fails if it
starts to hold, so the documentation cannot go stale in either direction.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from overparam.configs import Strict

if TYPE_CHECKING:  # pandas is imported where claims are evaluated, not where they are declared
    import pandas as pd

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
STATS = {"mean": np.mean, "max": np.max, "min": np.min, "median": np.median}


class Selection(Strict):
    """Runs whose columns equal the given values (e.g. ``{"model.depth": 3}``)."""

    where: dict[str, Any] = Field(default_factory=dict)
    measure: str | None = None
    stat: Literal[tuple(STATS)] | None = None  # type: ignore[valid-type]
    scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0


class ClaimSpec(Strict):
    """``stat(measure over where) op value``, or ``... op scale * stat(measure over than)``."""

    name: str
    statement: str
    paper: str = ""
    measure: str
    where: dict[str, Any] = Field(default_factory=dict)
    stat: Literal[tuple(STATS)] = "max"  # type: ignore[valid-type]
    op: Literal[tuple(OPS)] = "<="  # type: ignore[valid-type]
    value: float | None = None
    than: Selection | None = None

    @model_validator(mode="after")
    def _target(self):
        if (self.value is None) == (self.than is None):
            raise ValueError(f"claim {self.name!r}: give exactly one of value or than")
        return self


def select(runs: pd.DataFrame, where: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    mask = pd.Series(True, index=runs.index)
    for col, want in where.items():
        if col not in runs.columns:
            return runs.iloc[0:0]
        values = want if isinstance(want, list) else [want]
        mask &= runs[col].isin(values)
    return runs[mask]


def _reduce(runs: pd.DataFrame, where: dict, measure: str, stat: str) -> tuple[float, int]:
    rows = select(runs, where)
    if measure not in rows.columns or not len(rows):
        return math.nan, 0
    vals = rows[measure].astype(float).to_numpy()
    return float(STATS[stat](vals)), len(vals)


def evaluate_claim(claim: ClaimSpec, runs: pd.DataFrame) -> dict:
    """The outcome of ``claim`` on ``runs``: measured numbers and whether it holds."""
    measured, n = _reduce(runs, claim.where, claim.measure, claim.stat)
    out: dict[str, Any] = {
        "name": claim.name,
        "statement": claim.statement,
        "paper": claim.paper,
        "measured": {"value": measured, "stat": claim.stat, "measure": claim.measure,
                     "where": claim.where, "runs": n},
    }
    if claim.value is not None:
        target = claim.value
        out["threshold"] = f"{claim.op} {claim.value:g}"
    else:
        t = claim.than
        other, m = _reduce(runs, t.where, t.measure or claim.measure, t.stat or claim.stat)
        target = t.scale * other
        out["compared_with"] = {"value": other, "stat": t.stat or claim.stat,
                                "measure": t.measure or claim.measure, "where": t.where,
                                "runs": m, "scale": t.scale}
        out["threshold"] = f"{claim.op} {t.scale:g} x {other:.4g}"
    ok = n > 0 and math.isfinite(measured) and math.isfinite(target)
    out["holds"] = bool(ok and OPS[claim.op](measured, target))
    if not ok:
        out["note"] = "no finite measurement for this selection"
    return out


def mark_known_mismatches(outcomes: list[dict], known: dict[str, str]) -> list[dict]:
    """Mark the outcomes named in ``known`` (name -> why it does not reproduce) as expected
    not to hold. Raises ``KeyError`` for a name that is not among the outcomes."""
    names = {c["name"] for c in outcomes}
    missing = sorted(set(known) - names)
    if missing:
        raise KeyError(f"known mismatches name no claim: {missing}")
    for c in outcomes:
        if c["name"] in known:
            c["expected"] = False
            c["known_mismatch"] = known[c["name"]]
    return outcomes


def as_expected(outcome: dict) -> bool:
    """Whether a claim's outcome is the one stated: it holds, or it is a known mismatch
    that still does not hold."""
    return outcome["holds"] == outcome.get("expected", True)
