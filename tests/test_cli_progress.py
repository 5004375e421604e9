"""Long CLI work shows a progress line on a terminal's stderr, and nothing elsewhere: stats on
100 MB tokenizes for seconds, and translate --json waits for its last sentence."""

from __future__ import annotations

import io
import sys

from rnn_tui.cli.output import TerminalProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def on_a_terminal(monkeypatch) -> Terminal:
    # In the test's body: pytest puts its own sys.stderr back between a fixture and the test.
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(TerminalProgress, "SHOW_AFTER_S", 0.0)
    monkeypatch.setattr(TerminalProgress, "EVERY_S", 0.0)
    return screen


def test_the_line_is_rewritten_in_place_and_cleared(monkeypatch) -> None:
    terminal = on_a_terminal(monkeypatch)
    with TerminalProgress() as line:
        line.show("tokenizing a.txt: 10 %")
        line.show("tokenizing a.txt: 20 %")
    assert terminal.getvalue() == (
        "\r\x1b[Ktokenizing a.txt: 10 %\r\x1b[Ktokenizing a.txt: 20 %\r\x1b[K"
    )


def test_nothing_is_written_but_to_a_terminal(monkeypatch) -> None:
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    monkeypatch.setattr(TerminalProgress, "SHOW_AFTER_S", 0.0)
    with TerminalProgress() as line:
        line.show("tokenizing a.txt: 10 %")
    assert piped.getvalue() == ""


def test_short_work_shows_nothing(monkeypatch) -> None:
    terminal = on_a_terminal(monkeypatch)
    monkeypatch.setattr(TerminalProgress, "SHOW_AFTER_S", 60.0)
    with TerminalProgress() as line:
        line.show("tokenizing a.txt: 10 %")
    assert terminal.getvalue() == ""


def test_stats_shows_its_progress_and_clears_it_before_the_tables(
    tmp_path, capsys, monkeypatch
) -> None:
    from rnn_tui.cli import main

    terminal = on_a_terminal(monkeypatch)

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    corpus = tmp_path / "small.txt"
    corpus.write_text("the time machine by h g wells\n" * 2000)
    assert main(["stats", "--corpus", str(corpus)]) == 0
    shown = terminal.getvalue()
    # One chunk of text: tokenized at once, then counted (a 100 MB file shows 9 %, 19 %, … first)
    assert "\r\x1b[Kcounting the tokens and n-grams of small.txt…" in shown
    assert shown.endswith("\r\x1b[K")
    assert "tokens" in capsys.readouterr().out


def test_generate_counts_its_tokens_when_the_text_waits_for_the_end(
    capsys, monkeypatch, char_checkpoint
) -> None:
    # Piped or --json, the text comes at the end: 100,000 tokens were a silent minute.
    from rnn_tui.cli import main

    terminal = on_a_terminal(monkeypatch)
    args = ["generate", "--checkpoint", str(char_checkpoint), "--prefix", "the", "--length", "12"]
    assert main(args) == 0
    shown = terminal.getvalue()
    assert "\r\x1b[Kgenerated 1 / 12 tokens" in shown
    assert "\r\x1b[Kgenerated 12 / 12 tokens" in shown
    assert shown.endswith("\r\x1b[K")  # cleared before the text
    assert len(capsys.readouterr().out) == len("the") + 12 + 1


def test_gradients_says_which_pass_it_is_in(capsys, monkeypatch) -> None:
    from rnn_tui.cli import main

    terminal = on_a_terminal(monkeypatch)
    assert main(["gradients", "--cell", "gru", "--length", "30", "--hidden", "4"]) == 0
    shown = terminal.getvalue()
    for line in [
        "gradient flow, clipping and BPTT terms: step 1 of 30",
        "gradient flow, clipping and BPTT terms: back to step 1 of 30",
    ]:
        assert f"\r\x1b[K{line}" in shown
    assert shown.endswith("\r\x1b[K")
    assert capsys.readouterr().out.startswith("fresh gru")


def test_translate_counts_its_sentences_when_they_go_to_a_file(capsys, monkeypatch) -> None:
    # 20,000 sentences to a file were 80 s with nothing on the terminal.
    from rnn_tui.cli import main

    terminal = on_a_terminal(monkeypatch)
    args = ["translate", "--checkpoint", "fra-eng-gru", "go now .", "i am cold ."]
    assert main(args) == 0  # stdout is pytest's capture: not a terminal
    shown = terminal.getvalue()
    assert "\r\x1b[Ktranslated 1 / 2" in shown and "\r\x1b[Ktranslated 2 / 2" in shown
    assert shown.endswith("\r\x1b[K")
    out = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert out[0].startswith("go now . → ") and out[1].startswith("i am cold . → ")
