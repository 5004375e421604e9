"""BLEU (rnn_tui.metrics.bleu): the seeds' formula on d2l §9.7's printed examples, edge cases
d2l does not handle, and corpus BLEU against sacrebleu itself."""

from __future__ import annotations

import collections
import math
import subprocess
import sys

import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.metrics.bleu import NO_4GRAMS, BleuError, bleu, corpus_bleu, corpus_bleu_checked


def d2l_bleu(pred_seq, label_seq, k):
    """d2l §9.7.4's bleu, verbatim (it needs len(pred) ≥ k and a non-empty prediction)."""
    pred_tokens, label_tokens = pred_seq.split(" "), label_seq.split(" ")
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[" ".join(label_tokens[i : i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[" ".join(pred_tokens[i : i + n])] > 0:
                num_matches += 1
                label_subs[" ".join(pred_tokens[i : i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


# d2l §9.7.4 translates go . / i lost . / he's calm . / i'm home . and prints BLEU (k = 2).
@pytest.mark.parametrize(
    ("pred", "label", "expected"),
    [
        ("va !", "va !", 1.0),
        ("j'ai perdu .", "j'ai perdu .", 1.0),
        ("je suis chez moi .", "je suis chez moi .", 1.0),
        # same length, so no brevity factor; p1 = 3/4 (il, est, .), p2 = 1/3 (il est)
        ("il est riche .", "il est calme .", (3 / 4) ** (1 / 2) * (1 / 3) ** (1 / 4)),
        ("il est bon .", "il est calme .", (3 / 4) ** (1 / 2) * (1 / 3) ** (1 / 4)),
        # p1 = 2/5 (je, suis), p2 = 1/4 (je suis)
        ("je suis en retard ?", "je suis chez moi .", (2 / 5) ** (1 / 2) * (1 / 4) ** (1 / 4)),
        # one token too short: exp(1 − 4/3); p1 = 3/3, p2 = 1/2 (il est; est . is no label bigram)
        ("il est .", "il est calme .", math.exp(1 - 4 / 3) * 1 * (1 / 2) ** (1 / 4)),
    ],
)
def test_seed_examples(pred, label, expected):
    assert bleu(pred, label, k=2) == pytest.approx(expected)


def test_d2l_printed_values():
    assert round(bleu("il est riche .", "il est calme .", 2), 3) == 0.658
    assert round(bleu("je suis en retard ?", "je suis chez moi .", 2), 3) == 0.447


def test_strings_are_split_on_any_whitespace():
    # Documented: split on whitespace, so a doubled or leading space is no empty token.
    assert bleu("il  est calme .", "il est calme .", 2) == 1.0
    assert bleu(" il est\tcalme .\n", "il est calme .", 4) == 1.0


def test_longer_prediction_has_no_brevity_factor():
    # exp(min(0, 1 − 2/3)) = 1; p1 = 2/3 (va, !), p2 = 1/2 (va !)
    assert bleu("va ! vite", "va !", 2) == pytest.approx((2 / 3) ** 0.5 * (1 / 2) ** 0.25)


def test_matches_are_clipped_to_label_counts():
    # "le" occurs once in the label, so only one of the three counts: p1 = 1/3
    assert bleu("le le le", "le chat", k=1) == pytest.approx((1 / 3) ** 0.5)


def test_empty_prediction_scores_zero():
    assert bleu("", "va !") == 0.0
    assert bleu("   ", "va !") == 0.0
    assert bleu([], ["va", "!"]) == 0.0


def test_prediction_shorter_than_k_does_not_raise():
    # k is capped at len(pred) = 1: exp(1 − 2/1) · p1^(1/2) with p1 = 1
    assert bleu("va", "va !", k=2) == pytest.approx(math.exp(-1))
    assert bleu("va", "va !", k=4) == pytest.approx(math.exp(-1))
    assert bleu("va !", "va !", k=4) == 1.0


def test_orders_the_label_lacks_give_zero():
    assert bleu("a b c", "a b", k=3) == 0.0  # the label has no trigram
    assert bleu("va !", "", k=2) == 0.0


def test_token_lists_equal_strings():
    assert bleu(["il", "est", "bon", "."], ["il", "est", "calme", "."]) == bleu(
        "il est bon .", "il est calme ."
    )


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k_is_a_one_line_error(k):
    with pytest.raises(BleuError, match="whole number ≥ 1"):
        bleu("va !", "va !", k=k)


words = st.lists(st.sampled_from("a b c d .".split()), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(words, words, st.integers(1, 4))
def test_agrees_with_d2l_where_d2l_is_defined(pred, label, k):
    got = bleu(" ".join(pred), " ".join(label), k)
    assert 0.0 <= got <= 1.0
    if len(pred) >= k:
        assert got == pytest.approx(d2l_bleu(" ".join(pred), " ".join(label), k))
    assert bleu(pred, pred, k) == pytest.approx(1.0)


# --- corpus BLEU ------------------------------------------------------------------------------

HYPS = ["the cat sat on the mat .", "il est bon .", "je suis en retard ?"]
REFS = ["the cat sat on a mat .", "il est calme .", "je suis chez moi ."]


def test_corpus_bleu_is_sacrebleus():
    expected = sacrebleu.corpus_bleu(HYPS, [REFS], lowercase=True).score
    assert 0 < expected < 100
    assert corpus_bleu(HYPS, REFS) == pytest.approx(expected)


def test_corpus_bleu_of_identical_text_is_100():
    assert corpus_bleu(REFS, REFS) == pytest.approx(100.0)


def test_a_corpus_without_4grams_has_no_corpus_bleu_and_says_why():
    short = ["va !", "salut !", "j'ai perdu ."]  # exact, but no 4-gram: sacreBLEU's 0
    assert corpus_bleu(short, short) == 0.0
    assert corpus_bleu_checked(short, short) == (None, NO_4GRAMS)
    # One 4-gram anywhere gives the score back, and a real 0 stays a 0.
    assert corpus_bleu_checked([*short, REFS[2]], [*short, REFS[2]]) == (
        pytest.approx(corpus_bleu([*short, REFS[2]], [*short, REFS[2]])),
        None,
    )
    assert corpus_bleu_checked(["a b c d"], ["w x y z"]) == (0.0, None)


def test_corpus_bleu_lowercases_by_default():
    upper = [s.upper() for s in REFS]
    assert corpus_bleu(upper, REFS) == pytest.approx(100.0)
    cased = corpus_bleu(upper, REFS, lowercase=False)  # only "." and "?" still match
    assert cased == pytest.approx(sacrebleu.corpus_bleu(upper, [REFS]).score)
    assert cased < 10


def test_corpus_bleu_with_several_reference_streams():
    other = ["the cat sat on the mat .", "il est bon .", "je suis en retard ."]
    expected = sacrebleu.corpus_bleu(HYPS, [REFS, other], lowercase=True).score
    got = corpus_bleu(HYPS, [REFS, other])
    assert got == pytest.approx(expected)
    assert got > corpus_bleu(HYPS, REFS)
    assert corpus_bleu(HYPS, [REFS]) == pytest.approx(corpus_bleu(HYPS, REFS))


@pytest.mark.parametrize(
    ("hyps", "refs", "message"),
    [
        ([], [], "at least one sentence"),
        ("il est bon .", REFS, "not one string"),
        (HYPS, "il est calme .", "not one string"),
        (HYPS, REFS[:2], "stream 0 has 2 sentences for 3 hypotheses"),
        (HYPS, [REFS, REFS[:1]], "stream 1 has 1 sentences"),
        (HYPS, [REFS, "x"], "all strings"),
        ([1, 2, 3], REFS, "hypotheses must be strings"),
    ],
)
def test_corpus_bleu_bad_input(hyps, refs, message):
    with pytest.raises(BleuError, match=message):
        corpus_bleu(hyps, refs)


def test_bleu_module_imports_without_sacrebleu():
    code = (
        "import sys, rnn_tui.metrics.bleu as b\n"
        "assert b.bleu('va !', 'va !') == 1.0\n"
        "assert 'sacrebleu' not in sys.modules and 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_seeds_tokenized_text_scores_without_sacrebleus_warning(caplog) -> None:
    # Every seq2seq epoch printed "It looks like you forgot to detokenize your test data"
    # twice: the held-out translations end with " ." as the seeds' preprocessing splits it.
    hypotheses = [f"je suis là {i} ." for i in range(120)]
    references = [f"je suis ici {i} ." for i in range(120)]
    with caplog.at_level("WARNING", logger="sacrebleu"):
        score = corpus_bleu(hypotheses, references)
    assert [r.getMessage() for r in caplog.records] == []
    assert score == sacrebleu.corpus_bleu(hypotheses, [references], lowercase=True).score
