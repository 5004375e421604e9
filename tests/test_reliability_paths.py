"""Paths that cannot be looked at (issue 13, bad input of the kinds already tried).

pathlib's exists(), is_dir() and is_file() raise (Python 3.11) for a name too long or a
folder on the way without permission. `--run-dir`, `--resume`, `--checkpoint NAME` and
`runs --dir` gave a traceback, and opening such a run folder on the Train screen closed the
app. Every such path is now one line naming it and the OS's reason.
"""

from __future__ import annotations

import errno
import os

import pytest
from cli_helpers import one_line

import rnn_tui.cli as cli
from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.checkpoint import load_checkpoint
from rnn_tui.files import FileProblem, look
from rnn_tui.quoting import LINE_CHARS
from rnn_tui.runs.rundir import RunDir, RunError, check_run_dir

SHIPPED_LM = "timemachine-char-lstm"
TOO_LONG = "n" * 5000  # past NAME_MAX (255) and PATH_MAX (4,096)


def refuse_stat(monkeypatch, word: str) -> None:
    """os.stat (and so pathlib) raises PermissionError for any path holding `word`, as for a
    folder on the way that may not be searched (root may search any folder)."""
    real_stat = os.stat

    def refusing(path, *args, **kwargs):
        if word in str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", refusing)


# -- paths that cannot be looked at ------------------------------------------------------------


def test_look_tells_missing_from_unreadable(tmp_path):
    assert look(tmp_path / "missing") is None
    assert look(tmp_path / "file.txt" / "below") is None  # a part that is not a folder: missing
    (tmp_path / "file.txt").write_text("x")
    assert look(tmp_path / "file.txt") is not None
    with pytest.raises(FileProblem, match="cannot look at run folder .*: File name too long"):
        look(tmp_path / TOO_LONG, "run folder")


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--run-dir", TOO_LONG, "--epochs", "1"],
        ["train", "--resume", TOO_LONG],
        ["generate", "--prefix", "x", "--checkpoint", TOO_LONG],
        ["classify", "--checkpoint", TOO_LONG, "smith"],
        ["runs", "--dir", TOO_LONG],
    ],
    ids=["run-dir", "resume", "checkpoint", "classify", "runs"],
)
def test_a_name_too_long_is_one_line(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, err = one_line(capsys, argv)
    assert code == 2 and "File name too long" in err, err
    assert len(err) <= LINE_CHARS + 40


def test_a_folder_without_permission_is_one_line(capsys, tmp_path, monkeypatch):
    """pathlib raises PermissionError where a folder on the way cannot be searched. Root may
    search any folder, so the refusal is made to happen where the path is looked at."""
    refuse_stat(monkeypatch, "locked")
    locked = str(tmp_path / "locked" / "run")
    for argv in (
        ["train", "--run-dir", locked, "--epochs", "1"],
        ["train", "--resume", locked],
        ["runs", "--dir", locked],
    ):
        code, err = one_line(capsys, argv)
        assert code == 2 and "cannot look at" in err and "Permission denied" in err, err
    with pytest.raises(CheckpointError, match="Permission denied"):
        load_checkpoint(locked)
    with pytest.raises(RunError, match="Permission denied"):
        check_run_dir(locked)


def test_a_runs_folder_that_cannot_be_read_is_not_listed_as_empty(capsys, tmp_path, monkeypatch):
    real_scandir = os.scandir

    def refusing(path=".", *args):
        if str(path) == str(tmp_path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", refusing)
    code, err = one_line(capsys, ["runs", "--dir", str(tmp_path)])
    assert code == 2 and err.endswith(f"cannot read the runs folder {tmp_path}: Permission denied")


def test_a_run_file_that_cannot_be_looked_at_is_not_called_missing(tmp_path):
    with pytest.raises(RunError, match="cannot look at .*File name too long"):
        RunDir(tmp_path / TOO_LONG).read_config()
    with pytest.raises(RunError, match="does not exist"):
        RunDir(tmp_path / "missing").read_config()


def test_any_other_os_error_a_command_meets_is_one_line(capsys, monkeypatch):
    def run(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/somewhere/x")

    monkeypatch.setattr(cli, "_run", run)
    code, err = one_line(capsys, ["runs"])
    assert (code, err) == (2, "rnn-tui: error: Permission denied: /somewhere/x")


# -- the app -----------------------------------------------------------------------------------


async def test_a_run_folder_too_long_to_look_at_keeps_the_app_up(tui, tmp_path, monkeypatch):
    from textual.widgets import Input

    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        await pilot.press("f3")
        await tui.settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#run-path", Input).value = str(tmp_path / TOO_LONG)
        await pilot.press("enter")
        await tui.settle(pilot)
        assert app.is_running
        (error,) = tui.errors(app)
        assert error.startswith("cannot look at run directory") and "File name too long" in error


def test_checkpoints_are_still_found_beside_a_runs_folder_that_cannot_be_read(
    tmp_path, monkeypatch
):
    """The pickers' search raised PermissionError for a runs folder it could not read, and the
    Generate screen said "looking for checkpoints…" for good."""
    from rnn_tui.runs.discover import discover_checkpoints

    refuse_stat(monkeypatch, "locked")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "locked" / "checkpoints"))
    found = discover_checkpoints(runs_root=tmp_path / "locked" / "runs")
    assert {e["name"] for e in found} >= {"timemachine-char-lstm", "fra-eng-gru"}


async def test_a_failed_search_does_not_say_it_is_still_looking(tui, monkeypatch):
    from textual.widgets import Static

    import rnn_tui.tui.widgets.checkpoint_picker as picker
    from rnn_tui.tui.app import RnnTuiApp

    def failing(**kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "/somewhere/runs")

    monkeypatch.setattr(picker, "discover_checkpoints", failing)
    monkeypatch.setattr(RnnTuiApp, "DEFAULT_MODE", "generate")
    app = tui.make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        facts = app.screen.query_one(picker.CheckpointPicker).query_one(".facts", Static)
        assert str(facts.render()) == "could not look for checkpoints: type a path"
        assert app.is_running and "Permission denied" in tui.errors(app)[-1]


def test_a_trainer_that_cannot_start_names_what_it_could_not_open(tmp_path):
    """The app's notification said only "cannot start the trainer: Permission denied"."""
    from rnn_tui.runs.process import TrainProcess

    run = tmp_path / "run"
    (run / "train.log").mkdir(parents=True)  # where the child's output would go
    with pytest.raises(RunError, match=r"cannot start the trainer: Is a directory \(.*train.log\)"):
        TrainProcess(["true"], run).start()


@pytest.mark.parametrize(
    "name", ["x" * 300 + ".safetensors", "../up.safetensors", "x.pt"], ids=["long", "up", "pt"]
)
def test_a_checkpoint_json_naming_an_impossible_tensor_file_is_one_line(tmp_path, name):
    """A tensor file name past 255 bytes made pathlib raise "File name too long" from the
    check that the file is there; now every bad name is refused as one, quoted short."""
    import json
    import shutil

    from rnn_tui.runs.discover import SHIPPED_DIR

    source = SHIPPED_DIR / f"{SHIPPED_LM}.json"
    meta = json.loads(source.read_text(encoding="utf-8"))
    shutil.copy(SHIPPED_DIR / meta["tensors_file"], tmp_path)
    meta["tensors_file"] = name
    (tmp_path / "cp.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CheckpointError, match="names a bad tensor file") as caught:
        load_checkpoint(tmp_path / "cp.json")
    assert len(str(caught.value)) < len(str(tmp_path)) + 140
