"""A checkpoint carries the last HISTORY_KEPT epochs and each metric's extremes over all of them:
its JSON (rewritten every epoch) stays the same size however long the run, and the summaries'
bests still see every epoch."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.train.progress import HISTORY_KEPT, Progress

values = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32))


def record(epoch: int, val_ppl: float | None, bleu: float | None = None) -> dict:
    return {"epoch": epoch, "train_ppl": 5.0, "val_ppl": val_ppl, "bleu": bleu}


@given(st.lists(st.tuples(values, values), max_size=3 * HISTORY_KEPT))
def test_the_history_is_the_last_epochs_and_the_extremes_all_of_them(pairs) -> None:
    progress = Progress()
    records = [record(i + 1, v, b) for i, (v, b) in enumerate(pairs)]
    for r in records:
        progress.add_epoch(r)
    assert progress.history == records[-HISTORY_KEPT:]
    for key, pick, extreme in (("val_ppl", min, "lowest"), ("bleu", max, "highest")):
        finite = [r[key] for r in records if r[key] is not None and math.isfinite(r[key])]
        got = getattr(progress, extreme)(key)
        assert got == (pick(finite) if finite else None)


def test_a_checkpoint_does_not_grow_with_the_epochs() -> None:
    def meta_size(epochs: int) -> int:
        progress = Progress()
        for epoch in range(1, epochs + 1):
            progress.add_epoch(record(epoch, 100.0 - epoch / 1000))
        return len(json.dumps({"metrics": progress.to_dict()}))

    # At a few hundred bytes an epoch, 300k epochs once outgrew the 64 MiB a checkpoint holds.
    assert meta_size(50 * HISTORY_KEPT) < 1.05 * meta_size(2 * HISTORY_KEPT)


def test_the_best_of_an_early_epoch_outlives_the_history() -> None:
    progress = Progress()
    progress.add_epoch(record(1, 1.5, bleu=40.0))
    for epoch in range(2, 3 * HISTORY_KEPT):
        progress.add_epoch(record(epoch, 9.0, bleu=10.0))
    metrics = {"history": progress.history, "extremes": progress.extremes}
    resumed = Progress.from_meta({"metrics": json.loads(json.dumps(metrics))})
    assert resumed.lowest("val_ppl") == 1.5 and resumed.highest("bleu") == 40.0
    assert resumed.history == progress.history


def test_a_checkpoint_from_before_gives_its_whole_history_to_the_extremes() -> None:
    history = [record(epoch, 10.0 + epoch) for epoch in range(1, 2 * HISTORY_KEPT)]
    progress = Progress.from_meta({"epoch": len(history), "metrics": {"history": history}})
    assert progress.lowest("val_ppl") == 11.0
    assert progress.history == history[-HISTORY_KEPT:]


@pytest.mark.parametrize(
    "metrics",
    [
        {"history": "x"},
        {"history": [1, 2]},
        {"extremes": []},
        {"extremes": {"val_ppl": [1.0]}},
        {"extremes": {"val_ppl": ["a", "b"]}},
        {"extremes": {"val_ppl": [3.0, 1.0]}},
        {"extremes": {"val_ppl": [True, 2.0]}},
        {"best_metric": "0.5"},
        {"best_metric": float("nan")},
        {"best_tiebreak": [1.0]},
    ],
)
def test_malformed_progress_is_refused(metrics) -> None:
    with pytest.raises(CheckpointError, match="malformed training progress"):
        Progress.from_meta({"metrics": metrics})


@pytest.mark.parametrize(
    ("meta", "named"),
    [
        ({"partial": {"loss_sum": float("nan")}}, "partial.loss_sum is nan"),
        ({"partial": {"norm_sum": -1.0}}, "partial.norm_sum is -1.0"),
        ({"partial": {"epoch_time": "3"}}, "partial.epoch_time is '3'"),
        ({"partial": "x"}, "partial is 'x'"),
        ({"metrics": [1]}, "metrics is [1]"),
        ({"epoch": 2.7}, "epoch is 2.7"),
        ({"step": True}, "step is True"),
        ({"batch": -1}, "batch is -1"),
        ({"metrics": {"elapsed": float("inf")}}, "metrics.elapsed is inf"),
        ({"metrics": {"best_epoch": "3"}}, "metrics.best_epoch is '3'"),
        ({"metrics": {"last_sample": 5}}, "metrics.last_sample is 5"),
    ],
)
def test_a_malformed_progress_field_is_named(meta, named) -> None:
    # A NaN partial loss passed: the resumed run ended "loss became nan … try a smaller --lr"
    # and its finished status became failed; "partial": "x" passed as if absent.
    with pytest.raises(CheckpointError) as caught:
        Progress.from_meta({"epoch": 1, **meta})
    assert str(caught.value) == f"malformed training progress in the checkpoint: {named}"
