"""The Translator on tiny seq2seq checkpoints saved as a training run saves them.

`make_seq2seq_checkpoint` trains a small EncoderDecoder on the seeds' four sentence pairs (so it
has learnt them by heart) or saves it untrained (random but deterministic outputs, where greedy
and beam search disagree more). The CLI tests import it too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from lm_fixtures import copy_checkpoint

from rnn_tui.data.errors import DataError
from rnn_tui.data.translation import RESERVED_TOKENS, build_array_nmt, preprocess_pairs
from rnn_tui.data.vocab import Vocab
from rnn_tui.decode.translate import (
    TranslateError,
    Translator,
    load_translator,
    normalize,
    parse_line,
    tokenize,
)

# The seeds' (d2l §9.7) example sentences and their references.
PAIRS = [
    ("Go.", "Va !"),
    ("I lost.", "J'ai perdu."),
    ("He's calm.", "Il est calme."),
    ("I'm home.", "Je suis chez moi."),
]
NUM_STEPS = 10
_BUILT: dict[tuple, Path] = {}


def _vocabularies() -> tuple[Vocab, Vocab, list[tuple[str, str]]]:
    pairs = preprocess_pairs(PAIRS)
    # Extra source words, so unknown words, long sentences and batches have something to read.
    extra = "you we they run walk see the a big small house cat dog".split()
    src = [s.split(" ") for s, _ in pairs] + [extra]
    tgt = [t.split(" ") for _, t in pairs]
    return (
        Vocab(src, reserved_tokens=RESERVED_TOKENS),
        Vocab(tgt, reserved_tokens=RESERVED_TOKENS),
        pairs,
    )


def make_seq2seq_checkpoint(
    folder: Path, *, steps: int = 60, name: str = "best", attention: str = "none"
) -> Path:
    """An EncoderDecoder (embed 16, hidden 32, 2 layers, the given attention) trained `steps`
    Adam steps on the four pairs (0: untrained), saved as folder/<name>.{safetensors,json} with
    the meta a seq2seq run writes; returns the .safetensors path."""
    from rnn_tui.checkpoints.checkpoint import save_checkpoint
    from rnn_tui.models.seq2seq import EncoderDecoder

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        src_vocab, tgt_vocab, pairs = _vocabularies()
        model = EncoderDecoder(
            len(src_vocab), len(tgt_vocab), embed=16, hidden=32, dropout=0.0, attention=attention
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        X, X_len = (
            torch.as_tensor(a)
            for a in build_array_nmt([s.split(" ") for s, _ in pairs], src_vocab, NUM_STEPS)
        )
        Y, _ = (
            torch.as_tensor(a)
            for a in build_array_nmt([t.split(" ") for _, t in pairs], tgt_vocab, NUM_STEPS)
        )
        bos = torch.full((len(pairs), 1), tgt_vocab["<bos>"])
        dec_X = torch.cat([bos, Y[:, :-1]], dim=1)
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=tgt_vocab["<pad>"])
        model.train()
        for _ in range(steps):
            logits = model(X, X_len, dec_X)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        meta = {
            "config": {
                "task": "seq2seq",
                "num_steps": NUM_STEPS,
                "embed": 16,
                "hidden": 32,
                "attention": attention,
            },
            "src_vocab": src_vocab.to_dict(),
            "tgt_vocab": tgt_vocab.to_dict(),
            "epoch": 1,
            "step": steps,
        }
        return save_checkpoint(folder, name, model, optimizer, meta)
    finally:
        torch.set_num_threads(threads)


def cached_seq2seq(
    factory: pytest.TempPathFactory, steps: int = 60, attention: str = "none"
) -> Path:
    key = (steps, attention)
    if key not in _BUILT:
        folder = factory.mktemp(f"seq2seq-{steps}-{attention}")
        _BUILT[key] = make_seq2seq_checkpoint(folder, steps=steps, attention=attention)
    return _BUILT[key]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is faster, and steady on a shared CPU
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Path:
    return cached_seq2seq(tmp_path_factory, 60)


@pytest.fixture(scope="session")
def untrained(tmp_path_factory) -> Path:
    return cached_seq2seq(tmp_path_factory, 0)


def _reference_greedy(tr: Translator, sentence: str, max_len: int) -> list[int]:
    """The seeds' predict_seq2seq written out on the decoder itself (no search module)."""
    ids = tr.src_vocab[tokenize(sentence)][:NUM_STEPS]
    if len(ids) < NUM_STEPS:
        ids.append(tr.src_vocab["<eos>"])
    X = torch.tensor([ids])
    with torch.no_grad():
        state = tr.model.encode(X, torch.tensor([len(ids)]))
        dec_X = torch.tensor([[tr.bos]])
        out = []
        for _ in range(max_len):
            logits, state = tr.model.decoder(dec_X, state)
            dec_X = logits.argmax(dim=2)
            y = int(dec_X[0, 0])
            if y == tr.eos:
                break
            out.append(y)
    return out


