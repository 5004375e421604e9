"""analyze_corpus: a corpus with its vocabulary counts and n-gram statistics, as the Dataset
screen shows them."""

import gc

import numpy as np
import pytest

from rnn_tui.data.corpus_analysis import NGRAM_ORDERS, CorpusRequest, analyze_corpus
from rnn_tui.data.errors import DataError


def test_a_small_file_gives_counts_in_vocabulary_order(tmp_path):
    path = tmp_path / "cats.txt"
    path.write_text("The cat sat on the mat.\nThe cat ate the rat!\n", encoding="utf-8")
    request = CorpusRequest(str(path), token="word", mode="clean", min_freq=2)
    analysis = analyze_corpus(request, top_k=2)
    assert analysis.request is request
    vocab = analysis.corpus.vocab
    # min_freq 2 keeps "the" (4) and "cat" (2); the other five words are <unk>.
    assert vocab.idx_to_token == ["<unk>", "the", "cat"]
    # <unk> counts the five words read as it (d2l's token_freqs would say 0).
    assert analysis.freqs.tolist() == [5, 4, 2]
    stats = analysis.ngrams
    assert stats.token == "word" and stats.vocab_size == 3
    # The stream as the vocabulary reads it (the perplexity's): rare words are <unk>.
    assert list(stats.flat) == ("the cat <unk> <unk> the <unk> the cat <unk> the <unk>".split())
    assert set(stats.top) == set(stats.zipf) == set(NGRAM_ORDERS) == {1, 2, 3}
    assert stats.top[1] == [(("the",), 4), (("cat",), 2)]
    assert stats.top[2] == [(("the", "cat"), 2), (("cat", "sat"), 1)]
    assert stats.zipf[1].dtype == float
    np.testing.assert_array_equal(stats.zipf[1], [4, 2, 1, 1, 1, 1, 1])
    assert stats.zipf[3].sum() == 11 - 2  # every trigram of the 11-token stream


@pytest.mark.parametrize("min_freq", [0, 2])
def test_the_corpus_stream_is_the_text_as_written_whatever_min_freq(tmp_path, min_freq):
    """`corpus.flat` (the partitions' stream) has every word as written; `ngrams.flat` (the
    perplexity's) has those under min_freq as <unk>. With min_freq 0 both read the Vocab."""
    path = tmp_path / "cats.txt"
    path.write_text("The cat sat on the mat.\nThe cat ate the rat!\n", encoding="utf-8")
    analysis = analyze_corpus(CorpusRequest(str(path), min_freq=min_freq))
    words = "the cat sat on the mat the cat ate the rat".split()
    assert list(analysis.corpus.flat) == words
    assert analysis.corpus.flat[2:5] == ["sat", "on", "the"]
    kept = {"the", "cat"} if min_freq else set(words)
    assert list(analysis.ngrams.flat) == [w if w in kept else "<unk>" for w in words]
    assert analysis.corpus.num_lines == 2


def test_char_tokens_and_the_time_machine():
    analysis = analyze_corpus(CorpusRequest("timemachine", token="char"))
    assert analysis.ngrams.token == "char"
    assert analysis.ngrams.vocab_size == len(analysis.corpus.vocab) == 28
    assert all(len(analysis.ngrams.top[n]) == 10 for n in NGRAM_ORDERS)
    assert sum(analysis.freqs) == analysis.corpus.num_tokens == 170580


def test_bad_input_raises_a_data_error(tmp_path):
    with pytest.raises(DataError):
        analyze_corpus(CorpusRequest(str(tmp_path / "missing.txt")))
    with pytest.raises(DataError):
        analyze_corpus(CorpusRequest("timemachine", token="byte"))


@pytest.mark.parametrize(
    ("text", "min_freq", "says"),
    [("123 456\n", 0, "nothing left after cleaning"), ("a b a\n", 3, "min-freq 3 leaves no token")],
)
def test_a_text_left_empty_is_refused_before_the_ngrams_are_counted(
    tmp_path, monkeypatch, text, min_freq, says
):
    """The n-grams are counted before the Vocab is built (the peak memory is lower): a text
    that cleaning empties, or min_freq empties, must not cost their count first."""
    import rnn_tui.data.corpus_analysis as corpus_analysis

    def counted(*args, **kwargs):
        raise AssertionError("n-grams counted for a refused text")

    monkeypatch.setattr(corpus_analysis, "counts_and_top", counted)
    path = tmp_path / "digits.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=says):
        analyze_corpus(CorpusRequest(str(path), min_freq=min_freq))


def test_what_the_screen_keeps_of_a_big_vocabulary_is_not_walked_by_the_collector(tmp_path):
    """A 100 MB file has millions of distinct words, and a collection that walks a list of
    them stalls the app for a tenth of a second: nothing the analysis keeps reaches a list,
    tuple, dict or set of as many items (the tables are TokenLists and arrays), and no token
    → index dict is built (growing one of millions holds the GIL as long)."""
    words = [f"w{i}" for i in range(3000)]
    path = tmp_path / "many.txt"
    path.write_text(" ".join(words + words[:100]) + "\n", encoding="utf-8")
    analysis = analyze_corpus(CorpusRequest(str(path), token="word", mode="raw"))
    assert len(analysis.corpus.vocab) == 3001
    assert analysis.corpus.vocab._token_to_idx is None
    seen, todo, big = set(), [analysis], []
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        if isinstance(obj, list | tuple | dict | set) and len(obj) >= 1000:
            big.append((type(obj).__name__, len(obj)))
        todo.extend(gc.get_referents(obj))
    assert big == []
    assert analysis.corpus.flat[-2:] == ["w98", "w99"]


@pytest.mark.parametrize("min_freq", [0, 3])
def test_the_screen_s_trigram_perplexity_is_the_train_baseline(min_freq):
    # With min_freq 3 the screen fitted the raw words (1,397.9) beside a vocabulary of 1,420,
    # where the Train screen's baseline, over the same words as <unk>, was 265.7.
    from rnn_tui.data.ngrams import NGRAM_NAMES
    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer
    from rnn_tui.tui.widgets.ngram_panel import _perplexity

    config = Config("lm", token="word", min_freq=min_freq, model="rnn", hidden=8, device="cpu")
    task = Trainer(config).task
    baseline = task.baseline()  # the order that scores best: the unigram on raw words
    order = {name: n for n, name in NGRAM_NAMES.items()}[task.baseline_name]
    assert order == 1
    request = CorpusRequest("timemachine", token="word", min_freq=min_freq)
    screen = _perplexity(analyze_corpus(request).ngrams.flat, n=order, eps=1.0)
    assert screen.perplexity == pytest.approx(baseline, rel=1e-9)
