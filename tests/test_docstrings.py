"""help() on the public API shows an example, and the examples that run are doctests that
pass (the measures' exact answers, a sweep's run count, a run and its resume)."""

import doctest
import inspect

import pytest

import overparam as op
import overparam.measures as measures

PUBLIC = ["run", "reproduce", "check_sweep", "expand", "write_report", "SweepConfig"]
MEASURES = ["singular_values", "nuclear_norm", "effective_rank", "schatten_quasi_norm",
            "reconstruction_error", "unobserved_error"]


def _objects():
    return ([(f"overparam.{n}", getattr(op, n)) for n in PUBLIC]
            + [(f"overparam.measures.{n}", getattr(measures, n)) for n in MEASURES])


@pytest.mark.parametrize("name, obj", _objects(), ids=[n for n, _ in _objects()])
def test_public_docstrings_have_an_example_that_passes(name, obj, tmp_path):
    doc = inspect.getdoc(obj) or ""
    assert "Example" in doc, f"{name}: no example in its docstring"
    globs = {**vars(inspect.getmodule(obj)), "tmp": tmp_path}
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, globs=globs)
    examples = sum(len(t.examples) for t in tests)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for t in tests:
        runner.run(t)
    assert runner.failures == 0, f"{name}: {runner.failures} of {examples} examples failed"
    if ">>>" in doc:
        assert examples > 0
