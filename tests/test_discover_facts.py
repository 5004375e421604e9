"""What rnn_tui.runs.discover says about a checkpoint: describe()'s facts and the line of them
the Generate and Translate consoles show."""

from __future__ import annotations

from pathlib import Path

from rnn_tui.runs.discover import describe, format_facts, label_for, short_path


def seq2seq_meta(**metrics) -> dict:
    return {
        "format_version": 1,
        "config": {"task": "seq2seq", "pairs": "fra-eng", "num_steps": 10},
        "model_config": {"model": "seq2seq", "hidden": 32, "layers": 2, "bidirectional": True},
        "epoch": 300,
        "metrics": metrics,
    }


def test_a_seq2seq_checkpoint_says_its_bleu_and_whether_it_reads_both_ways():
    facts = describe(seq2seq_meta(bleu=41.3, history=[{"epoch": 300, "bleu": 39.0}]))
    assert facts["bidirectional"] is True
    assert facts["bleu"] == 41.3  # the metrics' own first
    assert facts["epoch_bleu"] == 39.0
    assert describe(seq2seq_meta(history=[{"epoch": 300, "bleu": 39.0}]))["bleu"] == 39.0
    assert describe(seq2seq_meta(bleu=0.0, history=[{"bleu": 5.0}]))["bleu"] == 0.0
    facts = describe(seq2seq_meta())
    assert (facts["bleu"], facts["epoch_bleu"]) == (None, None)
    assert describe({"format_version": 1})["bidirectional"] is False


def test_the_list_label_shows_the_epochs_bleu():
    facts = describe(seq2seq_meta(bleu=41.3))
    assert label_for("tiny", "shipped", facts) == "tiny · seq2seq"
    facts = describe(seq2seq_meta(history=[{"bleu": 39.04}]))
    assert label_for("tiny", "run", facts) == "tiny · seq2seq · BLEU 39.0 · run"


def test_the_facts_line_names_what_is_known_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    facts = describe(seq2seq_meta(bleu=41.3, val_ppl=4.87))
    facts.update(src_vocab=1200, tgt_vocab=1534, num_steps=10)
    assert format_facts(facts, str(tmp_path / "fra.safetensors")) == (
        "seq2seq bidirectional ×2 layers · hidden 32 · vocab 1,200 → 1,534 · num_steps 10 · "
        "val ppl 4.87 · BLEU 41.3 · epoch 300 · fra.safetensors"
    )
    lm = {"model": "gru", "token": "char", "mode": "clean", "vocab_size": 28, "hidden": 32}
    assert format_facts({**lm, "train_ppl": 9.123, "epoch": 1}, None) == (
        "gru · char (clean) · vocabulary 28 · hidden 32 · train ppl 9.12 · epoch 1"
    )
    assert format_facts({}, None) == ""


def test_paths_are_shown_short(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert short_path(str(tmp_path / "a" / "b.safetensors")) == str(Path("a") / "b.safetensors")
    home = Path.home()
    if not str(tmp_path).startswith(str(home)):
        assert short_path(str(home / "x.json")) == "~/x.json"
    assert short_path("/nowhere-at-all/x") == "/nowhere-at-all/x"


def test_an_attention_translator_is_told_apart():
    meta = seq2seq_meta(history=[{"bleu": 31.24}])
    meta["model_config"] = {**meta["model_config"], "attention": "additive"}
    facts = describe(meta)
    assert facts["attention"] == "additive"
    assert label_for("attn", "run", facts) == "attn · seq2seq+additive · BLEU 31.2 · run"
    assert "additive attention" in format_facts(facts, None)
    for value in ("none", None, 3, "a b", ["dot"]):  # none, absent, or not a name: no attention
        meta["model_config"]["attention"] = value
        assert describe(meta)["attention"] is None


def test_a_bidirectional_language_model_is_told_apart_in_the_list():
    # The seeds' one-way and two-way LSTM LMs both read "lstm char" in the Generate list.
    one_way = {"task": "lm", "model": "lstm", "token": "char", "bidirectional": False}
    assert label_for("a", "run", one_way) == "a · lstm char · run"
    assert label_for("b", "run", {**one_way, "bidirectional": True}) == "b · lstm bidir char · run"
