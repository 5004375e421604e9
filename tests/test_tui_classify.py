"""The Classify screen with Pilot: its three parts (names → language, tag every character, the
bidirectional LM), starting runs (a fake trainer replaying the recorded runs, checkpoints
included), reopening saved runs, typing a name or a text, the confusion matrix at 80×24, and one
line for every refusal. No training: the reports come from the recorded runs' checkpoints (a
forward pass)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest
from textual.content import Content
from textual.widgets import Input, SelectionList, Static
from textual.worker import WorkerCancelled

from rnn_tui.tui.screens.classify import ClassifyScreen
from rnn_tui.tui.widgets.classify_bilm import BiLMPanel
from rnn_tui.tui.widgets.classify_names import NamesPanel
from rnn_tui.tui.widgets.classify_tagging import TagPanel
from rnn_tui.tui.widgets.confusion import ConfusionMatrix, codes

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "recorded-classify"
FAKE_TRAINER = FIXTURES / "fake_trainer.py"
SOURCES = {
    "classify": "classify-gru-recorded",
    ("tag", False): "tag-uni-recorded",
    ("tag", True): "tag-bi-recorded",
    ("lm", False): "lm-uni-recorded",
    ("lm", True): "lm-bi-recorded",
}


@pytest.fixture
def runs(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def saved(runs) -> Path:
    shutil.copytree(RECORDED, runs)
    return runs


@pytest.fixture
def classify_app(tui, monkeypatch):
    """The app opening on the Classify screen, built with the given options."""
    import rnn_tui.tui.app as app_module

    def make(**screen_options):
        class ClassifyFirst(app_module.RnnTuiApp):
            DEFAULT_MODE = "classify"
            MODES: ClassVar = {
                **app_module.RnnTuiApp.MODES,
                "classify": lambda: ClassifyScreen(**screen_options),
            }

        monkeypatch.setattr(app_module, "RnnTuiApp", ClassifyFirst)
        return tui.make_app()

    return make


def fake_builder(calls: list | None = None, hold: bool = False):
    """Replay the recorded run of the task (and direction) asked for; with `hold` each run keeps
    running after its last line until it is stopped."""

    def build(options, folder):
        if calls is not None:
            calls.append(dict(options))
        task = options["task"]
        key = task if task == "classify" else (task, options.get("bidirectional") is True)
        return [
            sys.executable, str(FAKE_TRAINER), "--source", str(RECORDED / SOURCES[key]),
            "--run-dir", str(folder), "--delay", "0.001", *(["--hold"] if hold else []),
        ]  # fmt: skip

    return build


async def wait_for(pilot, screen, condition, timeout: float = 30.0) -> None:
    """Poll the screen until `condition()` holds. A typed name or text starts an exclusive
    worker that cancels the one before it, so a cancelled worker is part of waiting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen.poll()
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


def text_of(screen, selector: str) -> str:
    widget = screen.query_one(selector)
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def tick_all(pilot, tui, screen, views: set) -> None:
    """Tick every saved run of the part shown and wait for their reports."""
    await pilot.press("o")
    await tui.settle(pilot)
    screen.query_one("#run-list", SelectionList).select_all()
    await wait_for(pilot, screen, lambda: views <= set(screen.lab.views))
    await tui.settle(pilot)


async def show_taggers(pilot, tui, screen) -> None:
    """The tagging part with both saved taggers ticked and their reports in."""
    screen.show_part("tag")
    await tui.settle(pilot)
    await tick_all(pilot, tui, screen, {("tag", "uni"), ("tag", "bi")})


# -- names → language -------------------------------------------------------------------------


async def test_a_saved_names_run_gives_scores_baselines_and_live_top_three(
    saved, tui, classify_app
) -> None:
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none")})
        scores = text_of(screen, "#cl-scores")
        progress = str(screen.query_one("#cl-names-progress", Static).content)
        assert "acc 0.782 · macro-F1 0.380" in progress  # the run's last epoch
        assert "gru balance none (best)" in scores and "0.782" in scores
        assert "majority class" in scores and "0.519" in scores
        assert "char trigram naive Bayes" in scores
        # The matrix is drawn under the tables here: no word of the key that shows it.
        assert screen.query_one(ConfusionMatrix).display and "v: the" not in scores
        field = screen.query_one("#cl-name", Input)
        field.focus()
        await pilot.press(*"Satoshi2")
        await wait_for(
            pilot, screen, lambda: "Japanese" in str(screen.query_one("#cl-top").content)
        )
        top = str(screen.query_one("#cl-top", Static).content)
        assert top.startswith("→ Japanese") and top.count(".") == 3
        assert top.endswith("  (2 not read)")  # a character the model cannot read is told
        # A name with no letter the model reads is told on the line, not thrown.
        field.value = "123"
        await wait_for(
            pilot, screen, lambda: "no letter" in str(screen.query_one("#cl-top").content)
        )
        assert tui.errors(pilot.app) == []


