"""Files that are not the checkpoint they are named as — a tensor file of another size or
larger than the memory left, a zip archive, a tensor file with no JSON — refused at once, saying
what each one is; and a link to a checkpoint's JSON, read as its target is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from cli_helpers import one_line
from safetensors.torch import save_file

import rnn_tui
from rnn_tui.checkpoints import CheckpointError, memory, store
from rnn_tui.checkpoints.checkpoint import load_checkpoint

SHIPPED = Path(rnn_tui.__file__).resolve().parent.parent / "checkpoints"
LM = SHIPPED / "timemachine-char-lstm.safetensors"
PAIR = "an rnn-tui checkpoint is a .json and a .safetensors pair"
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


def test_a_tensor_file_of_another_size_is_refused_before_it_is_read(tmp_path, monkeypatch):
    # A 2 GB file beside a JSON recording 9,925,296 bytes was read whole and hashed (38 s,
    # 2.3 GB) to be refused for its sha256.
    path = sparse_beside_json(tmp_path, 2 * 2**30)

    read_bytes = store.read_bytes

    def json_only(file, **kwargs):
        assert Path(file).suffix == ".json", f"{file} was read"
        return read_bytes(file, **kwargs)

    monkeypatch.setattr(store, "read_bytes", json_only)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(info.value) == (
        f"checkpoint {tmp_path / 'x.json'}: size is 9,925,296, but {path} has 2,147,483,648 bytes"
    )


def test_a_tensor_file_larger_than_the_memory_available_is_refused_unread(tmp_path, monkeypatch):
    # Recorded sizes match (or none is recorded): the file cannot be held all the same.
    path = sparse_beside_json(tmp_path, 64 * 2**20, size=64 * 2**20)
    monkeypatch.setattr(memory, "system_available", lambda: 16 * 2**20)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(info.value) == (
        f"checkpoint tensors {path} is 64.0 MiB, more than the 16.0 MiB limit "
        "(the memory available to read it into)"
    )


def test_a_tensor_file_larger_than_ulimit_v_allows_is_refused_naming_it(tmp_path):
    # 8 GB under `ulimit -v 6000000` ended in "out of memory in generate", naming no file.
    path = sparse_beside_json(tmp_path, 4 * 2**30, size=4 * 2**30)
    child = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from rnn_tui.checkpoints import CheckpointError, store\n"
        "mapped = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
        "_, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (mapped + 256 * 2**20, hard))\n"
        "try:\n"
        "    store.read_pair(Path(sys.argv[1]))\n"
        "except CheckpointError as exc:\n"
        "    print(exc)\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(rnn_tui.__file__).parent.parent)}
    out = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path / "x.json")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.stdout.startswith(f"checkpoint tensors {path} is 4.0 GiB, more than the "), out
    assert out.stdout.strip().endswith(" limit (ulimit -v to read it into)"), out


def test_a_read_that_runs_out_of_memory_names_the_file(tmp_path, monkeypatch):
    # Under the limits, yet the memory was not there: "out of memory in generate" named nothing.
    path = sparse_beside_json(tmp_path, 2**20, size=2**20)

    read_bytes = store.read_bytes

    def no_memory(path, **kwargs):
        if kwargs.get("what") == "checkpoint tensors":
            raise MemoryError
        return read_bytes(path, **kwargs)

    monkeypatch.setattr(store, "read_bytes", no_memory)
    with pytest.raises(CheckpointError) as info:
        store.read_pair(tmp_path / "x.json")
    assert str(info.value) == (
        f"checkpoint tensors {path} (1.0 MiB) do not fit in the memory this process has left "
        "to read them into"
    )


def test_a_limit_is_not_lowered_by_what_the_process_has_mapped(monkeypatch):
    # A 24.6 MiB checkpoint loaded with 20 MiB of address space to spare (the allocator reuses
    # what the process holds): the limit itself bounds a read, not the room left under it.
    monkeypatch.setattr(memory, "system_available", lambda: 2**40)
    unlimited = memory.resource.RLIM_INFINITY
    limits = {memory.resource.RLIMIT_AS: (3 * 2**30, unlimited)}
    monkeypatch.setattr(
        memory.resource, "getrlimit", lambda which: limits.get(which, (unlimited, unlimited))
    )
    assert memory.allocatable() == (3 * 2**30, "ulimit -v")


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


def test_a_tensor_file_of_another_tool_says_its_json_is_absent_not_interrupted(tmp_path, capsys):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    code, line = one_line(capsys, generate(path))
    assert code == 2 and line == f"rnn-tui: error: {path} has no other.json beside it: {PAIR}"


def test_a_link_to_a_checkpoint_s_tensor_file_says_its_json_is_absent(tmp_path, capsys):
    link = tmp_path / "tms.safetensors"
    link.symlink_to(LM)
    code, line = one_line(capsys, generate(link))
    assert code == 2 and line == f"rnn-tui: error: {link} has no tms.json beside it: {PAIR}"


def test_a_link_to_a_checkpoint_s_json_reads_the_tensor_file_beside_its_target(tmp_path):
    link = tmp_path / "tmj.json"
    link.symlink_to(LM.with_suffix(".json"))
    checkpoint = load_checkpoint(link)
    assert checkpoint.tensors_path == LM
    assert checkpoint.path == tmp_path / "tmj.safetensors"
    # A copied pair still reads its own tensor file, not the original's.
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(LM.with_suffix(".json"), copy / "c.json")
    shutil.copyfile(LM, copy / "c.safetensors")
    assert load_checkpoint(copy / "c.json").tensors_path == copy / "c.safetensors"


def test_a_pair_of_links_into_separate_stores_reads_the_link_beside_the_json(tmp_path):
    # Every file a link into its own object folder (as annexed or tracked data is laid out):
    # the tensor file's link is beside the JSON's, not beside its target.
    objects, work = tmp_path / "objects", tmp_path / "work"
    for folder in (objects / "a", objects / "b", work):
        folder.mkdir(parents=True)
    shutil.copyfile(LM.with_suffix(".json"), objects / "a" / "OBJ1")
    shutil.copyfile(LM, objects / "b" / "OBJ2")
    (work / "tm.json").symlink_to(objects / "a" / "OBJ1")
    (work / "tm.safetensors").symlink_to(objects / "b" / "OBJ2")
    assert load_checkpoint(work / "tm.json").tensors_path == work / "tm.safetensors"
    assert load_checkpoint(work / "tm.safetensors").tensors_path == work / "tm.safetensors"


def test_a_vocabulary_token_with_a_lone_surrogate_is_refused_naming_it(tmp_path, capsys):
    # JSON may write a surrogate alone ("\\ud800"): generating from such a token printed a
    # traceback (UnicodeEncodeError) instead of text.
    meta = json.loads(LM.with_suffix(".json").read_text(encoding="utf-8"))
    meta["vocab"]["idx_to_token"][2] = "\ud800"
    (tmp_path / "x.json").write_text(json.dumps(meta), encoding="utf-8")
    shutil.copyfile(LM, tmp_path / "x.safetensors")
    code, line = one_line(capsys, generate(tmp_path / "x.json"))
    assert code == 2
    assert "vocab.idx_to_token[2] holds a lone surrogate (\\ud800), not Unicode text" in line
