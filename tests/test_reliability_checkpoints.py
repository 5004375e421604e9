"""Bad input that passes the parser and used to fail deeper down, one test per cause: models too
big for memory, a checkpoint's JSON edited by hand (it is not covered by the sha256), sampling on
non-finite outputs, and what a killed session leaves behind. Each is one line and exit 2 (or a
failed status), and nothing already saved changes."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest
import torch
from cli_helpers import snapshot, tiny_corpus
from cli_helpers import status_and_err as call
from cli_helpers import the_line as one_line
from lm_fixtures import copy_checkpoint

import rnn_tui
from rnn_tui.checkpoints import device as device_module
from rnn_tui.checkpoints.checkpoint import load_checkpoint, save_checkpoint
from rnn_tui.cli import main
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train import prepare
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.engine import Trainer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return tiny_corpus(tmp_path_factory)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny(corpus: str, **overrides) -> Config:
    options = dict(
        corpus=corpus, model="gru", hidden=16, batch_size=4, num_steps=10, epochs=2,
        sample_every=0, device="cpu",
    )  # fmt: skip
    return Config("lm", **{**options, **overrides})


# -- cause: no memory estimate, allocation tracebacks ----------------------------------------------


def test_a_model_too_big_for_memory_is_refused_before_anything_is_allocated(corpus, monkeypatch):
    monkeypatch.setattr(prepare, "available_memory", lambda device: 64 * 2**20)
    with pytest.raises(ConfigError, match=r"needs about .* more than the 64 MiB free on cpu"):
        Trainer(tiny(corpus, hidden=2048))
    Trainer(tiny(corpus, hidden=16))  # what fits is built


_PEAK_PROBE = """
import json, re, sys
import torch
from rnn_tui.cli import main
from rnn_tui.models.memory import training_bytes
from rnn_tui.train.config import Config

def status(field):
    text = open("/proc/self/status").read()
    return int(re.search(field + r":\\s+(\\d+)", text).group(1)) * 1024

