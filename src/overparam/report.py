"""One self-contained HTML page of every experiment and claim under a results directory.

``overparam report results/ --out report.html`` (or :func:`write_report`) reads each
experiment directory ``results/NAME/`` that :func:`overparam.reproduce` or
:func:`overparam.run` wrote (``manifest.json``, ``runs.parquet``, ``claims.json``,
``config.json``, ``environment.json``, the figures) and writes one HTML file with the
figures embedded as PNG data, inline CSS and a few lines of inline JavaScript (the filter
for failed claims): it opens offline, from anywhere. It holds

- a summary table of every claim: paper, figure, claim, the paper's number, ours, and
  whether it holds (a known mismatch, documented as not reproducing, is marked so; the
  filter shows only the claims that are not as stated);
- a section per experiment: its figures, the config that produced it, seeds and run
  counts, status counts (converged / max_steps / diverged ...) by method, wall time;
- the environment of every session that ran runs: package versions, device, precision,
  date and git commit.

The page is one column that narrows to a phone's width: tables and code scroll inside
their own boxes, figures scale down.
"""

import base64
import datetime
import html
import json
import re
from pathlib import Path

from overparam.errors import ConfigError

__all__ = ["write_report", "experiment_dirs"]

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:12px;line-height:1.4;color:#1b1b1b}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
h3{font-size:1.05em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f3f3f3}
td.num{max-width:28em;overflow-wrap:anywhere}
td.claim{min-width:14em;max-width:32em}
.yes{color:#0a7a28;font-weight:600}.no{color:#b00020;font-weight:600}
.known{color:#8a5a00;font-weight:600}
img{max-width:100%;height:auto;display:block;margin:8px 0;border:1px solid #eee}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8em;background:#f7f7f7;
padding:8px;max-height:30em;overflow-y:auto}
details{margin:6px 0}
.muted{color:#666;font-size:.85em}
label{user-select:none}
@media (max-width:640px){
 table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
 table.cards thead{display:none}
 table.cards tr{border:1px solid #ccc;margin:0 0 10px 0}
 table.cards td{border:none;border-bottom:1px solid #eee;max-width:none;min-width:0}
 table.cards td::before{content:attr(data-label);display:block;font-weight:600;color:#555;
 font-size:.85em}
}
"""

JS = """
document.getElementById('only-failed').addEventListener('change', function (e) {
  document.querySelectorAll('#claims tbody tr').forEach(function (tr) {
    tr.style.display = (e.target.checked && tr.dataset.ok === 'true') ? 'none' : '';
  });
});
"""


def experiment_dirs(results: Path) -> list[Path]:
    """The experiment directories directly under ``results`` (those with a manifest), or
    ``results`` itself when it is one."""
    if (results / "manifest.json").is_file():
        return [results]
    return sorted(p.parent for p in results.glob("*/manifest.json"))


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: unreadable ({e})") from None


def split_paper(paper: str) -> tuple[str, str]:
    """``("Arora, Cohen, Hu, Luo 2019", "Fig. 1")`` from an experiment's ``paper`` line: the
    authors and year(s), then what of the paper it reproduces."""
    m = re.match(r"^(.*?\d{4}[a-z]?)\s*[,:]\s*(.*)$", paper)
    return (m.group(1), m.group(2)) if m else (paper, "")


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, list) and len(x) <= 6 and all(isinstance(v, int | float) for v in x):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    if isinstance(x, dict) and len(x) <= 8 and all(not isinstance(v, dict | list)
                                                   or isinstance(v, list) and len(v) <= 6
                                                   for v in x.values()):
        return "; ".join(f"{k}: {_fmt(v)}" for k, v in x.items())
    if isinstance(x, dict | list):
        return f"({len(x)} entries; see the details)"
    return str(x)


SHORT = 240  # characters of "our number" in the table; every number is in the details


def ours(claim: dict) -> str:
    """Our number, short: the measured statistic and its threshold, or the measured
    entries (large tables are left to the claim's details), cut at :data:`SHORT`."""
    text = _ours(claim)
    return text if len(text) <= SHORT else text[:SHORT - 1].rstrip() + "…"


def _ours(claim: dict) -> str:
    m = claim.get("measured", {})
    if isinstance(m, dict) and "stat" in m and "value" in m:
        value = m["value"]
        text = f"{m['stat']} {m['measure']} = {_fmt(value)}"
        if claim.get("threshold"):
            text += f" (needs {claim['threshold']}; {m.get('runs', '?')} runs)"
        return text
    if isinstance(m, dict):
        return " | ".join(f"{k}: {_fmt(v)}" for k, v in m.items()
                          if not (isinstance(v, dict) and len(v) > 8))
    return _fmt(m)


def verdict(claim: dict) -> tuple[str, str, bool]:
    """(text, css class, as stated) of a claim's outcome."""
    known = claim.get("expected", True) is False
    holds = bool(claim.get("holds"))
    if known:
        return (("holds, though marked a known mismatch", "no", False) if holds
                else ("no (known mismatch)", "known", True))
    return ("yes", "yes", True) if holds else ("NO", "no", False)


def _esc(x) -> str:
    return html.escape(str(x))


def _table(header: list[str], rows: list[list[str]], attrs: str = "",
           row_attrs: list[str] | None = None) -> str:
    """A table that, at a phone's width, turns each row into a card of labelled cells."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(f"<tr{row_attrs[i] if row_attrs else ''}>"
                   + "".join(cell.replace("<td", f'<td data-label="{_esc(h)}"', 1)
                             for h, cell in zip(header, rows[i])) + "</tr>"
                   for i in range(len(rows)))
    return (f'<div class="scroll"><table class="cards"{attrs}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _duration(session: dict) -> float | None:
    try:
        a = datetime.datetime.fromisoformat(session["started"])
        b = datetime.datetime.fromisoformat(session["finished"])
    except (KeyError, TypeError, ValueError):
        return None
    return (b - a).total_seconds()


class _Experiment:
    def __init__(self, root: Path):
        import pandas as pd

        self.root = root
        self.manifest = _read_json(root / "manifest.json", {})
        self.name = self.manifest.get("experiment", root.name)
        self.config = _read_json(root / "config.json", {})
        self.claims = _read_json(root / "claims.json", {}).get("claims", [])
        self.sessions = _read_json(root / "environment.json", {}).get("sessions", [])
        runs_file = root / "runs.parquet"
        try:
            self.runs = pd.read_parquet(runs_file) if runs_file.is_file() else pd.DataFrame()
        except Exception as e:  # noqa: BLE001 - pyarrow raises several types; one line
            raise ConfigError(f"{runs_file}: unreadable Parquet ({e})") from None
        self.figures = sorted(root.glob("*.png"))
        self.paper, self.figure = split_paper(self.config.get("paper", ""))

    def counts_table(self) -> str:
        runs = self.runs
        if not len(runs) or "method" not in runs:
            return "<p class='muted'>no runs stored</p>"
        status = runs["status"] if "status" in runs else None
        rows = []
        for method, g in runs.groupby("method"):
            counts = g["status"].value_counts().to_dict() if status is not None else {}
            seeds = sorted(g["seed"].dropna().unique()) if "seed" in g else []
            problems = g["problem.seed"].nunique() if "problem.seed" in g else None
            rows.append([f"<td>{_esc(method)}</td>", f"<td>{len(g)}</td>",
                         f"<td>{_esc(', '.join(f'{k} {v}' for k, v in sorted(counts.items())))}"
                         "</td>",
                         f"<td>{len(seeds)}</td>",
                         f"<td>{problems if problems is not None else ''}</td>"])
        return _table(["method", "runs", "status counts", "init seeds", "problem seeds"], rows)

    def wall(self) -> str:
        times = [t for t in map(_duration, self.sessions) if t is not None]
        unfinished = sum(s.get("finished") is None for s in self.sessions)
        if not times and not unfinished:
            return "no session recorded (results from a version before environment records)"
        text = f"{sum(times):.0f} s of running in {len(times)} session(s)"
        return text + (f"; {unfinished} session(s) interrupted" if unfinished else "")

    def section(self) -> str:
        held = sum(bool(c.get("holds")) for c in self.claims)
        stated = sum(verdict(c)[2] for c in self.claims)
        parts = [f'<h2 id="{_esc(self.name)}">{_esc(self.name)}</h2>',
                 f"<p>{_esc(self.config.get('paper', ''))}"
                 + (f" &mdash; {_esc(self.config.get('summary', ''))}"
                    if self.config.get("summary") else "") + "</p>",
                 f"<p class='muted'>profile {_esc(self.config.get('profile') or '-')}; "
                 f"{len(self.runs)} runs; claims {held}/{len(self.claims)} hold, "
                 f"{stated}/{len(self.claims)} as stated; {_esc(self.wall())}</p>"]
        for fig in self.figures:
            data = base64.b64encode(fig.read_bytes()).decode("ascii")
            parts.append(f'<img alt="{_esc(fig.name)}" src="data:image/png;base64,{data}">')
        parts.append("<h3>Runs</h3>" + self.counts_table())
        if self.claims:
            parts.append("<details><summary>claims with every measured number</summary><pre>"
                         + _esc(json.dumps(self.claims, indent=1)) + "</pre></details>")
        if self.config.get("sweeps"):
            parts.append("<details><summary>config that produced it "
                         f"({len(self.config['sweeps'])} sweep(s))</summary><pre>"
                         + _esc(json.dumps(self.config["sweeps"], indent=1)) + "</pre></details>")
        return "\n".join(parts)


def _device(session: dict) -> str:
    backend, kind = session.get("backend", ""), session.get("device_kind", "")
    name = kind if kind == backend or not backend else f"{backend}: {kind}"
    return f"{name} x{session.get('device_count', '?')}"


def _environment(experiments: list[_Experiment]) -> str:
    rows, seen = [], set()
    for e in experiments:
        for s in e.sessions:
            git = s.get("git") or {}
            commit = (git.get("commit", "")[:12] + (" (dirty)" if git.get("dirty") else "")
                      if git else "not a clone")
            packages = s.get("packages", {})
            key = (commit, s.get("device_kind"), json.dumps(packages, sort_keys=True))
            first = key not in seen
            seen.add(key)
            rows.append([f"<td>{_esc(e.name)}</td>", f"<td>{_esc(s.get('started', ''))}</td>",
                         f"<td>{_esc(_device(s))}</td>",
                         f"<td>{_esc(s.get('matmul_precision', ''))}"
                         f"{', x64' if s.get('x64_enabled') else ''}</td>",
                         f"<td>{_esc(commit)}</td>",
                         f"<td class='num'>{_esc(', '.join(f'{k} {v}' for k, v in packages.items())) if first else 'as above'}</td>"])  # noqa: E501
    if not rows:
        return "<p class='muted'>no environment recorded</p>"
    return _table(["experiment", "started (UTC)", "device", "matmul precision", "git commit",
                   "packages"], rows)


def _claims_table(experiments: list[_Experiment]) -> str:
    rows, attrs = [], []
    for e in experiments:
        for c in e.claims:
            text, css, ok = verdict(c)
            rows.append([f"<td>{_esc(e.paper)}</td>",
                         f'<td><a href="#{_esc(e.name)}">{_esc(e.figure or e.name)}</a></td>',
                         f"<td class='claim'><b>{_esc(c.get('name', ''))}</b>: "
                         f"{_esc(c.get('statement', ''))}</td>",
                         f"<td class='num'>{_esc(c.get('paper', ''))}</td>",
                         f"<td class='num'>{_esc(ours(c))}</td>",
                         f"<td class='{css}'>{_esc(text)}</td>"])
            attrs.append(f' data-ok="{"true" if ok else "false"}"')
    return _table(["paper", "figure", "claim", "paper's number", "our number", "holds"], rows,
                  attrs=' id="claims"', row_attrs=attrs)


def write_report(results: str | Path, out: str | Path | None = None) -> Path:
    """Write the HTML report of every experiment under ``results`` to ``out`` (default
    ``results/report.html``); return its path. A directory without results, or an output
    path that is a directory, is a :class:`~overparam.errors.ConfigError`.

    Example (``overparam report results/ --out report.html`` on the command line)::

        op.reproduce("ding2022-depth", out="results")
        op.write_report("results", "report.html")   # open it in any browser, offline
    """
    results = Path(results)
    if not results.is_dir():
        raise ConfigError(f"results: {results} is not a directory")
    dirs = experiment_dirs(results)
    if not dirs:
        raise ConfigError(f"results: {results} holds no experiment results (no */manifest.json)")
    out = Path(out) if out is not None else results / "report.html"
    if out.is_dir():
        raise ConfigError(f"--out: {out} is a directory; give a file name such as report.html")
    if not out.parent.is_dir():
        raise ConfigError(f"--out: directory {out.parent} does not exist")
    experiments = [_Experiment(d) for d in dirs]
    claims = [c for e in experiments for c in e.claims]
    stated = sum(verdict(c)[2] for c in claims)
    held = sum(bool(c.get("holds")) for c in claims)
    known = sum(c.get("expected", True) is False for c in claims)
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    toc = " &middot; ".join(f'<a href="#{_esc(e.name)}">{_esc(e.name)}</a>' for e in experiments)
    body = [
        "<h1>overparam report</h1>",
        f"<p>{len(experiments)} experiment(s), {len(claims)} claims: {held} hold, "
        f"{stated} as stated ({known} known mismatches, documented as not reproducing). "
        f"Written {now} from <code>{_esc(results)}</code>.</p>",
        f"<p class='muted'>{toc}</p>",
        "<h2 id='claims-summary'>Claims</h2>",
        "<p><label><input type='checkbox' id='only-failed'> show only claims that are not "
        "as stated</label></p>",
        _claims_table(experiments),
        *(e.section() for e in experiments),
        "<h2 id='environment'>Environment</h2>",
        _environment(experiments),
    ]
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>overparam report</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + f"<script>{JS}</script></body></html>")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