async def matrix_alone(pilot, tui):
    """The saved names run ticked, the side panel hidden and `v` pressed: the matrix alone."""
    screen = pilot.app.screen
    await tick_all(pilot, tui, screen, {("names", "none")})
    screen.query_one("#cl-side").hide()
    screen.set_focus(None)
    await pilot.press("v")
    await tui.settle(pilot)
    return screen


async def test_the_confusion_matrix_fits_80x24_alone(saved, tui, classify_app) -> None:
    async with classify_app().run_test(size=(80, 24)) as pilot:
        screen = await matrix_alone(pilot, tui)
        matrix = screen.query_one(ConfusionMatrix)
        assert matrix.display and not screen.query_one("#cl-scores").display
        caption, *lines = text_of(screen, "#cl-confusion").splitlines()
        assert caption.startswith("gru balance none: % of each true language")
        assert len(lines) == 19 and "more rows" not in "\n".join(lines)
        assert all(len(line.rstrip()) <= 78 for line in lines)
        assert lines[0].split()[-20:-2] == codes(screen.lab.views[("names", "none")].classes)
        russian = next(line for line in lines if line.startswith("Russian"))
        assert int(russian.split()[1 + 14]) > 80  # most Russian names are found
        await pilot.press("v")
        await tui.settle(pilot)
        assert screen.query_one("#cl-scores").display and not matrix.display
        # Where the matrix does not fit under the tables, they say which key shows it.
        assert "v: the confusion matrix of the run opened" in text_of(screen, "#cl-scores")


async def test_on_a_short_terminal_the_matrix_says_how_many_rows_it_leaves_out(
    saved, tui, classify_app
) -> None:
    # At 80×20 it lost its last four languages at the panel's bottom, without a word.
    async with classify_app().run_test(size=(80, 20)) as pilot:
        screen = await matrix_alone(pilot, tui)
        matrix = screen.query_one(ConfusionMatrix)
        lines = text_of(screen, "#cl-confusion").splitlines()
        assert len(lines) <= matrix.size.height
        assert matrix.region.bottom <= screen.query_one("#cl-names").region.bottom
        shown = len(lines) - 3  # the caption, the header and the "more rows" line
        assert lines[-1] == f"… {18 - shown} more rows: a taller terminal shows them"