options = dict(model="lstm", hidden=1536, embed=1536, token="word", max_tokens=2000, epochs=1)
config = Config("lm", device="cpu", sample_every=0, **options)
task = config.spec.load()(config, torch.device("cpu"))
need = training_bytes(task.model_config(), config.batch_size, config.num_steps, "sgd")
before = status("VmRSS")
args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
code = main(["train", *args, "--sample-every", "0", "--device", "cpu", "--run-dir", sys.argv[1]])
print(json.dumps({"code": code, "grew": status("VmHWM") - before, "need": need}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc (Linux)")
def test_the_memory_estimate_covers_what_a_training_step_takes_at_its_peak(tmp_path):
    # A word-level LSTM the check let through at 17.8 GiB of 21.7 free grew past 22 GiB and
    # was killed by the system: a step's temporaries (the fused LSTM's weight copies, each
    # weight's gradient before it is added) were not counted.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _PEAK_PROBE, str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.splitlines()[-1])
    assert measured["code"] == 0
    need = measured["need"]
    assert need["workspace"] == 5 * need["parameters"]  # the chains' copies counted
    # An upper bound, not a guess: the measured growth stays under the estimate.
    assert measured["grew"] <= need["total"], (measured["grew"], need)
    assert measured["grew"] > need["parameters"] + need["gradients"]


def test_where_the_vocabulary_takes_the_memory_the_advice_is_min_freq(corpus):
    lm = {"model": "gru", "hidden": 256, "layers": 1, "dropout": 0.0, "bidirectional": False}
    config = tiny(corpus, hidden=256, batch_size=32, num_steps=35)
    words = {**lm, "vocab_size": 4_800_000, "embed": 0}
    need = prepare.training_bytes(words, 32, 35, "sgd")["total"]
    advice = prepare.memory_advice(words, config, need)
    assert "4,800,000-token vocabulary" in advice and "--min-freq" in advice
    assert "--token char" in advice and "--hidden" in advice
    chars = {**lm, "vocab_size": 28, "embed": 0}  # the model itself is what is too big
    assert prepare.memory_advice(chars, config, 10 * need) == LM_ADVICE
    wide = {**lm, "vocab_size": 1500, "hidden": 4096, "embed": 0}  # hidden, not vocabulary
    wide_need = prepare.training_bytes(wide, 32, 35, "sgd")["total"]
    assert prepare.memory_advice(wide, config, wide_need) == LM_ADVICE


@pytest.mark.parametrize(
    ("model", "extra", "factor"),
    [
        ("rnn", {}, 5),
        ("lstm", {"layers": 2}, 5),
        ("gru", {}, 5),
        ("lstm", {"bidirectional": True}, 5),
        ("lstm", {"layers": 2, "dropout": 0.2}, 3),
        ("lstm-scratch", {}, 3),
    ],
)
def test_the_workspace_counts_the_chains_copies_where_a_pass_may_run_there(model, extra, factor):
    config = {"model": model, "vocab_size": 28, "hidden": 64, "layers": 1, "dropout": 0.0}
    config.update(bidirectional=False, embed=0)
    need = prepare.training_bytes({**config, **extra}, 32, 35, "sgd")
    assert need["workspace"] == factor * need["parameters"]


@pytest.mark.parametrize(
    ("model", "kind", "outputs", "factor"),
    [("tagger", "gru", "tags", 5), ("classifier", "lstm", "classes", 5)],
)
def test_a_tagger_or_classifier_may_run_in_the_chains(model, kind, outputs, factor):
    config = {"model": model, "kind": kind, "vocab_size": 40, outputs: 9, "hidden": 64}
    need = prepare.training_bytes(config, 16, 100, "adam")
    assert need["workspace"] == factor * need["parameters"]


LM_ADVICE = "try a smaller --hidden, --layers, --batch-size or --num-steps"


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("lm", LM_ADVICE),
        ("seq2seq", LM_ADVICE),
        ("forecast", LM_ADVICE),
        ("tag", LM_ADVICE),
        # Names are read whole: classify has no --num-steps, and refused the advice followed.
        ("classify", "try a smaller --hidden, --layers or --batch-size"),
    ],
)
def test_the_memory_advice_names_only_the_tasks_own_options(task, expected):
    config = Config(task)
    assert prepare.advice(config) == expected
    declared = {option.flag for option in config.spec.options}
    assert set(re.findall(r"--[a-z-]+", expected)) <= declared
    model = {"model": "gru", "hidden": 4096, "layers": 1, "dropout": 0.0, "bidirectional": False}
    assert prepare.memory_advice({**model, "vocab_size": 28}, config, 2**40) == expected


def test_out_of_memory_in_the_middle_of_a_run_is_one_failed_line(corpus, tmp_path, monkeypatch):
    trainer = Trainer(tiny(corpus, epochs=3))
    calls = {"n": 0}
    batch_loss = trainer.task.batch_loss

    def starving(model, data, b, fresh):
        calls["n"] += 1
        if calls["n"] > trainer.num_batches:  # in epoch 2
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return batch_loss(model, data, b, fresh)

    trainer.task.batch_loss = starving
    summary = trainer.run(RunDir(tmp_path / "run"))
    assert summary["status"] == "failed" and summary["epochs"] == 1
    assert summary["message"].startswith("out of memory in epoch 2 on cpu")
    assert "\n" not in summary["message"]
    assert trainer.own_failure  # under torchrun, this rank's own to report
    assert load_checkpoint(tmp_path / "run", prefer=("last",)).meta["epoch"] == 1


def test_out_of_memory_is_recognised():
    assert device_module.is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory"))
    assert device_module.is_out_of_memory(
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"
        )
    )
    assert device_module.is_out_of_memory(MemoryError())
    assert not device_module.is_out_of_memory(RuntimeError("shape mismatch"))


# -- cause: the checkpoint's JSON half is trusted ------------------------------------------------


