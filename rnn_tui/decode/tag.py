"""Tag text with a trained many-to-many checkpoint (train --task tag): lower-case text comes back
with its capitals and punctuation restored, y_t = softmax(W h_t + b) at every character; and a
checkpoint's held-out report on the task's fixed split (the Classify screen's table).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import torch

from rnn_tui.data.errors import DataError
from rnn_tui.data.tag_split import EVAL_WINDOW, tag_data
from rnn_tui.data.tagging import PUNCTUATION, make_tags, restore, tag_parts
from rnn_tui.metrics.tagging import TagReport
from rnn_tui.metrics.tagging import tag_report as report_of
from rnn_tui.models.tagger import SequenceTagger
from rnn_tui.quoting import quoted

MAX_CHARS = 10_000  # per text: one forward pass over it
MAX_NAMED = 8  # characters left out named in the note; the rest counted


class TagError(ValueError):
    """A checkpoint or input the tagger cannot use; one line for people."""


@dataclass(frozen=True)
class TagVocab:
    """What a tagger checkpoint reads and writes: its input characters and its tags."""

    chars: str
    tags: list[str]


@dataclass(frozen=True)
class Restored:
    """The text as the model read it (lower case, no punctuation), its tags, the restored text,
    and that text in pieces for colouring: "capital" letters, inserted "punct", "plain" runs."""

    read: str
    tags: list[str]
    text: str
    spans: list[tuple[str, str]]
    # Characters of the text its training text never had, each with what the model read in
    # its place ({"2": "1"}): shown and restored as typed.
    stand_ins: dict[str, str] = field(default_factory=dict)
    # Letters and digits with no ASCII reading (中, ß, ٣): the text the tagger reads cannot
    # hold them, so they are not in what it restores; named, where they went unsaid.
    left_out: str = ""

    def note(self) -> str:
        """One line on the stand-ins and the characters left out ("" without any)."""
        parts = []
        if self.stand_ins:
            pairs = ", ".join(f"{c!r} as {s!r}" for c, s in self.stand_ins.items())
            parts.append(f"not in the tagger's training text, read in their place: {pairs}")
        if self.left_out:
            shown = ", ".join(repr(c) for c in self.left_out[:MAX_NAMED])
            extra = len(self.left_out) - MAX_NAMED
            more = f" and {extra:,} more" if extra > 0 else ""
            parts.append(f"left out, as the tagger reads only a-z and 0-9: {shown}{more}")
        return "; ".join(parts)


@dataclass(frozen=True)
class TagView:
    """A tagger checkpoint ready for the screen: the model, its vocabularies, its held-out
    report."""

    model: torch.nn.Module
    vocab: TagVocab
    report: TagReport
    # The epoch whose checkpoint this is (a run's `best`, not its last epoch), None if unsaid:
    # a live run's view is computed every few seconds, not after every epoch.
    epoch: int | None = None


def load_tagger(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[SequenceTagger, TagVocab, list[str], str]:
    """(model in eval mode, TagVocab, warnings: a run directory's best unusable and its last
    loaded, the checkpoint file loaded) of a tag checkpoint (a run directory: its best); TagError
    (one line) for anything else: another task's checkpoint, meta without its tags or
    characters, a model that does not match them."""
    return _load(path, device)[:4]


def _load(
    path: str | os.PathLike, device: str | torch.device
) -> tuple[SequenceTagger, TagVocab, list[str], str, int | None]:
    """load_tagger's, and the epoch the checkpoint was saved at."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.checkpoints.labels import label_problem
    from rnn_tui.models.base import ModelError

    try:
        checkpoint = load_checkpoint(path)
        if checkpoint.task != "tag":
            raise TagError(
                f"{checkpoint.file} is a {checkpoint.task!r} checkpoint; tagging needs a tag one "
                "(rnn-tui train --task tag)"
            )
        tags, chars = checkpoint.meta.get("tags"), checkpoint.meta.get("chars")
        problem = label_problem(tags, "tag", fewest=2) or _marks_problem(tags)
        if problem:
            raise TagError(f"{checkpoint.json_path}: {problem}")
        # Distinct too: a repeated character would make two ids read as one.
        if not (
            isinstance(chars, str) and chars and chars.isascii() and len(set(chars)) == len(chars)
        ):
            raise TagError(f"{checkpoint.json_path} does not list its characters (distinct, ASCII)")
        model = checkpoint.build_model(device)
    except (CheckpointError, ModelError) as exc:
        raise TagError(str(exc)) from None
    sizes = (getattr(model, "tags", None), getattr(model, "vocab_size", None))
    if not isinstance(model, SequenceTagger) or sizes != (len(tags), len(chars)):
        raise TagError(f"{checkpoint.file}: the model and its vocabularies disagree")
    warnings = [checkpoint.warning] if checkpoint.warning else []
    return model.eval(), TagVocab(chars, tags), warnings, str(checkpoint.path), checkpoint.epoch


