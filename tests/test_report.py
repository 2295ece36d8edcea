"""The HTML report: its pieces on hand-built claims, its errors, and the page itself loaded in
a real headless browser at desktop and phone widths (never skipped: where no browser can be
had the test fails; as root with apt and none installed, it installs Debian's
chromium-headless-shell; ``OVERPARAM_BROWSER`` points at another)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import overparam as op
from overparam.cli import main
from overparam.errors import ConfigError
from overparam.report import ours, split_paper, verdict, write_report

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("OVERPARAM_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.mark.parametrize("paper, expected", [
    ("Arora, Cohen, Hu, Luo 2019, Fig. 1", ("Arora, Cohen, Hu, Luo 2019", "Fig. 1")),
    ("Razin, Cohen 2020, Sec. 3 / Fig. 1", ("Razin, Cohen 2020", "Sec. 3 / Fig. 1")),
    ("Arora, Cohen, Hu, Luo 2019; Ding, Drusvyatskiy, Fazel, Harchaoui 2022: where depth wins",
     ("Arora, Cohen, Hu, Luo 2019; Ding, Drusvyatskiy, Fazel, Harchaoui 2022",
      "where depth wins")),
    ("my own sweep", ("my own sweep", "")),
])
def test_split_paper(paper, expected):
    assert split_paper(paper) == expected


def test_verdicts_and_numbers():
    assert verdict({"holds": True}) == ("yes", "yes", True)
    assert verdict({"holds": False}) == ("NO", "no", False)
    assert verdict({"holds": False, "expected": False}) == ("no (known mismatch)", "known", True)
    assert verdict({"holds": True, "expected": False})[2] is False  # a mismatch that now holds
    claim = {"measured": {"value": 1.23456e-5, "stat": "max", "measure": "recon_error",
                          "runs": 3}, "threshold": "<= 0.001"}
    assert ours(claim) == "max recon_error = 1.235e-05 (needs <= 0.001; 3 runs)"
    custom = {"measured": {"spearman": 0.6014, "table": {str(i): i for i in range(20)}}}
    assert ours(custom) == "spearman: 0.6014"  # big tables are left to the details
    long = ours({"measured": {f"depth {k}": [1.5, 2.5, 3.5] for k in range(40)}})
    assert len(long) == 240 and long.endswith("…") and long.startswith("depth 0: [1.5, 2.5")


def _sweep(name, claims):
    return {"name": name, "description": "a tiny completion sweep",
            "problem": {"kind": "completion", "d1": 8, "d2": 8, "rank": 1, "m": 30},
            "model": {"init_scale": 1e-2}, "train": {"max_steps": 200, "log_every": 50},
            "grid": {"model.depth": [2, 3]}, "seeds": [0, 1], "claims": claims}


HOLDS = {"name": "runs-exist", "statement": "every run has a finite loss", "paper": "-",
         "measure": "train_loss", "stat": "max", "op": "<", "value": 1e9}
FAILS = {"name": "impossible", "statement": "the loss is negative", "paper": "never",
         "measure": "train_loss", "stat": "min", "op": "<", "value": -1.0}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    op.run(_sweep("tiny-a", [HOLDS, FAILS]), out=out, progress=False)
    op.run(_sweep("tiny-b", [HOLDS]), out=out, progress=False)
    return out


def test_report_holds_every_claim_figure_and_environment(results, tmp_path):
    path = write_report(results, tmp_path / "r.html")
    page = path.read_text()
    assert page.count('data-ok="') == 3 and page.count('data-ok="false"') == 1
    for name in ("tiny-a", "tiny-b", "runs-exist", "impossible", "a tiny completion sweep"):
        assert name in page
    figures = sorted(results.glob("*/*.png"))
    assert figures and page.count("data:image/png;base64,") == len(figures)
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert "converged" in page or "max_steps" in page  # status counts
    env = json.loads((results / "tiny-a" / "environment.json").read_text())["sessions"][0]
    assert env["packages"]["jax"] in page and "highest" in page
    assert re.search(r"\d+ s of running in 1 session", page)


def test_report_errors_are_one_line_with_exit_code_2(tmp_path, capsys, results):
    with pytest.raises(ConfigError, match="no experiment results"):
        write_report(tmp_path)
    with pytest.raises(ConfigError, match="is not a directory"):
        write_report(tmp_path / "missing")
    (tmp_path / "d").mkdir()
    with pytest.raises(ConfigError, match="--out: .* is a directory"):
        write_report(results, tmp_path / "d")
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: results:") and err.count("\n") == 1
    assert main(["report", str(results), "--out", str(tmp_path / "ok.html")]) == 0
    assert (tmp_path / "ok.html").is_file()


def find_browser() -> str:
    """A headless Chromium: ``OVERPARAM_BROWSER``, one on the PATH, or Debian's
    chromium-headless-shell installed with apt when running as root."""
    if os.environ.get("OVERPARAM_BROWSER"):
        return os.environ["OVERPARAM_BROWSER"]
    names = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
    for name in names:
        if shutil.which(name):
            return shutil.which(name)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "chromium-headless-shell"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
        for name in names:
            if shutil.which(name):
                return shutil.which(name)
    pytest.fail("no headless browser: install chromium-headless-shell (Debian) or set "
                "OVERPARAM_BROWSER to a Chromium binary")


PROBE = """<script>
window.addEventListener('load', function () {
  var box = document.getElementById('only-failed');
  var rows = document.querySelectorAll('#claims tbody tr');
  box.click();
  var shown = Array.prototype.filter.call(rows, function (r) {
    return r.style.display !== 'none'; }).length;
  box.click();
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({
    images: Array.prototype.map.call(document.images, function (i) {
      return [i.naturalWidth, i.naturalHeight]; }),
    rows: rows.length, shown_when_filtered: shown,
    scroll_width: document.documentElement.scrollWidth, inner_width: window.innerWidth});
  document.body.appendChild(out);
});
</script></body>"""


def _browse(browser: str, page: Path, width: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", f"--window-size={width},900",
                           "--virtual-time-budget=10000", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def test_report_in_a_headless_browser(results, tmp_path):
    browser = find_browser()
    path = write_report(results, tmp_path / "report.html")
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", PROBE))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, label in ((1280, "desktop"), (390, "phone")):
        done = _browse(browser, probe, width, "--dump-dom")
        found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
        assert found, (done.returncode, done.stderr[-2000:])
        got = json.loads(found.group(1).replace("&quot;", '"'))
        assert got["images"] and all(w > 0 and h > 0 for w, h in got["images"]), got
        assert got["rows"] == 3 and got["shown_when_filtered"] == 1, got
        assert got["inner_width"] == width, got
        assert got["scroll_width"] <= got["inner_width"], f"{label}: overflows: {got}"
        shot = ARTIFACTS / f"report-{label}.png"
        _browse(browser, path, width, f"--screenshot={shot}")
        assert shot.is_file() and shot.stat().st_size > 1000
