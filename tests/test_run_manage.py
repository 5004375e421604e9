"""rnn_tui.runs.manage: continue, rename and delete a run directory — only that one, and never
while a trainer holds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_tui.runs import lock
from rnn_tui.runs.manage import check_name, delete_run, rename_run, resume_command
from rnn_tui.runs.rundir import RunDir, RunError


def make_run(root: Path, name: str = "run") -> Path:
    run = RunDir(root / name)
    run.write_config({"task": "lm", "model": "gru", "epochs": 2})
    run.log("epoch", epoch=1, epochs=2, val_ppl=9.0)
    (run.path / "checkpoints").mkdir(exist_ok=True)
    (run.path / "checkpoints" / "last.safetensors").write_bytes(b"x")
    return run.path


def test_rename_moves_only_the_run(tmp_path):
    folder = make_run(tmp_path)
    neighbour = make_run(tmp_path, "other")
    target = rename_run(folder, "  gru-baseline ")
    assert target == tmp_path / "gru-baseline" and not folder.exists()
    assert (target / "checkpoints" / "last.safetensors").read_bytes() == b"x"
    assert neighbour.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == [
        "gru-baseline",
        "other",
    ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("a/b", "not a folder name"),
        ("..", "not a folder name"),
        (".hidden", "not a folder name"),
        ("x" * 101, "at most 100"),
        ("tab\there", "control characters"),
        ("other", "already exists"),
    ],
)
def test_a_bad_name_is_one_line_and_nothing_moves(tmp_path, name, problem):
    folder = make_run(tmp_path)
    make_run(tmp_path, "other")
    with pytest.raises(RunError, match=problem):
        rename_run(folder, name)
    assert folder.is_dir()


def test_delete_removes_the_run_and_nothing_else(tmp_path):
    folder = make_run(tmp_path)
    outside = tmp_path / "keep.txt"
    outside.write_text("keep")
    (folder / "link").symlink_to(outside)  # a link inside: removed, its target kept
    delete_run(folder)
    assert not folder.exists() and outside.read_text() == "keep"


def test_a_folder_that_is_no_run_is_refused(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("mine")
    for act in (lambda p: delete_run(p), lambda p: rename_run(p, "x")):
        with pytest.raises(RunError, match="not a run directory"):
            act(tmp_path / "plain")
    assert (tmp_path / "plain" / "notes.txt").exists()
    link = tmp_path / "link"
    link.symlink_to(make_run(tmp_path))
    with pytest.raises(RunError, match="is a link"):
        delete_run(link)
    assert (tmp_path / "run").is_dir()


@pytest.mark.skipif(lock.fcntl is None, reason="no flock on this platform")
def test_a_run_a_trainer_holds_is_refused(tmp_path):
    folder = make_run(tmp_path)
    # Another process holds the trainer lock, as a live trainer does.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from rnn_tui.runs import lock\n"
         f"fd = lock.acquire(__import__('pathlib').Path({str(folder / 'trainer.lock')!r}))\n"
         "print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match=f"is training \\(pid {holder.pid}\\): stop it first"):
            delete_run(folder)
        with pytest.raises(RunError, match="is training"):
            rename_run(folder, "new")
        assert folder.is_dir()
    finally:
        holder.kill()
        holder.wait()
    delete_run(folder)  # the lock went with its process
    assert not folder.exists()


def test_resume_command_checks_epochs_by_the_options_declaration(tmp_path):
    folder = make_run(tmp_path)
    argv = resume_command(folder, "12")
    assert argv[1:] == ["-m", "rnn_tui", "train", "--resume", str(folder), "--epochs", "12"]
    assert resume_command(folder, 3)[-1] == "3"
    for bad in ("0", "x", "2.5", "10000001", -1):
        with pytest.raises(RunError, match=r"epochs must be an integer in \[1, 1,000,000\]"):
            resume_command(folder, bad)
    with pytest.raises(RunError, match="does not exist"):
        resume_command(tmp_path / "gone", 5)


def test_check_name_strips(tmp_path):
    assert check_name("  a b  ", tmp_path) == "a b"


def test_a_name_past_the_file_systems_limit_is_refused_in_bytes(tmp_path):
    """100 characters, the limit in characters, of emoji are 400 bytes: past the 255 a folder
    name may hold. The check said it was free, and the rename raised a traceback."""
    with pytest.raises(RunError, match=r"at most 255 bytes \(got 400\)"):
        check_name("🎉" * 100, tmp_path)
    assert check_name("é" * 100, tmp_path) == "é" * 100  # 200 bytes: fits
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(RunError, match="already exists"):
        check_name("link", tmp_path)  # a dangling link is taken too


def test_a_real_run_continues_to_more_epochs(tmp_path):
    """`rnn-tui train` for 1 epoch, then the resume command the app runs: 2 epochs in all."""
    run = tmp_path / "tiny"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    base = [sys.executable, "-m", "rnn_tui", "train", "--model", "gru", "--hidden", "8",
            "--max-tokens", "1500", "--batch-size", "8", "--num-steps", "10",
            "--sample-every", "0", "--device", "cpu"]  # fmt: skip
    first = subprocess.run([*base, "--epochs", "1", "--run-dir", str(run)], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert first.returncode == 0, first.stderr
    resumed = subprocess.run(resume_command(run, 2), env=env, capture_output=True, text=True,
                             timeout=120)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    lines = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    epochs = [json.loads(line)["epoch"] for line in lines if '"event": "epoch"' in line]
    assert epochs == [1, 2]