def edit_json(checkpoint: Path, change) -> None:
    json_path = checkpoint.with_suffix(".json")
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    change(meta)
    json_path.write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda m: m["model_config"].update(hidden=10**10), "hidden must be at most"),
        (lambda m: m["model_config"].update(layers=10**7), "layers must be at most"),
        (lambda m: m["model_config"].update(hidden=512), "does not fit the model"),
        # Within the limits but ~50 GB: refused on the "meta" device, before any allocation.
        (lambda m: m["model_config"].update(hidden=16384, layers=8), "does not fit the model"),
        (lambda m: m["model_config"].update(hidden="many"), "hidden must be an integer"),
        (lambda m: m.update(model_config=[1, 2]), "cannot rebuild the model"),
        (lambda m: m["config"].update(token="bytes"), "token level"),
    ],
)
def test_an_edited_model_config_is_one_line_for_generate(
    char_checkpoint, tmp_path, capsys, change, fragment
):
    checkpoint = copy_checkpoint(char_checkpoint, tmp_path / "edited.safetensors")
    edit_json(checkpoint, change)
    code, err = call(["generate", "--checkpoint", str(checkpoint), "--prefix", "time"], capsys)
    assert code == 2 and fragment in one_line(err)


def test_non_finite_weights_are_refused_and_huge_ones_stop_generation(
    char_checkpoint, tmp_path, capsys
):
    checkpoint = load_checkpoint(char_checkpoint)
    model = checkpoint.build_model()
    with torch.no_grad():
        model.linear.weight.fill_(3e38)  # finite, but every logit overflows float32
    meta = {k: checkpoint.meta[k] for k in ("config", "vocab")}
    path = save_checkpoint(tmp_path, "huge", model, None, meta)
    code, err = call(["generate", "--checkpoint", str(path), "--prefix", "time"], capsys)
    assert code == 2 and "not finite" in one_line(err)
    code, err = call(
        ["generate", "--checkpoint", str(path), "--prefix", "time", "--strategy", "sample"],
        capsys,
    )
    assert code == 2 and "not finite" in one_line(err)
    # NaN is never saved by rnn-tui; an edited file with NaN is refused when it is loaded.
    tensors = load_checkpoint(path)
    tensors.tensors["model.linear.bias"][0] = math.nan
    with pytest.raises(Exception, match="not finite"):
        tensors._check_finite()


def test_a_temperature_that_is_zero_in_float32_samples(char_checkpoint, capsys):
    code = main(
        [
            "generate", "--checkpoint", str(char_checkpoint), "--prefix", "time",
            "--strategy", "sample", "--temperature", "1e-46", "--seed", "1", "--length", "5",
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    greedy = main(["generate", "--checkpoint", str(char_checkpoint), "--prefix", "time",
                   "--length", "5"])  # fmt: skip
    assert greedy == 0 and capsys.readouterr().out == out  # T → 0 is greedy


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda m: m["python_random"].update(state=[1, 2, 3]), "bad random state"),
        (lambda m: m.update(numpy_random={"kind": "MT19937"}), "numpy random state"),
        # Cut short: numpy read past its end, an IndexError traceback.
        (lambda m: m["numpy_random"].update(keys=m["numpy_random"]["keys"][:10]), "10 keys"),
        (lambda m: m["optimizer"]["param_groups"][0].update(lr="fast"), "bad optimizer setting lr"),
        (lambda m: m.update(batch=10**6), "progress out of range"),
        (lambda m: m["config"].update(hidden=10**9), "hidden must be"),
        # Named with the file that holds it: "lr must be a number in (0, 1e+06]" said not where.
        (lambda m: m["config"].update(lr=-1), "last.json: lr"),
        (lambda m: m.update(prepacked="yes"), "'prepacked' must be true, false or null, not str"),
        (lambda m: m.update(chained=1), "'chained' must be true, false or null, not int"),
    ],
)
def test_resume_refuses_a_bad_checkpoint_and_changes_nothing(
    corpus, tmp_path, capsys, change, fragment
):
    run = tmp_path / "run"
    Trainer(tiny(corpus, epochs=1)).run(RunDir(run))
    for name in ("last", "best"):
        edit_json(run / "checkpoints" / f"{name}.safetensors", change)
    before = snapshot(run, lock=False)
    code, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
    line = one_line(err)
    assert code == 2 and fragment in line, line
    assert snapshot(run, lock=False) == before  # status, config, metrics, checkpoints


