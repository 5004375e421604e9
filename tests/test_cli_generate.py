"""`rnn-tui generate` as a user runs it: text or one JSON object on stdout, one line and exit 2
for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from lm_fixtures import save_untrained

from rnn_tui.cli import main
from rnn_tui.data.vocab import Vocab
from rnn_tui.decode.generate import generate_text, load_lm

REFUSAL = "it is a pickle (loading it could run code); rnn-tui reads .safetensors + .json"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_tui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def exit_status(args: list[str]) -> int:
    """main()'s status; argparse's usage errors leave through SystemExit."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code)


def generate_json(capsys, *args: str) -> dict:
    assert main(["generate", *args, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object
    return json.loads(out)


def test_json_greedy_matches_the_backend(capsys, char_checkpoint):
    record = generate_json(
        capsys,
        "--checkpoint",
        str(char_checkpoint),
        "--prefix",
        "Time Traveller!",
        "--length",
        "30",
    )
    for key in ("text", "prefix", "checkpoint", "unknown", "strategy", "temperature", "top_k"):
        assert key in record
    lm = load_lm(char_checkpoint)
    expected, _ = generate_text("Time Traveller!", 30, lm.model, lm.vocab, "char")
    assert record["text"] == expected
    assert record["text"] == "time traveller " + record["generated"]
    assert record["prefix"] == "Time Traveller!"
    assert record["checkpoint"] == str(char_checkpoint)
    assert (record["unknown"], record["strategy"], record["seed"], record["length"]) == (
        [],
        "greedy",
        None,
        30,
    )
    assert (record["token"], record["model"], record["device"]) == ("char", "gru", "cpu")


def test_plain_output_is_the_text_alone(capsys, char_checkpoint):
    assert main(["generate", "--checkpoint", str(char_checkpoint), "--prefix", "time"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("time") and out.endswith("\n")
    assert len(out) == len("time") + 100 + 1  # the default length, then a newline


def test_streaming_to_a_terminal_prints_the_same_text(capsys, monkeypatch, char_checkpoint):
    args = ["generate", "--checkpoint", str(char_checkpoint), "--prefix", "the", "--length", "20"]
    assert main(args) == 0
    plain = capsys.readouterr().out
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(args) == 0
    assert capsys.readouterr().out == plain


def test_sampling_with_a_seed_is_reproducible(capsys, char_checkpoint):
    args = ["--checkpoint", str(char_checkpoint), "--prefix", "time", "--strategy", "sample"]
    first = generate_json(capsys, *args, "--seed", "4", "--temperature", "0.8", "--top-k", "5")
    again = generate_json(capsys, *args, "--seed", "4", "--temperature", "0.8", "--top-k", "5")
    other = generate_json(capsys, *args, "--seed", "5", "--temperature", "0.8", "--top-k", "5")
    assert first["text"] == again["text"] != other["text"]
    assert (first["seed"], first["temperature"], first["top_k"]) == (4, 0.8, 5)
    drawn = generate_json(capsys, *args)
    assert isinstance(drawn["seed"], int)  # a fresh seed is reported, so it can be reused


def test_word_checkpoint_from_its_run_directory_reports_unknown_words(capsys, word_checkpoint):
    folder = str(word_checkpoint.parent)
    args = ["generate", "--checkpoint", folder, "--prefix", "the time xyzzy", "--length", "5"]
    assert main([*args, "--json"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert record["text"].split(" ")[:3] == ["the", "time", "<unk>"]
    assert len(record["text"].split(" ")) == 3 + 5
    assert record["unknown"] == ["xyzzy"]
    assert record["checkpoint"] == str(word_checkpoint)
    warning = "rnn-tui: warning: 1 prefix token not in the vocabulary → <unk>: 'xyzzy'"
    assert captured.err.strip().splitlines() == [warning]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--length", "0"], "--length"),
        (["--temperature", "0"], "--temperature"),
        (["--temperature", "nan"], "--temperature"),
        (["--top-k", "-1"], "--top-k"),
        (["--seed", "-1"], "--seed"),
        (["--strategy", "beam"], "invalid choice"),
        (["--prefix", ""], "prefix is empty"),
    ],
)
def test_bad_options_are_one_line_exit_2(capsys, char_checkpoint, extra, fragment):
    args = ["generate", "--checkpoint", str(char_checkpoint), "--prefix", "time", *extra]
    assert exit_status(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_one_line_exit_2(capsys, char_checkpoint):
    args = ["generate", "--checkpoint", str(char_checkpoint), "--prefix", "a", "--device", "cuda"]
    assert exit_status(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "CUDA was requested" in lines[0]


def test_refused_checkpoints_are_one_line_exit_2(capsys, tmp_path):
    torch.save({"w": torch.zeros(2)}, tmp_path / "model.pt")
    torch.save({"w": torch.zeros(2)}, tmp_path / "renamed.safetensors")
    save_untrained(tmp_path / "mt", Vocab(list("ab")), {"model": "gru", "hidden": 2}, task="mt")
    cases = [
        (tmp_path / "model.pt", REFUSAL),
        (tmp_path / "renamed.safetensors", REFUSAL),
        (tmp_path / "missing.safetensors", "not found"),
        (tmp_path / "mt", "'mt' checkpoint; generate needs a language model"),
        (tmp_path, "no checkpoint in"),
    ]
    for path, fragment in cases:
        assert exit_status(["generate", "--checkpoint", str(path), "--prefix", "a"]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], (path, captured.err)


def test_a_pickle_in_a_subprocess_gives_no_traceback(tmp_path):
    torch.save({"w": torch.zeros(2)}, tmp_path / "weights.safetensors")
    proc = run_cli(
        "generate", "--checkpoint", str(tmp_path / "weights.safetensors"), "--prefix", "a"
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"rnn-tui: error: refusing to load {tmp_path / 'weights.safetensors'}: {REFUSAL}"
    ]


def test_missing_required_options_exit_2():
    proc = run_cli("generate", "--prefix", "time")
    assert proc.returncode == 2
    assert "--checkpoint" in proc.stderr and "Traceback" not in proc.stderr


def test_the_command_module_does_not_import_torch():
    code = "import sys, rnn_tui.cli.generate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("extra", [["--temperature", "3"], ["--top-k", "2"], ["--seed", "4"]])
def test_sampling_options_are_refused_with_greedy(capsys, char_checkpoint, extra):
    # They were ignored, and --json reported the temperature and top-k as if used.
    from cli_helpers import one_line

    args = ["generate", "--checkpoint", str(char_checkpoint), "--prefix", "time", *extra]
    code, line = one_line(capsys, args)
    assert code == 2
    assert (
        line
        == f"rnn-tui: error: {extra[0]} does not apply to --strategy greedy (add --strategy sample)"
    )


def test_greedy_json_reports_no_sampling_options(capsys, char_checkpoint):
    record = generate_json(capsys, "--checkpoint", str(char_checkpoint), "--prefix", "time")
    assert (record["temperature"], record["top_k"], record["seed"]) == (None, None, None)


def test_a_fresh_seed_is_said_on_stderr(capsys, char_checkpoint):
    args = ["generate", "--checkpoint", str(char_checkpoint), "--prefix", "time"]
    assert main([*args, "--strategy", "sample", "--length", "5"]) == 0
    err = capsys.readouterr().err.strip()
    seed = int(err.split()[2])
    assert err == f"rnn-tui: seed {seed} (--seed {seed} repeats this sample)"
    assert main([*args, "--strategy", "sample", "--length", "5", "--seed", "3"]) == 0
    assert capsys.readouterr().err == ""  # a seed given needs no reminder


@pytest.mark.parametrize(
    ("trained", "expected"),
    [("ab ab", "ab ab"), (None, "time traveller"), ("x\x07", "time traveller")],
)
def test_without_a_prefix_it_continues_what_the_checkpoint_sampled_from(
    capsys, tmp_path, trained, expected
):
    # --prefix was required, while the Generate console starts from the checkpoint's own
    # prefix: a new user's `rnn-tui generate --checkpoint NAME` ended in a usage error.
    vocab = Vocab(list("ab time traveller"))
    config = {} if trained is None else {"prefix": trained}
    path = save_untrained(tmp_path, vocab, {"model": "gru", "hidden": 8}, **config)
    record = generate_json(capsys, "--checkpoint", str(path), "--length", "3")
    assert record["prefix"] == expected
    assert record["text"].startswith(expected) and len(record["text"]) == len(expected) + 3
