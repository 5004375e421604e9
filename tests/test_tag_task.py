"""The many-to-many tagger: the fixed split and its vocabularies, the model tagging every step
from `output`, the binary F1s by hand, a short run on the engine (per-tag report, capital and
mark F1, the tag-nothing baseline, resume), `rnn-tui tag` and one line for every refusal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import call

from rnn_tui.data.tag_split import HELD_OUT, tag_data, vocabularies
from rnn_tui.data.tagging import make_tags, restore
from rnn_tui.metrics.tagging import binary_f1, tag_report
from rnn_tui.models.base import ModelError
from rnn_tui.models.registry import build_model
from rnn_tui.models.tagger import SequenceTagger

SMALL = ["--task", "tag", "--max-chars", "4000", "--hidden", "8", "--embed", "4"]
SMALL += ["--num-steps", "20", "--batch-size", "8"]


def test_the_split_is_fixed_contiguous_and_round_trips() -> None:
    data = tag_data()
    tag_data.cache_clear()
    again = tag_data()
    assert again.chars == data.chars and again.tags == data.tags
    assert np.array_equal(again.held_x, data.held_x) and np.array_equal(again.held_y, data.held_y)
    total = len(data.train_x) + len(data.held_x)
    assert len(data.held_x) == total - round(total * (1 - HELD_OUT))
    assert data.tags[0] == "O" and {"C", ".", ","} <= set(data.tags)
    # The held-out ids decode back to the normalised text's last tenth.
    text = "".join(data.chars[i] for i in data.held_x[:300])
    restored = restore(text, [data.tags[i] for i in data.held_y[:300]])
    assert restored.lower().replace(",", "").replace(".", "").startswith(text[:50])


def test_vocabularies_put_none_first_then_by_count() -> None:
    text, tags = make_tags("I am. I am, so. Yes, I am.")
    chars, tag_names = vocabularies(text, tags)
    assert chars == " aeimosy" and tag_names[0] == "O"
    assert tag_names[1:] == ("C", ".", ",")  # 4 capitals, 3 full stops, 2 commas


def test_binary_f1_by_hand() -> None:
    true = np.array([1, 1, 0, 0, 1], dtype=bool)
    predicted = np.array([1, 0, 1, 0, 1], dtype=bool)
    # TP 2, FP 1, FN 1: P = R = 2/3, F1 = 2/3.
    assert binary_f1(true, predicted) == pytest.approx(2 / 3)
    assert binary_f1(np.zeros(3, bool), np.zeros(3, bool)) == 0.0
    report = tag_report([1, 0, 2, 3], [1, 1, 3, 0], ["O", "C", ".", "C."])
    # Capitalised: true at 0 and 3, predicted at 0, 1, 2: TP 1, F1 = 2·1 / (2 + 3).
    assert report.f1_capital == pytest.approx(0.4)
    # Some mark follows: true at 2 and 3, predicted at 2 (a "." for a "C."): 2·1 / (2 + 1).
    assert report.f1_punct == pytest.approx(2 / 3)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_tagger_tags_every_step_from_its_output(bidirectional) -> None:
    torch.manual_seed(0)
    model = SequenceTagger("gru", 10, 5, 6, bidirectional=bidirectional)
    X = torch.randint(0, 10, (3, 7))
    logits = model(X)
    assert logits.shape == (3, 7, 5)
    # A step's tag depends on later inputs exactly when the tagger reads both ways.
    changed = X.clone()
    changed[:, -1] = (changed[:, -1] + 1) % 10
    first_moves = not torch.allclose(model(changed)[:, 0], logits[:, 0])
    assert first_moves == bidirectional
    # Tagging a stream in windows gives the windows' own argmax.
    ids = X.flatten().numpy()
    predicted, loss = model.eval().tag_stream(ids, 7, targets=np.zeros_like(ids))
    assert np.array_equal(predicted, logits.argmax(-1).flatten().numpy()) and loss > 0


def test_a_stream_is_tagged_in_windows_the_last_one_shorter() -> None:
    torch.manual_seed(1)
    model = SequenceTagger("lstm", 10, 4, 5, layers=2, bidirectional=True, embed=3).eval()
    ids = np.random.default_rng(0).integers(0, 10, 17)
    predicted, _ = model.tag_stream(ids, 5)
    # Windows 0–4, 5–9, 10–14 from a zero state each, then 15–16 alone.
    pieces = [ids[i : i + 5] for i in range(0, 17, 5)]
    expected = [model(torch.as_tensor(p)[None]).argmax(-1).flatten() for p in pieces]
    assert len(predicted) == 17 and np.array_equal(predicted, torch.cat(expected).numpy())
    # A window across a boundary would see other characters: the tags can differ.
    whole, _ = model.tag_stream(ids, 17)
    assert np.array_equal(whole, model(torch.as_tensor(ids)[None]).argmax(-1).flatten().numpy())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"kind": "transformer"}, "unknown tagger"),
        ({"tags": 1}, "tags must be"),
        ({"hidden": 0}, "hidden must be"),
        ({"bidirectional": "yes"}, "bidirectional must be"),
        ({"dropout": 0.1}, "unknown tagger config"),
    ],
)
def test_build_rejects_a_bad_tagger_config(change, message) -> None:
    config = {"model": "tagger", "kind": "gru", "vocab_size": 30, "tags": 41, "hidden": 8}
    with pytest.raises(ModelError, match=message):
        build_model({**config, **change})


@pytest.fixture(scope="module")
def tag_run(tmp_path_factory) -> tuple[Path, dict]:
    run = tmp_path_factory.mktemp("tag") / "run"
    import contextlib
    import io

    from rnn_tui.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            ["train", *SMALL, "--epochs", "2", "--bidirectional", "--run-dir", str(run), "--json"]
        )
    assert code == 0
    return run, json.loads(out.getvalue())


def test_a_short_run_reports_per_tag_f1_and_the_baseline(tag_run, capsys) -> None:
    run, summary = tag_run
    assert summary["status"] == "finished" and summary["tags"][0] == "O"
    report = summary["report"]
    assert set(report["classes"]) == set(summary["tags"])
    assert sum(c["support"] for c in report["classes"].values()) == summary["held_out"]
    assert 0 <= summary["f1_capital"] <= 1 and 0 <= summary["f1_punct"] <= 1
    nothing = summary["baselines"]["nothing"]
    assert nothing["accuracy"] == pytest.approx(0.9425, abs=1e-4)
    # The finished line puts the best beside tagging nothing (0.059 looked like learning).
    message = json.loads((run / "status.json").read_text())["message"]
    assert message.endswith(f"; tagging nothing {nothing['macro_f1']:.3f})"), message
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all({"macro_f1", "f1_capital", "f1_punct", "accuracy"} <= set(e) for e in epochs)
    # No perplexity baseline, so none named ("trigram" was, beside a null perplexity).
    assert summary["baseline_ppl"] is None and summary["baseline_name"] is None
    assert events[0]["event"] == "start" and events[0]["baseline_name"] is None
    code, out, err = call(["train", "--resume", str(run), "--epochs", "3", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["epochs_total"] == 3


def test_the_screens_view_reproduces_the_runs_best_scores(tag_run) -> None:
    from rnn_tui.decode.tag import tag_view

    run, _ = tag_run
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    best = max((e for e in events if e["event"] == "epoch"), key=lambda e: e["macro_f1"])
    view = tag_view(run)
    assert view.report.report.macro_f1 == pytest.approx(best["macro_f1"], abs=1e-9)
    assert view.report.f1_capital == pytest.approx(best["f1_capital"], abs=1e-9)


def test_decode_loads_restores_and_reports(tag_run) -> None:
    from rnn_tui.decode.tag import TagError, load_tagger, tag_report, tag_text

    run, summary = tag_run
    model, vocab, _, _ = load_tagger(run)
    assert not model.training and model.bidirectional
    assert vocab.tags == summary["tags"] and vocab.chars == tag_data().chars
    restored = tag_text(model, vocab, "  The Time-Traveller, SAID: so!  ")
    assert restored.read == "the timetraveller said so"
    assert len(restored.tags) == len(restored.read)
    assert restored.text == restore(restored.read, restored.tags)
    assert "".join(piece for piece, _ in restored.spans) == restored.text
    assert {kind for _, kind in restored.spans} <= {"plain", "capital", "punct"}
    # Plain runs are merged: two plain pieces never follow each other.
    kinds = [kind for _, kind in restored.spans]
    assert all(a != b or a != "plain" for a, b in zip(kinds, kinds[1:], strict=False))
    # Characters its training text lacked refused the whole text; they are read as known ones.
    unseen = {c for c in "2024" if c not in vocab.chars}
    assert unseen  # this run's part of the text has no "2"
    restored = tag_text(model, vocab, "in 2024")
    assert restored.read == "in 2024" and set(restored.stand_ins) == unseen
    assert all(s in vocab.chars for s in restored.stand_ins.values())
    assert restored.text.lower().replace(".", "").replace(",", "").replace(" ", "") == "in2024"
    assert "'2' as " in restored.note()
    assert tag_text(model, vocab, "in the time").stand_ins == {}
    # Letters with no a-z reading vanished from the restored text unsaid ("中文 ok ß" → "ok").
    restored = tag_text(model, vocab, "中文 ok ß naïve")
    assert restored.read == "ok naive" and restored.left_out == "中文ß"
    assert restored.note() == "left out, as the tagger reads only a-z and 0-9: '中', '文', 'ß'"
    assert tag_text(model, vocab, "ǅ ﬁ İ ²").left_out == ""  # they have a reading
    with pytest.raises(TagError, match="no text to tag"):
        tag_text(model, vocab, " ,, ")
    report = tag_report(model, vocab)
    assert report.tags == summary["tags"]
    assert report.report.to_json(report.tags) == summary["report"]
    assert report.f1_capital == pytest.approx(summary["f1_capital"])


def test_the_task_and_decode_report_the_same_held_out_scores() -> None:
    """One split, one windowing: an untrained tagger (varied guesses) scores the same in the
    task's evaluation as in decode.tag.tag_report."""
    from rnn_tui.decode.tag import TagVocab, tag_report
    from rnn_tui.train.config import Config
    from rnn_tui.train.tasks.tag import TagTask

    task = TagTask(Config("tag", max_chars=2000, device="cpu"), torch.device("cpu"))
    torch.manual_seed(3)
    model = build_model({**task.model_config(), "hidden": 8, "bidirectional": True}).eval()
    report, _ = task.held_out(model)
    vocab = TagVocab(task.data.chars, list(task.data.tags))
    again = tag_report(model, vocab)
    assert 0 < again.report.accuracy < 0.9  # guessing, not tagging everything O
    assert again.report.to_json(again.tags) == report.report.to_json(report.tags)
    assert (again.f1_capital, again.f1_punct) == (report.f1_capital, report.f1_punct)


