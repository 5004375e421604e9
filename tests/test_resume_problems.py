"""What --resume, a new run and a checkpoint load say when a run's files are not what they
should be: each message names what is wrong, and none advises deleting a run with results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import call, tiny_args, tiny_corpus

from rnn_tui.cli import main


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished two-epoch run, copied by each test before it is damaged."""
    corpus = tiny_corpus(tmp_path_factory)
    run = tmp_path_factory.mktemp("finished") / "run"
    assert main(tiny_args(corpus, "--run-dir", str(run))) == 0
    return run


def _copy(finished: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    return run


def test_resume_names_a_missing_config(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path)
    (run / "config.json").unlink()
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and "has no config.json" in err and len(err.splitlines()) == 1, err


def test_resume_names_a_config_that_is_a_folder(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path)
    (run / "config.json").unlink()
    (run / "config.json").mkdir()
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and f"{run / 'config.json'} is a directory, not a file" in err, err


def test_checkpoints_replaced_by_a_file_are_named_and_the_run_is_not_to_be_removed(
    finished, tmp_path, capsys
):
    run = _copy(finished, tmp_path)
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").write_text("")
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and f"{run / 'checkpoints'} is a file, not the folder" in err, err
    assert "remove" not in err and "ended before" not in err


def test_a_runs_folder_that_is_a_file_is_named_so(tmp_path_factory, tmp_path, capsys, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("RNN_TUI_RUNS", str(afile))
    code, _, err = call(tiny_args(tiny_corpus(tmp_path_factory), "--epochs", "1"), capsys)
    assert code == 2 and f"runs folder {afile}: it is not a folder" in err, err
    assert "File exists" not in err


def test_a_tensor_file_that_is_a_folder_is_not_called_a_text_file(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path)
    for tensors in (run / "checkpoints").glob("*.safetensors"):
        tensors.unlink()
        tensors.mkdir()
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and "is a directory, not a file" in err and "text" not in err, err


def test_a_nan_in_the_partial_epoch_is_refused_and_the_run_keeps_its_status(
    finished, tmp_path, capsys
):
    import json

    run = _copy(finished, tmp_path)
    last = run / "checkpoints" / "last.json"
    meta = json.loads(last.read_text(encoding="utf-8"))
    meta["partial"] = {**meta.get("partial", {}), "loss_sum": float("nan")}
    last.write_text(json.dumps(meta), encoding="utf-8")
    status = (run / "status.json").read_bytes()
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.strip().endswith(
        "malformed training progress in the checkpoint: partial.loss_sum is nan"
    )
    assert (run / "status.json").read_bytes() == status


def test_an_option_of_another_task_is_named_as_such_on_resume(finished, capsys):
    # "--num-examples cannot change on --resume" of a language model, which has none.
    code, _, err = call(["train", "--resume", str(finished), "--num-examples", "5"], capsys)
    assert (code, err) == (
        2,
        "rnn-tui: error: --num-examples does not apply to --task lm (the run resumed)\n",
    )
    code, _, err = call(["train", "--resume", str(finished), "--hidden", "3"], capsys)
    assert code == 2 and "--hidden cannot change on --resume" in err


def test_a_runs_folder_in_a_loop_of_links_says_so(tmp_path_factory, tmp_path, capsys, monkeypatch):
    # It was "it is not a folder", where `rnn-tui runs` said the truth.
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "a"))
    code, _, err = call(tiny_args(tiny_corpus(tmp_path_factory), "--epochs", "1"), capsys)
    assert code == 2 and "Too many levels of symbolic links" in err, err
