"""n-gram counts and the seeds' Laplace-smoothed n-gram model."""

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data.corpus import load_corpus
from rnn_tui.data.errors import DataError
from rnn_tui.data.ngrams import (
    LaplaceNGramLM,
    count_ngrams,
    ngram_perplexity,
    ngrams,
    top_ngrams,
    top_ngrams_by_order,
    zipf_series,
)

SMALL = "the cat sat on the mat the cat ate the rat".split()


@pytest.fixture(scope="module")
def words():
    return load_corpus("timemachine", token="word").flat


def test_ngrams_zip_the_stream():
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a", "b", "c"], 1) == [("a",), ("b",), ("c",)]
    assert ngrams(["a"], 3) == []
    with pytest.raises(DataError):
        ngrams(["a"], 0)


def test_counts_top_and_zipf():
    counts = count_ngrams(SMALL, 2)
    assert counts[("the", "cat")] == 2
    assert sum(counts.values()) == len(SMALL) - 1
    assert top_ngrams(SMALL, 1, 2) == [(("the",), 4), (("cat",), 2)]
    # Ties keep first-seen order: (cat, sat) appears before (cat, ate).
    assert top_ngrams(SMALL, 2, 3) == [(("the", "cat"), 2), (("cat", "sat"), 1), (("sat", "on"), 1)]
    assert zipf_series(SMALL, 1) == [4, 2, 1, 1, 1, 1, 1]
    assert top_ngrams(SMALL, 2, 0) == []
    with pytest.raises(DataError):
        top_ngrams(SMALL, 2, -1)


def test_time_machine_top_ngrams(words):
    assert top_ngrams(words, 2, 1) == [(("of", "the"), 309)]
    assert top_ngrams(words, 3, 1) == [(("the", "time", "traveller"), 59)]
    zipf = zipf_series(words, 1)
    assert zipf[0] == 2261 and len(zipf) == 4579
    assert zipf == sorted(zipf, reverse=True)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from("abcd"), max_size=40),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=0, max_value=12),
)
def test_fast_top_ngrams_equal_counter_most_common(tokens, n, k):
    assert top_ngrams(tokens, n, k) == Counter(ngrams(tokens, n)).most_common(k)
    assert top_ngrams_by_order(tokens, (1, n), k)[n] == count_ngrams(tokens, n).most_common(k)


def test_unigram_formula():
    lm = LaplaceNGramLM(n=1, eps=0.5).fit(SMALL)
    m = 7 + 1  # distinct words plus <unk>
    assert lm.m == m
    assert lm.prob((), "the") == pytest.approx((4 + 0.5 / m) / (11 + 0.5))
    assert lm.prob(("anything",), "dog") == pytest.approx((0.5 / m) / (11 + 0.5))


def test_bigram_and_trigram_formulas_back_off_to_the_unigram():
    e1, e2, e3 = 0.5, 2.0, 3.0
    lm = LaplaceNGramLM(n=3, eps=(e1, e2, e3)).fit(SMALL)
    m, n = 8, 11

    def p1(count):
        return (count + e1 / m) / (n + e1)

    # n(the) as a context: "the" is followed by a word 4 times; n(the, cat) = 2.
    assert lm.prob(("the",), "cat") == pytest.approx((2 + e2 * p1(2)) / (4 + e2))
    # (the, cat) is followed by sat, ate: n(the, cat, sat) = 1; n(the, cat) as context = 2.
    assert lm.prob(("the", "cat"), "sat") == pytest.approx((1 + e3 * p1(1)) / (2 + e3))
    # Only the last n - 1 context tokens matter.
    assert lm.prob(("on", "the", "cat"), "sat") == lm.prob(("the", "cat"), "sat")
    # The final token "rat" is never a context: its conditional is the unigram's.
    assert lm.prob(("rat",), "the") == pytest.approx(p1(4))
    # An unseen context or token is <unk>, count 0: still a positive probability.
    assert lm.prob(("dog", "cow"), "pig") == pytest.approx(p1(0))
    assert p1(0) > 0