def test_spans_colour_capitals_and_inserted_marks() -> None:
    from rnn_tui.decode.tag import spans_of

    assert spans_of("i said no", ["C", "O", "O", "O", "O", ",", "O", "C", "."]) == [
        ("I", "capital"),
        (" said", "plain"),
        (",", "punct"),
        (" ", "plain"),
        ("N", "capital"),
        ("o", "plain"),
        (".", "punct"),
    ]


def test_rnn_tui_tag_restores_text(tag_run, capsys) -> None:
    run, _ = tag_run
    code, out, err = call(["tag", "--checkpoint", str(run), "Héllo, World", "--json"], capsys)
    assert code == 0, err
    row = json.loads(out)["texts"][0]
    assert row["text"] == "Héllo, World" and row["read"] == "hello world"
    assert len(row["tags"]) == len(row["read"])
    assert row["restored"].lower().replace(",", "").replace(".", "").startswith("hello")
    code, out, _ = call(["tag", "--checkpoint", str(run), "one", "two"], capsys)
    assert code == 0 and out.count("\n") == 2
    code, out, err = call(["tag", "--checkpoint", str(run), "one", "in 2024"], capsys)
    assert code == 0 and out.count("\n") == 2
    assert err.startswith("rnn-tui: warning: text 2: not in the tagger's training text")
    assert "'2' as " in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--checkpoint", "nowhere", "text"], "nowhere"),
        (["--checkpoint", "CLASSIFY", "text"], "is a 'classify' checkpoint"),
        (["--checkpoint", "RUN", "  ,, "], "no text to tag"),
        (["--checkpoint", "RUN", "x" * 10_001], "at most 10,000 characters"),
    ],
)
def test_rnn_tui_tag_refuses_in_one_line(tag_run, capsys, args, message) -> None:
    run, _ = tag_run
    classify = Path(__file__).parent / "fixtures" / "recorded-classify" / "classify-gru-recorded"
    args = [str(run) if a == "RUN" else str(classify) if a == "CLASSIFY" else a for a in args]
    code, out, err = call(["tag", *args], capsys)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_view_says_which_epoch_its_checkpoint_is(tag_run) -> None:
    """The Classify screen computes a live run's view every few seconds, not after every epoch:
    the view carries the epoch of the checkpoint it was computed from (the run's best)."""
    from rnn_tui.decode.tag import tag_view

    run, _ = tag_run
    meta = json.loads((run / "checkpoints" / "best.json").read_text(encoding="utf-8"))
    assert tag_view(run).epoch == meta["epoch"] >= 1
