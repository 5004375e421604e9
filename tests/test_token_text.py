"""How tokens are shown: visible whitespace, escaped controls, and a cap on length."""

from __future__ import annotations

import io
import json
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from rnn_tui.cli import main, stats_view
from rnn_tui.data.token_text import SHOWN_CHARS, _unsure, clipped, display_token, token_repr


def _starts_with_mark(token: str) -> bool:
    return bool(token) and unicodedata.category(token[0]) in ("Mn", "Me")


def test_short_tokens_are_shown_as_they_are_or_made_visible():
    assert display_token("traveller") == "traveller"
    assert [display_token(t) for t in (" ", "\t", "\n", "\r")] == ["␣", "⇥", "↵", "␍"]
    assert display_token("a\x1bb") == "a\\x1bb"  # an escape would drive the terminal
    assert token_repr("time") == "'time'"


@given(st.text(min_size=0, max_size=400))
@example("\U0001f3fb")  # a skin tone alone: escaped
@example("\u0301" + "a" * 49)  # a leading mark gets a dotted circle, still within the cap
@example("\u0915\u093e")  # a spacing vowel sign: escaped
def test_a_shown_token_is_never_much_longer_than_the_cap(token):
    shown = display_token(token, limit=50)
    assert len(shown) <= 50
    assert shown.isprintable()
    plain = token.isprintable() and not set(token) & set(" \t\n\r")
    if len(token) <= 50 and plain and not any(map(_unsure, token)) and not _starts_with_mark(token):
        assert shown == token
    if len(token) <= 40 and plain and any(map(_unsure, token)):
        assert "\\u" in shown or "\\U" in shown  # escaped, not drawn at a width we can't know
    assert clipped(token, 50) == token or (
        len(clipped(token, 50)) == 50 and token.startswith(clipped(token, 50)[:-1])
    )


def test_a_huge_token_is_cut_and_says_how_long_it_was():
    token = "ACGT" * 250_000
    assert display_token(token) == token[: SHOWN_CHARS - 1] + "…"
    assert token_repr(token).endswith("… (1,000,000 characters)")
    assert len(token_repr(token)) < SHOWN_CHARS + 40


def test_stats_tables_get_a_word_as_long_as_the_file_cut(tmp_path, capsys):
    # A sequence with no spaces is one word-level token; a table measures every string it gets,
    # so a 100 MB one took 20 s to print.
    path = tmp_path / "dna.txt"
    path.write_text("ACGT" * 250_000)
    assert main(["stats", "--corpus", str(path), "--mode", "raw", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    tables = [stats_view._top_tokens(stats), stats_view._top_ngrams("1", stats["top_ngrams"]["1"])]
    cells = [cell for table in tables for row in table.rows for cell in row]
    assert any(cell.startswith("ACGTACGT") and cell.endswith("…") for cell in cells)
    assert max(map(len, cells)) <= SHOWN_CHARS
    assert main(["stats", "--corpus", str(path), "--mode", "raw"]) == 0
    assert "ACGTACGT" in capsys.readouterr().out


@given(
    tokens=st.lists(st.text(min_size=1, max_size=60), min_size=0, max_size=12),
    width=st.integers(20, 200),
)
def test_stats_tables_fill_the_width_and_never_pass_it(tokens, width):
    # Drawn a line at a time (rich's Table took 204 s for --top 100000): every line of a
    # table is as wide as the table, and tables side by side never pass the console's width.
    stats = {
        "top_tokens": [[t, i, 10 * i] for i, t in enumerate(tokens)],
        "top_ngrams": {"1": [[[t], 3] for t in tokens], "2": [[tokens[:2], 1]] if tokens else []},
    }
    table = stats_view._top_tokens(stats)
    size, lines = table.lines(40)
    assert {sum(cell_len(seg.text) for seg in line) for line in lines} == {size}
    console = Console(width=width, file=io.StringIO(), color_system=None)
    tables = [table] + [stats_view._top_ngrams(n, rows) for n, rows in stats["top_ngrams"].items()]
    console.print(stats_view.SideBySide(tables), crop=False)
    out = console.file.getvalue().splitlines()
    assert out and max(cell_len(line) for line in out) <= max(width, stats_view.MIN_TABLE)
    assert out[0].startswith("vocabulary (by frequency)"[: min(width, 25)])
