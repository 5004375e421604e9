"""Files that are not the checkpoint they are named as, refused saying what each one is: a zip
archive is one, not a pickle, unless it is torch.save's."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch
from cli_helpers import one_line

import rnn_tui
from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.checkpoint import load_checkpoint

SHIPPED = Path(rnn_tui.__file__).resolve().parent.parent / "checkpoints"
LM = SHIPPED / "timemachine-char-lstm.safetensors"
ZIP = "it is a zip archive, not an rnn-tui checkpoint; rnn-tui reads .safetensors + .json"


def generate(path: Path) -> list[str]:
    return ["generate", "--checkpoint", str(path), "--prefix", "the", "--length", "5"]


def sparse_beside_json(folder: Path, length: int, **changes) -> Path:
    """x.json, the shipped LM's JSON with `changes`, beside x.safetensors: `length` bytes
    of holes, which take no disk."""
    meta = json.loads(LM.with_suffix(".json").read_text(encoding="utf-8"))
    meta.update(changes)
    (folder / "x.json").write_text(json.dumps(meta), encoding="utf-8")
    with open(folder / "x.safetensors", "wb") as f:
        f.truncate(length)
    return folder / "x.safetensors"


@pytest.mark.parametrize("name", ["plain.zip", "x.safetensors", "x.json"])
def test_a_zip_archive_is_named_as_one_not_as_a_pickle(tmp_path, capsys, name):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hello")
    code, line = one_line(capsys, generate(path))
    assert code == 2 and line == f"rnn-tui: error: refusing to load {path}: {ZIP}", line


def test_a_zip_archive_beside_a_checkpoint_s_json_is_named_as_one(tmp_path):
    path = sparse_beside_json(tmp_path, 0)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(CheckpointError, match=f"refusing to load {path}: it is a zip archive"):
        load_checkpoint(tmp_path / "x.json")


def test_torch_save_archives_are_still_pickles_whole_or_cut(tmp_path):
    path = tmp_path / "w.safetensors"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="it is a pickle"):
        load_checkpoint(path)
    path.write_bytes(path.read_bytes()[:200])  # no central directory: its first member decides
    with pytest.raises(CheckpointError, match="it is a pickle"):
        load_checkpoint(path)