def test_an_unseen_token_is_the_corpus_own_unk_when_it_has_one():
    """A corpus already mapped through a Vocab (PTB's) holds "<unk>": an unseen token is that
    item, with its count, as a context and as a prediction; m does not grow."""
    train = "a <unk> b <unk> a b".split()
    lm = LaplaceNGramLM(n=2, eps=1.0).fit(train)
    m, n = 3, 6  # a, b, <unk>
    assert lm.m == m

    def p1(count):
        return (count + 1.0 / m) / (n + 1.0)

    assert lm.prob((), "zebra") == pytest.approx(p1(2)) == lm.prob((), "<unk>")
    # n(<unk>, b) = 1, n(<unk>) as a context = 2 ("<unk> b", "<unk> a").
    assert lm.prob(("zebra",), "b") == pytest.approx((1 + p1(2)) / (2 + 1.0))
    assert lm.prob(("a",), "zebra") == pytest.approx((1 + p1(2)) / (2 + 1.0))
    held = ["zebra", "b"]
    expected = math.exp(-(math.log(p1(2)) + math.log((1 + p1(2)) / 3)) / 2)
    assert lm.perplexity(held) == pytest.approx(expected)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_each_conditional_sums_to_one_over_the_vocabulary(n):
    lm = LaplaceNGramLM(n=n, eps=(0.3, 1.7, 0.9)).fit(SMALL)
    items = lm.vocabulary
    assert "<unk>" in items and len(items) == lm.m
    contexts = [()] + [(a,) for a in items] + [(a, b) for a in items for b in items]
    for context in contexts:
        total = sum(lm.prob(context, x) for x in items)
        assert total == pytest.approx(1.0, abs=1e-12), context


def test_perplexity_matches_the_definition():
    lm = LaplaceNGramLM(n=2, eps=1.0).fit(SMALL)
    held = ["the", "cat", "sat", "on", "a", "dog"]
    logs = [math.log(lm.prob(tuple(held[max(0, t - 1) : t]), held[t])) for t in range(len(held))]
    assert lm.perplexity(held) == pytest.approx(math.exp(-sum(logs) / len(held)))


def test_a_stream_of_exactly_n_tokens_counts_its_one_n_gram():
    # len(tokens) == n: one n-gram, and one unigram per token for n = 1.
    lm = LaplaceNGramLM(n=1, eps=1.0).fit(["a"])
    assert lm.unigrams == {"a": 1} and lm.m == 2
    assert lm.prob((), "a") == pytest.approx((1 + 1 / 2) / (1 + 1))
    lm = LaplaceNGramLM(n=2, eps=1.0).fit(["a", "b"])
    m, n = 3, 2
    p1_b = (1 + 1 / m) / (n + 1)
    assert lm.counts[1] == {("a", "b"): 1} and lm.contexts[1] == {("a",): 1}
    assert lm.prob(("a",), "b") == pytest.approx((1 + p1_b) / (1 + 1))


def test_time_machine_trigram_perplexity(words):
    result = ngram_perplexity(words, n=3, eps=1.0, val_fraction=0.1)
    assert result.train_tokens + result.val_tokens == 32775
    assert result.val_tokens == round(32775 * 0.1)
    assert math.isfinite(result.perplexity)
    vocab_size = len(set(words[: result.train_tokens])) + 1
    # A uniform guess over the vocabulary has perplexity vocab_size.
    assert 1.0 < result.perplexity < vocab_size
    smoother = ngram_perplexity(words, n=3, eps=10.0)
    unigram = ngram_perplexity(words, n=1, eps=10.0)
    assert smoother.perplexity < unigram.perplexity < vocab_size


def test_bad_arguments():
    with pytest.raises(DataError, match="ε"):
        LaplaceNGramLM(n=2, eps=0.0)
    with pytest.raises(DataError, match="need 3"):
        LaplaceNGramLM(n=3, eps=(1.0, 1.0))
    with pytest.raises(DataError, match="fitted"):
        LaplaceNGramLM().prob((), "a")
    with pytest.raises(DataError, match="empty"):
        LaplaceNGramLM().fit([])
    with pytest.raises(DataError, match="val_fraction"):
        ngram_perplexity(SMALL, val_fraction=1.0)
    with pytest.raises(DataError, match="too short"):
        ngram_perplexity(["a"], val_fraction=0.1)


def test_top_ngrams_from_vocab_ids_match_the_encoded_stream():
    from rnn_tui.data.corpus import load_corpus

    corpus = load_corpus("timemachine", token="char")
    by_ids = top_ngrams_by_order(corpus.flat, (1, 2, 3), 10, ids=corpus.ids)
    assert by_ids == top_ngrams_by_order(corpus.flat, (1, 2, 3), 10)


