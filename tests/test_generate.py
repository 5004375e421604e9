"""Generation (rnn_tui.decode) and checkpoint discovery (rnn_tui.runs.discover).

The models are the tiny trained checkpoints of lm_fixtures; the hand-made checks follow the
seeds' predict_ch8 step by step.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch
from lm_fixtures import copy_checkpoint, save_untrained

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.data.errors import DataError
from rnn_tui.data.prefix import (
    MAX_PREFIX_TOKENS,
    encode_prefix,
    join_tokens,
    tokenize_prefix,
    unknown_message,
    unknown_tokens,
)
from rnn_tui.data.vocab import Vocab
from rnn_tui.decode.generate import generate_text, load_lm, predict
from rnn_tui.decode.options import parse_options
from rnn_tui.models import base
from rnn_tui.models.registry import build_model
from rnn_tui.runs.discover import describe, discover_checkpoints, read_meta


@pytest.fixture(scope="module")
def char_lm(char_checkpoint):
    return load_lm(char_checkpoint)


@pytest.fixture(scope="module")
def word_lm(word_checkpoint):
    return load_lm(word_checkpoint)


def tokens(lm, prefix, n, **options):
    return [step.token for step in predict(prefix, n, lm.model, lm.vocab, lm.token, **options)]


# -- tokenizing the prefix ----------------------------------------------------------------------


def test_clean_prefix_reads_as_the_corpus_was_cleaned():
    assert tokenize_prefix("Time Traveller!", "char") == list("time traveller ")
    assert tokenize_prefix("Time  Traveller!!", "word") == ["time", "traveller"]
    assert tokenize_prefix("Time!", "char", mode="raw") == list("Time!")


def test_unknown_tokens_are_reported_once_in_order_and_shown_as_unk():
    vocab = Vocab(list("abc "))
    encoded = encode_prefix("abé! é", vocab, "char", mode="raw")
    assert encoded.unknown == ["é", "!"]
    assert encoded.ids == [vocab["a"], vocab["b"], 0, 0, vocab[" "], 0]
    assert encoded.shown == ["a", "b", "<unk>", "<unk>", " ", "<unk>"]
    assert unknown_tokens("abc", vocab, "char", mode="raw") == []
    assert unknown_message(["é", "!"]) == "2 prefix tokens not in the vocabulary → <unk>: 'é', '!'"


def test_what_cleaning_replaces_is_named_not_dropped_silently():
    """Clean mode reads 'É', '9' and '!' as spaces: the reader is told which characters, once
    each, before any `<unk>`; raw mode replaces nothing, and whitespace is not named."""
    vocab = Vocab(list("abcdefghijklmnopqrstuvwxyz "))
    encoded = encode_prefix("Time  ÉZ9!\t9 é", vocab, "char")
    assert encoded.tokens == list("time z ")
    assert encoded.cleaned == ["É", "9", "!", "é"]
    assert encoded.warnings() == [
        "cleaned as the corpus was (letters a–z only): 'É', '9', '!', 'é' read as spaces"
    ]
    assert encode_prefix("time traveller", vocab, "char").warnings() == []
    raw = encode_prefix("ab!", Vocab(list("ab")), "char", mode="raw")
    assert raw.cleaned == [] and raw.warnings() == [unknown_message(["!"])]
    many = encode_prefix("a" + "".join(map(str, range(10))) + "#", vocab, "word")
    assert many.warnings()[0].endswith("'8', '9', … read as spaces")


@pytest.mark.parametrize(
    "prefix, token, fragment",
    [("", "char", "empty"), ("!!! 42", "word", "no word tokens"), ("x", "byte", "token level")],
)
def test_a_prefix_with_nothing_to_warm_up_on_is_refused(prefix, token, fragment):
    with pytest.raises(DataError, match=fragment):
        encode_prefix(prefix, Vocab(["x"]), token)


def test_a_prefix_longer_than_the_most_that_is_read_is_refused():
    vocab = Vocab(["x"])
    assert len(encode_prefix("x" * MAX_PREFIX_TOKENS, vocab).ids) == MAX_PREFIX_TOKENS
    with pytest.raises(DataError, match="100,001 char tokens long; at most 100,000 are read"):
        encode_prefix("x" * (MAX_PREFIX_TOKENS + 1), vocab)
    with pytest.raises(DataError, match="100,001 word tokens long"):
        encode_prefix("x " * (MAX_PREFIX_TOKENS + 1), vocab, "word")


@pytest.mark.parametrize("name", ["lstm", "gru-scratch", "rnn-scratch"])
def test_a_long_prefix_is_read_in_chunks_to_the_same_state(name, monkeypatch):
    # Read in one pass, a 100,000-character prefix kept every step's gates and logits: 975 MB.
    torch.manual_seed(0)
    model = build_model({"model": name, "vocab_size": 30, "hidden": 16}).eval()
    ids = torch.randint(0, 30, (3 * base.WARM_UP_CHUNK + 5,)).tolist()
    with torch.no_grad():
        _, whole = model(torch.tensor([ids[:-1]]), model.begin_state(1))
        lengths = []
        forward = model.forward
        monkeypatch.setattr(
            model, "forward", lambda X, s: lengths.append(X.shape[1]) or forward(X, s)
        )
        state, last = model.warm_up(ids)
    assert lengths == [base.WARM_UP_CHUNK] * 3 + [4]
    assert last == ids[-1]
    for got, want in zip(
        state if isinstance(state, tuple) else (state,),
        whole if isinstance(whole, tuple) else (whole,),
        strict=True,
    ):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_warm_up_reports_what_it_has_read_and_stops_when_told(bidirectional, monkeypatch):
    """A 100,000-character prefix takes seconds to read: the Generate console shows how far it
    is and stops it on escape (its callback raises)."""
    monkeypatch.setattr(base, "WARM_UP_CHUNK", 4)
    config = {"model": "gru", "vocab_size": 30, "hidden": 8, "bidirectional": bidirectional}
    model = build_model(config).eval()
    ids = list(range(11))  # 10 read, the last one fed to the first step
    seen: list[tuple[int, int]] = []
    with torch.no_grad():
        model.warm_up(ids, progress=lambda read, total: seen.append((read, total)))
        assert seen == [(0, 10), (4, 10), (8, 10), (10, 10)]

        class Stop(Exception):
            pass

        def stop(read: int, total: int) -> None:
            raise Stop

        forward = model.forward
        calls: list[int] = []
        monkeypatch.setattr(model, "forward", lambda X, s: calls.append(1) or forward(X, s))
        with pytest.raises(Stop):
            model.warm_up(ids, progress=stop)
    assert calls == []  # stopped at the first report, before the first pass


# -- greedy -------------------------------------------------------------------------------------


def test_greedy_is_deterministic_and_includes_the_prefix(char_lm):
    first, unknown = generate_text("Time Traveller!", 40, char_lm.model, char_lm.vocab, "char")
    second, _ = generate_text("Time Traveller!", 40, char_lm.model, char_lm.vocab, "char")
    assert first == second
    assert first.startswith("time traveller ")
    assert len(first) == len("time traveller ") + 40
    assert unknown == []


def test_greedy_is_the_argmax_chain_of_the_seeds_prediction(char_lm):
    """predict_ch8 by hand: warm up token by token, then feed back the argmax three times."""
    model, vocab = char_lm.model, char_lm.vocab
    prefix = "time traveller"
    with torch.no_grad():
        state = model.begin_state(1)
        outputs = [vocab[prefix[0]]]
        for y in prefix[1:]:
            _, state = model(torch.tensor([[outputs[-1]]]), state)
            outputs.append(vocab[y])
        expected, expected_top = [], []
        for _ in range(3):
            logits, state = model(torch.tensor([[outputs[-1]]]), state)
            probs = torch.softmax(logits[0, -1], dim=0)
            outputs.append(int(logits[0, -1].argmax()))
            expected.append(vocab.idx_to_token[outputs[-1]])
            values, indices = probs.topk(5)
            expected_top.append([vocab.idx_to_token[i] for i in indices.tolist()])
    steps = list(predict(prefix, 3, model, vocab, "char"))
    assert [s.token for s in steps] == expected
    assert [[tok for tok, _ in s.top] for s in steps] == expected_top
    for step in steps:
        probs = [p for _, p in step.top]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
        assert step.prob == pytest.approx(probs[0])  # greedy picks the most probable


def test_predict_restores_the_models_mode(char_lm):
    model = char_lm.model
    model.train()
    try:
        assert len(tokens(char_lm, "time", 3)) == 3
        assert model.training
    finally:
        model.eval()


# -- sampling -----------------------------------------------------------------------------------


def test_sampling_with_a_seed_is_reproducible_and_seeds_differ(char_lm):
    a = tokens(char_lm, "time traveller", 60, strategy="sample", seed=1)
    b = tokens(char_lm, "time traveller", 60, strategy="sample", seed=1)
    c = tokens(char_lm, "time traveller", 60, strategy="sample", seed=2)
    assert a == b
    assert a != c


def test_top_k_of_one_is_greedy(char_lm):
    greedy = tokens(char_lm, "the time", 40)
    for seed in (0, 1):
        assert tokens(char_lm, "the time", 40, strategy="sample", top_k=1, seed=seed) == greedy


def test_top_k_restricts_the_draw_to_the_k_most_probable(char_lm):
    steps = list(
        predict(
            "time", 200, char_lm.model, char_lm.vocab, "char", strategy="sample", top_k=3, seed=5
        )
    )
    assert all(step.token in [tok for tok, _ in step.top[:3]] for step in steps)
    # Without the limit the same seed leaves the top 3 at least once in 200 draws.
    free = list(
        predict("time", 200, char_lm.model, char_lm.vocab, "char", strategy="sample", seed=5)
    )
    assert any(step.token not in [tok for tok, _ in step.top[:3]] for step in free)


def test_a_tiny_temperature_samples_the_argmax(char_lm):
    greedy = tokens(char_lm, "time", 30)
    assert tokens(char_lm, "time", 30, strategy="sample", temperature=1e-6, seed=3) == greedy


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"top_k": -1}, "top-k"),
        ({"strategy": "beam"}, "strategy"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_options_are_refused_at_the_call(char_lm, options, fragment):
    with pytest.raises(DataError, match=fragment):
        predict("time", 5, char_lm.model, char_lm.vocab, "char", **options)


@pytest.mark.parametrize("length", [0, -3, 100_001])
def test_bad_lengths_are_refused(char_lm, length):
    with pytest.raises(DataError, match="length"):
        predict("time", length, char_lm.model, char_lm.vocab, "char")


def test_a_vocabulary_that_does_not_fit_the_model_is_refused(char_lm):
    with pytest.raises(DataError, match="vocabulary"):
        predict("time", 5, char_lm.model, Vocab(list("abc")), "char")


def test_form_options_parse_or_name_the_problem():
    options = parse_options("20", "sample", "0.5", "3", " 7 ")
    assert (options.length, options.temperature, options.top_k, options.seed) == (20, 0.5, 3, 7)
    assert parse_options("5", "greedy", "1", "0", "").seed is None
    for fields, fragment in [
        (("x", "greedy", "1", "0", ""), "length"),
        (("5", "greedy", "hot", "0", ""), "temperature"),
        (("5", "greedy", "1", "1.5", ""), "top-k"),
        (("5", "greedy", "1", "0", "-2"), "seed"),
    ]:
        with pytest.raises(DataError, match=fragment):
            parse_options(*fields)


# -- word level, unknown words ------------------------------------------------------------------


def test_word_model_generates_words_and_flags_unknown_ones(word_lm):
    assert word_lm.token == "word"
    text, unknown = generate_text(
        "The Time xyzzy machine", 12, word_lm.model, word_lm.vocab, "word"
    )
    words = text.split(" ")
    assert words[:4] == ["the", "time", "<unk>", "machine"]
    assert len(words) == 4 + 12
    assert unknown == ["xyzzy"]
    assert join_tokens(["a", "b"], "word") == "a b" and join_tokens(["a", "b"], "char") == "ab"


# -- loading ------------------------------------------------------------------------------------


def test_load_lm_reads_the_token_level_and_mode(char_lm, char_checkpoint):
    assert (char_lm.token, char_lm.mode) == ("char", "clean")
    assert char_lm.path == char_checkpoint
    assert not char_lm.model.training
    # The run directory form and the .json form load the same checkpoint.
    assert load_lm(char_checkpoint.with_suffix(".json")).path == char_checkpoint
    assert load_lm(char_checkpoint.parent).path == char_checkpoint


def test_a_checkpoint_of_another_task_is_refused(tmp_path):
    vocab = Vocab(list("abc "))
    path = save_untrained(tmp_path, vocab, {"model": "gru", "hidden": 4}, task="seq2seq")
    with pytest.raises(DataError, match="'seq2seq' checkpoint"):
        load_lm(path)


def test_a_pickle_is_refused(tmp_path):
    torch.save({"w": torch.zeros(2)}, tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="it is a pickle"):
        load_lm(tmp_path / "model.pt")


def test_a_bidirectional_model_generates_with_a_warning(tmp_path):
    vocab = Vocab(list("abc "))
    config = {"model": "gru", "hidden": 4, "bidirectional": True}
    lm = load_lm(save_untrained(tmp_path, vocab, config))
    assert any("bidirectional" in w for w in lm.warnings)
    text, _ = generate_text("abc", 5, lm.model, lm.vocab, "char")
    assert len(text) == 8


# -- discovery ----------------------------------------------------------------------------------


def _copy_pair(source, folder, name):
    copy_checkpoint(source, folder / f"{name}.safetensors")


def test_discovery_lists_shipped_then_runs_with_their_facts(tmp_path, char_checkpoint):
    shipped = tmp_path / "checkpoints"
    _copy_pair(char_checkpoint, shipped, "timemachine-gru")
    (shipped / "README.md").write_text("not a checkpoint")
    (shipped / "stray.json").write_text('{"not": "a checkpoint"}')
    _copy_pair(char_checkpoint, shipped, "half")
    (shipped / "half.safetensors").unlink()  # a JSON without its tensors is not listed
    runs = tmp_path / "runs"
    _copy_pair(char_checkpoint, runs / "lm-gru-1" / "checkpoints", "best")
    _copy_pair(char_checkpoint, runs / "lm-gru-1" / "checkpoints", "last")
    (runs / "lm-gru-1" / "config.json").write_text("{}")

    entries = discover_checkpoints(runs_root=runs, shipped=[shipped])
    assert [(e["kind"], e["name"]) for e in entries] == [
        ("shipped", "timemachine-gru"),
        ("run", "lm-gru-1/best"),
        ("run", "lm-gru-1/last"),
    ]
    first = entries[0]
    assert first["path"] == str(shipped / "timemachine-gru.safetensors")
    assert (first["task"], first["model"], first["token"], first["vocab_size"]) == (
        "lm",
        "gru",
        "char",
        28,
    )
    assert first["val_ppl"] is not None and first["val_ppl"] > 1
    assert first["label"].startswith("timemachine-gru · gru char · val ppl ")
    assert entries[1]["label"].endswith(" · run")
    assert discover_checkpoints(runs_root=runs, shipped=[shipped], task="seq2seq") == []


def test_discovery_reads_the_environment_and_skips_missing_folders(
    tmp_path,
    monkeypatch,
    char_checkpoint,
):
    extra = tmp_path / "mine"
    _copy_pair(char_checkpoint, extra, "tiny")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", f"{tmp_path / 'nowhere'}:{extra}:{extra}")
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "no-runs"))
    names = [e["name"] for e in discover_checkpoints() if e["path"].startswith(str(extra))]
    assert names == ["tiny"]  # listed once although its folder is named twice


def test_describe_tolerates_sparse_metadata(tmp_path, char_checkpoint):
    meta = read_meta(char_checkpoint.with_suffix(".json"))
    assert describe(meta)["epoch"] == 1
    assert describe({"format_version": 1})["val_ppl"] is None
    history = [{"epoch": 1, "train_ppl": 10.0, "val_ppl": 9.0}, {"epoch": 2, "train_ppl": 8.0}]
    facts = describe({"format_version": 1, "metrics": {"history": history}})
    assert (facts["train_ppl"], facts["val_ppl"]) == (8.0, None)  # epoch 2 was not validated
    history[-1]["val_ppl"] = 7.5
    assert describe({"format_version": 1, "metrics": {"history": history}})["val_ppl"] == 7.5
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert read_meta(bad) is None
    bad.write_text(json.dumps([1, 2]))
    assert read_meta(bad) is None


def test_discovery_and_options_import_no_torch():
    code = (
        "import sys, rnn_tui.runs.discover, rnn_tui.decode.options\nprint('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_vocabulary_the_model_disagrees_with_names_the_json(tmp_path):
    path = save_untrained(
        tmp_path, Vocab(list("abc")), {"model": "gru", "hidden": 4, "vocab_size": 9}
    )
    assert not path.exists()  # a name: the tensors are in best.<sha>.safetensors
    with pytest.raises(DataError) as info:
        load_lm(path)
    assert str(info.value).startswith(f"checkpoint {tmp_path / 'best.json'}: the model predicts 9")


def test_a_language_model_without_its_task_is_still_one(tmp_path):
    path = save_untrained(tmp_path, Vocab(list("abc")), {"model": "gru", "hidden": 4})
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    del meta["config"]["task"]
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    assert load_lm(path).vocab.idx_to_token[-3:] == list("abc")