# ---------------------------------------------------------------------------------------------


def test_the_trained_pairs_come_back(trained):
    tr = load_translator(trained)
    out = tr.translate_many([s for s, _ in PAIRS], references=[r for _, r in PAIRS])
    for (_, reference), t in zip(PAIRS, out):
        assert t.beam_text == t.greedy_text == normalize(reference)
        assert t.bleu == 1.0  # the reference is preprocessed like the target side
        assert t.best.finished and t.unknown == [] and t.truncated == 0


def test_greedy_is_the_seeds_predict_seq2seq(untrained):
    tr = load_translator(untrained)
    sentences = ["go .", "i lost .", "you see the big house", "cat", "we run run run walk"]
    out = tr.translate_many(sentences, beam_size=1)
    for sentence, t in zip(sentences, out):
        assert list(t.greedy.tokens) == _reference_greedy(tr, sentence, NUM_STEPS)
        assert t.greedy_text == tr.text(t.greedy.tokens)


def test_greedy_matches_the_batched_greedy(untrained):
    tr = load_translator(untrained)
    sentences = ["go .", "you see the big house", "i'm home .", "a dog"]
    array, valid = build_array_nmt([tokenize(s) for s in sentences], tr.src_vocab, NUM_STEPS)
    batch = tr.model.greedy_batch(
        torch.as_tensor(array), torch.as_tensor(valid), tr.bos, tr.eos, NUM_STEPS
    )
    out = tr.translate_many(sentences, beam_size=1)
    assert [list(t.greedy.tokens) for t in out] == batch


def test_beam_of_one_is_greedy_and_no_beam_is_kept(untrained):
    tr = load_translator(untrained)
    t = tr.translate("you see the small cat", beam_size=1)
    assert t.beam == [] and t.beam_text == t.greedy_text
    assert t.candidates == [t.greedy] and t.best is t.greedy


def test_beam_candidates_are_ranked_by_the_length_penalised_score(untrained):
    tr = load_translator(untrained)
    for alpha in (0.0, 0.75):
        t = tr.translate("they walk the dog", beam_size=5, alpha=alpha, max_len=6)
        scores = [c.score for c in t.beam]
        assert scores == sorted(scores, reverse=True) and len(t.beam) >= 5
        for c in [*t.beam, t.greedy]:
            assert c.length <= 6
            assert c.score == pytest.approx(c.log_prob / c.length**alpha)
        assert t.beam_text == tr.text(t.beam[0].tokens)
        # The beam's best is at least as good as greedy under the same score.
        assert t.beam[0].score >= t.greedy.score - 1e-9


def test_batching_does_not_change_a_translation(untrained):
    tr = load_translator(untrained)
    sentences = ["go .", "you see the big small house cat dog", "i lost .", "run"]
    together = tr.translate_many(sentences, beam_size=3)
    alone = [tr.translate(s, beam_size=3) for s in sentences]
    for a, b in zip(together, alone):
        assert (a.greedy_text, a.beam_text) == (b.greedy_text, b.beam_text)
        assert [c.score for c in a.beam] == pytest.approx([c.score for c in b.beam], abs=1e-5)


def test_source_is_preprocessed_as_in_training(trained):
    tr = load_translator(trained)
    t = tr.translate("  I   LOST. ")
    assert t.source == "  I   LOST. "
    assert t.source_tokens == ["i", "lost", "."]
    assert t.beam_text == "j'ai perdu ."
    assert tokenize("He's calm!") == ["he's", "calm", "!"]
    assert tokenize("a\u202fb\xa0c") == ["a", "b", "c"]


def test_unknown_words_are_reported_once_in_order(trained):
    tr = load_translator(trained)
    t = tr.translate("Zorglub go blorp zorglub .")
    assert t.unknown == ["zorglub", "blorp"]
    assert tr.translate("go .").unknown == []


def test_tokens_beyond_num_steps_are_cut(untrained):
    tr = load_translator(untrained)
    head = "you see the big house the cat the dog we"  # 10 tokens = num_steps, <eos> cut too
    t = tr.translate(head + " run walk", beam_size=2)
    assert t.truncated == 2
    same = tr.translate(head + " they a", beam_size=2)
    assert (t.beam_text, t.greedy_text) == (same.beam_text, same.greedy_text)
    assert tr.translate(head).truncated == 0
    # Cut or exactly num_steps long, the source's <eos> has no room; one token fewer, it has.
    assert t.eos_cut and tr.translate(head).eos_cut
    assert not tr.translate(head.rsplit(" ", 1)[0]).eos_cut


