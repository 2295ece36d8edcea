"""Error bars summarize seeds as a researcher reads them: on a log axis, the geometric mean
with bars from min to max, never below zero; the seeds counted in the title."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

import overparam.viz._arora2019 as arora
from overparam.viz._style import seeds_note, spread


def test_spread_known_answers():
    df = pd.DataFrame({"x": [1, 1, 2, 2, 2], "y": [1e-6, 1e-2, 0.0, 2.0, 8.0]})
    log = spread(df, "x", "y", log=True).set_index("x")
    assert log.loc[1, "center"] == pytest.approx(1e-4)  # sqrt(1e-6 * 1e-2)
    assert (log.loc[1, "min"], log.loc[1, "max"], log.loc[1, "n"]) == (pytest.approx(1e-6),
                                                                      pytest.approx(1e-2), 2)
    assert log.loc[2, "center"] == pytest.approx(4.0) and log.loc[2, "n"] == 2  # 0 dropped
    lin = spread(df, "x", "y").set_index("x")
    assert lin.loc[1, "center"] == pytest.approx(0.0050005)
    assert lin.loc[2, "center"] == pytest.approx(10 / 3) and lin.loc[2, "min"] == 0.0
    assert lin.loc[2, "n"] == 3
    assert seeds_note([3, 3]) == "3 seeds: mean, bars min-max"
    assert seeds_note([2, 3], log=True) == "2-3 seeds: geometric mean, bars min-max"


def _runs():
    # depth 4 at m = 1500 spans four decades over its seeds: mean - std < 0 there
    rows = []
    for depth, errors in ((2, {1000: [0.3, 0.4, 0.5], 1500: [0.2, 0.25, 0.3]}),
                          (4, {1000: [0.1, 0.2, 0.3], 1500: [1e-6, 3e-2, 1e-5]})):
        for m, es in errors.items():
            rows += [{"method": "gd", "model.depth": depth, "problem.m": m, "problem.rank": 5,
                      "problem.d1": 100, "problem.d2": 100, "recon_error": e, "seed": s}
                     for s, e in enumerate(es)]
    return pd.DataFrame(rows)


def test_log_axis_error_bars_stay_above_zero(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(arora, "save", lambda fig, d, n: figures.append(fig) or tmp_path / n)
    runs = _runs()
    arora.error_vs_observations(runs, tmp_path, "fig1", "t")
    (ax,) = figures[0].axes
    assert ax.get_yscale() == "log"
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2
    lows, highs = [], []
    for c in bars:
        segments = c.lines[2][0].get_segments()
        lows += [seg[:, 1].min() for seg in segments]
        highs += [seg[:, 1].max() for seg in segments]
    assert min(lows) == pytest.approx(1e-6) and min(lows) > 0  # the depth-4 seed at 1e-6
    assert max(highs) == pytest.approx(0.5)
    bottom, top = ax.get_ylim()
    assert 0 < bottom <= 1e-6 and top >= 0.5
    depth4 = bars[1].lines[0].get_ydata()
    assert depth4[1] == pytest.approx(np.exp(np.mean(np.log([1e-6, 3e-2, 1e-5]))))
    assert "3 seeds: geometric mean, bars min-max" in ax.get_title()
