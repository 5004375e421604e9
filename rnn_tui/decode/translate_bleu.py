"""BLEU of translations (rnn_tui.decode.translate.Translation): the seeds' sentence BLEU (k = 2)
of one translation against its reference, and corpus BLEU (sacreBLEU, lower-cased) of many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rnn_tui.decode.translate_text import normalize

if TYPE_CHECKING:
    from rnn_tui.decode.translate import Translation

BLEU_K = 2  # the seeds' bleu(translation, reference, k=2)


def sentence_bleu(hypothesis: str, reference: str) -> float:
    from rnn_tui.metrics.bleu import bleu

    return float(bleu(hypothesis, normalize(reference), k=BLEU_K))


def corpus_bleu(translations: Sequence[Translation]) -> dict | None:
    """{"corpus": sacreBLEU (0–100, lower-cased), "corpus_undefined": None, "mean_sentence":
    mean of the seeds' k=2 BLEU, "sentences": how many had a reference} over the translations
    that have a reference; None when none has one. When the translations hold no 4-gram,
    "corpus" is None and "corpus_undefined" says why (sacreBLEU's 0 there is no score)."""
    from rnn_tui.metrics.bleu import corpus_bleu_checked as sacre

    scored = [t for t in translations if t.reference is not None]
    if not scored:
        return None
    hypotheses = [t.beam_text for t in scored]
    references = [normalize(t.reference) for t in scored]
    corpus = sacre(hypotheses, references)
    return {
        "corpus": corpus.score,
        "corpus_undefined": corpus.undefined,
        "mean_sentence": sum(t.bleu for t in scored) / len(scored),
        "sentences": len(scored),
    }


def greedy_bleu(translation: Translation) -> float | None:
    """The seeds' BLEU (k = 2) of the greedy text against the reference (the beam's is
    `translation.bleu`); None without a reference."""
    if translation.reference is None:
        return None
    return sentence_bleu(translation.greedy_text, translation.reference)


def greedy_and_beam_bleu(translations: Sequence[Translation]) -> dict | None:
    """{"greedy", "beam": corpus BLEU (sacreBLEU, 0–100, lower-cased) of each decoding, or None
    where it holds no 4-gram, "undefined": why one is None (else None), "references": how many}
    over the translations with a reference; None below two."""
    from rnn_tui.metrics.bleu import corpus_bleu_checked as sacre

    scored = [t for t in translations if t.reference is not None]
    if len(scored) < 2:
        return None
    references = [normalize(t.reference) for t in scored]
    greedy = sacre([t.greedy_text for t in scored], references)
    beam = sacre([t.beam_text for t in scored], references)
    return {
        "greedy": greedy.score,
        "beam": beam.score,
        "undefined": greedy.undefined or beam.undefined,
        "references": len(scored),
    }


__all__ = ["BLEU_K", "corpus_bleu", "greedy_and_beam_bleu", "greedy_bleu", "sentence_bleu"]