async def test_the_confusion_matrix_beside_the_side_panel_never_wraps(
    saved, tui, classify_app
) -> None:
    # At 100×30 with the side panel shown, each row wrapped onto a second line: half the
    # languages were off the screen and the columns no longer lined up.
    async with classify_app().run_test(size=(100, 30)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none")})
        screen.set_focus(None)
        await pilot.press("v")
        await tui.settle(pilot)
        await pilot.press("f")  # v hid the panel for the matrix: shown again beside it
        await tui.settle(pilot)
        assert screen.query_one("#cl-side").display
        matrix = screen.query_one(ConfusionMatrix)
        lines = text_of(screen, "#cl-confusion").splitlines()[1:]  # after the caption
        classes = screen.lab.views[("names", "none")].classes
        assert all(len(line.rstrip()) <= matrix.size.width for line in lines)
        assert lines[0].split()[-18:] == codes(classes)[-18:]  # every column: none cut off
        rows = [line for line in lines[1:] if line.strip() and not line.startswith("…")]
        # Each row as long as the header: one 3-character cell per language (100 fills one).
        assert rows and all(len(row.rstrip()) == len(lines[0].rstrip()) for row in rows)


async def test_at_80x24_the_scores_stay_whole_and_v_shows_the_matrix_alone(
    saved, tui, classify_app
) -> None:
    """Beside the side panel (shown by default) the scores read "0.7…", and v left the
    matrix's last columns, precision and support off the screen."""
    weights = saved / "classify-gru-weights"
    shutil.copytree(saved / "classify-gru-recorded", weights)
    config = json.loads((weights / "config.json").read_text(encoding="utf-8"))
    (weights / "config.json").write_text(json.dumps({**config, "balance": "weights"}))
    async with classify_app().run_test(size=(80, 24)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none"), ("names", "weights")})
        side = screen.query_one("#cl-side")
        assert side.display
        scores = text_of(screen, "#cl-scores")
        assert "0.782" in scores and "0.380" in scores and "0.519" in scores
        screen.set_focus(None)
        await pilot.press("v")
        await tui.settle(pilot)
        assert not side.display
        lines = text_of(screen, "#cl-confusion").splitlines()
        assert "prec" in lines[1] and lines[1].split()[-3] == "Vi"
        await pilot.press("v")
        await tui.settle(pilot)
        assert side.display and screen.query_one("#cl-scores").display


def test_language_codes_are_distinct_two_letters():
    names = ["Polish", "Portuguese", "Po", "Scottish", "Spanish", "Czech", "Chinese"]
    got = codes(names)
    assert len(set(got)) == len(got) and all(len(c) == 2 for c in got)
    assert got[:2] == ["Po", "Pr"]


async def test_starting_names_runs_keeps_one_per_balance(runs, tui, classify_app) -> None:
    calls: list = []
    async with classify_app(command_builder=fake_builder(calls)).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tui.settle(pilot)
        await pilot.press("s")
        await wait_for(pilot, screen, lambda: ("names", "none") in screen.lab.views)
        form = screen.query_one("#cl-form-names")
        form.set_value("balance", "weights")
        screen.set_focus(None)
        await pilot.press("s")
        progress = screen.query_one("#cl-names-progress", Static)

        def both_finished() -> bool:
            # A run's view appears with its first lines, before its trainer has finished.
            return str(progress.content).count("finished") == 2

        await wait_for(pilot, screen, lambda: ("names", "weights") in screen.lab.views)
        assert [c["balance"] for c in calls] == ["none", "weights"]
        assert all(c["task"] == "classify" for c in calls)
        shown = screen.lab.pairs["names"].shown()
        assert set(shown) == {"none", "weights"}
        await wait_for(pilot, screen, both_finished)  # both kept, one line each
        assert screen.lab.names_slot == "weights"


async def test_a_bad_field_or_a_wrong_run_is_one_line(saved, tui, classify_app) -> None:
    async with classify_app(command_builder=fake_builder()).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tui.settle(pilot)
        screen.query_one("#cl-form-names").set_value("hidden", "lots")
        screen.set_focus(None)
        await pilot.press("s")
        assert tui.errors(pilot.app)[-1].startswith("cannot start: hidden:")
        assert not screen.training()
        assert not screen.open_run(saved / "lm-bi-recorded")
        assert "is a run of task lm, not classify" in tui.errors(pilot.app)[-1]
        assert not screen.open_run(saved / "nowhere")
        assert len(tui.errors(pilot.app)) == 3


# -- the parts and their keys -------------------------------------------------------------------


async def test_p_cycles_the_parts_and_7_reaches_the_screen(saved, tui) -> None:
    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await tui.open_screen(pilot, "classify")
        assert isinstance(screen, ClassifyScreen)
        assert screen.query_one(NamesPanel).display
        # Only the part shown is built at first (building all three held the loop 120-150 ms).
        assert not screen.query(TagPanel) and not screen.query(BiLMPanel)
        assert not screen.query("#cl-form-tag, #cl-form-bilm")
        seen = {"names"}
        for part in ("tag", "bilm", "names", "tag"):
            seen.add(part)
            await pilot.press("p")
            await tui.settle(pilot)
            assert screen.part == part
            assert screen.query_one(f"#cl-{part}").display
            assert screen.query_one(f"#cl-form-{part}").display
            others = {"names", "tag", "bilm"} - {part}
            hidden = screen.query(", ".join(f"#cl-{o}, #cl-form-{o}" for o in others))
            assert len(hidden) == 2 * len(seen - {part}) and not any(w.display for w in hidden)
        assert len(screen.query(TagPanel)) == 1  # built once


async def test_the_bidirectional_lm_demo_shows_both_perplexities_and_samples(
    saved, tui, classify_app
) -> None:
    calls: list = []
    async with classify_app(command_builder=fake_builder(calls)).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        screen.show_part("bilm")
        await tui.settle(pilot)
        screen.set_focus(None)
        await pilot.press("s")

        def both_done() -> bool:
            snaps = screen.lab.pairs["bilm"].snapshots()
            return all(s is not None and s.status == "finished" for s in snaps.values())

        await wait_for(pilot, screen, both_done)
        assert sorted(c["bidirectional"] for c in calls) == [False, True]
        # The preset's values, the form's fields on top.
        assert all(c["max_tokens"] == 10000 and c["val_fraction"] == 0.0 for c in calls)
        assert all(c["model"] == "lstm" and c["epochs"] == 40 for c in calls)
        table = text_of(screen, "#cl-bilm-table")
        assert "12.24" in table and "2.086" in table
        assert "the the the" in table and "erererer" in table


# -- tagging --------------------------------------------------------------------------------


async def test_both_taggers_restore_typed_text_and_compare_per_tag(
    saved, tui, classify_app
) -> None:
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await show_taggers(pilot, tui, screen)
        table = text_of(screen, "#cl-tag-table")
        assert "one-way" in table and "two-way" in table and "gain" in table
        for row in ("capitalised", "any mark after", "Xx", "xx.", "xx,", "macro-F1", "accuracy"):
            assert row in table, row
        reports = {slot: screen.lab.views[("tag", slot)].report for slot in ("uni", "bi")}
        bi_capital = f"{reports['bi'].f1_capital:.3f}"
        assert bi_capital in next(line for line in table.splitlines() if "capitalised" in line)
        field = screen.query_one("#cl-tag-text", Input)
        field.focus()
        await pilot.press(*"the time traveller")

        def restored() -> str:
            return str(screen.query_one("#cl-restored", Static).content)

        await wait_for(pilot, screen, lambda: restored().count("\n") == 1)
        lines = restored().splitlines()
        assert lines[0].startswith("one-way") and lines[1].startswith("two-way")
        assert all("the time traveller" in line.lower() for line in lines)
        # A character the taggers never read is read as one they did, and said on each line.
        field.value = "naïve 2"
        await wait_for(pilot, screen, lambda: restored().count("'2' as ") == 2)
        assert all("naive 2" in line.lower() for line in restored().splitlines())
        assert tui.errors(pilot.app) == []


async def test_starting_tagging_trains_one_way_and_two_way_on_the_same_options(
    runs, tui, classify_app
) -> None:
    calls: list = []
    builder = fake_builder(calls, hold=True)
    async with classify_app(command_builder=builder).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        screen.show_part("tag")
        await tui.settle(pilot)
        screen.query_one("#cl-form-tag").set_value("hidden", "64")
        screen.set_focus(None)
        await pilot.press("s")
        await wait_for(
            pilot, screen, lambda: {("tag", "uni"), ("tag", "bi")} <= set(screen.lab.views)
        )
        assert sorted(c["bidirectional"] for c in calls) == [False, True]
        assert all(c["task"] == "tag" and c["hidden"] == 64 for c in calls)
        # The runs hold after their last line, so they are still training: another start is
        # refused with one line, and x stops both.
        assert screen.training()
        await pilot.press("s")
        assert "still training" in pilot.app.notified[-1][0]
        await pilot.press("x")

        def stopped() -> bool:
            snaps = screen.lab.pairs["tag"].snapshots().values()
            return all(s is not None and s.status == "stopped" for s in snaps)

        await wait_for(pilot, screen, stopped)
        await wait_for(pilot, screen, lambda: not screen.training())
        assert len(calls) == 2


async def test_a_redraw_while_a_part_is_being_built_skips_it(saved, tui) -> None:
    """The poll timer's redraw runs beside a part's build: the panel is in the DOM before its
    children are, and a redraw then must leave it alone (it is drawn once built)."""
    import asyncio

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "classify")
        building = asyncio.create_task(screen._build("tag"))
        for _ in range(2_000):  # the form mounts first, then the panel
            await asyncio.sleep(0)
            if screen.query(TagPanel):
                break
        assert screen.query(TagPanel) and not building.done()
        screen.redraw()
        screen._show_views()
        await building
        assert screen.query_one("#cl-tag-table")
        assert tui.errors(pilot.app) == []


async def test_p_pressed_quickly_twice_reaches_the_third_part(saved, tui) -> None:
    """The second p comes while the tagging part is still being built: it moves on from the
    tab chosen, so the LM part is shown, not tagging again."""
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "classify")
        screen.action_next_part()  # two p keys, the second before the first is handled
        screen.action_next_part()
        await tui.settle(pilot)
        assert screen.part == "bilm"
        assert screen.query_one("#cl-bilm").display and not screen.query_one("#cl-tag").display


