"""A checkpoint's JSON edited by hand, or not a checkpoint's at all: each is refused in one line
that names what is wrong, before any model is built."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import one_line
from lm_fixtures import copy_checkpoint

import rnn_tui

SHIPPED = Path(rnn_tui.__file__).resolve().parent.parent / "checkpoints"
LM = SHIPPED / "timemachine-char-lstm.safetensors"
TRANSLATOR = SHIPPED / "fra-eng-gru.safetensors"


def edited(source: Path, dest: Path, change) -> Path:
    """A copy of checkpoint `source` as `dest`, its JSON changed by `change(meta)`."""
    path = copy_checkpoint(source, dest)
    json_path = path.with_suffix(".json")
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    change(meta)
    json_path.write_text(json.dumps(meta), encoding="utf-8")
    return path


def generate(path: Path) -> list[str]:
    return ["generate", "--checkpoint", str(path), "--prefix", "the", "--length", "5"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: m["vocab"]["idx_to_token"].__setitem__(3, 7), "vocab.idx_to_token[3]"),
        (lambda m: m["vocab"].update(reserved_tokens=[None]), "vocab.reserved_tokens[0]"),
        (lambda m: m["vocab"].update(token_freqs=[["a", "x"]]), "vocab.token_freqs[0][1]"),
        (lambda m: m["vocab"].update(token_freqs=[[1, 2]]), "vocab.token_freqs[0][0]"),
        (lambda m: m["vocab"].update(min_freq=-1), "vocab.min_freq"),
    ],
)
def test_a_vocabulary_with_a_value_of_the_wrong_kind_is_refused(tmp_path, capsys, change, fragment):
    path = edited(LM, tmp_path / "lm.safetensors", change)
    code, line = one_line(capsys, generate(path))
    assert code == 2 and fragment in line, line


@pytest.mark.parametrize("key", ["src_vocab", "tgt_vocab"])
def test_a_translator_s_vocabularies_are_checked_too(tmp_path, capsys, key):
    path = edited(
        TRANSLATOR, tmp_path / "t.safetensors", lambda m: m[key]["idx_to_token"].__setitem__(2, 1.5)
    )
    code, line = one_line(capsys, ["translate", "--checkpoint", str(path), "go ."])
    assert code == 2 and f"{key}.idx_to_token[2] is a number, not a string" in line, line


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: m.update(model_config=None), "has a model_config that is not an object (null)"),
        (lambda m: m.update(model_config=[1]), "has a model_config that is not an object (a list)"),
        (lambda m: m.pop("model_config"), "has no model_config"),
    ],
)
def test_a_model_config_that_is_not_an_object_is_named(tmp_path, capsys, change, fragment):
    # The run config was tried in its place, and its training options were listed as
    # "unknown model config key(s)": the message pointed away from what was wrong.
    path = edited(LM, tmp_path / "lm.safetensors", change)
    code, line = one_line(capsys, generate(path))
    assert code == 2 and fragment in line and "unknown" not in line, line


def test_a_number_too_long_to_read_is_out_of_range(tmp_path, capsys):
    # Python refuses integers of more than 4,300 digits with advice to call
    # sys.set_int_max_str_digits(), which is no use to someone running rnn-tui.
    path = copy_checkpoint(LM, tmp_path / "lm.safetensors")
    json_path = path.with_suffix(".json")
    text = json_path.read_text(encoding="utf-8").replace('"hidden": 256', '"hidden": ' + "9" * 5000)
    json_path.write_text(text, encoding="utf-8")
    code, line = one_line(capsys, generate(path))
    assert code == 2 and "out of range: 5,000 digits" in line, line
    assert "set_int_max_str_digits" not in line


def test_a_token_level_that_is_neither_word_nor_char_is_named(tmp_path, capsys):
    path = edited(LM, tmp_path / "lm.safetensors", lambda m: m["config"].update(token="byte"))
    code, line = one_line(capsys, generate(path))
    assert code == 2 and "config.token is 'byte', not a token level (word or char)" in line, line


@pytest.mark.parametrize("beside", [True, False])
def test_a_json_that_is_not_a_checkpoint_is_named_so(tmp_path, capsys, beside):
    # Not "its sha256 does not match" or "bad.safetensors is missing": nothing was interrupted.
    path = tmp_path / "bad.json"
    path.write_text('{"x": 1}\n', encoding="utf-8")
    if beside:
        (tmp_path / "bad.safetensors").write_text('{"x": 1}\n', encoding="utf-8")
    code, line = one_line(capsys, generate(path))
    assert code == 2 and "bad.json is not an rnn-tui checkpoint" in line, line


def test_a_sha256_that_is_not_one_is_named(tmp_path, capsys):
    path = edited(LM, tmp_path / "lm.safetensors", lambda m: m.update(sha256=[1]))
    code, line = one_line(capsys, generate(path))
    assert code == 2 and "sha256 is [1], not 64 hex digits" in line, line


@pytest.mark.parametrize("size", [1e20, -1, float("nan"), "9", True, 5])
def test_a_size_that_is_not_the_tensor_files_is_named(tmp_path, capsys, size):
    # The README says the JSON's sizes are checked: "size" was read by nothing.
    path = edited(LM, tmp_path / "lm.safetensors", lambda m: m.update(size=size))
    code, line = one_line(capsys, generate(path))
    assert code == 2 and f"lm.json: size is {size!r}, but " in line and " bytes" in line, line


def test_a_fifo_beside_a_copied_json_is_named_not_missing(tmp_path, capsys):
    # The JSON still names the file it was saved beside; the FIFO in its own name's place is
    # what the user means, and is refused as a FIFO.
    json_path = tmp_path / "f5.json"
    json_path.write_bytes(LM.with_suffix(".json").read_bytes())
    os.mkfifo(tmp_path / "f5.safetensors")
    code, line = one_line(capsys, generate(json_path))
    assert code == 2 and "f5.safetensors is a pipe (FIFO), not a regular file" in line, line


RECORDED = Path(__file__).parent / "fixtures" / "recorded-classify"


def _recorded(tmp_path: Path, run: str, change) -> Path:
    folder = tmp_path / run / "checkpoints"
    shutil.copytree(RECORDED / run / "checkpoints", folder)
    json_path = folder / "best.json"
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    change(meta)
    json_path.write_text(json.dumps(meta), encoding="utf-8")
    return json_path


@pytest.mark.parametrize(
    ("run", "command", "change", "fragment"),
    [
        (
            "tag-uni-recorded",
            "tag",
            lambda m: m["tags"].__setitem__(1, m["tags"][0]),
            "a tag is listed twice",
        ),
        (
            "tag-uni-recorded",
            "tag",
            lambda m: m.update(chars=m["chars"][0] * 2 + m["chars"][2:]),
            "best.json does not list its characters",  # the JSON it is in, not the tensors
        ),
        (
            "classify-gru-recorded",
            "classify",
            lambda m: m["classes"].__setitem__(1, m["classes"][0]),
            "a class is listed twice",
        ),
    ],
)
def test_a_repeated_tag_character_or_class_is_refused(
    tmp_path, capsys, run, command, change, fragment
):
    json_path = _recorded(tmp_path, run, change)
    code, line = one_line(capsys, [command, "--checkpoint", str(json_path), "hello"])
    assert code == 2 and fragment in line, line


def _set(key: str, index: int, value: object):
    return lambda meta: meta[key].__setitem__(index, value)


@pytest.mark.parametrize(
    ("run", "command", "change", "fragment"),
    [
        # An escape sequence reached the terminal: it set the window's title, cleared the screen.
        (
            "tag-uni-recorded",
            "tag",
            _set("tags", 2, "\u001b]0;PWNED\u0007\u001b[2J,"),
            "tag 3 holds characters that are not printable: '\\x1b]0;PWNED\\x07\\x1b[2J,'",
        ),
        # Its marks are written into the restored text: only punctuation can be.
        ("tag-uni-recorded", "tag", _set("tags", 2, "[bold]"), "tag 3 is not a capital and"),
        (
            "classify-gru-recorded",
            "classify",
            _set("classes", 3, "\u001b[31mRED\u001b[0m"),
            "class 4 holds characters that are not printable: '\\x1b[31mRED\\x1b[0m'",
        ),
        (
            "classify-gru-recorded",
            "classify",
            _set("classes", 0, "A" * 100_000),
            "class 1 is 100,000 characters long (at most 100)",
        ),
        ("classify-gru-recorded", "classify", _set("classes", 5, 7), "class 6 is not a word: 7"),
        ("classify-gru-recorded", "classify", _set("classes", 5, ""), "class 6 is not a word"),
    ],
)
def test_a_label_a_terminal_would_obey_or_drown_in_is_refused(
    tmp_path, capsys, run, command, change, fragment
):
    json_path = _recorded(tmp_path, run, change)
    code, line = one_line(capsys, [command, "--checkpoint", str(json_path), "his eyes shone"])
    assert code == 2 and fragment in line and "\x1b" not in line, line
    assert f"{json_path}: " in line, line