def test_max_len_defaults_to_num_steps_and_bounds_the_output(untrained):
    tr = load_translator(untrained)
    t = tr.translate("we run", beam_size=3)
    assert all(c.length <= NUM_STEPS for c in t.candidates)
    short = tr.translate("we run", beam_size=3, max_len=1)
    assert all(c.length == 1 for c in [*short.beam, short.greedy])


def test_sentence_bleu_against_a_reference(trained):
    tr = load_translator(trained)
    t = tr.translate("Go.", reference="Va !")
    assert t.reference == "Va !" and t.bleu == 1.0
    wrong = tr.translate("Go.", reference="Il est calme.")
    assert wrong.bleu == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda tr: tr.translate("go .", beam_size=0), "beam size"),
        (lambda tr: tr.translate("go .", alpha=-1.0), "alpha"),
        (lambda tr: tr.translate("go .", alpha=math.nan), "alpha"),
        (lambda tr: tr.translate("go .", max_len=0), "max length"),
        (lambda tr: tr.translate("   "), "empty"),
        (
            lambda tr: tr.translate_many(["go .", "run"], references=["va !"]),
            "1 reference.s. for 2 sentence",
        ),
    ],
)
def test_bad_requests_are_one_line_errors(trained, call, message):
    tr = load_translator(trained)
    with pytest.raises(TranslateError, match=message) as info:
        call(tr)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# Loading


def _run_dir(tmp_path: Path, checkpoints: dict[str, Path]) -> Path:
    """A run directory whose checkpoints/NAME pair is a copy of each given checkpoint."""
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    for name, path in checkpoints.items():
        copy_checkpoint(path, folder / f"{name}.safetensors")
    return folder.parent


def test_a_run_directory_gives_its_best_checkpoint(tmp_path, trained, untrained):
    run = _run_dir(tmp_path, {"best": trained, "last": untrained})
    tr = load_translator(run)
    assert tr.checkpoint == run / "checkpoints" / "best.safetensors"
    assert tr.translate("go .").beam_text == "va !"
    assert load_translator(run / "checkpoints" / "last.json").checkpoint.name == "last.safetensors"


def test_a_run_directory_without_best_gives_its_last(tmp_path, trained):
    run = _run_dir(tmp_path, {"last": trained})
    assert load_translator(run).checkpoint == run / "checkpoints" / "last.safetensors"


def test_an_unusable_best_falls_back_to_last_with_a_warning(tmp_path, trained, untrained):
    run = _run_dir(tmp_path, {"best": untrained, "last": trained})
    with open(run / "checkpoints" / "best.safetensors", "ab") as f:
        f.write(b"\0")  # its sha256 no longer matches the JSON
    tr = load_translator(run)
    assert tr.checkpoint.name == "last.safetensors"
    assert len(tr.warnings) == 1 and "loaded the last checkpoint instead" in tr.warnings[0]


def test_a_language_model_checkpoint_is_refused(tmp_path):
    from lm_fixtures import save_untrained

    vocab = Vocab(list("abc"))
    path = save_untrained(tmp_path, vocab, {"model": "gru", "hidden": 4})
    with pytest.raises(TranslateError) as info:
        load_translator(path)
    # Named by its tensor file: NAME.safetensors is a name, no file.
    (tensors,) = tmp_path.glob("best.*.safetensors")
    assert path != tensors and str(info.value) == (
        f"{tensors} is a language-model checkpoint; translate needs a seq2seq one"
    )


def _edited_seq2seq(tmp_path: Path, change) -> Path:
    """An untrained seq2seq checkpoint (tensors in best.<sha>.safetensors) whose best.json
    `change` edited; returns its name, best.safetensors (no file)."""
    path = make_seq2seq_checkpoint(tmp_path, steps=0)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    change(meta)
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.mark.parametrize("num_steps", [0, "10", 10.0])
def test_a_bad_num_steps_names_the_json_it_is_in(tmp_path, num_steps):
    path = _edited_seq2seq(tmp_path, lambda m: m["config"].update(num_steps=num_steps))
    assert not path.exists()  # a name: the tensors are in best.<sha>.safetensors
    with pytest.raises(TranslateError) as info:
        load_translator(path)
    assert str(info.value).startswith(
        f"checkpoint {tmp_path / 'best.json'}: num_steps must be an integer in [1, "
    )


