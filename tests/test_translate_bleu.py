"""The Translate console's scores, computed in rnn_tui.decode.translate: the seeds' BLEU of the
greedy output per sentence, and the corpus BLEU of greedy against beam output."""

from __future__ import annotations

import dataclasses

import pytest

from rnn_tui.decode.options import TranslateOptions
from rnn_tui.decode.search import Candidate
from rnn_tui.decode.translate import (
    TranslateError,
    Translation,
    greedy_and_beam_bleu,
    greedy_bleu,
    parse_lines,
)
from rnn_tui.decode.translate_bleu import corpus_bleu as translations_bleu
from rnn_tui.metrics.bleu import NO_4GRAMS, bleu, corpus_bleu
from rnn_tui.tui.screens.translate_job import Outcome

NO_CANDIDATE = Candidate((), 0.0, 1, 0.0, True)


def translation(greedy: str, beam: str, reference: str | None) -> Translation:
    return Translation(
        source="x",
        source_tokens=["x"],
        unknown=[],
        greedy=NO_CANDIDATE,
        greedy_text=greedy,
        beam=[],
        beam_text=beam,
        reference=reference,
    )


def test_greedy_bleu_scores_the_greedy_text_against_the_normalized_reference():
    t = translation("il est est calme calme", "il est calme .", "Il est calme.")
    assert greedy_bleu(t) == pytest.approx(bleu("il est est calme calme", "il est calme ."))
    assert greedy_bleu(t) < 1.0
    assert greedy_bleu(translation("il est calme .", "", "Il est calme.")) == 1.0
    assert greedy_bleu(translation("va !", "va !", None)) is None


def test_corpus_bleu_compares_greedy_and_beam_over_the_sentences_with_a_reference():
    rows = [
        translation("va !", "va !", "Va !"),
        translation("il est est calme calme", "il est calme .", "il est calme ."),
        translation("j'ai perdu .", "j'ai perdu .", None),  # no reference: not counted
        translation("je suis chez moi .", "je suis chez moi .", "je suis chez moi ."),
    ]
    scores = greedy_and_beam_bleu(rows)
    references = ["va !", "il est calme .", "je suis chez moi ."]
    assert scores == {
        "greedy": pytest.approx(
            corpus_bleu(["va !", "il est est calme calme", "je suis chez moi ."], references)
        ),
        "beam": pytest.approx(100.0),
        "undefined": None,
        "references": 3,
    }
    assert scores["greedy"] < scores["beam"]


def test_short_translations_give_no_corpus_bleu_and_say_why():
    rows = [
        dataclasses.replace(translation(s, s, s), bleu=1.0)
        for s in ("va !", "salut !", "j'ai perdu .")
    ]
    scores = greedy_and_beam_bleu(rows)
    assert scores == {"greedy": None, "beam": None, "undefined": NO_4GRAMS, "references": 3}
    bleu_of_all = translations_bleu(rows)
    assert bleu_of_all["corpus"] is None and bleu_of_all["corpus_undefined"] == NO_4GRAMS
    assert bleu_of_all["mean_sentence"] == 1.0
    status = Outcome(3, 3, 0.0, False, scores).text(TranslateOptions())
    assert status.endswith(f"corpus BLEU (3 references): greedy —, beam — ({NO_4GRAMS})")


def test_one_reference_gives_no_corpus_bleu():
    rows = [translation("va !", "va !", "va !"), translation("a", "a", None)]
    assert greedy_and_beam_bleu(rows) is None
    assert greedy_and_beam_bleu([]) is None


def test_lines_parse_and_a_bad_one_is_named_when_there_are_several():
    assert parse_lines(["go . => va !", "i lost ."]) == [("go .", "va !"), ("i lost .", None)]
    with pytest.raises(TranslateError, match=r"^sentence 2: no sentence to translate"):
        parse_lines(["go .", "=> va !"])
    with pytest.raises(TranslateError, match=r"^no sentence to translate in '=> va !'$"):
        parse_lines(["=> va !"])
