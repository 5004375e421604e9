"""The Dataset screen, driven by keys: token level, bad input, min_freq, search, n-grams."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panel_harness import count_builds
from textual.widgets import DataTable, Input, Select, Static, Tabs

from rnn_tui.tui.widgets import vocab_table
from rnn_tui.tui.widgets.plot import POINTS_PER_COLUMN, LinePlot
from rnn_tui.tui.widgets.plot_ticks import format_power, log_ticks
from rnn_tui.tui.widgets.plot_view import apart, decimate
from rnn_tui.tui.widgets.vocab_table import VocabTable


def cells(app, table_id: str, row: int) -> list[str]:
    table = app.screen.query_one(table_id, DataTable)
    return [str(cell) for cell in table.get_row_at(row)]


async def test_char_level_has_the_28_token_vocabulary(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("t")
        await tui.settle(pilot)
        assert "char/clean:" in tui.status(app)
        assert "170,580 tokens" in tui.status(app)
        assert "vocabulary 28" in tui.status(app)
        assert app.screen.query_one(VocabTable).vocab_size == 28
        # The space token is drawn visibly.
        assert tui.table_lines(app, 3)[2].split() == ["1", "␣", "29,927"]


async def test_on_a_narrow_terminal_each_corpus_field_scrolls_into_view(tui) -> None:
    # At 60 columns the encoding field took the focus at width 0, past the screen's edge:
    # what was typed went into a field nobody could see.
    app = tui.make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await tui.settle(pilot)
        for selector in ("#corpus", "#token", "#min-freq", "#mode", "#encoding", "#corpus"):
            field = app.screen.query_one(selector)
            field.focus()
            await pilot.pause()
            assert field.region.width >= 6 and app.screen.region.contains_region(field.region)


async def test_a_newer_request_supersedes_an_older_one(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("t", "t", "t")  # word → char → word → char, without waiting
        await tui.settle(pilot)
        assert "vocabulary 28" in tui.status(app)
        assert app.screen.query_one(VocabTable).vocab_size == 28


async def test_bad_files_notify_and_keep_the_previous_vocabulary(
    tui, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # short relative paths: Pilot types ≈ 15 keys a second
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.bin").write_bytes(b"abc\x00def")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    (tmp_path / "digits.txt").write_text("123 456\n7 8 9\n")
    (tmp_path / "utf16.txt").write_text("time machine\n", encoding="utf-16")
    bad = {
        ".": "directory",
        "empty.txt": "empty",
        "binary.bin": "NUL byte",
        "latin1.txt": "cannot decode",
        "digits.txt": "nothing left after cleaning",
        # The advice names the screen's field, not the command line's --encoding.
        "utf16.txt": "UTF-16-LE byte-order mark: read it with enc utf-16",
    }
    app = tui.make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.settle(pilot)
        before = tui.table_lines(app, 11)
        await pilot.press("o")
        path_field = app.screen.query_one("#path", Input)
        assert app.focused is path_field
        await pilot.press(*"nope.txt", "enter")
        await tui.settle(pilot)
        assert tui.errors(app) == ["corpus file not found: nope.txt"]
        assert tui.status(app).startswith("The Time Machine, word/clean:")
        assert tui.table_lines(app, 11) == before
        for count, (path, expected) in enumerate(bad.items(), start=2):
            # The refused path stays in its field, shown and focused, to correct: the next key
            # lands at its end. The status line names the corpus in effect.
            assert app.screen.query_one("#corpus", Select).value == "file"
            assert app.screen.query_one("#file-row").display
            assert app.focused is path_field and len(tui.errors(app)) == count - 1
            refused = path_field.value
            await pilot.press("x")
            assert path_field.value == refused + "x"
            path_field.value = path
            path_field.cursor_position = len(path)  # as typing leaves it
            await pilot.press("enter")
            await tui.settle(pilot)
            assert len(tui.errors(app)) == count
            assert expected in tui.errors(app)[-1]
            assert tui.status(app).startswith("The Time Machine, word/clean:")
            assert tui.table_lines(app, 11) == before
        # The same bad request again is reported again, not silently skipped.
        assert path_field.value == "utf16.txt"
        await pilot.press("enter")
        await tui.settle(pilot)
        assert len(tui.errors(app)) == len(bad) + 2


async def test_a_good_file_loads_and_latin1_decodes_with_its_encoding(
    tui, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path("latin1.txt")
    path.write_bytes("caf\xe9 au lait\nun caf\xe9\n".encode("latin-1"))
    app = tui.make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.settle(pilot)
        await pilot.press("r", "o", *str(path), "enter")  # raw mode keeps the é
        await tui.settle(pilot)
        assert tui.errors(app)[-1].startswith("cannot decode")
        # The refused path keeps the focus; escape leaves it for the encoding field.
        await pilot.press("escape", "E", "ctrl+a", "ctrl+k", *"latin-1", "enter")
        await tui.settle(pilot)
        assert tui.status(app).startswith("latin1.txt, word/raw:")
        assert "5 tokens" in tui.status(app)
        assert tui.table_lines(app, 2)[1].split() == ["0", "<unk>", "0"]
        assert tui.table_lines(app, 3)[2].split() == ["1", "café", "2"]
        # An emptied field is the default (utf-8 cannot decode the é again); refused, the
        # field shows the encoding in effect again.
        await pilot.press("ctrl+a", "ctrl+k", "enter")
        await tui.settle(pilot)
        assert tui.errors(app)[-1].startswith("cannot decode latin1.txt as utf-8")
        encoding = app.screen.query_one("#encoding", Input)
        assert encoding.value == "latin-1"
        # … with the cursor at its end: left mid-text, ctrl+u then cleared only part of it.
        assert encoding.cursor_position == len("latin-1")
        assert app.screen.query_one("#corpus", Select).value == "file"
        assert app.screen.query_one("#path", Input).value == "latin1.txt"


async def test_a_fifo_corpus_is_said_to_be_waited_on_until_its_data_comes(
    tui, tmp_path: Path, monkeypatch
) -> None:
    # A pipe nobody writes to yet is waited on up to 30 s: "computing …" all that time read
    # as a hang.
    import os

    from rnn_tui import files

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(files, "WAITING_NOTICE_S", 0.1)
    os.mkfifo("pipe")
    app = tui.make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        await pilot.press("o", *"pipe", "enter")
        deadline = time.monotonic() + 20
        while not tui.status(app).startswith("waiting") and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert tui.status(app) == "waiting for corpus file pipe to send data (at most 30 s)…"
        Path("pipe").write_text("the time traveller said so\n")
        await tui.settle(pilot)
        assert tui.status(app).startswith("pipe, word/"), tui.status(app)
        assert "5 tokens" in tui.status(app)


async def test_min_freq_is_validated_inline_and_applied(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.settle(pilot)
        await pilot.press("m", "x")
        field = app.screen.query_one("#min-freq", Input)
        assert field.has_class("-invalid")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert "min_freq must be an integer in [0, " in tui.errors(app)[-1]
        assert "vocabulary 4,580" in tui.status(app)
        await pilot.press("backspace", "5")
        assert not field.has_class("-invalid")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert "min_freq 5" in tui.status(app)
        assert "vocabulary 825" in tui.status(app)
        # A min_freq the corpus refuses (no token is that frequent) is not left in the field,
        # where it read as applied: the field shows the min_freq in effect again.
        for refused in ("20000", "999999999"):
            field.value = refused
            await pilot.press("enter")
            await tui.settle(pilot)
            assert f"min_freq {refused} leaves no token" in tui.errors(app)[-1]
            assert "min_freq 5" in tui.status(app)
            assert field.value == "5" and app.focused is field


async def test_search_finds_traveller(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("slash", *"traveller")
        table = app.screen.query_one(VocabTable)
        assert table.cursor_token == "traveller"
        assert table.row_count == 1
        assert tui.table_lines(app, 2)[1].split() == ["71", "traveller", "61"]
        await pilot.press("enter")
        assert app.focused is table
        # Clearing the search keeps the cursor on the token, now in the full list.
        await pilot.press("slash", "ctrl+a", "ctrl+k", "escape")
        assert table.row_count == 4580 and table.cursor_token == "traveller"
        await pilot.press("down")
        assert table.cursor_index == 72
        await pilot.press("end")
        assert table.cursor_index == 4579
        await pilot.press("home")
        assert table.cursor_token == "<unk>"


async def searched(pilot, table: VocabTable) -> None:
    """Wait for the table's search worker (cancelled ones included) to land."""
    for _ in range(500):
        if not table.searching and not any(
            w.is_running and w.group == "vocab-search" for w in table.app.workers
        ):
            break
        await pilot.pause(0.01)
    await pilot.pause()


