"""The names classifier's data and measures: the fixed stratified split, the character n-gram
naive Bayes baseline checked by hand, and accuracy / macro-F1 / per-class report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data.errors import DataError
from rnn_tui.data.naive_bayes import NaiveBayes, char_ngrams
from rnn_tui.data.names import load_names
from rnn_tui.data.names_split import names_split, stratified_split
from rnn_tui.metrics.classification import class_report, majority_baseline


def test_the_names_split_is_fixed_and_covers_every_language() -> None:
    first, again = names_split(), names_split()
    assert first == again
    assert len(first.languages) == 18
    held, train = first.counts("held_out"), first.counts("train")
    assert all(h >= 1 for h in held) and all(t >= 1 for t in train)
    names = load_names()
    for label, language in enumerate(first.languages):
        distinct = len(set(names[language]))
        assert held[label] + train[label] == distinct
        assert held[label] == round(0.1 * distinct) or held[label] == 1
    russian = first.languages.index("Russian")
    assert train[russian] > 8000  # the unbalanced class the report must not hide
    # No (name, language) pair is on both sides.
    assert not set(first.train) & set(first.held_out)


@given(
    st.dictionaries(
        st.sampled_from("abcdef"),
        st.lists(st.text("xyz", min_size=1, max_size=4), min_size=2, max_size=30, unique=True),
        min_size=1,
        max_size=4,
    ),
    st.floats(0.05, 0.95),
)
@settings(max_examples=50, deadline=None)
def test_a_stratified_split_holds_out_every_class_in_proportion(by_class, fraction) -> None:
    split = stratified_split(by_class, fraction)
    held, train = split.counts("held_out"), split.counts("train")
    for label, name in enumerate(split.languages):
        n = len(by_class[name])
        assert held[label] >= 1 and train[label] >= 1 and held[label] + train[label] == n
        assert abs(held[label] - fraction * n) <= 1 or held[label] in (1, n - 1)


def test_a_class_of_one_item_cannot_be_split() -> None:
    with pytest.raises(DataError, match="class b has 1 item"):
        stratified_split({"a": ["x", "y"], "b": ["z"]})


def test_char_ngrams_pad_the_name() -> None:
    assert char_ngrams("ab", 2) == ["a", "b", "^a", "ab", "b$"]


def test_naive_bayes_on_a_toy_case_by_hand() -> None:
    # Unigrams only: class 0 saw "aa", class 1 saw "b"; vocabulary {a, b}; alpha = 1.
    nb = NaiveBayes.fit([("aa", 0), ("b", 1)], classes=2, n_max=1, alpha=1.0)
    # P(0) = P(1) = 1/2; P(a|0) = (2+1)/(2+2) = 3/4, P(a|1) = (0+1)/(1+2) = 1/3.
    scores = nb.scores("a")
    assert scores[0] == pytest.approx(math.log(0.5) + math.log(3 / 4))
    assert scores[1] == pytest.approx(math.log(0.5) + math.log(1 / 3))
    assert nb.predict("a") == 0 and nb.predict("bb") == 1


def test_naive_bayes_beats_the_majority_class_on_the_names() -> None:
    split = names_split()
    classes = len(split.languages)
    nb = NaiveBayes.fit(split.train, classes)
    true = [label for _, label in split.held_out]
    predicted = [nb.predict(name) for name, _ in split.held_out]
    nb_report = class_report(true, predicted, classes)
    majority = majority_baseline([label for _, label in split.train], true, classes)
    assert majority.macro_f1 < 0.1 < 0.4 < nb_report.macro_f1
    assert nb_report.accuracy > 0.6


def test_the_class_report_by_hand() -> None:
    true = [0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 1, 1, 1, 1]
    report = class_report(true, predicted, 3)
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.precision == pytest.approx([1.0, 2 / 4, 0.0])
    assert report.recall == pytest.approx([2 / 3, 1.0, 0.0])
    assert report.f1 == pytest.approx([0.8, 2 / 3, 0.0])
    assert report.macro_f1 == pytest.approx((0.8 + 2 / 3 + 0) / 3)
    assert report.confusion.tolist() == [[2, 1, 0], [0, 2, 0], [0, 1, 0]]
    np.testing.assert_allclose(report.normalised()[0], [2 / 3, 1 / 3, 0])
    assert report.to_json(["x", "y", "z"])["classes"]["z"]["support"] == 1


def test_macro_f1_counts_a_class_predicted_but_never_true() -> None:
    # A tagger inserting a mark the held-out text never has: F1 0 for that tag, and it counts
    # (macro over classes true or predicted); a class neither true nor predicted does not.
    report = class_report([0, 0, 0, 0], [0, 0, 1, 1], 3)
    assert report.f1 == pytest.approx([2 / 3, 0.0, 0.0])
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.0) / 2)
    assert class_report([0, 0], [0, 0], 3).macro_f1 == pytest.approx(1.0)


def test_the_majority_baseline_predicts_the_most_frequent_training_class() -> None:
    report = majority_baseline([2, 0, 2, 1, 2], [2, 2, 0, 1], 3)
    assert report.confusion[:, 2].tolist() == [1, 1, 2]  # every prediction is class 2
    assert report.accuracy == pytest.approx(2 / 4)
    assert report.precision == pytest.approx([0.0, 0.0, 2 / 4])
    assert report.recall == pytest.approx([0.0, 0.0, 1.0])
    assert report.macro_f1 == pytest.approx((2 * 0.5 * 1.0 / 1.5) / 3)


def test_an_empty_report_scores_zero() -> None:
    report = class_report([], [], 3)
    assert report.accuracy == 0.0 and report.macro_f1 == 0.0
    assert report.confusion.tolist() == [[0] * 3] * 3