def test_an_epsilon_too_small_for_floating_point_is_one_line():
    # ε 1e-300: an unseen trigram's probability rounds to 0; the message was "math domain error".
    words = "the time machine by h g wells the time traveller".split() * 20 + ["unseen"] * 3
    with pytest.raises(DataError, match=r"^ε 1e-300 is so small .* use a larger ε$"):
        ngram_perplexity(words, n=3, eps=1e-300, val_fraction=0.1)
    assert ngram_perplexity(words, n=3, eps=1e-6, val_fraction=0.1).perplexity > 1
    # Named as typed: ":g" wrote a subnormal 1e-320 as 9.99989e-321.
    with pytest.raises(DataError, match=r"^ε 1e-320 is so small "):
        ngram_perplexity(words, n=3, eps=1e-320, val_fraction=0.1)


def test_the_perplexitys_vocabulary_is_the_models():
    # The label beside the number gave the whole corpus's vocabulary (4,580 words), while the
    # model spreads ε over the training part's tokens and <unk> (4,327): a uniform guess over
    # those scores their count.
    train = "a b c a b d".split() * 10
    words = train + "e f".split() * 5  # the held-out tenth: words the training part lacks
    result = ngram_perplexity(words, n=1, eps=1.0, val_fraction=10 / len(words))
    assert result.train_tokens == len(train)
    assert result.vocab_size == len(set(train)) + 1  # and <unk>


def test_the_baseline_is_the_order_that_scores_best():
    # The word-level Time Machine's trigram (ε 1) scored 1,398 on the held-out part, worse
    # than counting words (1,120): the baseline an RNN had to beat was weaker than a unigram.
    import re

    from rnn_tui.data.ngrams import NGRAM_NAMES, baseline_name, best_order
    from rnn_tui.data.sources import read_text

    lines = [
        re.sub("[^A-Za-z]+", " ", line).lower() for line in read_text("timemachine").split("\n")
    ]
    words = " ".join(lines).split()
    chars = list(" ".join(" ".join(line.split()) for line in lines))
    for tokens, order in ((words, 1), (chars, 3)):
        cut = int(len(tokens) * 0.9)
        model = LaplaceNGramLM(3).fit(tokens[:cut])
        scores = [model.perplexity(tokens[cut:], order=k) for k in (1, 2, 3)]
        assert best_order(model, tokens[cut:]) == (order, min(scores))
        # An order's score is the score of the model of that order.
        lower = LaplaceNGramLM(order).fit(tokens[:cut]).perplexity(tokens[cut:])
        assert scores[order - 1] == pytest.approx(lower)
    assert NGRAM_NAMES[1] == "unigram" and baseline_name("bigram") == "bigram"
    assert baseline_name(None) == baseline_name("4-gram") == "trigram"  # runs before it


def test_the_perplexity_lets_its_counters_go_a_piece_at_a_time(monkeypatch):
    """Freed whole as the model went out of scope, Counters of ~850k distinct n-grams held the
    GIL for 78 ms (the Dataset screen's perplexity worker stalled the UI): `ngram_perplexity`
    empties them piecewise first, with the same result."""
    from rnn_tui.data import ngrams

    fitted = []
    fit = ngrams.LaplaceNGramLM.fit

    def recording_fit(self, tokens):
        fitted.append(self)
        return fit(self, tokens)

    tokens = [chr(0x4E00 + (i * 7919) % 20_000) for i in range(30_000)]
    expected = ngrams.LaplaceNGramLM(3).fit(tokens[:27_000]).perplexity(tokens[27_000:])
    monkeypatch.setattr(ngrams.LaplaceNGramLM, "fit", recording_fit)
    result = ngrams.ngram_perplexity(tokens, n=3, val_fraction=0.1)
    assert result.perplexity == pytest.approx(expected, rel=1e-12)
    (model,) = fitted
    assert len(model.counts) == 3 and not any(model.counts)
    assert not any(model.contexts) and not model.unigrams
    big = {i: (i,) for i in range(3 * ngrams.RELEASE_PIECE + 5)}
    ngrams.release(big)
    assert big == {}
