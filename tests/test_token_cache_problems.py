"""A token cache that cannot be written is said once (one line), not paid for silently on every
run; an empty folder left where an entry's file goes is cleared and the entry written again."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import call, tiny_args, tiny_corpus

from rnn_tui.data.sources import read_text
from rnn_tui.data.token_cache import CACHE_ENV, load_cached, load_token_array


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "tm.txt"
    path.write_text(read_text("timemachine")[:20_000], encoding="utf-8")
    return path


def _load(corpus: Path) -> list[str]:
    problems: list[str] = []
    load_token_array(str(corpus), token="char", cache_problem=problems.append)
    return problems


def test_a_cache_path_that_is_a_file_is_said(corpus, tmp_path, monkeypatch):
    plain = tmp_path / "plain"
    plain.write_text("x")
    monkeypatch.setenv(CACHE_ENV, str(plain))
    (line,) = _load(corpus)
    assert line.startswith(f"warning: token cache not used ({plain} is not a folder)")
    assert CACHE_ENV in line and "\n" not in line
    assert plain.read_text() == "x"


def test_a_cache_path_that_cannot_be_made_is_said(corpus, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "/proc/nonexistent/x")
    (line,) = _load(corpus)
    assert "token cache not used (/proc/nonexistent" in line


def test_an_empty_folder_in_place_of_an_entry_is_cleared_and_the_entry_written(
    corpus, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    assert _load(corpus) == []
    (npy,) = cache.glob("*.npy")
    npy.unlink()
    npy.mkdir()  # replaced by a folder (by hand, or a tool)
    assert _load(corpus) == []
    assert npy.is_file() and load_cached(npy.stem, cache) is not None


def test_a_folder_with_files_in_place_of_an_entry_is_kept_and_said(corpus, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    assert _load(corpus) == []
    (npy,) = cache.glob("*.npy")
    npy.unlink()
    npy.mkdir()
    (npy / "mine.txt").write_text("keep")
    (line,) = _load(corpus)
    assert f"token cache not used ({npy}" in line
    assert (npy / "mine.txt").read_text() == "keep"


def test_train_says_once_that_the_cache_is_not_used(
    tmp_path, tmp_path_factory, monkeypatch, capsys
):
    plain = tmp_path / "plain"
    plain.write_text("x")
    monkeypatch.setenv(CACHE_ENV, str(plain))
    corpus = tiny_corpus(tmp_path_factory)
    code, _, err = call(
        tiny_args(corpus, "--run-dir", str(tmp_path / "run"), "--epochs", "1"), capsys
    )
    assert code == 0, err
    assert err.count("token cache not used") == 1, err
