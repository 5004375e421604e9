"""The Classify screen's work done in thread workers: torch is imported here on first use,
never on the event loop, and runs on one thread beside the trainers (decode/math_threads.py)."""

from __future__ import annotations

from pathlib import Path

from rnn_tui.decode.math_threads import on_one_math_thread
from rnn_tui.runs.classify_lab import NAMES
from rnn_tui.runs.resumable import has_checkpoint


@on_one_math_thread
def compute_view(part: str, path: Path):
    """The held-out view of a names or tagger run's best checkpoint, or its last where it has
    none (a run stopped during its first epoch, as `rnn-tui classify --checkpoint` loads it);
    None before it has either."""
    if not has_checkpoint(Path(path)):
        return None
    if part == NAMES:
        from rnn_tui.decode.classify import classify_view

        return classify_view(path)
    from rnn_tui.decode.tag import tag_view

    return tag_view(path)


@on_one_math_thread
def classify_one(view, name: str):
    """The top three languages of a typed name (ClassifyError for a name without letters)."""
    from rnn_tui.decode.classify import classify

    return classify(view.model, view.classes, [name])[0]


@on_one_math_thread
def restore_all(views: dict, text: str) -> dict:
    """slot → the text as that slot's tagger restores it, or why it cannot."""
    from rnn_tui.decode.tag import TagError, tag_text

    out: dict = {}
    for slot, view in views.items():
        try:
            out[slot] = tag_text(view.model, view.vocab, text)
        except TagError as exc:
            out[slot] = str(exc)
    return out


__all__ = ["classify_one", "compute_view", "restore_all"]