async def test_a_refused_class_list_is_told_as_written(saved, tui, classify_app) -> None:
    # The refusal quotes the label: its markup was read as markup, and "[/]" broke the toast.
    best = saved / "classify-gru-recorded" / "checkpoints" / "best.json"
    meta = json.loads(best.read_text(encoding="utf-8"))
    meta["classes"][0] = "[/][bold]" + "A" * 120
    best.write_text(json.dumps(meta), encoding="utf-8")
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await pilot.press("o")
        await tui.settle(pilot)
        screen.query_one("#run-list", SelectionList).select_all()
        await tui.until(pilot, lambda: tui.errors(pilot.app), 60, each=screen.poll)
        # As the toast draws it (Toast.render).
        shown = [
            str(Content.from_markup(n.message) if n.markup else Content(n.message))
            for n in pilot.app.shown
        ]
        assert any("class 1 is 129 characters long" in s and "'[/][bold]AAA" in s for s in shown)


def test_a_runs_failure_names_the_forms_fields_not_the_trainers_flags() -> None:
    # A classifier that diverged said "try a smaller --lr or --clip" under a form whose field
    # is "lr" (the Train screen already named its fields).
    from rnn_tui.runs.followed import Notice
    from rnn_tui.tui.screens.classify import ClassifyScreen
    from rnn_tui.tui.screens.side_runs import SlotRunsScreen

    told: list[str] = []

    class Screen:
        FIELD_LABELS = ClassifyScreen.FIELD_LABELS
        _told: set = set()

        def notify(self, text, severity, markup):
            told.append(text)

    notice = Notice("names failed: loss diverged: try a smaller --lr or --clip", "error")
    SlotRunsScreen._tell(Screen(), [notice])
    assert told == ["names failed: loss diverged: try a smaller lr or --clip"]


