"""rnn-tui installed like a tool (pip, pipx): the wheel carries the shipped checkpoints, an
installed package finds them under its prefix, and a shipped checkpoint's bare name works as
--checkpoint from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import rnn_tui
from rnn_tui.cli import main
from rnn_tui.runs import discover

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (ROOT / "checkpoints").iterdir() if p.suffix != ".md")


def _recent_setuptools() -> bool:
    """setuptools new enough for pyproject.toml (a PEP 639 license string: 77)."""
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


def test_the_wheel_carries_the_shipped_checkpoints(tmp_path):
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path)]
    if _recent_setuptools():  # build offline with it; else pip fetches one as pyproject asks
        command.append("--no-build-isolation")
    command.append(str(ROOT))
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("rnn_tui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = f"rnn_tui-{rnn_tui.__version__}.data/data/share/rnn-tui/checkpoints/"
    assert sorted(n.removeprefix(data) for n in names if n.startswith(data)) == sorted(
        [*SHIPPED, "README.md"]
    )
    assert "rnn_tui/data/bundled/timemachine.txt" in names  # the data sets are package data


def test_an_installed_package_finds_its_checkpoints_under_its_prefix(tmp_path, monkeypatch):
    site_packages = tmp_path / "lib" / "site-packages"
    (site_packages / "rnn_tui").mkdir(parents=True)
    installed = tmp_path / "share" / "rnn-tui" / "checkpoints"
    installed.mkdir(parents=True)
    monkeypatch.setattr(rnn_tui, "__file__", str(site_packages / "rnn_tui" / "__init__.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert discover._shipped_dir() == installed
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "elsewhere"))
    monkeypatch.setattr(discover.site, "getuserbase", lambda: str(tmp_path))  # pip --user
    assert discover._shipped_dir() == installed


def test_a_checkout_uses_its_own_checkpoints_folder():
    assert discover._shipped_dir() == ROOT / "checkpoints"


def test_a_shipped_name_resolves_from_any_directory(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "tiny.json").write_text("{}")  # a checkpoint is found by its JSON
    monkeypatch.setattr(discover, "SHIPPED_DIR", shipped)
    monkeypatch.delenv(discover.CHECKPOINTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    target = str(shipped / "tiny.safetensors")
    assert discover.resolve_shipped("tiny") == target
    assert discover.resolve_shipped("tiny.safetensors") == target
    # A path, an existing file of that name here, or an unknown name: left as given.
    assert discover.resolve_shipped("runs/tiny") == "runs/tiny"
    assert discover.resolve_shipped("other") == "other"
    (tmp_path / "tiny").write_text("mine")
    assert discover.resolve_shipped("tiny") == "tiny"


@pytest.mark.parametrize("command", ["translate", "generate"])
def test_a_bare_unknown_name_is_one_line(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = [command, "--checkpoint", "no-such-model"]
    args += ["go ."] if command == "translate" else ["--prefix", "time"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-model" in err


def test_the_cli_translates_with_a_shipped_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["translate", "--checkpoint", "fra-eng-gru", "--beam", "1", "go ."]) == 0
    assert capsys.readouterr().out == "go . → va !\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnn-tui {rnn_tui.__version__}"
