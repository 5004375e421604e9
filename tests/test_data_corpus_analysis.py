"""analyze_corpus: a corpus with its vocabulary counts and n-gram statistics, as the Dataset
screen shows them."""

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
    assert analysis.freqs == [0, 4, 2]
    stats = analysis.ngrams
    assert stats.token == "word" and stats.vocab_size == 3
    assert list(stats.flat) == "the cat sat on the mat the cat ate the rat".split()
    assert set(stats.top) == set(stats.zipf) == set(NGRAM_ORDERS) == {1, 2, 3}
    assert stats.top[1] == [(("the",), 4), (("cat",), 2)]
    assert stats.top[2] == [(("the", "cat"), 2), (("cat", "sat"), 1)]
    assert stats.zipf[1].dtype == float
    np.testing.assert_array_equal(stats.zipf[1], [4, 2, 1, 1, 1, 1, 1])
    assert stats.zipf[3].sum() == 11 - 2  # every trigram of the 11-token stream


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
