# ruff: noqa: F811 (pytest fixtures imported from test_tui_classify)
"""The Classify screen keeping what it showed: a run whose checkpoint cannot be used is refused
in one line and the run, baselines and matrix shown before stay; what a typed name or text
gets stays with it. Recorded runs only, no training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_tui_classify import (  # noqa: F401
    classify_app,
    fake_builder,
    runs,
    saved,
    show_taggers,
    text_of,
    tick_all,
    wait_for,
)
from textual.widgets import Input, Static


async def refused(pilot, tui) -> str:
    """Wait for the one error told (a view worker's failure is the screen's to tell)."""

    def told() -> bool:
        return bool(tui.errors(pilot.app)) and not any(
            w.group == "view" and w.is_running for w in pilot.app.workers
        )

    await tui.until(pilot, told, 60, each=lambda: pilot.app.screen.poll())
    await pilot.pause()
    (error,) = tui.errors(pilot.app)
    return error


def elsewhere(saved, source: str, name: str) -> Path:
    """A copy of a recorded run outside the runs folder (not in the run list)."""
    return Path(shutil.copytree(saved / source, saved.parent / "elsewhere" / name))


async def test_a_run_with_a_broken_checkpoint_is_refused_and_the_shown_run_kept(
    saved, tui, classify_app
) -> None:
    broken = elsewhere(saved, "classify-gru-recorded", "classify-broken")
    for tensors in (broken / "checkpoints").glob("*.safetensors"):
        with tensors.open("r+b") as f:
            f.truncate(100)
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none")})
        good = screen.lab.pairs["names"].shown()["none"]
        before = text_of(screen, "#cl-scores")
        assert "char trigram naive Bayes" in before
        assert screen.open_run(broken)
        error = await refused(pilot, tui)
        assert error == "classify-broken not opened: no usable checkpoint in classify-broken"
        assert screen.lab.pairs["names"].shown()["none"] == good
        assert text_of(screen, "#cl-scores") == before
        assert "no confusion matrix" not in text_of(screen, "#cl-confusion")
        assert "open a run first" not in str(screen.query_one("#cl-top", Static).content)


async def test_a_tagger_whose_classes_disagree_is_refused_in_one_line(
    saved, tui, classify_app
) -> None:
    odd = elsewhere(saved, "tag-bi-recorded", "tag-odd")
    best = odd / "checkpoints" / "best.json"
    meta = json.loads(best.read_text(encoding="utf-8"))
    meta["tags"] = meta["tags"][:-1]
    best.write_text(json.dumps(meta), encoding="utf-8")
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await show_taggers(pilot, tui, screen)
        before = text_of(screen, "#cl-tag-table")
        good = screen.lab.pairs["tag"].shown()["bi"]
        assert screen.open_run(odd)
        error = await refused(pilot, tui)
        assert error.startswith("tag-odd not opened: ") and "\n" not in error
        assert len(error) < 100 and "/" not in error
        assert screen.lab.pairs["tag"].shown()["bi"] == good
        assert text_of(screen, "#cl-tag-table") == before


async def test_a_typed_name_keeps_its_answer_across_parts_and_screens(
    saved, tui, classify_app
) -> None:
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none")})

        def top() -> str:
            return str(screen.query_one("#cl-top", Static).content)

        screen.query_one("#cl-name").focus()
        await pilot.press(*"Smith")
        await tui.settle(pilot)
        answer = top()
        assert answer.startswith("→ ")
        await pilot.press("escape", "p", "p", "p")
        await tui.settle(pilot)
        assert screen.part == "names" and top() == answer
        await pilot.press("2")
        await tui.settle(pilot)
        await pilot.press("7")
        await tui.settle(pilot)
        assert pilot.app.screen is screen and top() == answer


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_why_a_name_is_not_read_is_shown_whole(saved, tui, classify_app, size) -> None:
    async with classify_app().run_test(size=size) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none")})
        screen.query_one("#cl-name").focus()
        await pilot.press(*"12345")
        await tui.settle(pilot)
        told = str(screen.query_one("#cl-top", Static).content)
        shown = " ".join(line.strip() for line in text_of(screen, "#cl-top").splitlines())
        assert shown.strip() == told  # wrapped where narrow, never cut
        assert told.startswith("no letter A–Z in '12345'")


async def test_typed_text_is_never_cut_short(saved, tui, classify_app) -> None:
    """The name field kept 40 characters and the text field 400, dropping the rest unsaid;
    the tagger's own limit (10,000 characters, as the CLI's) is told on its line."""
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none")})
        name = screen.query_one("#cl-name", Input)
        name.focus()
        await pilot.press(*("Abcdefghijklm" * 4))
        await tui.settle(pilot)
        assert name.value == "Abcdefghijklm" * 4
        assert str(screen.query_one("#cl-top", Static).content).startswith("→ ")
        await show_taggers(pilot, tui, screen)
        text = screen.query_one("#cl-tag-text", Input)
        text.focus()
        text.insert_text_at_cursor("the time traveller " * 30)
        await tui.settle(pilot)
        assert len(text.value) == 19 * 30
        text.insert_text_at_cursor("x" * 10_000)
        await tui.settle(pilot)
        assert len(text.value) == 19 * 30 + 10_000
        restored = str(screen.query_one("#cl-restored", Static).content)
        assert restored.count("at most 10,000 characters at a time (got 10,570)") == 2


async def test_the_lm_part_says_what_its_form_would_train(saved, tui, classify_app) -> None:
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        screen.show_part("bilm")
        await tui.settle(pilot)

        def said() -> str:
            return " ".join(text_of(screen, "#cl-bilm-table").split())

        assert "the first 10,000 characters of the Time" in said()
        form = screen.query_one("#cl-form-bilm")
        form.set_value("max_tokens", 3000)
        form.set_value("model", "gru")
        await tui.settle(pilot)
        assert "(gru)" in said() and "the first 3,000 characters of the Time" in said()
        form.set_value("max_tokens", "")
        await tui.settle(pilot)
        assert "on the whole Time Machine" in said()


async def test_the_tagging_part_fits_80x24(saved, tui, classify_app) -> None:
    async with classify_app().run_test(size=(80, 24)) as pilot:
        screen = pilot.app.screen
        screen.show_part("tag")
        await tui.settle(pilot)
        placeholder = screen.query_one("#cl-tag-text", Input).placeholder
        assert placeholder in text_of(screen, "#cl-tag-text")  # beside the side panel
        await tick_all(pilot, tui, screen, {("tag", "uni"), ("tag", "bi")})
        # Beside the side panel the numbers stay whole (the two-way column read "0.6").
        head, *rows, epochs = text_of(screen, "#cl-tag-table").splitlines()
        assert head.split()[-3:] == ["one-way", "two-way", "gain"]
        # The checkpoints' epochs close the table: a live run's view lags its progress line.
        *named, uni, bi = epochs.split()  # "epoch" where "best epoch" does not fit
        assert named == ["epoch"] and uni.isdigit() and bi.isdigit()
        assert all(len(row.split()[-1]) == 6 and len(row.split()[-2]) == 5 for row in rows)
        # ... and so do the row titles, shortened rather than cut ("capital…", "any mar…").
        assert "…" not in text_of(screen, "#cl-tag-table")
        assert [row.split()[0] for row in rows[:2]] == ["capitals", "any"]
        screen.query_one("#cl-side").hide()
        await tui.settle(pilot)
        panel = screen.query_one("#cl-tag")
        assert not panel.allow_focus()  # nothing to scroll: tab goes on to the text field
        field = screen.query_one("#cl-tag-text", Input)
        field.value = "the time traveller for so it will be convenient to speak of him " * 3
        await tui.settle(pilot)
        assert str(screen.query_one("#cl-restored", Static).content).count("\n") >= 1
        assert panel.allow_focus()  # tab reaches it, and its keys scroll
        panel.scroll_end(animate=False)
        await tui.settle(pilot)
        table = screen.query_one("#cl-tag-table")
        last = [line.strip() for line in text_of(screen, "#cl-tag-table").splitlines()[-3:]]
        assert last[0].startswith("macro-F1 (all tags)") and last[1].startswith("accuracy")
        assert last[2].split()[0] in ("best", "epoch")
        assert table.region.bottom <= panel.content_region.bottom  # scrolled into sight


async def test_a_two_way_names_run_is_named_as_the_run_list_names_it(
    saved, tui, classify_app
) -> None:
    run = saved / "classify-gru-weights"
    shutil.copytree(saved / "classify-gru-recorded", run)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    config.update(balance="weights", bidirectional=True)
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    metrics = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    start = json.loads(metrics[0])
    start["config"].update(balance="weights", bidirectional=True)
    metrics[0] = json.dumps(start)
    (run / "metrics.jsonl").write_text("\n".join(metrics) + "\n", encoding="utf-8")
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none"), ("names", "weights")})
        screen.lab.names_slot = "weights"
        screen._show_views()
        await tui.settle(pilot)
        progress = text_of(screen, "#cl-names-progress").splitlines()
        assert "gru bidir" in progress[1] and "bidir" not in progress[0]
        assert "gru bidir balance weights (best)" in text_of(screen, "#cl-scores")
        assert "gru balance none (best)" in text_of(screen, "#cl-scores")
        screen.set_focus(None)
        await pilot.press("v")
        await tui.settle(pilot)
        assert text_of(screen, "#cl-confusion").startswith("gru bidir balance weights: ")


async def test_a_stopped_run_says_how_it_goes_on_and_a_new_start_says_it_is_kept(
    runs, tui, classify_app
) -> None:
    builder = fake_builder(hold=True)
    async with classify_app(command_builder=builder).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tui.settle(pilot)
        screen.set_focus(None)
        await pilot.press("s")
        await wait_for(pilot, screen, lambda: ("names", "none") in screen.lab.views)
        stopped = screen.lab.pairs["names"].shown()["none"].rsplit("/", 1)[-1]
        await pilot.press("x")

        def said(text: str) -> bool:
            return any(text in message for message, _ in pilot.app.notified)

        continues = "c in the Train screen's run list continues it"
        await wait_for(pilot, screen, lambda: said("stopped (checkpoint saved)"))
        assert said(f"{stopped} stopped (checkpoint saved): {continues}")
        await wait_for(pilot, screen, lambda: not screen.training())
        await pilot.press("s")
        await tui.settle(pilot)
        assert said(f"{stopped} (stopped) is still in the runs folder: {continues}")
        await pilot.press("x")
        await wait_for(pilot, screen, lambda: not screen.training())


def stopped_in_epoch_one(saved, name: str) -> Path:
    """A copy of the recorded names run as a run stopped during its first epoch leaves it: its
    `last` checkpoint only, no epoch line, stopped."""
    run = elsewhere(saved, "classify-gru-recorded", name)
    folder = run / "checkpoints"
    meta = json.loads((folder / "best.json").read_text(encoding="utf-8"))
    (folder / "last.json").write_text(json.dumps({**meta, "name": "last"}), encoding="utf-8")
    (folder / "best.json").unlink()
    lines = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines[:10] if json.loads(line)["event"] in ("start", "step")]
    stop = {"event": "status", "time": 1790000000.5, "status": "stopped", "message": "stopped"}
    (run / "metrics.jsonl").write_text("\n".join([*kept, json.dumps(stop)]) + "\n", "utf-8")
    status = json.loads((run / "status.json").read_text(encoding="utf-8"))
    (run / "status.json").write_text(json.dumps({**status, "status": "stopped"}), "utf-8")
    return run


async def test_a_names_run_stopped_in_its_first_epoch_is_read_from_its_last_checkpoint(
    saved, tui, classify_app
) -> None:
    """Its view needed a best checkpoint: the name field read "(needs a run)", the baselines
    and the matrix went, where `rnn-tui classify --checkpoint` uses its last."""
    stopped = stopped_in_epoch_one(saved, "classify-stopped")
    async with classify_app().run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await tick_all(pilot, tui, screen, {("names", "none")})
        screen.query_one("#cl-name").focus()
        await pilot.press(*"Nguyen")
        assert screen.open_run(stopped)

        await wait_for(pilot, screen, lambda: ("names", "none") in screen.lab.views, 10)
        await tui.settle(pilot)
        assert str(screen.query_one("#cl-top", Static).content).startswith("→ ")
        scores = text_of(screen, "#cl-scores")
        assert "majority class" in scores and "char trigram naive Bayes" in scores
        assert "gru balance none (no finished epoch)" in scores and "(best)" not in scores
        assert "no confusion matrix" not in text_of(screen, "#cl-confusion")
        assert not tui.errors(pilot.app)
