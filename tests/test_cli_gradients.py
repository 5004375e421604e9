"""`rnn-tui gradients`: per-step norms as JSON (the closed form beside them for a linear cell),
a checkpoint's cell reading a text, and one line for every refusal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import call

SHIPPED_LSTM = Path(__file__).parents[1] / "checkpoints" / "timemachine-char-lstm.json"


def test_a_linear_cell_prints_its_norms_beside_the_closed_form(capsys) -> None:
    args = ["gradients", "--cell", "linear", "--init-scale", "0.9", "--length", "50", "--json"]
    code, out, err = call(args, capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["spectral_radius"] == pytest.approx(0.9)
    assert len(report["norms"]) == 50
    np.testing.assert_allclose(report["norms"], report["predicted"], rtol=1e-9)
    assert report["decay_per_step"] == pytest.approx(0.9, rel=1e-6)
    assert report["clip"]["cosine"] == pytest.approx(1.0)
    assert report["truncation"]["tau"] == 10 and 0 < report["truncation"]["relative_difference"]


def test_an_overflowed_gradient_is_null_in_json_and_said_in_text(capsys) -> None:
    args = ["gradients", "--cell", "linear", "--init-scale", "100", "--length", "300"]
    code, out, _ = call([*args, "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["norms"][0] is None and report["clip"]["cosine"] is None
    # Nothing finite was clipped: no norm after it either. A weight gradient whose every entry
    # is finite but whose norm overflows was scaled to zeros, and "after" read 0.0.
    code, out, _ = call(["gradients", "--init-scale", "2", "--length", "3000", "--json"], capsys)
    clip = json.loads(out)["clip"]
    assert code == 0 and clip["before"] is None and clip["after"] is None
    code, out, _ = call(args, capsys)
    assert code == 0 and "the gradient overflowed" in out


def test_a_tiny_theta_is_the_norm_after_clipping_not_zero(capsys) -> None:
    # θ is any number above 0: at 1e-200 the clipped entries' squares underflow, and the norm
    # after clipping read "5.385 → 0".
    code, out, err = call(["gradients", "--clip", "1e-200", "--json"], capsys)
    assert code == 0, err
    clip = json.loads(out)["clip"]
    assert clip["after"] == pytest.approx(1e-200, rel=1e-9)
    assert clip["cosine"] == pytest.approx(1.0)
    code, out, _ = call(["gradients", "--clip", "1e-200"], capsys)
    assert code == 0 and "‖g‖ 5.385 → 1e-200, cosine 1.000000" in out


def test_the_gates_keep_the_gradient_alive_where_a_small_rnn_loses_it(capsys) -> None:
    first = {}
    for cell, extra in (("rnn", ["--init-scale", "0.8"]), ("lstm", ["--gate-bias", "3"])):
        code, out, err = call(["gradients", "--cell", cell, *extra, "--json"], capsys)
        assert code == 0, err
        first[cell] = json.loads(out)["norms"][0]
    assert first["rnn"] < 1e-8 < 1e-2 < first["lstm"]


def test_the_rule_of_rho_is_the_linear_cells_and_tanh_is_said_beside_it(capsys) -> None:
    # A tanh RNN of ρ(W_hh) 1.2 vanishes (×0.98 per step back): "above 1 explodes" beside it
    # said the opposite of the figure it explained.
    code, out, err = call(["gradients", "--init-scale", "1.2"], capsys)
    assert code == 0, err
    assert "×0.9813 per step back on average (ρ(W_hh) = 1.2 and tanh′ ≤ 1:" in out
    assert "above 1 explodes" not in out
    code, out, _ = call(["gradients", "--cell", "linear", "--init-scale", "1.2"], capsys)
    assert code == 0 and "×1.2 per step back on average (ρ(W_hh) = 1.2: below 1 vanishes, " in out


def test_a_checkpoints_cell_reads_the_text(capsys) -> None:
    text = "the time traveller was expounding a recondite matter to us"
    args = ["gradients", "--checkpoint", str(SHIPPED_LSTM), "--text", text, "--json"]
    code, out, err = call(args, capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["cell"] == "lstm" and report["length"] == len(text)
    assert report["source"].startswith("lstm from ")
    # Two layers: every figure is the top one's, and it is said (it was shown as if one).
    assert report["layers"] == 2
    code, out, err = call(args[:-1], capsys)
    assert code == 0 and "hidden 256 in the top layer of 2 (the figures below are" in out


def test_a_text_cut_short_or_not_read_as_typed_is_said_on_stderr(capsys) -> None:
    args = ["gradients", "--checkpoint", str(SHIPPED_LSTM), "--length", "5", "--truncate", "3"]
    code, out, err = call([*args, "--text", "日本語 émoji 🎉 x", "--json"], capsys)
    assert code == 0 and out
    lines = err.splitlines()
    assert all(line.startswith("rnn-tui: warning: ") for line in lines) and len(lines) == 2
    assert "'日', '本', '語', 'é', '🎉' read as spaces" in lines[0]
    assert "the text is 7 char tokens long: only the first 5 are read" in lines[1]
    assert json.loads(out)["warnings"] == [
        line.removeprefix("rnn-tui: warning: ") for line in lines
    ]
    code, out, err = call([*args, "--text", "the t"], capsys)  # read as typed: no word
    assert code == 0 and err == ""


def test_a_truncation_longer_than_the_sequence_is_said(capsys) -> None:
    code, out, err = call(["gradients", "--truncate", "500", "--length", "10"], capsys)
    assert code == 0 and "after τ = 10" in out
    assert err == (
        "rnn-tui: warning: τ = 500 is more than the 10 steps: τ = 10, the whole sequence "
        "(truncation drops nothing)\n"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--length", "0"], "--length: must be an integer in [1, 5,000]"),
        (["--init-scale", "0"], "--init-scale"),
        (["--cell", "tanh"], "invalid choice"),
        (["--text", "hi"], "--text is read by a checkpoint's model"),
        # Typed empty, it fell back on random tokens without a word.
        (["--checkpoint", str(SHIPPED_LSTM), "--text", ""], "--text is empty"),
        # Cleaned to a space, it was read as one (T = 1) where " " typed was refused.
        (
            ["--checkpoint", str(SHIPPED_LSTM), "--text", "   !!!  "],
            "the text '   !!!  ' has nothing to read after cleaning",
        ),
        (["--checkpoint", "/nonexistent/x.json"], "x.json"),
        (["--clip", "-1"], "--clip"),
        # Options of a fresh cell with a checkpoint, or a gate bias without a gate: ignored
        # without a word, they misled.
        (["--checkpoint", str(SHIPPED_LSTM), "--cell", "gru"], "--cell sets up a fresh cell"),
        (["--checkpoint", str(SHIPPED_LSTM), "--hid", "5"], "--hidden sets up a fresh cell"),
        (["--cell", "linear", "--gate-bias", "3"], "the linear cell has no gate"),
        # A checkpoint reading a text draws nothing: every seed printed the same report.
        (
            ["--checkpoint", str(SHIPPED_LSTM), "--text", "the time", "--seed", "5"],
            "--seed draws random tokens: it does not apply with --text",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, fragment) -> None:
    code, out, err = call(["gradients", *args], capsys)
    assert code == 2 and out == ""
    assert fragment in err and "Traceback" not in err and err.count("\n") == 1


def test_a_forecast_checkpoint_is_refused_in_one_line(capsys) -> None:
    run = Path(__file__).parent / "fixtures" / "recorded-forecast" / "forecast-gru-recorded"
    code, _, err = call(["gradients", "--checkpoint", str(run)], capsys)
    assert code == 2 and "language model" in err and err.count("\n") == 1


def test_a_word_models_unknown_words_are_said_as_the_texts(word_checkpoint, capsys) -> None:
    # "1 prefix token not in the vocabulary": generate's word, not this command's.
    args = ["gradients", "--checkpoint", str(word_checkpoint), "--text", "the zzzq", "--json"]
    code, out, err = call(args, capsys)
    assert code == 0 and out
    assert err.splitlines()[0] == (
        "rnn-tui: warning: 1 text token not in the vocabulary → <unk>: 'zzzq'"
    )
    code, out, err = call([*args[:-3], "--text", "  !!! "], capsys)
    assert code == 2 and "the text '  !!! ' has nothing to read after cleaning" in err


@pytest.mark.parametrize("command", ["gradients", "translate"])
def test_ctrl_c_exits_130_without_a_traceback(command, capsys, monkeypatch) -> None:
    # A long `translate --file` or `gradients --length 5000` interrupted printed 40-50 lines of
    # traceback; generate and train already stopped quietly.
    import importlib

    module = importlib.import_module(f"rnn_tui.cli.{command}")

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "run", interrupted)
    args = [command] + (["--checkpoint", "fra-eng-gru", "go ."] if command == "translate" else [])
    code, out, err = call(args, capsys)
    assert code == 130 and out == "" and "Traceback" not in err


def test_out_of_memory_is_one_line(capsys, monkeypatch) -> None:
    # `stats` on a 20 MB file under `ulimit -v 300000` printed numpy's allocator traceback.
    import rnn_tui.cli.translate as module

    def exhausted(args):
        raise MemoryError

    monkeypatch.setattr(module, "run", exhausted)
    code, out, err = call(["translate", "--checkpoint", "fra-eng-gru", "go ."], capsys)
    assert (code, out) == (2, "")
    assert err == "rnn-tui: error: out of memory in translate: try a smaller file, model or batch\n"


def test_a_deleted_working_directory_is_one_line(tmp_path) -> None:
    # torch's math library aborted the process ("oneMKL FATAL ERROR") on its first product in
    # a deleted folder; the app died two seconds after drawing, its terminal left broken.
    import subprocess
    import sys

    gone = tmp_path / "gone"
    gone.mkdir()
    script = (
        "import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); "
        "from rnn_tui.cli import main; sys.exit(main(sys.argv[2:]))"
    )

    def run(*args):
        argv = [sys.executable, "-c", script, str(gone), *args]
        gone.mkdir(exist_ok=True)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    done = run("runs")
    assert done.returncode == 2
    assert done.stderr == (
        "rnn-tui: error: the working directory no longer exists (deleted?): cd to another folder\n"
    )
    # stats needs neither torch nor the folder: it still runs there.
    done = run("stats", "--top", "1")
    assert done.returncode == 0 and "timemachine" in done.stdout, done.stderr


def test_an_lstms_recurrent_weight_is_named_w_hc(capsys) -> None:
    # ρ and ∂L/∂W of an LSTM are its memory candidate's recurrent weight, d2l's W_hc: the
    # output called it W_hh, a name the LSTM's seeds give no weight.
    code, out, err = call(
        ["gradients", "--checkpoint", str(SHIPPED_LSTM), "--length", "20"], capsys
    )
    assert code == 0, err
    assert "ρ(W_hc) = " in out and "‖∂L/∂W_hc‖" in out and "W_hh" not in out
    code, out, err = call(["gradients", "--cell", "lstm", "--length", "20", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["recurrent_weight"] == "W_hc"
    for cell in ("gru", "rnn"):  # the GRU's candidate's is d2l's W_hh
        code, out, err = call(["gradients", "--cell", cell, "--length", "20"], capsys)
        assert code == 0 and "ρ(W_hh) = " in out and "‖∂L/∂W_hh‖" in out and "W_hc" not in out