def test_resume_removes_what_a_killed_session_left(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    Trainer(tiny(corpus, epochs=1)).run(RunDir(run))
    folder = run / "checkpoints"
    (folder / ".last.json.x1y2.tmp").write_text("half a JSON")
    (folder / "last.0123456789ab.safetensors").write_bytes(b"tensors of a save never committed")
    (run / ".status.json.a1b2.tmp").write_text("half a status")
    code, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err
    assert not (folder / ".last.json.x1y2.tmp").exists()
    assert not (folder / "last.0123456789ab.safetensors").exists()
    assert not (run / ".status.json.a1b2.tmp").exists()
    assert load_checkpoint(run, prefer=("last",)).meta["epoch"] == 2


def test_translate_refuses_an_edited_num_steps(tmp_path, capsys):
    shipped = Path(rnn_tui.__file__).resolve().parent.parent / "checkpoints"
    path = copy_checkpoint(shipped / "fra-eng-gru.safetensors", tmp_path / "fra.safetensors")
    edit_json(path, lambda m: m["config"].update(num_steps=10**9))
    code, err = call(["translate", "--checkpoint", str(path), "go ."], capsys)
    assert code == 2 and "num_steps must be an integer in [1, 100,000]" in one_line(err)


SHIPPED = Path(rnn_tui.__file__).resolve().parent.parent / "checkpoints"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [
                "generate",
                "--checkpoint",
                str(SHIPPED / "timemachine-char-lstm.safetensors"),
                "--length",
                "20",
                "--prefix",
                "the time ",
            ],
            "the time ",
        ),
        (
            ["translate", "--checkpoint", str(SHIPPED / "fra-eng-gru.safetensors"), "i am cold ."],
            "→",
        ),
    ],
    ids=["generate", "translate"],
)
def test_the_shipped_checkpoints_load_from_the_cli(args, expected, capsys):
    # What a new user runs first: both shipped checkpoints must survive every format change.
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert expected in captured.out


def test_a_pair_copied_by_hand_is_read_beside_its_json(char_checkpoint, tmp_path):
    # NAME.json + NAME.safetensors copied under new names still name the file they were saved
    # beside; the copy's own NAME.safetensors is read and checked against the sha256.
    meta = json.loads(char_checkpoint.with_suffix(".json").read_text(encoding="utf-8"))
    source = char_checkpoint.parent / meta["tensors_file"]
    copy = tmp_path / "mine.safetensors"
    copy.write_bytes(source.read_bytes())
    copy.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    assert meta["tensors_file"] != copy.name
    assert load_checkpoint(copy).tensors_path == copy
    copy.write_bytes(
        source.read_bytes()[:-1] + bytes([source.read_bytes()[-1] ^ 1])
    )  # a different file is still refused
    with pytest.raises(Exception, match="sha256"):
        load_checkpoint(copy)


GLOO_LOST = (
    "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection closed by "
    "peer [127.0.0.1]:13184. This is typically caused by a remote worker crashing. Check the logs "
    "of the remote worker before reporting an error. GLHF! 🏖️"
)


