"""A run saves the files it reads by their absolute paths, so `--resume` continues it from any
folder; a run that saved a relative path (before) says how to go on (cli/file_options.py)."""

from __future__ import annotations

import json
import os
import shutil

from cli_helpers import call, tiny_args, tiny_corpus
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.cli.file_options import absolute_files, same_file


def _config(run) -> dict:
    return json.loads((run / "config.json").read_text(encoding="utf-8"))


def test_a_relative_corpus_is_saved_absolute_and_resumes_from_another_folder(
    tmp_path_factory, tmp_path, capsys, monkeypatch
):
    # Saved as typed ("c/book.txt"), the run resumed from another folder stopped with "corpus
    # file not found", and the full path given was refused as a change.
    (tmp_path / "c").mkdir()
    shutil.copy(tiny_corpus(tmp_path_factory), tmp_path / "c" / "book.txt")
    (tmp_path / "elsewhere").mkdir()
    run = tmp_path / "run"
    monkeypatch.chdir(tmp_path)
    args = tiny_args("c/book.txt", "--run-dir", str(run), "--epochs", "1")
    assert call(args, capsys)[0] == 0
    assert _config(run)["corpus"] == str(tmp_path / "c" / "book.txt")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert call(["train", "--resume", str(run), "--epochs", "2"], capsys)[0] == 0
    # The same file by another spelling is no change; another file is.
    again = ["train", "--resume", str(run), "--epochs", "3", "--corpus", "../c/../c/book.txt"]
    assert call(again, capsys)[0] == 0
    assert _config(run)["corpus"] == str(tmp_path / "c" / "book.txt")
    (tmp_path / "other.txt").write_text("another text", encoding="utf-8")
    code, _, err = call(
        ["train", "--resume", str(run), "--epochs", "4", "--corpus", "../other.txt"], capsys
    )
    assert code == 2 and "--corpus cannot change on --resume" in err


def test_a_run_that_saved_a_relative_corpus_says_how_to_resume_it(
    tmp_path_factory, tmp_path, capsys, monkeypatch
):
    (tmp_path / "c").mkdir()
    shutil.copy(tiny_corpus(tmp_path_factory), tmp_path / "c" / "book.txt")
    (tmp_path / "elsewhere").mkdir()
    run = tmp_path / "run"
    monkeypatch.chdir(tmp_path)
    assert call(tiny_args("c/book.txt", "--run-dir", str(run), "--epochs", "1"), capsys)[0] == 0
    config = _config(run)
    config["corpus"] = "c/book.txt"  # as the runs made before saved it
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, out, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "--corpus file not found: c/book.txt (the run saved it relative to the folder" in err
    full = str(tmp_path / "c" / "book.txt")
    resumed = ["train", "--resume", str(run), "--epochs", "2", "--corpus", full]
    assert call(resumed, capsys)[0] == 0
    assert _config(run)["corpus"] == full


def test_bundled_names_and_pipes_are_not_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    given = {"corpus": "timemachine", "pairs": "fra-eng", "series": "/dev/fd/63", "hidden": 8}
    assert absolute_files(given) == given
    assert absolute_files({"series": "s.csv"}) == {"series": str(tmp_path / "s.csv")}


@given(st.lists(st.sampled_from(["a", "b", "..", "."]), min_size=1, max_size=5))
def test_a_relative_path_matches_only_the_absolute_paths_ending_with_it(parts):
    saved = "/".join(parts)
    matches = same_file(saved, "/home/u/" + saved)
    tidy = os.path.normpath(saved)  # a/b/.. is a: what the file system reads there
    assert matches == (tidy != "." and ".." not in tidy.split("/"))
    assert not same_file(saved, "/home/u/z")


def test_the_train_header_names_a_saved_path_by_its_file():
    # The title row of an 80-column terminal has room for the file's name, not its folders.
    from rnn_tui.runs.format import fmt_file_name

    assert fmt_file_name("/home/u/books/wiki.txt") == "wiki.txt"
    assert fmt_file_name("timemachine") == "timemachine"
    assert fmt_file_name("/dev/fd/63") == "/dev/fd/63"