def _marks_problem(tags: list[str]) -> str | None:
    """A tag the text's tagging cannot have written: its marks are inserted into the restored
    text, so they must be the task's punctuation (data/tagging.py PUNCTUATION)."""
    for number, tag in enumerate(tags, start=1):
        if any(c not in PUNCTUATION for c in tag_parts(tag)[1]):
            return f"tag {number} is not a capital and punctuation marks: {quoted(tag)}"
    return None


def spans_of(read: str, tags: list[str]) -> list[tuple[str, str]]:
    """The restored text in coloured pieces (see Restored)."""
    spans: list[tuple[str, str]] = []

    def add(piece: str, kind: str) -> None:
        if spans and spans[-1][1] == kind == "plain":
            spans[-1] = (spans[-1][0] + piece, kind)
        else:
            spans.append((piece, kind))

    for c, tag in zip(read, tags, strict=True):
        capital, marks = tag_parts(tag)
        if capital and c.upper() != c:
            add(c.upper(), "capital")
        else:
            add(c, "plain")
        if marks:
            add(marks, "punct")
    return spans


@torch.no_grad()
def tag_text(model, vocab: TagVocab, text: str) -> Restored:
    """`text` as the tagger restores it: read as the task's input first (accents dropped,
    lower-cased, only letters, digits and single spaces kept), then one tag per character.
    TagError for empty or too long text; a character the model never read is read as a known
    one of its kind (`Restored.stand_ins`)."""
    if len(text) > MAX_CHARS:
        raise TagError(f"at most {MAX_CHARS:,} characters at a time (got {len(text):,})")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    left_out = "".join(
        c
        for c in dict.fromkeys(text)
        if c.isalnum() and not unicodedata.normalize("NFKD", c).encode("ascii", "ignore").strip()
    )
    read = make_tags(plain.lower())[0].strip()
    if not read:
        raise TagError("no text to tag: type some words")
    index = {c: i for i, c in enumerate(vocab.chars)}
    # A run on part of the text (--max-chars) may never have seen some digit: one such
    # character refused the whole text. It is read as a character of its kind the model knows.
    stand_ins = {c: _stand_in(c, vocab.chars) for c in dict.fromkeys(read) if c not in index}
    model_read = "".join(stand_ins.get(c, c) for c in read)
    ids = np.fromiter((index[c] for c in model_read), dtype=np.int64, count=len(read))
    predicted, _ = model.tag_stream(ids, max(len(ids), 1))  # one window: all of it, both ways
    tags = [vocab.tags[i] for i in predicted]
    return Restored(read, tags, restore(read, tags), spans_of(read, tags), stand_ins, left_out)


def _stand_in(c: str, chars: str) -> str:
    """A character the model read in training to read in place of `c`: a digit for a digit, a
    letter for a letter (the first it knows), else a space."""
    kind = str.isdigit if c.isdigit() else str.isalpha if c.isalpha() else None
    known = [k for k in chars if kind is not None and kind(k)]
    return known[0] if known else " " if " " in chars else chars[0]


def tag_report(model, vocab: TagVocab) -> TagReport:
    """The model's report on the task's fixed held-out characters (data/tag_split.py), tagged
    in the same windows as the task's evaluation (SequenceTagger.tag_stream), so its numbers
    are the ones the run logged for this checkpoint's epoch."""
    data = tag_data()
    if list(data.tags) != vocab.tags or data.chars != vocab.chars:
        raise TagError("the bundled text's tags changed since this model was trained")
    predicted, _ = model.tag_stream(data.held_x, EVAL_WINDOW)
    return report_of(data.held_y, predicted, data.tags)


def tag_view(path: str | os.PathLike, device: str | torch.device = "cpu") -> TagView:
    """The model of the tag checkpoint `path` (a run directory: its best), its vocabularies,
    its held-out report and its epoch; TagError (one line) otherwise."""
    model, vocab, _, _, epoch = _load(path, device)
    try:
        return TagView(model, vocab, tag_report(model, vocab), epoch)
    except DataError as exc:
        raise TagError(str(exc)) from None


__all__ = [
    "Restored",
    "TagError",
    "TagReport",
    "TagView",
    "TagVocab",
    "load_tagger",
    "spans_of",
    "tag_report",
    "tag_text",
    "tag_view",
]
