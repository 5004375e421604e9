"""Bidirectional used wrongly (the seeds' warning): a bidirectional RNN as a language model
sees, through its backward direction, the very character it must predict — training perplexity
falls near 1 — and at generation time there is no future to read, so it writes gibberish."""

from __future__ import annotations

import json

from cli_helpers import call

from rnn_tui.data.sources import read_text


def test_a_bidirectional_language_model_learns_to_read_the_answer(tmp_path, capsys) -> None:
    """The seeds' warning, measured: on a tiny corpus a bidirectional LSTM reaches a training
    perplexity near 1 (each position sees the very character it predicts through the backward
    direction) while a unidirectional one cannot; its generated text degenerates."""
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:3000], encoding="utf-8")
    results = {}
    for flag in ([], ["--bidirectional"]):
        args = ["train", "--corpus", str(corpus), "--model", "lstm", *flag, "--hidden", "32"]
        args += ["--batch-size", "8", "--num-steps", "10", "--epochs", "5", "--optimizer"]
        args += ["adam", "--lr", "0.02", "--device", "cpu", "--json"]
        code, out, err = call([*args, "--run-dir", str(tmp_path / f"r{len(flag)}")], capsys)
        assert code == 0, err
        results[bool(flag)] = json.loads(out)
    assert results[True]["train_ppl"] < 2.0 < 4.0 < results[False]["train_ppl"]
    generated = results[True]["sample"].removeprefix("time traveller")
    assert len(set(generated[-20:])) <= 4  # a few characters over and over: gibberish


async def test_the_train_screens_preset_sets_the_form(no_checkpoints, tui) -> None:
    from rnn_tui.train.options import BIDIRECTIONAL_LM

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        screen.action_bidirectional_lm()
        await pilot.pause()
        await pilot.pause()
        options, problems = screen.query_one("#train-form").options()
        assert problems == []
        for name, value in BIDIRECTIONAL_LM.items():
            assert options[name] == value, name
        assert "backward direction" in pilot.app.notified[-1][0]
