"""`rnn-tui translate` as a user runs it: lines or one JSON object on stdout, one line on stderr
and exit 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_translate import PAIRS, cached_seq2seq

from rnn_tui.cli import main
from rnn_tui.cli.translate import EMPTY
from rnn_tui.decode.translate import load_translator
from rnn_tui.metrics.bleu import NO_4GRAMS


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """The seq2seq model that learnt the seeds' four pairs (shared with test_translate)."""
    return cached_seq2seq(tmp_path_factory, 60)


@pytest.fixture(scope="session")
def untrained(tmp_path_factory):
    return cached_seq2seq(tmp_path_factory, 0)


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is faster, and steady on a shared CPU
    yield
    torch.set_num_threads(threads)


def status(args: list[str]) -> int:
    """main()'s status; argparse's usage errors leave through SystemExit."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code)


def translate_json(capsys, *args: str) -> dict:
    assert main(["translate", *args, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object
    return json.loads(out)


def one_line_error(capsys, args: list[str], *fragments: str) -> str:
    assert status(["translate", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("rnn-tui")
    for fragment in fragments:
        assert fragment in captured.err
    return captured.err


def test_json_shape(capsys, trained):
    record = translate_json(capsys, "--checkpoint", str(trained), "Go.", "I lost.")
    assert record["bleu"] is None
    assert (record["beam"], record["alpha"], record["max_len"]) == (4, 0.75, 10)
    assert record["checkpoint"] == str(trained) and record["device"] == "cpu"
    first, second = record["translations"]
    assert set(first) >= {"source", "translation", "greedy", "score", "unknown", "candidates"}
    assert (first["source"], first["translation"], first["greedy"]) == ("Go.", "va !", "va !")
    assert second["translation"] == "j'ai perdu ."
    assert first["unknown"] == [] and first["reference"] is None
    candidates = first["candidates"]
    assert len(candidates) >= 4 and candidates[0]["text"] == "va !"
    for c in candidates:
        assert set(c) >= {"text", "log_prob", "length", "score"}
        assert c["score"] == pytest.approx(c["log_prob"] / c["length"] ** 0.75)
    assert first["score"] == candidates[0]["score"]
    assert [c["score"] for c in candidates] == sorted(
        (c["score"] for c in candidates), reverse=True
    )
    assert first["attention"] is None  # a fixed-context model has no weights to show


def test_json_of_an_attention_model_has_the_weights(capsys, tmp_path_factory):
    checkpoint = cached_seq2seq(tmp_path_factory, 60, attention="dot")
    record = translate_json(capsys, "--checkpoint", str(checkpoint), "--beam", "2", "I lost.")
    (t,) = record["translations"]
    attention = t["attention"]
    assert attention["source"] == ["i", "lost", ".", "<eos>"]
    assert attention["target"] == t["translation"].split(" ") + ["<eos>"]
    assert len(attention["weights"]) == len(attention["target"])
    for row in attention["weights"]:
        assert len(row) == 4 and sum(row) == pytest.approx(1.0, abs=1e-5)


def test_json_with_beam_one_has_the_greedy_candidate_only(capsys, untrained):
    record = translate_json(capsys, "--checkpoint", str(untrained), "--beam", "1", "we run")
    (t,) = record["translations"]
    assert t["translation"] == t["greedy"]
    assert [c["text"] for c in t["candidates"]] == [t["greedy"]]


def test_file_with_references_gives_bleu(capsys, tmp_path, trained):
    lines = [f"{src} => {ref}" for src, ref in PAIRS]
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("\n".join([lines[0], "", *lines[1:]]) + "\n", encoding="utf-8")
    record = translate_json(capsys, "--checkpoint", str(trained), "--file", str(sentences))
    assert [t["source"] for t in record["translations"]] == [src for src, _ in PAIRS]
    assert [t["reference"] for t in record["translations"]] == [ref for _, ref in PAIRS]
    assert all(t["bleu"] == 1.0 for t in record["translations"])
    assert record["bleu"]["corpus"] == pytest.approx(100.0)
    assert record["bleu"]["mean_sentence"] == 1.0

    assert main(["translate", "--checkpoint", str(trained), "--file", str(sentences)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Go. → va !"
    assert out[1].startswith("    reference → Va !") and out[1].endswith("BLEU (k=2) 1.000")
    assert out[-1].startswith("corpus BLEU 100.00 (sacreBLEU, 4 sentences)")


def test_references_file_and_arguments(capsys, tmp_path, trained):
    references = tmp_path / "refs.txt"
    references.write_text("Va !\nJe suis chez toi.\n", encoding="utf-8")
    args = ["--checkpoint", str(trained), "--references", str(references)]
    record = translate_json(capsys, *args, "Go.", "I'm home.")
    assert [t["bleu"] for t in record["translations"]][0] == 1.0
    assert record["translations"][1]["bleu"] < 1.0
    assert 0 < record["bleu"]["corpus"] < 100
    one_line_error(
        capsys, [*args, "Go."], "2 references in", "for 1 sentence (give one per sentence)"
    )
    one_line_error(capsys, [*args, "Go. => Va !", "I lost."], "references given twice")


def test_an_argument_can_carry_its_reference(capsys, trained):
    record = translate_json(capsys, "--checkpoint", str(trained), "I'm home. => Je suis chez moi.")
    assert record["translations"][0]["bleu"] == 1.0
    assert record["bleu"]["corpus"] == pytest.approx(100.0)
    assert record["bleu"]["corpus_undefined"] is None
    # sacreBLEU counts up to 4-grams: a corpus of two-word sentences scores 0 even when exact,
    # so no score is given, and why.
    args = ["--checkpoint", str(trained), "Go. => Va !", "I lost. => J'ai perdu."]
    record = translate_json(capsys, *args)
    assert [t["bleu"] for t in record["translations"]] == [1.0, 1.0]
    assert record["bleu"]["corpus"] is None
    assert record["bleu"]["corpus_undefined"] == NO_4GRAMS
    assert main(["translate", *args]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"corpus BLEU — ({NO_4GRAMS}; 2 sentences); mean sentence BLEU (k=2) 1.000"
    )


def test_file_from_stdin(capsys, monkeypatch, trained, tmp_path):
    given = tmp_path / "stdin.txt"
    given.write_text("He's calm.\nI'm home.\n", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", given.open(encoding="utf-8"))
    record = translate_json(capsys, "--checkpoint", str(trained), "--file", "-")
    texts = [t["translation"] for t in record["translations"]]
    assert texts == ["il est calme .", "je suis chez moi ."]


def test_plain_output_labels_greedy_when_it_differs(capsys, untrained):
    tr = load_translator(untrained)
    sentences = ["we run", "you see the big house", "they walk the dog", "a small cat", "i lost ."]
    differ = [t for t in tr.translate_many(sentences, beam_size=4) if t.greedy_text != t.beam_text]
    assert differ, "the untrained model should disagree with itself somewhere"
    assert main(["translate", "--checkpoint", str(untrained), *sentences]) == 0
    out = capsys.readouterr().out
    for t in differ:
        beam, greedy = t.beam_text or EMPTY, t.greedy_text or EMPTY
        assert f"{t.source} → {beam}\n    greedy → {greedy}\n" in out
    assert out.count("→") == len(sentences) + len(differ)
    assert main(["translate", "--checkpoint", str(untrained), "--beam", "1", *sentences]) == 0
    assert "greedy" not in capsys.readouterr().out


def test_an_empty_translation_says_so():
    # "go . → " and nothing: an undertrained model's beam ended at <eos> at once.
    from types import SimpleNamespace

    from rnn_tui.cli.translate import _plain

    t = SimpleNamespace(source="go .", beam_text="", greedy_text="va", reference=None)
    assert _plain(t, 4) == f"go . → {EMPTY}\n    greedy → va\n"


def test_unknown_words_are_a_warning(capsys, trained):
    assert main(["translate", "--checkpoint", str(trained), "Go zorglub."]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Go zorglub. → ")
    assert "rnn-tui: warning:" in captured.err and "'zorglub'" in captured.err


def test_a_source_that_fills_num_steps_is_warned_its_eos_is_cut(capsys, untrained):
    full = "you see the big house the cat the dog we"  # NUM_STEPS (10) tokens
    shorter = "you see the big house the cat the dog"
    assert main(["translate", "--checkpoint", str(untrained), "--json", full, shorter]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"rnn-tui: warning: '{full}': the model reads 10 tokens and this one has 10, so its "
        "<eos> is cut (it reads as unfinished)"
    ]
    records = json.loads(captured.out)["translations"]
    assert [(r["truncated"], r["eos_cut"]) for r in records] == [(0, True), (0, False)]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "no sentence to translate"),
        (["   "], "rnn-tui translate: error: sentence 1 is blank\n"),
        (["go .", ""], "rnn-tui translate: error: sentence 2 is blank\n"),
        (["--file", "-", "--references", "-"], "both read standard input: one may"),
        (["=> va !"], "rnn-tui translate: error: sentence 1: no sentence to translate in"),
    ],
)
def test_no_sentence_is_an_error(capsys, trained, args, fragment):
    one_line_error(capsys, ["--checkpoint", str(trained), *args], fragment)


def test_a_file_of_blank_lines_is_no_sentence(capsys, tmp_path, trained):
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n", encoding="utf-8")
    one_line_error(capsys, ["--checkpoint", str(trained), "--file", str(blank)], "no sentence")
    one_line_error(
        capsys,
        ["--checkpoint", str(trained), "--file", str(tmp_path / "nope.txt"), "Go."],
        "sentences file not found",
    )


def test_checkpoint_errors_are_one_line(capsys, tmp_path):
    from lm_fixtures import save_untrained

    from rnn_tui.data.vocab import Vocab

    one_line_error(
        capsys, ["--checkpoint", str(tmp_path / "missing.safetensors"), "Go."], "not found"
    )
    lm = save_untrained(tmp_path, Vocab(list("abc")), {"model": "gru", "hidden": 4})
    one_line_error(
        capsys,
        ["--checkpoint", str(lm), "Go."],
        "is a language-model checkpoint; translate needs a seq2seq one",
    )
    pickle = tmp_path / "model.pt"
    pickle.write_bytes(b"\x80\x02}q\x00.")
    one_line_error(capsys, ["--checkpoint", str(pickle), "Go."], "it is a pickle")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--beam", "0"], "argument --beam: must be an integer in [1, 64] (got '0')"),
        (["--alpha", "-1"], "argument --alpha: must be a number in [0, 10] (got '-1')"),
        (["--alpha", "nan"], "argument --alpha: must be a number in [0, 10] (got 'nan')"),
        (
            ["--max-len", "0"],
            "argument --max-len: must be an integer in [1, 200], or empty for num_steps (got '0')",
        ),
    ],
)
def test_bad_options_are_usage_errors(capsys, trained, args, message):
    error = one_line_error(capsys, ["--checkpoint", str(trained), *args, "Go."])
    assert error == f"rnn-tui translate: error: {message} (see rnn-tui translate --help)\n"


def test_help_lists_translate_without_importing_torch():
    code = (
        "import contextlib, io, sys\n"
        "from rnn_tui.cli import main\n"
        "out = io.StringIO()\n"
        "for args in (['--help'], ['translate', '--help']):\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        try:\n"
        "            main(args)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(out.getvalue())\n"
        "print('MODULES', ' '.join(sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text, _, modules = proc.stdout.partition("MODULES")
    assert "translate" in text and "--references" in text and "--beam" in text
    assert "torch" not in modules.split()