async def test_a_big_vocabulary_is_searched_in_a_thread_with_the_same_result(
    tui, monkeypatch
) -> None:
    """Casefolding and searching 2.3M tokens takes 0.2–0.7 s: above SEARCH_IN_THREAD tokens
    it runs in a worker, says so meanwhile, and lands as the inline search would."""
    monkeypatch.setattr(vocab_table, "SEARCH_IN_THREAD", 100)  # Time Machine's 4,580 tokens
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        table = app.screen.query_one(VocabTable)
        await pilot.press("slash", *"travel")
        await searched(pilot, table)
        assert not table.searching
        tokens = app.screen.corpus.vocab.idx_to_token
        matches = [i for i, t in enumerate(tokens) if "travel" in t]
        assert [table.index_at(r) for r in range(table.row_count)] == matches
        assert len(matches) == 5 and table.cursor_token == "travel"  # the exact match
        assert "5 of 4,580 match" in str(app.screen.query_one("#vocab-info", Static).render())
        await pilot.press(*"ler")
        await searched(pilot, table)
        assert table.row_count == 1 and table.cursor_token == "traveller"
        # A newer search, or clearing the field, wins over one still running.
        table.filter("zzz")
        assert table.searching
        table.filter("")
        await searched(pilot, table)
        assert not table.searching and table.row_count == 4580


