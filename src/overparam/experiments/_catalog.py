"""The experiments by name, with their one-line summaries and profiles, importable without
JAX, pandas or matplotlib (``overparam list`` and flag checks read this, not the modules).

Each entry names the module attribute that holds the :class:`Experiment`; a test checks that
every entry resolves to an experiment with the same name, summary and profiles.
"""

from typing import NamedTuple


class Entry(NamedTuple):
    summary: str
    profiles: tuple[str, ...]
    target: str  # "module:attribute" of the Experiment


_QP = ("quick", "paper")
CATALOG: dict[str, Entry] = {
    "arora2019-completion": Entry(
        "error vs number of observed entries, depths 2/3/4 vs nuclear norm (Fig. 1)", _QP,
        "overparam.experiments.arora2019:COMPLETION"),
    "arora2019-init": Entry(
        "error, nuclear norm, effective rank vs init scale at 2000/5000 entries (Fig. 2)", _QP,
        "overparam.experiments.arora2019:INIT"),
    "arora2019-sensing": Entry(
        "Gaussian matrix sensing: Fig. 2's measures vs init scale, few/many measurements "
        "(appendix)", _QP, "overparam.experiments.arora2019:SENSING"),
    "arora2019-dynamics": Entry(
        "singular values of depths 1/2/3 vs step, authors' setting and gradient flow, ODE "
        "check (Fig. 3)", _QP, "overparam.experiments.arora2019_dynamics:EXPERIMENT"),
    "arora2019-ml100k": Entry(
        "Fig. 3 on MovieLens-100K (needs u.data: set OVERPARAM_ML100K; a GPU job)", ("paper",),
        "overparam.experiments.arora2019_dynamics:ML100K"),
    "arora2019-norms": Entry(
        "GD solutions vs nuclear-norm and Schatten-p (p = 2/3, 1/2) minimizers (Sec. 2)", _QP,
        "overparam.experiments.arora2019_norms:EXPERIMENT"),
    "xie2017-discrepancy": Entry(
        "s_m(D) of the extended feature matrix vs the units' L2 discrepancy, at controlled "
        "spread and along training", _QP,
        "overparam.experiments.xie2017_discrepancy:EXPERIMENT"),
    "xie2017-synthetic": Entry(
        "train/test error vs width with and without the diversity regularizer, the loss "
        "bound along training, inits reaching zero loss", _QP,
        "overparam.experiments.xie2017_synthetic:EXPERIMENT"),
    "xie2017-mnist": Entry(
        "MNIST test error vs width with and without the diversity regularizer, lambda "
        "chosen on a validation split", _QP, "overparam.experiments.xie2017_mnist:EXPERIMENT"),
    "ding2022-phase": Entry(
        "exact-recovery phase maps of flat solutions vs nuclear norm, 4 problems (Fig. 3)", _QP,
        "overparam.experiments.ding2022:PHASE"),
    "ding2022-regularity": Entry(
        "norm and balance gaps of exact flat solutions: nonzero, within Thm 3.3's bounds "
        "(Fig. 4)", _QP, "overparam.experiments.ding2022:REGULARITY"),
    "ding2022-robust-pca": Entry(
        "flat solutions recover or fail: robust PCA vs l, covariance/phase retrieval vs m "
        "(Secs. 6-7)", _QP, "overparam.experiments.ding2022_recovery:ROBUST_PCA"),
    "ding2022-depth": Entry(
        "flat depth-k Hadamard sparse recovery: k = 2 recovers, k >= 3 dense and wrong "
        "(Sec. 9)", _QP, "overparam.experiments.ding2022_recovery:DEPTH"),
    "flat-by-gradient": Entry(
        "do GD, trace penalties, SAM, 1-SAM and label noise find the convex flat "
        "solution? (Ding et al. 2022's problems)", _QP,
        "overparam.experiments.flat_by_gradient:EXPERIMENT"),
    "flat-by-depth": Entry(
        "phase maps of depth-2/3 GD from small init beside the flat and nuclear-norm maps",
        _QP, "overparam.experiments.flat_by_depth:EXPERIMENT"),
    "razin2020-2x2": Entry(
        "2x2 completion with det -1 solutions: norms grow without bound as loss -> 0", _QP,
        "overparam.experiments.razin2020:EXPERIMENT"),
}


def check_name(name) -> Entry:
    """The catalog entry of ``name``, or a ConfigError with a "did you mean" hint."""
    from overparam.errors import ConfigError, closest

    if not isinstance(name, str):
        raise ConfigError(f"experiment: name must be a string, got {name!r}")
    try:
        return CATALOG[name]
    except KeyError:
        raise ConfigError(f"experiment: unknown name {name!r}{closest(name, CATALOG)}; "
                          "run 'overparam list'") from None