def test_a_seq2seq_checkpoint_without_its_task_is_still_one(tmp_path):
    from rnn_tui.decode.generate import load_lm
    from rnn_tui.runs.discover import describe

    path = _edited_seq2seq(tmp_path, lambda m: m["config"].pop("task"))
    assert load_translator(path).translate("go .").source == "go ."
    with pytest.raises(DataError, match=r"is a 'seq2seq' checkpoint; generate needs a language"):
        load_lm(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert describe(meta)["task"] == "seq2seq"


def test_a_checkpoint_whose_task_cannot_be_told_is_refused_saying_so(tmp_path):
    def unknown(meta):
        meta["config"].pop("task")
        meta["model_config"]["model"] = "transformer"

    path = _edited_seq2seq(tmp_path, unknown)
    with pytest.raises(TranslateError) as info:
        load_translator(path)
    assert str(info.value) == (
        f'checkpoint {tmp_path / "best.json"}: its config has no "task" and its model is no task\'s'
    )


def test_missing_checkpoint_and_missing_vocabulary(tmp_path, untrained):
    with pytest.raises(TranslateError, match="checkpoint not found"):
        load_translator(tmp_path / "nothing.safetensors")
    with pytest.raises(TranslateError, match="no checkpoint in"):
        load_translator(tmp_path)


def test_a_vocabulary_that_does_not_fit_the_model_is_refused(untrained):
    tr = load_translator(untrained)
    small = Vocab([["x"]], reserved_tokens=RESERVED_TOKENS)
    with pytest.raises(TranslateError, match="source side has .* tokens but its source vocabulary"):
        Translator(tr.model, small, tr.tgt_vocab, tr.config)
    with pytest.raises(TranslateError, match="num_steps"):
        Translator(tr.model, tr.src_vocab, tr.tgt_vocab, {"task": "seq2seq"})


# ---------------------------------------------------------------------------------------------
# parse_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("go . => va !", ("go .", "va !")),
        ("  I lost.   =>J'ai perdu.  ", ("I lost.", "J'ai perdu.")),
        ("he's calm .", ("he's calm .", None)),
        ("a => b => c", ("a", "b => c")),
    ],
)
def test_parse_line(line, expected):
    assert parse_line(line) == expected


@pytest.mark.parametrize("line", ["=> va !", "   ", "go . =>", "go . =>   "])
def test_parse_line_refuses_an_empty_side(line):
    with pytest.raises(TranslateError):
        parse_line(line)


def test_translations_come_a_batch_at_a_time_after_the_checks(untrained, monkeypatch):
    # A file of 20,000 sentences took 100 s before its first line was printed.
    from rnn_tui.decode.translate import DECODE_BATCH

    tr = load_translator(untrained)
    decoded = []
    decode = tr._decode_many
    monkeypatch.setattr(
        tr, "_decode_many", lambda *a, **k: decoded.append(len(a[0])) or decode(*a, **k)
    )
    with pytest.raises(TranslateError, match="empty"):
        tr.translations(["go .", " "], beam_size=1)  # refused before anything is decoded
    assert decoded == []
    stream = tr.translations(["go ."] * 600, beam_size=1)
    first = next(stream)
    assert decoded == [DECODE_BATCH] and torch.is_grad_enabled()  # no gradient mode left on
    rest = list(stream)
    assert len(rest) == 599 and [first, *rest] == tr.translate_many(["go ."] * 600, beam_size=1)
    assert sum(decoded) == 2 * 600 and DECODE_BATCH < 600


@pytest.mark.parametrize("beam_size", [1, 4])
def test_a_stop_is_heard_before_every_decoding_step(untrained, monkeypatch, beam_size):
    # The Translate screen's escape waited for whole batches: minutes at beam 32.
    from rnn_tui.decode.translate import TranslationStopped

    tr = load_translator(untrained)
    steps = []
    step = tr._step
    monkeypatch.setattr(tr, "_step", lambda *a: steps.append(1) or step(*a))
    with pytest.raises(TranslationStopped):
        tr.translate_many(
            ["go ."] * 5, beam_size=beam_size, max_len=50, stop=lambda: len(steps) >= 3
        )
    assert len(steps) == 3  # greedy's steps when beam_size is 4 too: no beam step began
    steps.clear()
    with pytest.raises(TranslationStopped):
        tr.translate_many(["go ."], beam_size=beam_size, stop=lambda: True)
    assert steps == []  # a stop asked for before the start decodes nothing


def test_progress_moves_within_a_batch_and_changes_nothing(untrained):
    tr = load_translator(untrained)
    sentences = ["go .", "i lost .", "he's calm ."]
    done: list[float] = []
    watched = tr.translate_many(sentences, beam_size=3, max_len=12, progress=done.append)
    assert watched == tr.translate_many(sentences, beam_size=3, max_len=12)
    assert done == sorted(done) and done[0] == 0 and 0 < done[len(done) // 2] < len(sentences)
    assert done[-1] < len(sentences) and len(set(done)) > 4  # a move per step, greedy and beam
