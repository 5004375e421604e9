"""A resume logs the epochs its checkpoint completed that metrics.jsonl lacks (a trainer killed
between saving an epoch's checkpoint and logging the epoch), and the reader of the last logged
epoch that decides it (runs/epoch_log.py)."""

from __future__ import annotations

import json
import re

from cli_helpers import call, tiny_args, tiny_corpus
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.runs.epoch_log import last_logged_epoch
from rnn_tui.runs.line_tail import epoch_lines


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


def test_a_resume_from_an_earlier_best_says_so_and_the_curves_do_not_run_back(
    tmp_path_factory, tmp_path, capsys
):
    # last.json unreadable: the trainer resumes from best (epoch 1) though the log reached
    # epoch 3. The CLI said only "loaded the best checkpoint instead", and a follower drew
    # epochs [1, 2, 3, 2, 3, 4]: the curves ran back on themselves.
    from rnn_tui.runs.follow import RunFollower

    corpus = tiny_corpus(tmp_path_factory)
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "1"), capsys)[0] == 0
    saved = {p.name: p.read_bytes() for p in (run / "checkpoints").glob("best.*")}
    assert call(["train", "--resume", str(run), "--epochs", "3"], capsys)[0] == 0
    for name, data in saved.items():
        (run / "checkpoints" / name).write_bytes(data)
    (run / "checkpoints" / "last.json").write_text("{garbage", encoding="utf-8")
    code, _, err = call(["train", "--resume", str(run), "--epochs", "4"], capsys)
    assert code == 0
    assert "metrics.jsonl has epochs up to 3: epochs 2-3 run again" in err
    start = [e for e in _events(run / "metrics.jsonl") if e["event"] == "start"][-1]
    assert start["resumed"] == {"epoch": 1, "batch": 0, "rewound_from": 3}
    follower = RunFollower(run)
    follower.poll()
    for name in ("train_ppl", "val_ppl", "step_loss"):
        xs = follower.series[name].arrays()[0].tolist()
        # Step events are at most 10 a second (train/progress.py): which of a fast epoch's
        # are written depends on the machine's speed, but the resumed session wrote some.
        assert xs == sorted(xs) and xs[-1] > (1.0 if name == "step_loss" else 3.0), (name, xs)
    assert follower.series["val_ppl"].arrays()[0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert [s.epoch for s in follower.samples] == [1, 2, 3, 4]


def test_a_follower_drops_the_minibatches_a_mid_epoch_resume_trains_again(tmp_path):
    from rnn_tui.runs.follow import RunFollower

    def step(epoch, batch):
        return {"event": "step", "epoch": epoch, "batch": batch, "batches": 4, "loss": 1.0}

    first = [{"event": "start", "config": {"epochs": 2}}] + [step(1, b) for b in (1, 2, 3)]
    resumed = {"event": "start", "config": {"epochs": 2}, "resumed": {"epoch": 0, "batch": 2}}
    lines = first + [resumed] + [step(1, 3), step(1, 4)]
    (tmp_path / "metrics.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8"
    )
    follower = RunFollower(tmp_path)
    follower.poll()
    assert follower.series["step_loss"].arrays()[0].tolist() == [0.25, 0.5, 0.75, 1.0]


_PIECES = st.sampled_from(
    [
        '{"event": "epoch", "epoch": 2}',
        '{"event":"epoch"}',
        '{"event": "step", "epoch": 1}',
        '{"event": "sample", "text": "\\"event\\": \\"epoch\\""}',
        '"event" : "epoch" "event": "epoch"',
        "",
        "x",
    ]
)


@given(lines=st.lists(_PIECES, max_size=12), trailing=st.booleans())
def test_epoch_lines_are_the_lines_holding_an_epoch_mark(lines, trailing):
    # The whole-line regex it replaced (it backtracked over every step line) is the oracle.
    data = "\n".join(lines).encode() + (b"\n" if trailing else b"")
    oracle = re.compile(rb'^[^\n]*"event"\s*:\s*"epoch"[^\n]*$', re.MULTILINE)
    assert list(epoch_lines(data)) == [m.group() for m in oracle.finditer(data)]
    first = data.find(b"\n") + 1
    assert list(epoch_lines(data, first)) == [m.group() for m in oracle.finditer(data, first)]
