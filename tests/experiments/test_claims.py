import math

import pandas as pd
import pytest

from overparam.experiments import ClaimSpec, Selection, evaluate_claim

RUNS = pd.DataFrame({
    "method": ["gd", "gd", "gd", "nuclear_norm"],
    "model.depth": [2, 3, 3, None],
    "problem.m": [2000, 2000, 5000, 2000],
    "recon_error": [0.06, 2e-5, 3e-6, 0.04],
})


def test_threshold_claims():
    c = ClaimSpec(name="a", statement="s", measure="recon_error", where={"model.depth": 3},
                  stat="max", op="<=", value=1e-4)
    out = evaluate_claim(c, RUNS)
    assert out["holds"] and out["measured"]["value"] == 2e-5 and out["measured"]["runs"] == 2
    c = c.model_copy(update={"value": 1e-5})
    assert not evaluate_claim(c, RUNS)["holds"]


def test_comparison_claims_and_list_selections():
    c = ClaimSpec(name="b", statement="s", measure="recon_error", stat="min", op=">",
                  where={"method": "nuclear_norm"},
                  than=Selection(where={"method": "gd", "model.depth": [3]}, stat="max"))
    out = evaluate_claim(c, RUNS)
    assert out["holds"] and out["compared_with"]["value"] == 2e-5


def test_empty_selection_never_holds():
    c = ClaimSpec(name="c", statement="s", measure="recon_error", where={"model.depth": 9},
                  value=1.0)
    out = evaluate_claim(c, RUNS)
    assert not out["holds"] and math.isnan(out["measured"]["value"]) and "note" in out
    c = ClaimSpec(name="c", statement="s", measure="missing", value=1.0)
    assert not evaluate_claim(c, RUNS)["holds"]


def test_claim_needs_exactly_one_target():
    with pytest.raises(ValueError, match="exactly one of value or than"):
        ClaimSpec(name="d", statement="s", measure="recon_error")


def test_known_mismatches_are_marked_and_as_expected_reads_them():
    from overparam.experiments._claims import as_expected, mark_known_mismatches

    outcomes = [{"name": "a", "holds": True}, {"name": "b", "holds": False},
                {"name": "c", "holds": True}, {"name": "d", "holds": False}]
    mark_known_mismatches(outcomes, {"c": "why c", "d": "why d"})
    assert [c.get("known_mismatch") for c in outcomes] == [None, None, "why c", "why d"]
    # a: holds; b: fails; c: a known mismatch that now holds (stale); d: still mismatched
    assert [as_expected(c) for c in outcomes] == [True, False, False, True]
    with pytest.raises(KeyError, match="'e'"):
        mark_known_mismatches(outcomes, {"e": "no such claim"})
