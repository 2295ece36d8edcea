"""Small test helpers (importable from every test module)."""

import numpy as np


def rel_err(a, b) -> float:
    """Relative Frobenius error ||a - b|| / ||b||."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def holds(claims: list[dict]) -> dict[str, bool]:
    """Each claim's name and whether it holds."""
    return {c["name"]: c["holds"] for c in claims}


def all_but(claims: list[dict], *failing: str) -> dict[str, bool]:
    """Every claim of ``claims`` holding except the ``failing`` ones (which must be there)."""
    names = [c["name"] for c in claims]
    assert set(failing) <= set(names), (failing, names)
    return {n: n not in failing for n in names}
