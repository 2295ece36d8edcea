"""The Schatten exponents logged by ``schatten_quasi_norms`` (no JAX: plots read it)."""

SCHATTEN_PS = (2.0, 1.0, 2.0 / 3.0, 0.5, 1.0 / 3.0)
"""The p of :func:`schatten_quasi_norms`: 2/N for depths N = 1, 2, 3, 4 and 6 (p = 2 is the
Frobenius norm, p = 1 the nuclear norm)."""
