"""The seq2seq task (rnn_tui.train.tasks.seq2seq) on the training engine, its batching
(rnn_tui.data.nmt_batches), the batched greedy decoder, weight export, and
`rnn-tui train --task seq2seq` as users run it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.checkpoints.checkpoint import load_checkpoint
from rnn_tui.checkpoints.export import export_weights
from rnn_tui.cli import main
from rnn_tui.data.errors import DataError
from rnn_tui.data.nmt_batches import bucketed_batches, split_pairs, word_count
from rnn_tui.runs.listing import list_runs
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.engine import Trainer
from rnn_tui.train.masked_loss import masked_cross_entropy

PAIRS = [
    ("Go.", "Va !"),
    ("Hi.", "Salut !"),
    ("Run!", "Cours !"),
    ("I lost.", "J'ai perdu."),
    ("He's calm.", "Il est calme."),
    ("I'm home.", "Je suis chez moi."),
    ("I'm calm.", "Je suis calme."),
    ("He's home.", "Il est chez lui."),
    ("I'm lost.", "Je suis perdu."),
    ("He lost.", "Il a perdu."),
    ("I run.", "Je cours."),
    ("He runs.", "Il court."),
]


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory) -> Path:
    """Thirty-six pairs (the twelve above three times) and two malformed lines."""
    path = tmp_path_factory.mktemp("pairs") / "pairs.txt"
    lines = [f"{en}\t{fr}" for en, fr in PAIRS * 3]
    lines.insert(5, "a line without a tab")
    lines.insert(9, "one\ttwo\tthree\tfour")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one thread is faster on a busy machine and keeps resume comparisons bitwise."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny(pairs_file: Path, **overrides) -> Config:
    options = dict(
        pairs=str(pairs_file),
        min_freq=1,
        embed=8,
        hidden=16,
        layers=2,
        batch_size=8,
        num_steps=6,
        epochs=2,
        val_fraction=0.2,
        device="cpu",
    )
    options.update(overrides)
    return Config("seq2seq", **options)


def test_validation_loss_is_the_mean_over_every_valid_target_token(pairs_file):
    """Σ −log P over the valid tokens of all held-out targets (words and <eos>) divided by how
    many there are: a true mean per token, not per sentence or per padded position."""
    trainer = Trainer(tiny(pairs_file))
    task, model = trainer.task, trainer.model
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for k in range(len(task.val_idx)):  # one sentence at a time, token by token
            X, X_len, dec_input, Y, Y_len = task.batch(task.val_idx[k : k + 1])
            log_probs = torch.log_softmax(model(X, X_len, dec_input)[0].double(), dim=-1)
            for t in range(int(Y_len[0])):
                total -= log_probs[t, int(Y[0, t])].item()
                count += 1
    assert count > len(task.val_idx)
    assert task.evaluate(model).loss == pytest.approx(total / count, rel=1e-5)


def events(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == kind]


# ---------------------------------------------------------------------------------------------
# Split and batches


def test_split_is_fixed_disjoint_and_covers_every_pair():
    train, held = split_pairs(100, 0.1)
    assert len(held) == 10 and sorted(train + held) == list(range(100))
    assert split_pairs(100, 0.1) == (train, held)
    assert split_pairs(5, 0.01)[1] != []  # at least one held out when asked for any
    assert split_pairs(5, 0) == (list(range(5)), [])
    with pytest.raises(DataError, match="nothing to train"):
        split_pairs(2, 0.9)


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=300),
    batch_size=st.integers(1, 40),
    seed=st.integers(0, 5),
)
def test_bucketed_batches_cover_each_index_once(lengths, batch_size, seed):
    batches = bucketed_batches(lengths, batch_size, random.Random(seed), pool=3)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)


def test_bucketing_groups_similar_lengths():
    rng = random.Random(0)
    lengths = [rng.randint(1, 10) for _ in range(2000)]
    batches = bucketed_batches(lengths, 32, random.Random(1))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches)
    assert spread / len(batches) < 1.0  # unbucketed batches of 32 span ~9


def test_word_count_ignores_punctuation():
    assert word_count("i lost .".split()) == 2
    assert word_count("he's calm !".split()) == 2
    assert word_count([]) == 0


# ---------------------------------------------------------------------------------------------
# The trainer


def test_bad_configs_fail_before_training(pairs_file):
    with pytest.raises(ConfigError, match="language model"):
        Trainer(tiny(pairs_file, model="lstm"))
    with pytest.raises(ConfigError, match="lr"):
        Trainer(tiny(pairs_file, lr=0))
    with pytest.raises(DataError):
        Trainer(tiny(pairs_file, pairs=str(pairs_file.parent / "missing.txt")))


def test_minibatches_are_trimmed_and_the_loss_is_the_mean_over_valid_tokens(pairs_file):
    trainer = Trainer(tiny(pairs_file))
    assert trainer.task.malformed == 2
    assert len(trainer.task.train_idx) + len(trainer.task.val_idx) == 36
    data = trainer.task.epoch_data(trainer.model, 1)
    assert len(data) == trainer.num_batches
    for X, X_len, dec_input, Y, Y_len, tokens, weight in data:
        assert X.shape[1] == int(X_len.max()) and Y.shape[1] == int(Y_len.max())
        assert tokens == int(Y_len.sum()) and weight == 1.0  # one process: all its rows
        assert (dec_input[:, 0] == trainer.task.bos).all()
        assert torch.equal(dec_input[:, 1:], Y[:, :-1])
    X, X_len, dec_input, Y, Y_len, *_ = data[0]
    trainer.model.eval()
    with torch.no_grad():
        loss = trainer.task.batch_loss(trainer.model, data, 0, fresh=True)
        logits = trainer.model(X, X_len, dec_input)
        log_probs = torch.log_softmax(logits, dim=-1)
        terms = [-log_probs[i, t, Y[i, t]] for i in range(len(Y)) for t in range(int(Y_len[i]))]
    assert loss.item() == pytest.approx(torch.stack(terms).mean().item(), rel=1e-5)
    assert sum(int(v) for v in Y_len) == len(terms)


def test_a_run_learns_writes_bleu_and_checkpoints_with_both_vocabularies(pairs_file, tmp_path):
    config = tiny(pairs_file, epochs=12, lr=0.02, val_fraction=0.1)
    summary = Trainer(config).run(RunDir(tmp_path / "run"))
    assert summary["status"] == "finished" and summary["task"] == "seq2seq"
    epochs = events(tmp_path / "run", "epoch")
    assert len(epochs) == 12
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert all(0 <= e["bleu"] <= 100 for e in epochs)
    assert "bleu_short" in epochs[-1] and summary["bleu"] == epochs[-1]["bleu"]
    samples = events(tmp_path / "run", "sample")
    assert samples[-1]["text"].splitlines()[0].startswith("go . => ")
    checkpoint = load_checkpoint(tmp_path / "run")  # best: the highest held-out BLEU
    bleus = [e["bleu"] for e in epochs]
    assert checkpoint.meta["epoch"] == bleus.index(max(bleus)) + 1
    assert checkpoint.task == "seq2seq"
    assert "<bos>" in checkpoint.tgt_vocab.idx_to_token and len(checkpoint.src_vocab) > 4
    config_json = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config_json["malformed_lines"] == 2 and config_json["val_pairs"] == 4
    (entry,) = list_runs(tmp_path)
    assert entry["task"] == "seq2seq" and entry["best_bleu"] == max(e["bleu"] for e in epochs)


def test_resume_after_two_epochs_matches_an_uninterrupted_run(pairs_file, tmp_path):
    def metrics(run: Path) -> list[tuple]:
        keys = ("epoch", "train_loss", "val_loss", "grad_norm", "bleu")
        return [tuple(e[k] for k in keys) for e in events(run, "epoch")]

    Trainer(tiny(pairs_file, epochs=4)).run(RunDir(tmp_path / "whole"))
    Trainer(tiny(pairs_file, epochs=2)).run(RunDir(tmp_path / "split"))
    checkpoint = load_checkpoint(tmp_path / "split", prefer=("last", "best"))
    config = Config.from_dict(checkpoint.config).replace(epochs=4)
    Trainer(config, resume=checkpoint).run(RunDir(tmp_path / "split"))
    assert metrics(tmp_path / "split") == metrics(tmp_path / "whole")


def test_resume_refuses_pairs_whose_tokens_changed(pairs_file, tmp_path):
    Trainer(tiny(pairs_file, epochs=1)).run(RunDir(tmp_path / "run"))
    checkpoint = load_checkpoint(tmp_path / "run", prefer=("last", "best"))
    config = Config.from_dict(checkpoint.config).replace(epochs=2)
    trainer = Trainer(config, resume=checkpoint)  # unchanged: resumes
    # Pairs added in words already known keep the vocabularies; their digest tells.
    checkpoint.meta["pairs"]["fingerprint"] = "0" * 32
    with pytest.raises(ConfigError, match="their tokens differ from the checkpoint's"):
        Trainer(config, resume=checkpoint)
    del checkpoint.meta["pairs"]  # a checkpoint from before digests: vocabularies only
    Trainer(config, resume=checkpoint)
    # The digest follows the data: the same pairs in another order give another.
    path = tmp_path / "reordered.txt"
    lines = pairs_file.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[::-1]) + "\n", encoding="utf-8")
    other = Trainer(tiny(path, epochs=1))
    assert other.task.checkpoint_meta()["pairs"] != trainer.task.checkpoint_meta()["pairs"]


def test_the_task_builds_what_the_books_token_lists_give(pairs_file):
    """The task never holds the sentences' token lists; its vocabularies, arrays and held-out
    references are still those of tokenize_nmt → Vocab → build_array_nmt on the training part,
    so a run started before this resumes (its fingerprint is of these arrays)."""
    from rnn_tui.data.sources import read_raw_pairs
    from rnn_tui.data.translation import (
        RESERVED_TOKENS,
        build_array_nmt,
        preprocess_pairs,
        tokenize_nmt,
    )
    from rnn_tui.data.vocab import Vocab

    task = Trainer(tiny(pairs_file, min_freq=2, num_steps=3)).task
    source, target = tokenize_nmt(preprocess_pairs(read_raw_pairs(str(pairs_file)).pairs))
    train, held = split_pairs(len(source), 0.2)
    for lines, vocab, built in (
        (source, task.src_vocab, task._src),
        (target, task.tgt_vocab, task._tgt),
    ):
        expected = Vocab([lines[i] for i in train], 2, RESERVED_TOKENS)
        assert vocab.idx_to_token == expected.idx_to_token
        assert built.tolist() == build_array_nmt(lines, expected, 3)[0].tolist()
    assert task.val_references == [" ".join(target[i]) for i in held]
    assert task.val_short == [j for j, i in enumerate(held) if word_count(source[i]) <= 5]


def test_nothing_held_out_trains_and_has_no_references(pairs_file, tmp_path):
    """--val-fraction 0: every pair trains; the held-out references are an empty list."""
    trainer = Trainer(tiny(pairs_file, epochs=1, val_fraction=0.0))
    assert trainer.task.val_references == [] and trainer.task.val_short == []
    assert trainer.task.data_sizes()["train_pairs"] == 36
    trainer.run(RunDir(tmp_path / "run"))
    assert events(tmp_path / "run", "epoch")


def test_preparing_the_pairs_reports_its_progress(pairs_file):
    """Preparing 100 MB of pairs takes 12 s: the command line and the app's starting run show
    how far it is, in sentences over every stage, never going back."""
    from rnn_tui.train.preparing import reporting

    seen = []
    with reporting(lambda name, done, total: seen.append((name, done, total))):
        Trainer(tiny(pairs_file, epochs=1))
    assert {name for name, _, _ in seen} == {"pairs.txt"}
    assert seen[0][1:] == (0, 1)  # before the file is read
    totals = {total for _, _, total in seen[1:]}
    # 36 pairs, 29 of them trained on: preprocessed, both sides counted, both sides encoded.
    assert totals == {3 * 36 + 2 * 29}
    done = [d for _, d, _ in seen[1:]]
    assert done == sorted(done) and done[0] == 36 and done[-1] == 3 * 36 + 2 * 29 - 1
    assert len(done) == 5  # one chunk a stage here
    seen.clear()
    Trainer(tiny(pairs_file, epochs=1))
    assert seen == []  # nobody listening: nothing reported


def test_the_pairs_are_prepared_with_collection_paused_and_it_resumes(
    pairs_file, tmp_path, monkeypatch
):
    # 100 MB of pairs (2M): the collector's passes over the token lists were 9 of 22 s.
    import gc

    from rnn_tui.train.tasks import seq2seq as task_module

    seen = []
    counts = task_module.side_counts
    monkeypatch.setattr(
        task_module,
        "side_counts",
        lambda lines, **kw: seen.append(gc.isenabled()) or counts(lines, **kw),
    )
    trainer = Trainer(tiny(pairs_file, epochs=1))
    assert seen == [False, False] and gc.isenabled()
    assert trainer.task.notes() == [f"skipped 2 malformed lines in {pairs_file}"]
    empty = tmp_path / "empty.txt"
    empty.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises((DataError, ConfigError)):
        Trainer(tiny(empty, epochs=1))
    assert gc.isenabled()


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_an_attention_run_learns_and_resumes_as_if_never_stopped(pairs_file, tmp_path, attention):
    def metrics(run: Path) -> list[tuple]:
        keys = ("epoch", "train_loss", "val_loss", "bleu")
        return [tuple(e[k] for k in keys) for e in events(run, "epoch")]

    Trainer(tiny(pairs_file, epochs=3, attention=attention)).run(RunDir(tmp_path / "whole"))
    Trainer(tiny(pairs_file, epochs=1, attention=attention)).run(RunDir(tmp_path / "split"))
    checkpoint = load_checkpoint(tmp_path / "split", prefer=("last", "best"))
    assert checkpoint.meta["model_config"]["attention"] == attention
    config = Config.from_dict(checkpoint.config).replace(epochs=3)
    Trainer(config, resume=checkpoint).run(RunDir(tmp_path / "split"))
    whole = metrics(tmp_path / "whole")
    assert metrics(tmp_path / "split") == whole and whole[-1][1] < whole[0][1]
    (entry,) = [e for e in list_runs(tmp_path) if e["name"] == "whole"]
    assert entry["model"] == f"seq2seq+{attention}"


def test_a_run_from_before_attention_resumes_as_the_fixed_context_model(pairs_file, tmp_path):
    """A run whose config.json and checkpoint were written before --attention existed."""
    run = tmp_path / "old"
    Trainer(tiny(pairs_file, epochs=1)).run(RunDir(run))
    config_json = json.loads((run / "config.json").read_text())
    config_json.pop("attention")
    (run / "config.json").write_text(json.dumps(config_json))
    for meta_path in (run / "checkpoints").glob("*.json"):
        meta = json.loads(meta_path.read_text())
        meta["config"].pop("attention")
        meta["model_config"].pop("attention")
        meta_path.write_text(json.dumps(meta))
    checkpoint = load_checkpoint(run, prefer=("last", "best"))
    config = Config.from_dict(checkpoint.config).replace(epochs=2)
    assert config.attention == "none"
    summary = Trainer(config, resume=checkpoint).run(RunDir(run))
    assert summary["status"] == "finished" and len(events(run, "epoch")) == 2


def test_batched_greedy_matches_one_sentence_at_a_time(pairs_file):
    trainer = Trainer(tiny(pairs_file))
    sentences = ["go .", "i lost .", "he's calm .", "i'm home ."]
    together = trainer.task.translate(trainer.model, sentences)
    assert together == [trainer.task.translate(trainer.model, [s])[0] for s in sentences]
    model = trainer.model.eval()
    X = torch.tensor([[4, 5, 3, 0]])
    out = model.greedy_batch(X, torch.tensor([3]), trainer.task.bos, trainer.task.eos, max_len=0)
    assert out == [[]]


def test_exported_weights_are_half_the_size_and_translate_alike(pairs_file, tmp_path):
    Trainer(tiny(pairs_file, epochs=3, lr=0.02)).run(RunDir(tmp_path / "run"))
    path = export_weights(tmp_path / "run", tmp_path / "ship", "tiny")
    best = tmp_path / "run" / "checkpoints" / "best.safetensors"
    exported, original = load_checkpoint(path), load_checkpoint(best)
    assert exported.tensors_path.stat().st_size < original.tensors_path.stat().st_size / 2
    assert exported.meta["exported"]["weights"] == "float16"
    a, b = exported.build_model(), original.build_model()
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert p.dtype == torch.float32, name
        torch.testing.assert_close(p, q, atol=1e-3, rtol=1e-3)


def test_masked_loss_of_a_trimmed_batch_equals_the_padded_one(pairs_file):
    """Trimming a minibatch to its longest pair changes nothing the loss sees."""
    trainer = Trainer(tiny(pairs_file))
    trainer.model.eval()
    rows = trainer.task.train_idx[:5]
    X, X_len, dec_input, Y, Y_len = trainer.task.batch(rows)
    pad = torch.zeros((len(rows), 3), dtype=Y.dtype)
    with torch.no_grad():
        short = masked_cross_entropy(trainer.model(X, X_len, dec_input), Y, Y_len)
        long = masked_cross_entropy(
            trainer.model(torch.cat([X, pad], 1), X_len, torch.cat([dec_input, pad], 1)),
            torch.cat([Y, pad], 1),
            Y_len,
        )
    assert short[1] == long[1]
    assert short[0].item() == pytest.approx(long[0].item(), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# The command line


def call(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def seq2seq_args(pairs_file: Path, *extra: str) -> list[str]:
    return [
        "train", "--task", "seq2seq", "--pairs", str(pairs_file), "--min-freq", "1",
        "--embed", "8", "--hidden", "16", "--batch-size", "8", "--num-steps", "6",
        "--epochs", "2", "--val-fraction", "0.2", "--device", "cpu", *extra,
    ]  # fmt: skip


def test_cli_trains_and_prints_the_summary(pairs_file, tmp_path, capsys):
    code, out, err = call(
        seq2seq_args(pairs_file, "--run-dir", str(tmp_path / "r"), "--json"), capsys
    )
    assert code == 0, err
    summary = json.loads(out)
    for key in ("run_dir", "model", "device", "epochs", "tokens_per_s", "bleu", "checkpoint"):
        assert key in summary
    assert summary["malformed_lines"] == 2
    assert "skipped 2 malformed lines" in err and "BLEU" in err


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--corpus", "timemachine"], "--corpus does not apply to --task seq2seq"),
        (["--num-examples", "0"], "--num-examples"),
        (["--model", "gru"], "language model"),
    ],
)
def test_cli_bad_seq2seq_options_are_one_line_and_write_nothing(
    pairs_file, tmp_path, capsys, extra, fragment
):
    code, _, err = call(seq2seq_args(pairs_file, "--run-dir", str(tmp_path / "r"), *extra), capsys)
    assert code == 2
    assert fragment in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r" / "config.json").exists()


def test_cli_pairs_options_do_not_apply_to_language_models(capsys):
    code, _, err = call(["train", "--task", "lm", "--pairs", "x.txt"], capsys)
    assert code == 2 and "--pairs does not apply to --task lm" in err


def test_cli_missing_pairs_file_is_one_line(tmp_path, capsys):
    code, _, err = call(["train", "--task", "seq2seq", "--pairs", str(tmp_path / "no.txt")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no.txt" in err
