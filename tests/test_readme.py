"""The README's examples stay true: its Python blocks run, its TOML sweep validates."""

import re
import tomllib
from pathlib import Path

import pytest

from overparam.sweep import SweepConfig, expand

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_examples_run(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(_blocks("python")[index], f"README.md python block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_toml_example_is_a_valid_sweep():
    (block,) = _blocks("toml")
    data = tomllib.loads(block)
    claims = data.pop("claims")
    runs = expand(SweepConfig.model_validate(data))
    assert len(runs) == 2 * 3 * 2 + 3 * 2 and claims


def test_local_images_exist():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text())
    assert images, "the README shows the report"
    for image in images:
        assert (README.parent / image).is_file(), image
