"""The hardening suite's report: every bad-input case with the outcome it got.

Tests record ``(case, entry point, input, exit code or exception, message)`` through the
``outcomes`` fixture; the table is printed in pytest's terminal summary (whatever ``-r``
says), and written as Markdown to ``$OVERPARAM_CASES_MD`` when that is set.
"""

import os

import pytest

_RECORDS: list[dict] = []


@pytest.fixture
def outcomes():
    """``record(case=..., entry=..., input=..., outcome=..., message=...)``."""
    return lambda **row: _RECORDS.append(row)


def _short(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def pytest_terminal_summary(terminalreporter):
    if not _RECORDS:
        return
    rows = sorted(_RECORDS, key=lambda r: (r["case"], r["entry"]))
    tr = terminalreporter
    tr.write_sep("=", f"hardening: {len({r['case'] for r in rows})} bad-input cases, outcomes")
    for r in rows:
        tr.write_line(f"{_short(r['case'], 30):<30} {r['entry']:<4} {_short(r['input'], 44):<44}"
                      f" -> {_short(r['outcome'], 12):<12} {_short(r['message'], 110)}")
    path = os.environ.get("OVERPARAM_CASES_MD")
    if path:
        with open(path, "w") as f:
            f.write("| case | entry | input | outcome | message |\n|---|---|---|---|---|\n")
            for r in rows:
                cells = [r["case"], r["entry"], r["input"], r["outcome"], r["message"]]
                f.write("| " + " | ".join(" ".join(str(c).split()).replace("|", "\\|")
                                          for c in cells) + " |\n")
