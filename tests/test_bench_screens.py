"""bench_ui.py's `prepare` sets the form of each task's own screen, as a person would before
pressing `s`: `bench_live_cost.py --task tag` (and forecast, classify) set the Train form's task
Select to a task it does not offer, and the app died before measuring anything."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench_ui():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_ui_screens", BENCH / "bench_ui.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize(
    ("task", "screen", "form"),
    [
        ("lm", "train", "#form-epochs"),
        ("seq2seq", "train", "#form-epochs"),
        ("forecast", "forecast", "#fc-epochs"),
        ("classify", "classify", "#cl-names-epochs"),
        ("tag", "classify", "#cl-tag-epochs"),
    ],
)
async def test_each_task_s_form_is_set_on_its_own_screen(
    bench_ui, task, screen, form, tui, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    ready = []
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        shown = await tui.open_screen(pilot, screen)
        bench_ui.prepare(shown, task, 24, 7, "gru", lambda: ready.append(True))
        for _ in range(100):
            await pilot.pause(0.05)
            if ready:
                break
        assert ready, "the form was never set"
        assert shown.query_one(form).value == "7"
        if screen != "train":
            assert pilot.app.focused is None  # `s` starts the runs, it is not typed
        if task == "tag":
            assert shown.part == "tag"
        if task == "forecast":
            assert shown.query_one("#fc-length").value == str(bench_ui.FORECAST_LENGTH)
        assert tui.errors(pilot.app) == []
