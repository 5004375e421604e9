"""`rnn-tui classify`: the top languages of names from a classify checkpoint, and one line for
every refusal (a language model's checkpoint, a name without letters, a bad --top)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import call

SHIPPED_LSTM = Path(__file__).parents[1] / "checkpoints" / "timemachine-char-lstm.json"


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory) -> Path:
    """A classifier trained for one short epoch (only its interface is tested here)."""
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer

    run = tmp_path_factory.mktemp("classify") / "run"
    config = Config("classify", max_names=900, hidden=8, epochs=1, device="cpu")
    assert Trainer(config).run(RunDir(run))["status"] == "finished"
    return run


def test_names_get_their_top_languages(classifier_run, capsys) -> None:
    args = ["classify", "--checkpoint", str(classifier_run), "Dovesky", "Bélanger", "--json"]
    code, out, err = call([*args, "--top", "5"], capsys)
    assert code == 0, err
    rows = json.loads(out)["names"]
    assert [r["name"] for r in rows] == ["Dovesky", "Bélanger"]
    assert rows[1]["read"] == "Belanger"
    for row in rows:
        probs = [t["p"] for t in row["top"]]
        assert len(probs) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    code, out, _ = call(["classify", "--checkpoint", str(classifier_run), "Satoshi"], capsys)
    assert code == 0 and out.startswith("Satoshi  ") and out.count("\n") == 1
    # Spaces around a name are not part of it (no training name has them).
    code, padded, _ = call(["classify", "--checkpoint", str(classifier_run), "  Satoshi "], capsys)
    assert code == 0 and padded.split()[1:] == out.split()[1:]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--checkpoint", str(SHIPPED_LSTM), "Jack"], "'lm' checkpoint; classify needs"),
        (["123"], "no letter A–Z in '123'"),
        # Only spaces: it was classified (a blank name, "Chinese 0.11").
        (["   "], "no letter A–Z in '   ' (the model reads A–Z, a–z"),
        (["' .,"], "no letter A–Z in"),
        (["--top", "0", "Jack"], "--top: must be an integer in [1, 1,000]"),
        (["--checkpoint", "/nonexistent/run", "Jack"], "/nonexistent/run"),
    ],
)
def test_refusals_are_one_line(classifier_run, capsys, args, fragment) -> None:
    if "--checkpoint" not in args:
        args = ["--checkpoint", str(classifier_run), *args]
    code, out, err = call(["classify", *args], capsys)
    assert code == 2 and out == "" and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_characters_the_model_cannot_read_are_named(classifier_run, capsys) -> None:
    # "Øster" was scored as "ster" without a word: only --json's "read" showed it.
    args = ["classify", "--checkpoint", str(classifier_run), "Øster", "Bélanger", "Smith2"]
    code, out, err = call(args, capsys)
    assert code == 0 and out.count("\n") == 3
    assert err.splitlines() == [
        "rnn-tui: warning: name 1: not read by the model, left out: 'Ø' (it read 'ster')",
        "rnn-tui: warning: name 3: not read by the model, left out: '2' (it read 'Smith')",
    ]  # an accent is read: Bélanger is Belanger
    code, out, err = call([*args[:3], "Łukasz", "--json"], capsys)
    assert code == 0 and json.loads(out)["names"][0]["not_read"] == ["Ł"]
    assert err == "rnn-tui: warning: not read by the model, left out: 'Ł' (it read 'ukasz')\n"


def test_json_names_the_file_loaded_and_why(classifier_run, capsys, tmp_path) -> None:
    """With its best damaged, a run's last is loaded: stderr said so, but the JSON named the
    folder as typed and had no warnings, so a script could not tell."""
    import shutil

    code, out, _ = call(["classify", "--checkpoint", str(classifier_run), "Jack", "--json"], capsys)
    record = json.loads(out)
    assert code == 0 and record["warnings"] == []
    # NAME.safetensors, as generate's: not the tensor file, whose hash changes at every save.
    assert record["checkpoint"] == str(classifier_run / "checkpoints" / "best.safetensors")
    damaged = tmp_path / "run"
    shutil.copytree(classifier_run, damaged)
    (best,) = (damaged / "checkpoints").glob("best.*.safetensors")
    data = bytearray(best.read_bytes())
    data[-1] ^= 0xFF
    best.write_bytes(bytes(data))
    code, out, err = call(["classify", "--checkpoint", str(damaged), "Jack", "--json"], capsys)
    record = json.loads(out)
    assert code == 0 and record["checkpoint"] == str(damaged / "checkpoints" / "last.safetensors")
    assert len(record["warnings"]) == 1 and "instead" in record["warnings"][0]
