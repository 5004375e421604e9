"""Typed text too long to quote whole (issue 13, bad input of the kinds already tried).

An error or warning quoted the typed value whole: a 60,000-character sentence made a
60,000-character warning, and the part that said what was wrong was at its far end. A quoted
value now keeps its start and its length, and every message line (the CLI's stderr, argparse's
refusals, the app's notifications) its start and end within LINE_CHARS.
"""

from __future__ import annotations

import os

from cli_helpers import one_line
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.cli import main
from rnn_tui.quoting import LINE_CHARS, NOTICE_CHARS, bounded, plain, quoted, visible

SHIPPED_LM = "timemachine-char-lstm"
SHIPPED_S2S = "fra-eng-gru"


def test_a_long_value_keeps_its_start_and_its_length():
    assert quoted("abc") == "'abc'"
    assert quoted(12) == "12"
    text = quoted("go " * 20000)
    assert text.startswith("'go go ") and text.endswith("…' (60,000 characters)")
    assert len(text) < 100


@given(st.text(max_size=3000), st.integers(min_value=20, max_value=400))
def test_a_bounded_line_fits_and_keeps_both_ends(message, limit):
    line = bounded(message, limit)
    if len(message) <= limit:
        assert line == message
    else:
        assert len(line) <= limit + 40
        assert line.startswith(message[: limit // 2]) and line.endswith(message[-(limit // 2) :])
        assert f"{len(message) - 2 * (limit // 2):,} characters left out" in line


def test_a_long_sentence_is_warned_about_in_a_short_line(capsys):
    code = main(["translate", "--checkpoint", SHIPPED_S2S, "go " * 20000])
    out, err = capsys.readouterr()
    assert code == 0
    (warning,) = err.strip().splitlines()
    assert len(warning) < 200, len(warning)
    assert "(59,999 characters)" in warning and warning.endswith("are cut")


def test_many_unknown_words_are_counted_not_all_listed(capsys):
    words = " ".join(f"zq{i}" for i in range(30))
    main(["translate", "--checkpoint", SHIPPED_S2S, words])
    err = capsys.readouterr().err
    unknown = next(line for line in err.splitlines() if "<unk>" in line)
    assert unknown.endswith("'zq8', 'zq9' and 20 more"), unknown


def test_an_option_value_pasted_by_mistake_is_quoted_short(capsys):
    code, err = one_line(
        capsys, ["generate", "--checkpoint", SHIPPED_LM, "--prefix", "x", "--length", "9" * 50000]
    )
    assert code == 2 and len(err) < 300 and "(50,000 characters)" in err
    # argparse's own refusal (an unknown choice) quotes the value whole: the line is bounded.
    code, err = one_line(
        capsys, ["generate", "--checkpoint", SHIPPED_LM, "--prefix", "x", "--strategy", "s" * 50000]
    )
    assert code == 2 and len(err) <= LINE_CHARS + 40 and err.endswith("generate --help)")


async def test_a_notification_is_plain_text_and_bounded(tui):
    app = tui.make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        app.notify("cannot read /data/[b]x[/b].txt " + "y" * 5000, severity="error")
        await pilot.pause()
        shown = app.shown[-1]
        assert not shown.markup
        assert shown.message.startswith("cannot read /data/[b]x[/b].txt")
        assert len(shown.message) <= NOTICE_CHARS + 40


@given(st.text(max_size=200))
def test_visible_text_has_no_control_characters_and_reads_back(message):
    import unicodedata

    line = visible(message)
    assert not any(unicodedata.category(c) == "Cc" and c != "\t" for c in line)
    kept = visible(message, newlines=True)
    assert kept.count("\n") == message.count("\n")
    if message.isprintable():
        assert line == message


def test_a_control_character_in_a_path_is_shown_not_sent_to_the_terminal(tmp_path, capsys):
    """A run folder named with ESC or a newline (anyone may name one in a shared runs folder)
    reached stderr raw: the terminal obeyed it, and the one line became two."""
    folder = tmp_path / "ev\x1b[2Jil\nx"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    code, line = one_line(capsys, ["train", "--run-dir", str(folder), "--epochs", "1"])
    assert code == 2
    assert "\x1b" not in line and "ev\\x1b[2Jil\\nx" in line
    code, line = one_line(capsys, ["stats", "--nope", "a\x1bb"])
    assert code == 2 and "a\\x1bb" in line


async def test_a_notification_shows_control_characters_as_escapes(tui):
    app = tui.make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        app.notify("cannot open run /runs/ev\x1b[2Jil\x07\nnext line", severity="error")
        await pilot.pause()
        shown = app.shown[-1]
        assert shown.message == "cannot open run /runs/ev\\x1b[2Jil\\x07\nnext line"


def test_model_output_on_a_terminal_shows_control_characters_as_escapes(
    tmp_path, monkeypatch, capsys
):
    """What a model writes reaches a terminal escaped (one trained on a coloured log would
    colour or clear the screen) and a pipe as is."""
    import sys

    corpus = tmp_path / "log.txt"
    corpus.write_text("a\x1bb " * 3000, encoding="utf-8")
    run = tmp_path / "run"
    train = ["train", "--corpus", str(corpus), "--mode", "raw", "--token", "char"]
    train += ["--model", "gru", "--hidden", "16", "--batch-size", "8", "--num-steps", "10"]
    train += ["--epochs", "2", "--lr", "4", "--sample-every", "0", "--run-dir", str(run)]
    assert main(train) == 0
    generate = ["generate", "--checkpoint", str(run), "--prefix", "a", "--length", "12"]
    capsys.readouterr()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert main(generate) == 0
    assert capsys.readouterr().out.startswith("a\x1bb a\x1bb")  # a pipe: as the model wrote
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(generate) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and out.startswith("a\\x1bb a\\x1bb")


async def test_the_apps_model_output_shows_control_characters_as_escapes():
    """The Generate screen's text and the Translate screen's tables drew what the model wrote:
    an ESC its vocabulary held reached the terminal."""
    from textual.app import App
    from textual.widgets import Static

    from rnn_tui.tui.widgets.generate_output import GenerationOutput
    from rnn_tui.tui.widgets.translate_tables import token_text

    class One(App):
        def compose(self):
            yield GenerationOutput()

    app = One()
    async with app.run_test(size=(80, 20)) as pilot:
        output = app.query_one(GenerationOutput)
        output.begin(["a"], [], "char")
        output.extend(["\x1b", "[", "2", "J", "\n", "b"])
        await pilot.pause()
        shown = str(output.query_one("#gen-text", Static).render())
        assert "\x1b" not in shown and "a\\x1b[2J\nb" in shown
    assert token_text("go \x1b[31m", unk="bold").plain == "go \\x1b[31m"


def test_a_name_that_is_not_utf8_is_shown_with_its_bytes_escaped():
    """A folder made with `mkdir $'bad\\xffname'` reached the screen as "bad\\udcffname": shown
    literally in one place, and as a zero-width glitch shifting the table row in another."""
    from rich.cells import cell_len

    name = os.fsdecode(b"bad\xffname\xc3")
    assert plain(name) == visible(name) == "bad\\xffname\\xc3"
    assert cell_len(plain(name)) == len(plain(name))
    assert plain("\ud800x") == "?x"  # no file name holds another lone surrogate


@given(st.text(alphabet=st.sampled_from(["a", "\\", "u", "d", "c", "f", "é", "\udcff", "\udc80"])))
def test_a_quoted_value_writes_such_a_byte_as_the_other_displays_do(text):
    """`rnn-tui train --corpus $'t\\xff.txt'` was refused quoting 't\\udcff.txt', while the
    runs table writes that byte "\\xff": the same name, two spellings."""
    # Each byte stands in as an ideograph (repr keeps it as is), then becomes its escape.
    stand_in = {0xDC00 + byte: chr(0x4E00 + byte) for byte in range(0x80, 0x100)}
    expected = repr(text.translate(stand_in))
    for byte in range(0x80, 0x100):
        expected = expected.replace(chr(0x4E00 + byte), f"\\x{byte:02x}")
    assert quoted(text, limit=1_000) == expected
    assert quoted(os.fsdecode(b"t\xff.txt")) == "'t\\xff.txt'"
