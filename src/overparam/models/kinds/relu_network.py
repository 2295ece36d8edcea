"""The one-hidden-layer ReLU network f(x) = sum_k v_k relu(w_k^T x) as a model kind (Xie,
Liang, Song 2017); see :mod:`overparam.models._relu`."""

from typing import Literal

from overparam.configs import Batched, KindConfig, PosFloat, PosInt

DATA_KINDS = ("teacher_student", "mnist", "dataset_file")
SIGNS = ("fixed", "trained")
INITS = ("gaussian", "spread")


class ReluNetworkConfig(KindConfig):
    """``width`` hidden ReLU units on the problem's inputs. One output (regression): output
    signs +1 / -1, half each, ``fixed`` or ``trained``; a classification problem with k
    classes gets k outputs and a trained output layer. Rows of W start iid
    N(0, init_scale^2 / d) (``gaussian``), or as units of controlled diversity ``spread``
    around one direction (``spread``; see :mod:`overparam.models._relu`).

    Static: ``width``, ``signs``, ``init``; batched: ``init_scale``, ``spread``."""

    kind: Literal["relu_network"] = "relu_network"
    width: PosInt = 16
    signs: Literal[SIGNS] = "fixed"  # type: ignore[valid-type]
    init: Literal[INITS] = "gaussian"  # type: ignore[valid-type]
    init_scale: Batched[PosFloat] = 1.0
    spread: Batched[PosFloat] = 1.0

    def check_problem(self, problem) -> None:
        """Refuse a matrix problem: the network needs inputs and targets."""
        kind = getattr(problem, "kind", None)
        if kind is not None and kind not in DATA_KINDS and not hasattr(problem,
                                                                       "input_dim"):
            raise ValueError(f"model kind 'relu_network' trains on a data set "
                             f"({', '.join(DATA_KINDS)}), not problem kind {kind!r}")

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        d = getattr(problem, "input_dim", 1)
        m = getattr(problem, "train_size", 1)
        return 12 * itemsize * (self.width * (d + 10) + m * self.width)


def build(cfg: ReluNetworkConfig, problem):
    from overparam.models._relu import relu_network

    d = problem.inputs.shape[-1]
    if problem.classification:
        outputs = int(max(int(problem.targets.max()), int(problem.test_targets.max()))) + 1
    else:
        outputs = 1 if problem.targets.ndim == 1 else problem.targets.shape[-1]
    return relu_network(d, cfg.width, outputs, cfg.signs, examples=problem.targets.shape[0],
                        init=cfg.init)