def test_another_rank_lost_in_the_middle_of_a_run_is_one_failed_line(corpus, tmp_path):
    # torchrun with a rank killed: rank 0's status was gloo's message, source path and all,
    # and its traceback was printed.
    from rnn_tui.train.distributed import Distributed

    trainer = Trainer(tiny(corpus, epochs=3))
    calls = {"n": 0}
    batch_loss = trainer.task.batch_loss

    def peer_gone(model, data, b, fresh):
        calls["n"] += 1
        if calls["n"] > trainer.num_batches:  # in epoch 2
            # One of two ranks, from here on (no process group: nothing to leave).
            trainer.dist = Distributed(rank=0, world=2)
            raise RuntimeError(GLOO_LOST)
        return batch_loss(model, data, b, fresh)

    trainer.task.batch_loss = peer_gone
    summary = trainer.run(RunDir(tmp_path / "run"))
    assert summary["status"] == "failed" and summary["epochs"] == 1
    assert summary["message"] == (
        "another process of this run stopped answering (Connection closed by peer "
        "[127.0.0.1]:13184) in epoch 2; the last checkpoint is kept (--resume continues the run)"
    )
    assert load_checkpoint(tmp_path / "run", prefer=("last",)).meta["epoch"] == 1


def test_only_a_collective_s_failure_is_a_lost_rank():
    from rnn_tui.train.distributed import Distributed

    two = Distributed(rank=0, world=2)
    assert two.lost_peer(RuntimeError("NCCL error: remote process exited")).startswith("another")
    assert not two.lost_peer(RuntimeError("shape mismatch"))
    assert not two.lost_peer(ValueError(GLOO_LOST))
    assert not Distributed().lost_peer(RuntimeError(GLOO_LOST))  # one process: a bug, raised


@pytest.mark.parametrize("command", ["gradients", "generate", "classify", "tag", "translate"])
def test_a_refused_checkpoint_is_named_by_a_file_that_exists(command, char_checkpoint, capsys):
    """A checkpoint's name (NAME.safetensors) is no file once its tensors are in
    NAME.<sha12>.safetensors: a message naming it pointed at nothing."""
    from cli_helpers import call

    shipped = Path(rnn_tui.__file__).parents[1] / "checkpoints"
    given = {
        "gradients": [str(next(shipped.glob("fra-eng-attention.*.safetensors")))],
        "generate": [str(next(shipped.glob("fra-eng-attention.*.safetensors"))), "--prefix", "a"],
        "classify": [str(char_checkpoint.parent), "Jack"],
        "tag": [str(char_checkpoint.parent), "jack"],
        "translate": [str(char_checkpoint.parent), "va !"],
    }[command]
    code, out, err = call([command, "--checkpoint", *given], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    named = err.removeprefix("rnn-tui: error: ").split(" is a")[0]
    assert Path(named).is_file(), err


@pytest.mark.parametrize("command", ["gradients", "generate", "classify", "tag", "translate"])
def test_a_run_whose_best_fails_its_check_says_its_last_is_used(
    command, char_checkpoint, tmp_path, capsys
):
    """Every command reading a run folder warns, as generate did, when the best checkpoint
    fails its check and the last one is read instead; gradients, classify and tag read the last
    without a word."""
    from cli_helpers import call

    fixtures = Path(__file__).parent / "fixtures" / "recorded-classify"
    source, args = {
        "gradients": (char_checkpoint, ["--text", "the time"]),
        "generate": (char_checkpoint, ["--prefix", "the time"]),
        "classify": (fixtures / "classify-gru-recorded/checkpoints/best.safetensors", ["Jack"]),
        "tag": (fixtures / "tag-bi-recorded/checkpoints/best.safetensors", ["jack went"]),
        "translate": (Path(rnn_tui.__file__).parents[1] / "checkpoints/fra-eng-gru.safetensors",
                      ["va !"]),
    }[command]  # fmt: skip
    run = tmp_path / "run"
    for name in ("last", "best"):
        copy_checkpoint(source, run / "checkpoints" / f"{name}.safetensors")
    best = run / "checkpoints" / "best.safetensors"
    best.write_bytes(best.read_bytes()[:-1] + bytes([best.read_bytes()[-1] ^ 1]))
    code, out, err = call([command, "--checkpoint", str(run), *args], capsys)
    assert code == 0 and out, err
    assert err.startswith(
        "rnn-tui: warning: loaded the last checkpoint instead (best: incomplete checkpoint "
    ), err
    assert "sha256 does not match" in err.splitlines()[0]
