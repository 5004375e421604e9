"""A resume logs the epochs its checkpoint completed that metrics.jsonl lacks (a trainer killed
between saving an epoch's checkpoint and logging the epoch), and the reader of the last logged
epoch that decides it (runs/epoch_log.py)."""

from __future__ import annotations

import json

from cli_helpers import call, tiny_args, tiny_corpus
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.runs.epoch_log import last_logged_epoch


def _events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@given(
    st.lists(st.sampled_from(["step", "epoch", "sample", "bad", "long"]), max_size=12),
    st.integers(1, 64),
    st.booleans(),
)
def test_the_last_epoch_is_found_whatever_the_piece_size(tmp_path_factory, kinds, piece, torn):
    path = tmp_path_factory.mktemp("log") / "metrics.jsonl"
    lines, expected, epoch = [], 0, 0
    for kind in kinds:
        if kind == "epoch":
            epoch += 1
            expected = epoch
            lines.append(json.dumps({"event": "epoch", "epoch": epoch, "val_ppl": 3.0}))
        elif kind == "bad":  # an edited epoch line a trainer could not have written
            lines.append(json.dumps({"event": "epoch", "epoch": -4}))
        elif kind == "long":
            lines.append(json.dumps({"event": "sample", "text": '"event": "epoch" ' * 20}))
        else:
            lines.append(json.dumps({"event": kind, "step": 3}))
    text = "".join(line + "\n" for line in lines)
    if torn:
        text += '{"event": "epoch", "epoch": 99'  # a write cut short: no epoch
    path.write_text(text, encoding="utf-8")
    assert last_logged_epoch(path, piece=piece) == expected


def test_no_file_or_a_folder_has_logged_no_epoch(tmp_path):
    assert last_logged_epoch(tmp_path / "missing.jsonl") == 0
    assert last_logged_epoch(tmp_path) == 0


def test_a_resume_logs_the_epoch_a_killed_trainer_saved_but_did_not_log(
    tmp_path_factory, tmp_path, capsys
):
    # kill -9 after the epoch's checkpoint, before its line: the resumed run's log went
    # [1, 3, 4] and the lost epoch was never shown.
    corpus = tiny_corpus(tmp_path_factory)
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "2"), capsys)[0] == 0
    metrics = run / "metrics.jsonl"
    events = _events(metrics)
    lost = next(e for e in events if e["event"] == "epoch" and e["epoch"] == 2)
    kept = [e for e in events if e is not lost and events.index(e) < events.index(lost)]
    metrics.write_text("".join(json.dumps(e) + "\n" for e in kept), encoding="utf-8")
    assert call(["train", "--resume", str(run), "--epochs", "3"], capsys)[0] == 0
    epochs = [e for e in _events(metrics) if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    recovered = epochs[1]
    assert recovered["recovered"] is True and "recovered" not in epochs[2]
    for key in ("train_loss", "val_loss", "val_ppl", "grad_norm", "step", "best"):
        assert recovered[key] == lost[key], key
    # Nothing is logged twice when the log has every epoch already.
    assert call(["train", "--resume", str(run), "--epochs", "4"], capsys)[0] == 0
    epochs = [e["epoch"] for e in _events(metrics) if e["event"] == "epoch"]
    assert epochs == [1, 2, 3, 4]
