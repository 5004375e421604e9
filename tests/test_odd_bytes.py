"""Text that is not what it seems: bytes that are not UTF-8 in an argument or a file name
(Python keeps them as lone surrogates), and codecs that fail without an offset. Each is one
line and exit 2, or valid JSON, never a traceback or a half-written run."""

from __future__ import annotations

import json
import os

import pytest
from cli_helpers import call, tiny_args, tiny_corpus

from rnn_tui.cli.output import print_json
from rnn_tui.data.errors import DataError
from rnn_tui.data.sources import decode_bytes
from rnn_tui.options import OptionError
from rnn_tui.train.options import OPTIONS

NOT_UTF8 = os.fsdecode(b"\xff\xfe")  # what argv holds for those bytes: '\udcff\udcfe'


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_corpus(tmp_path_factory)


@pytest.mark.parametrize("encoding", ["punycode"])
def test_a_codec_that_fails_without_an_offset_is_one_line(encoding):
    with pytest.raises(DataError, match=f"cannot decode story.txt as {encoding}: "):
        decode_bytes(b"hello world.\n", "story.txt", encoding)


def test_an_encoding_that_fails_to_decode_the_corpus_exits_2(corpus, capsys, tmp_path):
    code, out, err = call(["stats", "--corpus", corpus, "--encoding", "punycode"], capsys)
    assert code == 2 and err.startswith("rnn-tui: error: cannot decode ")
    assert "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("data", "encoding", "where"),
    [
        (b"the \\ud800 time\n", "unicode_escape", "(\\ud800) at position 4"),
        (b"the time\n" + b"x\\udc80" * 3, "raw_unicode_escape", "(\\udc80) at position 10"),
        (b"pair \\ud83d\\ude00\n", "unicode_escape", "(\\ud83d) at position 5"),
    ],
)
def test_a_codec_that_gives_a_lone_surrogate_is_refused(data, encoding, where):
    # unicode_escape turns "\\ud800" into a surrogate, not a character: a vocabulary holding it
    # could not be saved (the trainer failed with a traceback).
    with pytest.raises(DataError) as raised:
        decode_bytes(data, "story.txt", encoding)
    assert str(raised.value) == (
        f"cannot decode story.txt as {encoding}: it gives a lone surrogate {where}, not a character"
    )
    decode_bytes(b"caf\\xe9 \\U0001f600\n", "story.txt", encoding)  # a character escaped: text


def test_train_refuses_such_a_corpus_before_writing_a_run(capsys, tmp_path):
    corpus = tmp_path / "escaped.txt"
    corpus.write_bytes(b"the time traveller \\ud800 said\n" * 200)
    run = tmp_path / "run"
    args = [*tiny_args(str(corpus), "--encoding", "unicode_escape"), "--run-dir", str(run)]
    code, out, err = call(args, capsys)
    assert code == 2 and "gives a lone surrogate (\\ud800)" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1 and not run.exists()


@pytest.mark.parametrize("name", ["corpus", "prefix"])
def test_a_text_option_with_bytes_that_are_not_utf8_is_refused(name):
    option = next(o for o in OPTIONS if o.name == name)
    with pytest.raises(OptionError, match="holds bytes that are not UTF-8 text"):
        option.parse(f"story{NOT_UTF8}.txt")
    option.parse("störy 日本.txt")  # text outside ASCII is fine


@pytest.mark.parametrize("flag", ["--corpus", "--prefix"])
def test_train_refuses_them_before_writing_a_run(flag, corpus, capsys, tmp_path):
    odd = tmp_path / os.fsdecode(b"\xff.txt")
    odd.write_bytes(open(corpus, "rb").read())
    value = str(odd) if flag == "--corpus" else f"time{NOT_UTF8}"
    run = tmp_path / "run"
    code, out, err = call([*tiny_args(corpus, flag, value), "--run-dir", str(run)], capsys)
    assert code == 2 and "holds bytes that are not UTF-8 text" in err
    assert "Traceback" not in err and not run.exists()


def test_json_output_stays_valid_utf8_with_such_strings(capsys):
    print_json({"name": f"run-{NOT_UTF8}", "text": "été"})
    out = capsys.readouterr().out
    out.encode("utf-8")  # no lone surrogate reaches stdout
    assert json.loads(out) == {"name": f"run-{NOT_UTF8}", "text": "été"}
    print_json({"text": "été"})
    assert capsys.readouterr().out == '{"text": "été"}\n'  # plain text stays readable


def test_runs_json_lists_a_run_folder_named_with_such_bytes(corpus, capsys, tmp_path):
    root = tmp_path / "runs"
    run = root / os.fsdecode(b"lm-\xff")
    code, _, _ = call(
        [*tiny_args(corpus, "--epochs", "1"), "--run-dir", str(tmp_path / "r")], capsys
    )
    assert code == 0
    root.mkdir()
    os.rename(tmp_path / "r", run)
    code, out, err = call(["runs", "--dir", str(root), "--json"], capsys)
    assert code == 0
    out.encode("utf-8")
    assert [entry["status"] for entry in json.loads(out)["runs"]] == ["finished"]
