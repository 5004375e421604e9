"""Where a language model's samples start: the seeds' "time traveller", or, for a corpus whose
vocabulary lacks its tokens, the corpus's own opening (data.prefix.corpus_prefix, the lm task),
and the Generate screen's prefix field following a chosen checkpoint."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.data.prefix import corpus_prefix, encode_prefix, tokenize_prefix
from rnn_tui.data.vocab import UNK
from rnn_tui.train.config import Config
from rnn_tui.train.tasks.lm import LanguageModelTask

CPU = torch.device("cpu")


# ---------------------------------------------------------------------------------------------
# corpus_prefix


@pytest.mark.parametrize(
    ("tokens", "token", "length", "expected"),
    [
        (list("  \nabc def"), "char", 5, "abc d"),  # leading blanks skipped
        (list("ab\ncd"), "char", 5, "ab"),  # stops at a line end
        (list("ab") + [UNK] + list("cd"), "char", 5, "ab"),  # and at <unk>
        (list("ab  cd"), "char", 4, "ab"),  # no trailing blank
        (["the", "time", "machine"], "word", 2, "the time"),
        ([UNK, "x"], "word", 2, None),
        ([" ", "\n"], "char", 3, None),
        ([], "char", 3, None),
    ],
)
def test_corpus_prefix_takes_the_opening_tokens(tokens, token, length, expected):
    assert corpus_prefix(tokens, token, length) == expected


@given(
    st.lists(st.sampled_from(["a", "é", "語", " ", "\n", "\t", UNK, "!"]), max_size=30),
    st.integers(1, 20),
)
def test_corpus_prefix_reads_back_as_its_own_tokens(tokens, length):
    """What it returns is one printable line that tokenizes (raw) into known tokens, at most
    `length` of them, taken in order from the opening."""
    prefix = corpus_prefix(tokens, "char", length)
    if prefix is None:
        return
    assert prefix.isprintable() and prefix.strip() == prefix
    read = tokenize_prefix(prefix, "char", "raw")
    assert 0 < len(read) <= length and UNK not in read
    text = "".join(tokens)
    assert prefix in text


# ---------------------------------------------------------------------------------------------
# The language-model task


def lm_config(corpus, **overrides) -> Config:
    options = dict(
        corpus=str(corpus),
        model="rnn",
        hidden=8,
        batch_size=2,
        num_steps=5,
        epochs=1,
        device="cpu",
        mode="raw",
    )
    options.update(overrides)
    return Config("lm", **options)


@pytest.fixture
def cjk_corpus(tmp_path):
    path = tmp_path / "cjk.txt"
    poem = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\n"
    path.write_text("\n" + poem * 20, encoding="utf-8")
    return path


def test_a_corpus_without_the_seed_prefix_samples_from_its_opening(cjk_corpus):
    task = LanguageModelTask(lm_config(cjk_corpus), CPU)
    assert task.config.prefix == "春眠不觉晓，处处闻啼鸟。夜来"  # 14 characters, like the seeds'
    assert task.sample_prefix == task.config.prefix
    assert encode_prefix(task.config.prefix, task.vocab, "char", "raw").unknown == []
    (note,) = task.notes()
    assert note.startswith("samples start from the corpus's opening '春眠不觉晓")
    # t, i, m, e, r, a, v, l and the space: the corpus has none of them.
    assert "('time traveller' has 9 characters outside the vocabulary; --prefix" in note


def test_a_prefix_the_user_gave_is_kept_and_its_unknown_tokens_named(cjk_corpus):
    task = LanguageModelTask(lm_config(cjk_corpus, prefix="ab春"), CPU)
    assert task.config.prefix == "ab春"
    assert task.notes() == ["samples: 2 prefix tokens not in the vocabulary → <unk>: 'a', 'b'"]


def test_the_seeds_corpus_keeps_the_seeds_prefix(tmp_path):
    path = tmp_path / "tm.txt"
    path.write_text("the time traveller was here\n" * 40, encoding="utf-8")
    task = LanguageModelTask(lm_config(path, mode="clean"), CPU)
    assert task.config.prefix == "time traveller"
    assert task.notes() == []
    words = LanguageModelTask(lm_config(path, mode="clean", token="word"), CPU)
    assert words.config.prefix == "time traveller" and words.notes() == []


def test_without_samples_the_prefix_is_not_looked_at(cjk_corpus):
    task = LanguageModelTask(lm_config(cjk_corpus, sample_every=0), CPU)
    assert task.config.prefix == "time traveller" and task.notes() == []


def test_word_level_takes_as_many_words_as_the_seeds_prefix(tmp_path):
    path = tmp_path / "fr.txt"
    path.write_text("il était une fois un voyageur du temps\n" * 30, encoding="utf-8")
    task = LanguageModelTask(lm_config(path, token="word", mode="clean"), CPU)
    assert task.config.prefix == "il tait"  # clean mode: "é" is not a letter of [A-Za-z]
    assert "('time traveller' has 2 words outside the vocabulary" in task.notes()[0]


def test_the_characters_a_clean_model_reads_as_spaces_are_named():
    # README: the note names them ('9', '!', 'É'); train said nothing where generate did.
    config = Config("lm", device="cpu", max_tokens=5000, prefix="9! Énorme", sample_every=1)
    task = LanguageModelTask(config, CPU)
    assert task.notes() == [
        "samples: cleaned as the corpus was (letters a–z only): '9', '!', 'É' read as spaces"
    ]