async def test_the_taggers_costly_live_views_wait_for_their_share(
    runs, tui, classify_app, monkeypatch
) -> None:
    """Both taggers' views (a forward pass over the held-out text each) cost 0.9 s of CPU a
    round at hidden 256, and came every 2 s: the screen used a quarter of a core beside the
    runs. Once a round is drawn its CPU paces the next (runs/view_pace.py)."""
    from types import SimpleNamespace

    import rnn_tui.tui.screens.classify as classify_module
    from rnn_tui.runs.view_pace import VIEW_EVERY_S, VIEW_SHARE, ViewPace

    cpu, now, computed = [0.0], [100.0], []

    def compute_view(part, path):
        computed.append(Path(path).name)
        cpu[0] += 0.45
        return None  # no checkpoint yet: nothing drawn

    monkeypatch.setattr(classify_module, "compute_view", compute_view)
    async with classify_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.show_part("tag")
        await tui.settle(pilot)
        screen.lab.pace = ViewPace(clock=lambda: now[0], cpu=lambda: cpu[0])

        async def epoch_seen(epoch: int) -> None:
            def snapshots() -> dict:
                return {
                    slot: SimpleNamespace(
                        path=runs / f"tag-{slot}", epoch=epoch, status="running", active=True
                    )
                    for slot in ("uni", "bi")
                }

            with monkeypatch.context() as m:  # the slots' runs as the poll sees them
                m.setattr(screen.lab.pairs["tag"], "snapshots", snapshots)
                screen.load_views()
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

        await epoch_seen(1)
        assert sorted(computed) == ["tag-bi", "tag-uni"]
        gap = 0.9 / VIEW_SHARE
        for epoch in range(2, 12):
            now[0] = 100.0 + min((epoch - 1) * VIEW_EVERY_S, gap - 0.1)
            await epoch_seen(epoch)
        assert len(computed) == 2
        now[0] = 100.0 + gap
        await epoch_seen(12)
        assert len(computed) == 4
        assert tui.errors(pilot.app) == []