async def test_ngram_tab_shows_the_top_ngrams(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("right_square_bracket")
        await tui.settle(pilot)
        assert app.screen.query_one("#tabs").active == "tab-ngrams"
        assert cells(app, "#ngram-1", 0) == ["2,261", "the"]
        assert cells(app, "#ngram-2", 0) == ["309", "of the"]
        assert cells(app, "#ngram-3", 0) == ["59", "the time traveller"]
        result = str(app.screen.query_one("#ppl-result", Static).render())
        assert result.startswith("trigram perplexity (ε = 1.0) on the held-out 10 %: ")
        # The model's vocabulary (the training part's words and <unk>), not the corpus's 4,580.
        assert result.endswith("(training vocab 4,327)")


async def test_perplexity_recomputes_with_a_new_eps(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        await pilot.press("right_square_bracket")
        await tui.settle(pilot)
        result = app.screen.query_one("#ppl-result", Static)
        first = str(result.render())
        app.screen.query_one("#ppl-eps", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k", *"0.1", "enter")
        await tui.settle(pilot)
        second = str(result.render())
        assert "(ε = 0.1)" in second
        assert second.split(": ")[1] != first.split(": ")[1]
        await pilot.press("ctrl+a", "ctrl+k", *"-1", "enter")
        await tui.settle(pilot)
        assert "ε must be a number > 0" in tui.errors(app)[-1]
        assert str(result.render()) == second


async def test_a_30k_token_vocabulary_scrolls_without_building_rows(
    tui, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path("many.txt")
    # 30,000 distinct letters-only words, each seen once.
    words = ["w" + "".join(chr(97 + i // 26**k % 26) for k in range(4)) for i in range(30000)]
    path.write_text("\n".join(" ".join(words[i : i + 10]) for i in range(0, 30000, 10)) + "\n")
    # Lines drawn, counted rather than timed (a loaded machine slows any stopwatch): a few
    # screens' worth, never one per token.
    drawn = []
    render_line = VocabTable.render_line

    def counted(table, y):
        drawn.append(y)
        return render_line(table, y)

    monkeypatch.setattr(VocabTable, "render_line", counted)
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("o", *str(path), "enter")
        await tui.settle(pilot)
        table = app.screen.query_one(VocabTable)
        assert table.vocab_size == 30001
        await pilot.press("escape", "end")
        assert table.cursor_index == 30000
        assert any(line.split()[:1] == ["30,000"] for line in tui.table_lines(app, 24))
        await pilot.press("slash", *"wzz")
        assert table.row_count == sum("wzz" in w for w in words)
        assert 0 < len(drawn) < 1000, len(drawn)


async def test_corpus_key_opens_the_chooser_and_file_reveals_the_path(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        path_row = app.screen.query_one("#file-row")
        assert not path_row.display
        await pilot.press("c")
        assert app.screen.query_one("#corpus").expanded
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert path_row.display
        assert app.focused is app.screen.query_one("#path", Input)
        # Enter with no path typed says what it wants (it went without a word).
        await pilot.press("enter")
        await pilot.pause()
        assert app.notified[-1] == ("type the path of a corpus file, then enter", "warning")
        # Escape leaves the field for the table, whose keys work again.
        await pilot.press("escape", "t")
        await tui.settle(pilot)
        assert app.focused is app.screen.query_one(VocabTable)
        assert "vocabulary 28" in tui.status(app)


async def test_tab_keys_cycle_the_tabs_and_focus_their_content(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        tabs = app.screen.query_one("#tabs")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert tabs.active == "tab-ngrams"
        assert app.focused is app.screen.query_one("#ngram-panel")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert tabs.active == "tab-partition"
        assert app.screen.query_one("#tab-partition") in app.focused.ancestors
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert tabs.active == "tab-vocab"
        assert app.focused is app.screen.query_one(VocabTable)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert tabs.active == "tab-pairs"
        await tui.settle(pilot)


async def test_a_tab_switch_does_not_pass_the_focus_through_the_tab_bar(tui) -> None:
    """The focus leaves the old tab's content and lands in the new one's without stopping on
    the tab bar: each focus and blur of the bar restyles its nine widgets (~5 ms each)."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = app.screen
        bar = screen.query_one("#tabs").query_one(Tabs)
        seen: list = []

        def focus_moved(widget) -> None:
            seen.append(widget)

        screen.watch(screen, "focused", focus_moved, init=False)
        for _ in range(2):  # to the n-grams, then Partitioning (the Pairs tab focuses the bar)
            await pilot.press("right_square_bracket")
            await tui.settle(pilot)
        landed = [widget for widget in seen if widget is not None]
        assert len(landed) >= 2 and bar not in landed
        assert screen.query_one("#tab-partition") in app.focused.ancestors


async def test_a_tabs_own_keys_work_from_the_tab_row(tui) -> None:
    # Shown before its pairs had loaded, the Pairs tab left the focus on the tab row, where
    # its "n: another sample" did nothing; Partitioning's s and n likewise.
    from rnn_tui.tui.widgets.pairs_panel import PairsPanel
    from rnn_tui.tui.widgets.partition_panel import PartitionPanel

    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await tui.settle(pilot)
        screen = app.screen
        bar = screen.query_one("#tabs").query_one(Tabs)
        for _ in range(3):
            await pilot.press("right_square_bracket")
        await app.workers.wait_for_complete()
        await tui.settle(pilot)
        assert screen.query_one("#tabs").active == "tab-pairs"
        pairs = screen.query_one(PairsPanel)
        bar.focus()
        await pilot.pause()
        draws = pairs._draws
        await pilot.press("n")
        await pilot.pause()
        assert pairs._draws == draws + 1
        await pilot.press("left_square_bracket")
        await tui.settle(pilot)
        partition = screen.query_one(PartitionPanel)
        bar.focus()
        await pilot.pause()
        strategy = partition.query_one("#partition-strategy").value
        await pilot.press("s")
        await tui.settle(pilot)
        assert partition.query_one("#partition-strategy").value != strategy


def test_log_ticks_are_labelled_with_real_values() -> None:
    assert log_ticks(0.0, 3.66) == ([0.0, 1.0, 2.0, 3.0, 4.0], ["1", "10", "100", "1000", "10k"])
    assert [format_power(e) for e in (-1, 5, 6)] == ["0.1", "100k", "1M"]
    # Every count 1 (log10 1 = 0 at both ends): two decades, never equal limits.
    assert log_ticks(0.0, 0.0) == ([0.0, 1.0], ["1", "10"])
    assert apart(0.0, 0.0) == (-0.5, 0.5) and apart(2.0, 2.0) == (1.9, 2.1)
    assert apart(1.0, 3.0) == (1.0, 3.0)


def test_decimate_keeps_about_two_points_a_column() -> None:
    x = np.log10(np.arange(1, 100_001, dtype=float))
    y = -x
    dx, dy = decimate(x, y, 160)
    assert 100 < len(dx) <= 160
    assert np.all(np.diff(dx) > 0) and np.allclose(dy, -dx)
    same_x, _ = decimate(x[:50], y[:50], 160)
    assert len(same_x) == 50


@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(2, 64), st.booleans())
@settings(max_examples=100, deadline=None)
def test_decimate_keeps_the_extremes_of_every_interval(seed, n, buckets, ties) -> None:
    # Bucket means drew the seeds' noisy sine as a clean one (its N(0, 0.2) noise averaged away).
    rng = np.random.default_rng(seed)
    x = np.sort(rng.integers(0, 50, n).astype(float) if ties else rng.normal(0, 1e3, n))
    y = rng.normal(0, 1, n)
    dx, dy = decimate(x, y, buckets)
    assert len(dx) <= max(buckets, n) and np.all(np.diff(dx) >= 0)
    assert dy.min() == y.min() and dy.max() == y.max()
    assert set(dx) <= set(x)


async def test_zipf_plot_draws_a_bounded_number_of_points(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("t", "right_square_bracket")  # char level: 170,580 tokens
        await tui.settle(pilot)
        plot = app.screen.query_one("#zipf", LinePlot)
        assert 0 < plot.num_points <= 3 * POINTS_PER_COLUMN * plot.size.width


async def test_corpora_whose_tokens_are_all_seen_once_show_their_ngrams(
    tui, tmp_path: Path, monkeypatch
) -> None:
    # Every count 1 puts every Zipf point at y = 0 (one token: x = 0 too): the plot's limits
    # met, and plotext divided by zero while drawing the n-grams tab (the app crashed).
    monkeypatch.chdir(tmp_path)
    Path("three.txt").write_text("one two three\n")
    Path("dna.txt").write_text("ACGT" * 3000)  # no space: one word-level token
    app = tui.make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await tui.settle(pilot)
        await pilot.press("r", "o", *"three.txt", "enter", "right_square_bracket")
        await tui.settle(pilot)
        plot = app.screen.query_one("#zipf", LinePlot)
        plot.focus()
        await pilot.press("up", "right", "plus", "down")  # a view of a flat line
        await pilot.pause()
        assert plot.y_view is not None and plot.y_view[0] == plot.y_view[1]
        await pilot.press("left_square_bracket", "o", "ctrl+a", "ctrl+k", *"dna.txt", "enter")
        await tui.settle(pilot)
        assert "1 token · vocabulary 2" in tui.status(app)
        row = tui.table_lines(app, 3)[2]
        assert "ACGTACGT" in row and len(row) <= 100
        await pilot.press("escape", "right_square_bracket")
        await tui.settle(pilot)
        await pilot.pause()
        assert app.screen.query_one("#zipf", LinePlot).region.height > 0
        assert tui.errors(app) == []


async def test_a_corpus_too_short_for_perplexity_says_so_in_place(
    tui, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("tiny.txt").write_text("one two three\n")
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("o", *"tiny.txt", "enter")
        await tui.settle(pilot)
        assert tui.status(app).startswith("tiny.txt, word/clean: 1 line · 3 tokens")
        result = str(app.screen.query_one("#ppl-result", Static).render())
        assert result.startswith("no perplexity: corpus too short")
        assert tui.errors(app) == []


@pytest.mark.first_draw
async def test_a_tabs_first_showing_draws_its_tables_and_plot_in_updates_of_their_own(
    tui, monkeypatch
) -> None:
    """The n-grams tab's first showing (first_draw.py): its labels in the screen update that
    shows it, its three tables in a later one, its Zipf plot alone after that. In one update
    they held the event loop 100–150 ms."""
    from textual.screen import Screen
    from textual.widgets import Label
    from textual_plotext import PlotextPlot

    update = [0]
    first: dict[str, int] = {}

    def spy(cls, name: str, key) -> None:
        original = getattr(cls, name)

        def spied(self, *args, **kwargs):
            what = key(self)
            if what is not None:
                first.setdefault(what, update[0])
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, spied)

    original_update = Screen._on_timer_update

    def counted(self) -> None:
        update[0] += 1
        return original_update(self)

    monkeypatch.setattr(Screen, "_on_timer_update", counted)
    # The real draws: DataTable's lines and plotext's figure, under the deferring subclasses.
    spy(DataTable, "render_lines", lambda w: w.id if str(w.id).startswith("ngram-") else None)
    spy(PlotextPlot, "render", lambda w: "zipf" if w.id == "zipf" else None)
    spy(Label, "render", lambda w: "labels" if w.has_class("ngram-title") else None)
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        assert first == {}  # hidden so far
        await pilot.press("right_square_bracket")
        await tui.settle(pilot)
        tables = {first[f"ngram-{n}"] for n in (1, 2, 3)}
        assert len(tables) == 1, first  # the three in one update
        assert first["labels"] < tables.pop() < first["zipf"], first
        assert cells(app, "#ngram-1", 0) == ["2,261", "the"]
        assert "Zipf" in str(app.screen.query_one("#zipf", LinePlot).render())


async def test_the_zipf_plot_is_built_again_only_when_something_changed(tui) -> None:
    """Showing the n-grams tab again (Textual renders it on each showing, restyle and focus)
    reuses the built figure; a new size, theme, view or corpus builds a new one."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        plot = app.screen.query_one("#zipf", LinePlot)
        built = count_builds(plot)
        await pilot.press("right_square_bracket")  # its first showing: built once, at its size
        await tui.settle(pilot)
        assert len(built) == 1
        built.clear()
        for _ in range(4):  # round the four tabs, back to the n-grams
            await pilot.press("right_square_bracket")
            await tui.settle(pilot)
        assert app.screen.query_one("#tabs").active == "tab-ngrams"
        assert built == []
        figure = plot.render()

        await pilot.resize_terminal(100, 40)
        await tui.settle(pilot)
        assert len(built) >= 1 and built[-1] != str(figure)
        count = len(built)
        app.theme = "textual-light"
        await tui.settle(pilot)
        assert len(built) > count
        count = len(built)
        plot.focus()
        await pilot.press("plus")  # zoom in: a new view
        await tui.settle(pilot)
        assert len(built) > count and "zoomed" in built[-1]
        count = len(built)
        await pilot.press("t")  # word level to char level: new Zipf curves
        await tui.settle(pilot)
        assert len(built) > count


async def test_shift_t_opens_the_train_form_reading_the_corpus_as_shown(
    tui, tmp_path: Path, monkeypatch, no_checkpoints
) -> None:
    """A corpus explored here (a file, raw characters, an encoding, min_freq) is what the Train
    form then reads: the run would see the vocabulary this screen shows."""
    path = Path("latin1.txt")
    path.write_bytes("caf\xe9 au lait\nun caf\xe9\n".encode("latin-1") * 50)
    app = tui.make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        # The encoding first: read as utf-8 the file is refused, and the fields show the corpus
        # in effect again.
        await pilot.press("t", "r", "E", "ctrl+a", "ctrl+k", *"latin-1", "enter")
        await pilot.press("escape", "o", *str(path), "enter")
        await pilot.press("escape", "m", "ctrl+a", "ctrl+k", "2", "enter", "escape")
        await tui.settle(pilot)
        assert tui.status(app).startswith("latin1.txt, char/raw, min_freq 2:")
        await pilot.press("T")
        await tui.settle(pilot)
        form = app.screen.query_one("#train-form")
        options, problems = form.options()
        assert problems == []
        assert {k: options[k] for k in ("corpus", "token", "mode", "encoding", "min_freq")} == {
            "corpus": "latin1.txt",
            "token": "char",
            "mode": "raw",
            "encoding": "latin-1",
            "min_freq": 2,
        }
        assert form.query_one("#row-corpus-path").display
        assert app.notified[-1][0].startswith("the form reads latin1.txt at char level, raw")
        assert app.focused is form.control("model")  # "s" starts from there, as it says
        # A bundled corpus is chosen by name, not as a file.
        await pilot.press("f2")
        await tui.settle(pilot)
        await pilot.press("c", "up", "up", "up", "enter")  # back to The Time Machine
        await tui.settle(pilot)
        assert tui.status(app).startswith("The Time Machine, char/raw, min_freq 2")
        await pilot.press("T")
        await tui.settle(pilot)
        assert form.control("corpus").value == "timemachine"
        assert not form.query_one("#row-corpus-path").display
