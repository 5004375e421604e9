"""The Forecast screen with Pilot: the form and its pair counts, starting the two runs (a fake
trainer replaying the recorded forecast runs, checkpoints included), reopening saved runs, the
table and its keys, and one line for every refusal. No training: the figures come from the
recorded runs' checkpoints (a forward pass)."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import Input, Select, SelectionList, Static
from textual.worker import WorkerFailed

from rnn_tui.runs.view_pace import VIEW_EVERY_S, VIEW_SHARE, ViewPace
from rnn_tui.tui.screens.forecast import ForecastScreen
from rnn_tui.tui.widgets.forecast_form import ForecastForm
from rnn_tui.tui.widgets.forecast_results import ForecastResults
from rnn_tui.tui.widgets.plot import LinePlot
from rnn_tui.tui.widgets.plot_ticks import nice_ticks
from rnn_tui.tui.widgets.train_quit import QuitRunDialog

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "recorded-forecast"
LM_RECORDED = FIXTURES / "recorded" / "lm-gru-recorded"
FAKE_TRAINER = FIXTURES / "fake_trainer.py"


@pytest.fixture
def runs(tmp_path, monkeypatch) -> Path:
    """An empty runs folder in a fresh working directory."""
    root = tmp_path / "runs"
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def saved(runs) -> Path:
    """The two recorded forecast runs in the runs folder."""
    shutil.copytree(RECORDED, runs)
    return runs


@pytest.fixture
def forecast_app(tui, monkeypatch):
    """The app opening on the Forecast screen, built with the given options."""
    import rnn_tui.tui.app as app_module

    def make(**screen_options):
        class ForecastFirst(app_module.RnnTuiApp):
            DEFAULT_MODE = "forecast"
            MODES: ClassVar = {
                **app_module.RnnTuiApp.MODES,
                "forecast": lambda: ForecastScreen(**screen_options),
            }

        monkeypatch.setattr(app_module, "RnnTuiApp", ForecastFirst)
        return tui.make_app()

    return make


def fake_builder(*extra: str, calls: list | None = None):
    """Replay the recorded run of the model asked for (mlp or gru)."""

    def build(options, folder):
        if calls is not None:
            calls.append(dict(options))
        source = RECORDED / f"forecast-{options['model']}-recorded"
        return [
            sys.executable, str(FAKE_TRAINER), "--source", str(source),
            "--run-dir", str(folder), "--delay", "0.001", *extra,
        ]  # fmt: skip

    return build


async def wait_for(pilot, screen, condition, timeout: float = 20.0) -> None:
    """Poll the screen until `condition()` holds. A worker that raised is the screen's to
    report (a test's condition says whether it did); waiting on it raises only while it is
    still listed, which depends on timing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen.poll()
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


def counts(screen) -> str:
    return str(screen.query_one("#fc-counts", Static).render())


def table(screen) -> str:
    """The table panel as drawn (its lines joined)."""
    widget = screen.query_one("#fc-table", Static)
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def open_saved(pilot, tui, screen) -> None:
    """Tick both saved runs in the Runs tab and wait for their figures."""
    await pilot.press("o")
    await tui.settle(pilot)
    runs_list = screen.query_one("#run-list", SelectionList)
    runs_list.select_all()
    await wait_for(pilot, screen, lambda: set(screen.views) == {"ar", "latent"})
    await tui.settle(pilot)


# -- the form ------------------------------------------------------------------------------


def test_a_help_starting_with_a_symbol_is_not_capitalised() -> None:
    """τ's help read "Τ: previous values …" (Greek capital tau, a T to the eye)."""
    from rnn_tui.decode.options import GENERATE_OPTIONS, TRANSLATE_OPTIONS
    from rnn_tui.options import by_name
    from rnn_tui.train.forecast_options import FORECAST_OPTIONS
    from rnn_tui.train.options import OPTIONS
    from rnn_tui.tui.widgets.forecast_form import OPTIONS as FORM
    from rnn_tui.tui.widgets.option_input import option_tooltip

    assert option_tooltip(FORM["tau"]).startswith("τ: previous values the AR model reads")
    from rnn_tui.tui.widgets.option_input import help_sentence

    model = by_name(FORECAST_OPTIONS)["model"]
    assert help_sentence(model).startswith("mlp: the AR model")  # a value, named
    assert help_sentence(FORM["latent"]).startswith("The latent")  # a sentence, capitalised
    for option in (*OPTIONS, *GENERATE_OPTIONS, *TRANSLATE_OPTIONS, *FORM.values()):
        changed = help_sentence(option)[:1] != option.help[:1]
        assert not changed or option.help[:1] in "abcdefghijklmnopqrstuvwxyz", option.name


async def test_the_form_counts_the_seeds_pairs_and_follows_pad_drop_and_tau(
    runs, tui, forecast_app
) -> None:
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        form = screen.query_one(ForecastForm)
        assert counts(screen) == (
            "1,000 points → 996 pairs (first τ dropped): 600 train, 396 held out"
        )
        form.set_value("first", "pad")
        await pilot.pause()
        assert (
            counts(screen) == "1,000 points → 1,000 pairs (first τ padded): 600 train, 400 held out"
        )
        form.set_value("first", "drop")
        form.set_value("tau", 999)
        await pilot.pause()
        assert "too short for tau 999" in counts(screen)
        form.set_value("tau", "x")
        await pilot.pause()
        assert counts(screen) == "pairs: (fill in the fields)"


async def test_airline_is_read_in_a_worker_for_its_counts(runs, tui, forecast_app) -> None:
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#fc-series", Select).value = "airline"
        await tui.settle(pilot)
        # 144 months, τ = 4 dropped: 140 pairs, 80% train.
        assert counts(screen) == "144 points → 140 pairs (first τ dropped): 112 train, 28 held out"
        assert not screen.query_one("#fc-row-length").display


async def choose_series_file(pilot, tui, path: Path):
    """Choose File… as the series, type `path` and wait for its counts; the screen."""
    await tui.settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#fc-series", Select).value = "file"
    await pilot.pause()
    screen.query_one("#fc-series-path", Input).value = str(path)
    await tui.settle(pilot)
    return screen


async def test_a_bad_csv_path_is_one_line_under_the_form(runs, tmp_path, tui, forecast_app) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("month,passengers\n1949-01,112\n1949-02,oops\n", encoding="utf-8")
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        screen = await choose_series_file(pilot, tui, bad)
        assert counts(screen) == f"{bad} has no numeric column (its columns: month, passengers)"
        assert screen.query_one("#fc-counts").has_class("-error")
        await pilot.press("escape", "s")
        await pilot.pause()
        assert tui.errors(pilot.app) and tui.errors(pilot.app)[-1].startswith("cannot start:")
        assert not runs.exists()


async def test_a_file_in_another_encoding_is_read_with_the_forms_encoding(
    runs, tmp_path, tui, forecast_app
) -> None:
    # The screen had no encoding field: a UTF-16 CSV was refused with advice to use
    # "--encoding utf-16", a flag of the command line.
    calls: list = []
    wide = tmp_path / "wide.csv"
    wide.write_text("t,y\n" + "".join(f"m{i},{i % 7}\n" for i in range(200)), encoding="utf-16")
    async with forecast_app(command_builder=fake_builder(calls=calls)).run_test(
        size=(120, 40)
    ) as pilot:
        screen = await choose_series_file(pilot, tui, wide)
        assert screen.query_one("#fc-row-encoding").display
        assert counts(screen) == (
            f"{wide} starts with a UTF-16-{sys.byteorder[0].upper()}E byte-order mark: read it "
            "with encoding utf-16"
        )
        screen.query_one(ForecastForm).set_value("encoding", "utf-16")
        await tui.settle(pilot)
        assert counts(screen).startswith("200 points → ")
        await pilot.press("escape", "s")
        await tui.settle(pilot)
        assert calls and all(call["encoding"] == "utf-16" for call in calls)
        screen.query_one("#fc-series", Select).value = "airline"
        await tui.settle(pilot)
        assert not screen.query_one("#fc-row-encoding").display


async def test_enter_in_the_path_field_says_what_the_file_gives(
    runs, tmp_path, tui, forecast_app
) -> None:
    """The counts line under the form can be out of sight (80 × 24): Enter in the path field
    answers in a notification, why the file cannot be read or its points and split."""
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text("month,passengers\n1949-01,112\n1949-02,oops\n", encoding="utf-8")
    good.write_text("t,y\n" + "".join(f"m{i},{i % 7}\n" for i in range(200)), encoding="utf-8")
    async with forecast_app().run_test(size=(80, 24)) as pilot:
        for path, text, severity in [
            (bad, f"series: {bad} has no numeric column (its columns: month, passengers)", "error"),
            (tmp_path, "series: ", "error"),
            (good, "series: 200 points → ", "information"),
        ]:
            screen = await choose_series_file(pilot, tui, path)
            screen.query_one("#fc-series-path", Input).focus()
            await pilot.press("enter")
            await tui.settle(pilot)
            message, said = pilot.app.notified[-1]
            assert message.startswith(text) and said == severity
            assert screen.query_one("#fc-series-path", Input).has_focus
        screen.query_one("#fc-series-path", Input).value = "  "
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.notified[-1] == ("series: type the path of a CSV file", "error")
        assert pilot.app.is_running and not runs.exists()


async def test_a_fifo_series_is_refused_under_the_form_without_reading_it(
    runs, tmp_path, tui, forecast_app
) -> None:
    # Counting the series took a one-shot writer's data; both models then waited 30 s on the
    # empty pipe, and the figures would have read it again after every epoch.
    import errno
    import os

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    async with forecast_app().run_test(size=(120, 40), notifications=True) as pilot:
        screen = await choose_series_file(pilot, tui, pipe)
        refused = (
            f"{pipe} is a pipe (FIFO): this screen reads the series once for each model and "
            "again after every epoch; save it to a file"
        )
        assert counts(screen) == refused and screen.query_one("#fc-counts").has_class("-error")
        # Nobody opened it for reading: a writer that does not wait finds no reader.
        with pytest.raises(OSError) as exc:
            os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        assert exc.value.errno == errno.ENXIO
        await pilot.press("escape", "s")
        await pilot.pause()
        assert tui.errors(pilot.app)[-1] == f"cannot start: {refused}"
        assert not runs.exists()


def test_the_explanation_says_where_the_multi_step_forecast_starts() -> None:
    """It said "from t = 604" for every series; the plot said "after t = 161" for airline."""
    from rnn_tui.tui.explanations import FORECAST

    assert "itself from t = 604" not in FORECAST.concept
    assert "itself after the training part (t = 604 for the seeds' sine" in FORECAST.concept


async def test_the_form_makes_the_trainers_checks_before_starting(
    runs, tmp_path, tui, forecast_app
) -> None:
    """Start never reports "started" for options the trainer then refuses: the counts line
    makes its checks (the horizons, their reach, the transform of the values)."""
    calls: list = []
    huge = tmp_path / "huge.csv"
    huge.write_text("".join(f"{'1e308' if i % 2 else '-1e308'}\n" for i in range(200)))
    async with forecast_app(command_builder=fake_builder(calls=calls)).run_test(
        size=(120, 40)
    ) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        form = screen.query_one(ForecastForm)
        form.set_value("horizons", "1, 4, 16")  # spaces after the commas: the trainer's too
        await pilot.pause()
        assert counts(screen).startswith("1,000 points → 996 pairs")
        form.set_value("log", True)  # the sine goes below 0
        await pilot.pause()
        # The form names its own fields, not the trainer's flags.
        assert counts(screen) == "a log transform needs every value above 0 (turn log off)"
        form.set_value("log", False)
        form.set_value("horizons", "1,700")
        await pilot.pause()
        assert counts(screen).startswith("horizon 700 reaches back before the series' start")
        assert counts(screen).endswith("here): lower horizons")
        form.set_value("horizons", "1, 4, 16")
        screen = await choose_series_file(pilot, tui, huge)
        assert counts(screen).startswith("the series' values are too large to difference or")
        await pilot.press("escape", "s")
        await pilot.pause()
        assert calls == [] and tui.errors(pilot.app)[-1].startswith(
            "cannot start: the series' values are too large"
        )


async def test_an_invalid_field_refuses_to_start_and_names_it(runs, tui, forecast_app) -> None:
    calls: list = []
    async with forecast_app(command_builder=fake_builder(calls=calls)).run_test(
        size=(120, 40)
    ) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.query_one(ForecastForm).set_value("lr", "-1")
        await pilot.pause()
        await pilot.press("escape", "s")
        await pilot.pause()
        assert calls == []
        assert tui.errors(pilot.app) == ["cannot start: lr: a number in (0, 1,000]"] or (
            tui.errors(pilot.app)[-1].startswith("cannot start: lr:")
        )


# -- training the pair ---------------------------------------------------------------------


async def test_start_trains_the_mlp_and_the_latent_model_and_draws_both(
    runs, tui, forecast_app
) -> None:
    calls: list = []
    app = forecast_app(command_builder=fake_builder(calls=calls), poll_hz=4.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await pilot.press("escape", "s")
        await wait_for(
            pilot,
            screen,
            lambda: (
                set(screen.views) == {"ar", "latent"}
                and all(s is not None and not s.active for s in screen.snapshots().values())
            ),
        )
        await wait_for(pilot, screen, lambda: not screen._view_loading)
        # One process per model, the same data options; the MLP gets no recurrent options.
        assert [c["model"] for c in calls] == ["mlp", "gru"]
        assert calls[0]["layers"] is None and calls[0]["num_steps"] is None
        shared = ("task", "series", "tau", "first", "horizons", "epochs", "lr", "hidden")
        assert all(calls[0][k] == calls[1][k] for k in shared)
        assert calls[0]["task"] == "forecast" and calls[0]["series"] == "sine"
        # Saved as two run directories, each with its checkpoint.
        folders = sorted(p.name for p in runs.iterdir())
        assert [f.split("-")[1] for f in folders] == ["gru", "mlp"]
        assert all((runs / f / "checkpoints" / "best.json").is_file() for f in folders)
        text = table(screen)
        assert "mlp" in text and "gru" in text and "naive" in text
        assert "k = 1: gru wins" in text
        progress = str(screen.query_one("#fc-progress", Static).render())
        assert "epoch 5/5" in progress and "finished" in progress


async def test_a_refused_start_is_told_once_for_both_runs(runs, tui, forecast_app) -> None:
    message = "series sine is too short for tau 999"
    app = forecast_app(command_builder=fake_builder("--refuse", message))
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await pilot.press("escape", "s")
        await wait_for(pilot, screen, lambda: not screen.training() and tui.errors(pilot.app))
        errors = tui.errors(pilot.app)
        assert errors.count(f"rnn-tui: error: {message}") == 1, errors
        assert not runs.exists() or not list(runs.iterdir())  # the empty folders are removed


async def test_quitting_while_both_train_asks_and_stop_stops_both(runs, tui, forecast_app) -> None:
    app = forecast_app(command_builder=fake_builder("--hold"))
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await pilot.press("escape", "s")
        await wait_for(pilot, screen, lambda: len(screen.training()) == 2)
        processes = screen.training()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(pilot.app.screen, QuitRunDialog)
        assert pilot.app.screen.count == 2
        await pilot.press("escape")
        await pilot.pause()
        await wait_for(
            pilot, screen, lambda: all(s.status == "running" for s in screen.snapshots().values())
        )
        await pilot.press("x")
        for process in processes:
            assert process.wait(20) is not None
        await wait_for(
            pilot, screen, lambda: all(s.status == "stopped" for s in screen.snapshots().values())
        )


async def test_quitting_asks_once_about_the_runs_of_every_screen(runs, tui, monkeypatch) -> None:
    # The Forecast screen's question was the only one: "stop" stopped its runs and quit, and
    # a run the Train screen had started went on training unnoticed.
    import rnn_tui.tui.app as app_module
    from rnn_tui.tui.screens.train import TrainScreen

    def lm_builder(options, folder):
        return [
            sys.executable, str(FAKE_TRAINER), "--source", str(LM_RECORDED),
            "--run-dir", str(folder), "--hold",
        ]  # fmt: skip

    class BothScreens(app_module.RnnTuiApp):
        DEFAULT_MODE = "forecast"
        MODES: ClassVar = {
            **app_module.RnnTuiApp.MODES,
            "forecast": lambda: ForecastScreen(command_builder=fake_builder("--hold")),
            "train": lambda: TrainScreen(command_builder=lm_builder),
        }

    monkeypatch.setattr(app_module, "RnnTuiApp", BothScreens)
    app = tui.make_app()
    processes = []
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await tui.settle(pilot)
            forecast = pilot.app.screen
            await pilot.press("escape", "s")
            await wait_for(pilot, forecast, lambda: len(forecast.training()) == 2)
            await pilot.app.switch_mode("train")
            await tui.settle(pilot)
            train = pilot.app.screen
            await pilot.press("escape", "s")
            await wait_for(pilot, forecast, lambda: train.process is not None)
            processes = [*forecast.training(), train.process]
            await pilot.press("ctrl+q")
            await pilot.pause()
            dialog = pilot.app.screen
            assert isinstance(dialog, QuitRunDialog) and dialog.count == 3
            assert all(p.path.name in dialog.run_name for p in processes)
            await pilot.press("s")
            await pilot.pause()
        for process in processes:
            assert process.wait(20) is not None  # every one stopped, not only one screen's
    finally:
        for process in processes:
            if process.alive:
                process.terminate()


# -- saved runs ----------------------------------------------------------------------------


async def epoch_seen(pilot, monkeypatch, slots: dict, epoch: int, status: str = "running"):
    """The poll seeing each slot's run (slot → path) at `epoch`: the views due are computed,
    then waited for until drawn (the last plot comes frames after the workers)."""

    def snapshots() -> dict:
        return {
            slot: SimpleNamespace(path=path, epoch=epoch, status=status, active=status == "running")
            for slot, path in slots.items()
        }

    screen = pilot.app.screen
    with monkeypatch.context() as m:
        m.setattr(screen, "snapshots", snapshots)
        screen.load_views()
    await pilot.app.workers.wait_for_complete()
    for _ in range(500):
        if not screen.view_pace.open:
            return
        await pilot.pause(0.01)
    raise AssertionError("the round of views was never drawn")


async def test_a_live_runs_figures_are_computed_at_most_every_two_seconds(
    runs, tui, forecast_app, monkeypatch
) -> None:
    """A run's figures were computed again after every epoch of a run in training (a forward
    pass over the series in a thread, three plots rebuilt on the event loop): forecast epochs
    take a fraction of a second, and two runs held the loop 350–600 ms in every second they
    trained. A live run's view now comes at most every VIEW_EVERY_S; an ended run's at once."""
    computed: list[Path] = []

    def compute_view(path):
        computed.append(path)
        return None  # no checkpoint yet: nothing is drawn

    monkeypatch.setattr(ForecastScreen, "_compute_view", staticmethod(compute_view))
    now = [100.0]
    mlp, gru = runs / "forecast-mlp-live", runs / "forecast-gru-live"
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.view_pace = ViewPace(clock=lambda: now[0], cpu=lambda: 0.0)
        slots = {"ar": mlp, "latent": gru}
        for epoch in range(1, 11):  # ten epochs within a second
            await epoch_seen(pilot, monkeypatch, slots, epoch)
        assert computed == [mlp, gru]  # both runs' views in the same tick, drawn together
        now[0] += VIEW_EVERY_S
        await epoch_seen(pilot, monkeypatch, slots, 11)
        assert len(computed) == 4
        await epoch_seen(pilot, monkeypatch, slots, 11, "finished")  # the end is drawn at once
        assert computed == [mlp, gru] * 3


async def test_costly_figures_of_live_runs_come_less_often(
    runs, tui, forecast_app, monkeypatch
) -> None:
    """Figures costing 1 s of CPU a round (the process's, drawing included) wait 1 / VIEW_SHARE
    seconds before the next round, however many epochs end meanwhile: the screen stays within
    its share of a core beside the runs it follows (view_pace.py)."""
    cpu = [0.0]
    computed: list[Path] = []

    def compute_view(path):
        computed.append(path)
        cpu[0] += 0.5
        return None

    monkeypatch.setattr(ForecastScreen, "_compute_view", staticmethod(compute_view))
    now = [100.0]
    mlp, gru = runs / "forecast-mlp-live", runs / "forecast-gru-live"
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.view_pace = ViewPace(clock=lambda: now[0], cpu=lambda: cpu[0])
        slots = {"ar": mlp, "latent": gru}
        await epoch_seen(pilot, monkeypatch, slots, 1)
        assert computed == [mlp, gru]
        gap = 1.0 / VIEW_SHARE
        for epoch in range(2, 12):  # an epoch every VIEW_EVERY_S, up to just before the gap
            now[0] = 100.0 + min((epoch - 1) * VIEW_EVERY_S, gap - 0.1)
            await epoch_seen(pilot, monkeypatch, slots, epoch)
        assert computed == [mlp, gru]
        now[0] = 100.0 + gap
        await epoch_seen(pilot, monkeypatch, slots, 12)
        assert computed == [mlp, gru] * 2


@pytest.mark.parametrize("latent", ["gru", "none"])
@pytest.mark.parametrize(
    "failure",
    [("--refuse", "the series' values are too large"), ("--fail-after", "1", "--fail", "boom")],
)
async def test_a_failed_start_keeps_the_results_on_screen(
    saved, tui, forecast_app, failure, latent
):
    # They were cleared: "no run: s starts both" and a title left at "multi-step after t = ".
    # With latent model "none" only the MLP starts; the latent slot was emptied all the same.
    app = forecast_app(command_builder=fake_builder(*failure))
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await open_saved(pilot, tui, screen)
        before = table(screen)
        assert "mlp" in before and "gru" in before
        screen.query_one("#fc-latent", Select).value = latent
        await tui.settle(pilot)
        screen.set_focus(None)
        await pilot.press("s")
        await wait_for(pilot, screen, lambda: not screen.training() and tui.errors(pilot.app))
        await wait_for(pilot, screen, lambda: not screen._view_loading)
        assert table(screen) == before
        plots = {p.id: p for p in screen.query(LinePlot)}
        assert plots["fc-plot-multi"].plot_title == "multi-step after t = 604"
        progress = str(screen.query_one("#fc-progress", Static).render())
        assert "no run" not in progress


async def test_saved_runs_reopen_in_their_slots_and_the_keys_steer_the_panels(
    saved, tui, forecast_app
) -> None:
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await open_saved(pilot, tui, screen)
        assert screen.views["ar"].model == "mlp" and screen.views["latent"].model == "gru"
        view = screen.views["ar"]
        # The seeds' split: observed through t = 604, fed on itself after.
        assert view.first_test == 604
        plots = {p.id: p for p in screen.query(LinePlot)}
        assert plots["fc-plot-multi"].plot_title == "multi-step after t = 604"
        # The k-step error grows with k for both models (the seeds' point, measured).
        for v in screen.views.values():
            mse = [v.errors[k][v.model]["mse"] for k in (1, 4, 16, 64)]
            assert mse == sorted(mse)
        assert "held-out MSE" in table(screen)
        # Which epoch the table is of (each run's best), and a progress line in the series'
        # units: "held-out 0.3127", a scaled loss, sat above a table in passengers².
        assert "best checkpoints: mlp epoch 5, gru epoch 5" in " ".join(table(screen).split())
        lines = screen.query_one("#fc-progress", Static)
        progress = [lines.render_line(y).text for y in range(2)]
        assert all("· held-out RMSE 0.2" in line for line in progress), progress
        await pilot.press("escape")  # out of the run list
        screen.set_focus(None)
        await pilot.press("t")
        assert "held-out RMSE" in table(screen)
        assert "unreliable" not in table(screen)
        await pilot.press("t")
        # The sine crosses zero: its percentages divide by values near 0.
        assert "held-out MAPE % per k, best by MAPE" in table(screen)
        assert "MAPE unreliable: the series crosses 0" in table(screen)
        assert "mlp" in plots["fc-plot-k"].plot_title
        await pilot.press("m")
        assert "gru" in plots["fc-plot-k"].plot_title
        # Unticking a run empties its slot.
        screen.query_one("#run-list", SelectionList).deselect(
            str((saved / "forecast-gru-recorded").resolve())
        )
        await tui.settle(pilot)
        assert set(screen.views) == {"ar"}


async def test_the_table_says_which_runs_figures_are_being_computed(
    saved, tui, forecast_app, monkeypatch
) -> None:
    # A million-point series' figures take seconds, and the panels stayed blank meanwhile.
    import threading

    release = threading.Event()
    compute = ForecastScreen._compute_view
    monkeypatch.setattr(
        ForecastScreen, "_compute_view", staticmethod(lambda p: (release.wait(20), compute(p))[1])
    )
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        assert "once a run has a checkpoint" in " ".join(table(screen).split())
        await pilot.press("o")
        await tui.settle(pilot)
        screen.query_one("#run-list", SelectionList).select_all()
        said = "computing the forecasts of forecast-gru-recorded and forecast-mlp-recorded"
        for _ in range(100):
            screen.poll()
            await pilot.pause(0.05)
            if said in " ".join(table(screen).split()):
                break
        else:
            raise AssertionError(table(screen))
        release.set()
        await wait_for(pilot, screen, lambda: set(screen.views) == {"ar", "latent"})
        await tui.settle(pilot)
        assert "held-out MSE" in table(screen) and "computing" not in table(screen)


async def test_a_run_of_another_series_closes_the_other_slots_instead_of_ranking(
    saved, tui, forecast_app, monkeypatch
) -> None:
    """A sine GRU beside an MLP of another series was ranked as if they forecast the same
    points; opening it now closes the other slot's run, with one notice."""
    from dataclasses import replace

    other = saved / "forecast-mlp-other"
    shutil.copytree(saved / "forecast-mlp-recorded", other)
    compute = ForecastScreen._compute_view

    def compute_view(path):
        view = compute(path)
        # Another split of the series: its held-out points are not the GRU's.
        return replace(view, first_test=500) if Path(path).name == other.name else view

    monkeypatch.setattr(ForecastScreen, "_compute_view", staticmethod(compute_view))
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        assert screen.open_run(saved / "forecast-gru-recorded")
        await wait_for(pilot, screen, lambda: set(screen.views) == {"latent"})
        assert screen.open_run(other)
        await wait_for(pilot, screen, lambda: set(screen.views) == {"ar"})
        assert screen.snapshots()["latent"] is None
        told = [m for m, severity in pilot.app.notified if severity == "warning"]
        assert told == [
            "closed forecast-gru-recorded (sine, 1,000 points, held out after t = 604): "
            "forecast-mlp-other forecasts another series or split (sine, 1,000 points, held "
            "out after t = 500), not ranked against it"
        ]
        assert "gru" not in table(screen) and "wins" in table(screen)
        # Runs of one series and split are still ranked side by side.
        assert screen.open_run(saved / "forecast-mlp-recorded")
        assert screen.open_run(saved / "forecast-gru-recorded")
        await wait_for(pilot, screen, lambda: set(screen.views) == {"ar", "latent"})
        assert "gru" in table(screen) and "mlp" in table(screen)


async def test_an_expired_toast_is_painted_over(runs, tui, forecast_app) -> None:
    """A toast whose removal followed a layout that only scrolled stayed drawn over the plots
    until a resize: what the terminal receives no longer holds its text."""
    import pyte
    from textual._compositor import CompositorUpdate
    from textual.widgets._toast import Toast

    app = forecast_app()
    terminal = pyte.Screen(120, 40)
    stream = pyte.Stream(terminal)
    display = app._display

    def replayed(screen, update) -> None:  # what a terminal would show
        if isinstance(update, CompositorUpdate) and not app._batch_count:
            stream.feed(update.render_segments(app.console))
        display(screen, update)

    app._display = replayed
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await tui.settle(pilot)
        # Expired below as its timer expires it, not by the clock: with a timeout of 0.5 s, a
        # loaded machine could take the toast away before it was ever drawn.
        app.notify("forecast-gru-x finished", timeout=600)
        deadline = time.monotonic() + 60
        while not any("forecast-gru-x" in line for line in terminal.display):
            assert time.monotonic() < deadline, "the toast was never drawn"
            await pilot.pause(0.05)
        # What a layout that only scrolls leaves: the map of the widgets to be rebuilt.
        app.screen._compositor._full_map_invalidated = True
        app.screen.query_one(Toast)._expire()  # what its timer calls when it runs out
        await tui.settle(pilot)
        assert not app._notifications
        assert not any("forecast-gru-x" in line for line in terminal.display)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_error_table_fits_its_numbers_beside_the_side_panel(
    saved, tui, forecast_app, monkeypatch, size
) -> None:
    """With a seasonal baseline its cells read "0.04…", its heading "seas…"."""
    from dataclasses import replace

    compute = ForecastScreen._compute_view

    def seasonal(path):  # the recorded runs' sine, as if it had a season of 12
        view = compute(path)
        errors = {k: {**row, "seasonal_naive": row["naive"]} for k, row in view.errors.items()}
        return replace(view, errors=errors, period=12)

    monkeypatch.setattr(ForecastScreen, "_compute_view", staticmethod(seasonal))
    async with forecast_app().run_test(size=size) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await open_saved(pilot, tui, screen)
        await pilot.press("escape")
        screen.set_focus(None)
        if size == (80, 24):
            await pilot.press("v", "v", "v")  # one panel at a time: the table
        for _ in range(3):  # every metric
            await tui.settle(pilot)
            lines = table(screen).splitlines()
            heading = next(line for line in lines if line.split()[:1] == ["k"])
            assert heading.split()[1:] == ["mlp", "gru", "naive", "season", "best"], heading
            rows = [line.split() for line in lines if line.split()[:1] in (["1"], ["64"])]
            assert len(rows) == 2 and all(len(row) == 6 for row in rows), rows
            cells = [cell for row in rows for cell in row[1:5]]
            assert all(float(cell) >= 0 for cell in cells), cells  # whole, not cut
            assert not any("…" in line for line in lines[:8]), lines
            await pilot.press("t")


async def test_with_one_model_m_is_not_offered_and_says_why(saved, tui, forecast_app) -> None:
    # Latent model none: only the MLP's forecast. "m: other" was offered and did nothing.
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await pilot.press("o")
        await tui.settle(pilot)
        mlp = str((saved / "forecast-mlp-recorded").resolve())
        screen.query_one("#run-list", SelectionList).select(mlp)
        await wait_for(pilot, screen, lambda: set(screen.views) == {"ar"})
        await tui.settle(pilot)
        plot = screen.query_one("#fc-plot-k", LinePlot)
        assert plot.plot_title == "k-step ahead, mlp"
        await pilot.press("escape")
        screen.set_focus(None)
        await pilot.press("m")
        await pilot.pause()
        assert plot.plot_title == "k-step ahead, mlp"
        assert pilot.app.notified[-1] == (
            "only mlp has a forecast: no other model's k-step predictions",
            "information",
        )


async def test_a_language_model_run_is_refused_with_one_line(saved, tui, forecast_app) -> None:
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await pilot.press("o")
        await pilot.pause()
        screen.query_one("#run-path", Input).focus()  # o focuses the run list
        screen.query_one("#run-path", Input).value = str(LM_RECORDED)
        await pilot.press("enter")
        await tui.settle(pilot)
        assert tui.errors(pilot.app) == [
            "lm-gru-recorded is a run of task lm, not forecast: open it on the Train screen"
        ]
        screen.query_one("#run-path", Input).value = str(saved / "nowhere")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert len(tui.errors(pilot.app)) == 2
        assert screen.views == {}
        # With nothing shown, the result keys say so (they changed a hidden view silently).
        screen.set_focus(None)
        for key in "tmv":
            await pilot.press(key)
        await pilot.pause()
        said = [n.message for n in pilot.app.shown if n.severity == "information"]
        assert said[-3:] == ["no forecast yet: s trains the two models, o opens a saved run"] * 3


async def test_a_narrow_terminal_shows_one_panel_at_a_time(saved, tui, forecast_app) -> None:
    async with forecast_app().run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await open_saved(pilot, tui, screen)
        await pilot.press("escape")
        screen.query_one("#fc-side").hide()
        await pilot.pause()
        results = screen.query_one(ForecastResults)
        shown = [p for p in ("fc-plot-one", "fc-plot-multi", "fc-plot-k", "fc-table")
                 if results.query_one(f"#{p}").display]  # fmt: skip
        assert shown == ["fc-plot-one"]
        await pilot.press("v", "v", "v")
        assert results.query_one("#fc-table").display
        assert not results.query_one("#fc-plot-one").display


# -- a forecast run on the Train screen ---------------------------------------------------


def test_the_train_screens_loss_plot_names_the_loss_of_the_runs_shown() -> None:
    from rnn_tui.tui.widgets.train_curves import loss_name

    assert loss_name(["forecast"]) == "squared error"
    assert loss_name(["lm", "seq2seq"]) == "cross-entropy"
    assert loss_name(["lm", "forecast"]) == ""
    assert loss_name([]) == "cross-entropy"


async def test_a_forecast_run_opened_on_the_train_screen_has_a_squared_error_loss(
    saved, tui
) -> None:
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        screen.open_run(saved / "forecast-mlp-recorded")
        await tui.settle(pilot)
        screen.poll()
        await pilot.pause()
        plot = screen.query_one("#plot-loss", LinePlot)
        assert plot.plot_title == "loss (squared error)"


# -- round time ticks ----------------------------------------------------------------------


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-3, 1e6, allow_nan=False),
    st.integers(2, 10),
)
def test_nice_ticks_are_round_evenly_spaced_and_inside_the_range(lo, width, most) -> None:
    hi = lo + width
    ticks = nice_ticks(lo, hi, most)
    assert 1 <= len(ticks) <= most
    assert all(lo - 1e-9 * abs(hi) <= t <= hi + 1e-9 * abs(hi) for t in ticks)
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) <= 1


def test_a_range_no_round_step_fits_gets_a_finer_one_not_its_raw_ends() -> None:
    # The k-step plot at 80 × 24 labelled its axis 0.930763 and -0.940822.
    assert nice_ticks(-0.940822, 0.930763, most=2) == [-0.5, 0.5]
    assert nice_ticks(-0.940822, 0.930763, most=3) == [-0.5, 0, 0.5]
    assert nice_ticks(3, 7, most=2) == [4, 6]


def test_nice_ticks_of_the_seeds_time_axis() -> None:
    assert nice_ticks(1, 1000) == [200, 400, 600, 800, 1000]
    assert nice_ticks(1, 144) == [25, 50, 75, 100, 125]


async def test_latent_none_trains_the_mlp_alone(runs, tui, forecast_app) -> None:
    calls: list = []
    app = forecast_app(command_builder=fake_builder(calls=calls))
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.query_one(ForecastForm).set_value("latent", "none")
        await pilot.pause()
        assert not screen.query_one("#fc-row-num_steps").display
        await pilot.press("escape", "s")
        await wait_for(pilot, screen, lambda: "ar" in screen.views and not screen.training())
        assert [c["model"] for c in calls] == ["mlp"]
        assert screen.snapshots()["latent"] is None
        assert "gru" not in table(screen) and "mlp" in table(screen)


async def test_a_run_whose_series_changed_is_one_line_and_the_app_stays(
    saved, tui, forecast_app
) -> None:
    best = saved / "forecast-mlp-recorded" / "checkpoints" / "best.json"
    best.write_text(best.read_text().replace('"fingerprint":"', '"fingerprint":"0'))
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        assert screen.open_run(saved / "forecast-mlp-recorded")
        await wait_for(pilot, screen, lambda: bool(tui.errors(pilot.app)))
        assert tui.errors(pilot.app) == [
            "cannot forecast: the series sine changed since this model was trained (the file "
            "changed, or this version of rnn-tui reads its header or columns differently)"
        ]
        assert screen.views == {}


def fake_view(model: str, errors: dict, values, period: int | None = 12):
    """What error_table and verdict read of a ForecastView."""
    from types import SimpleNamespace

    import numpy as np

    from rnn_tui.data.series_files import PointNumbers, Series

    values = np.asarray(values, dtype=float)
    series = Series("s", "v", values, PointNumbers(len(values)))
    return SimpleNamespace(model=model, errors=errors, period=period, series=series, first_test=1)


def table_text(renderable, width: int = 100) -> str:
    from rich.console import Console

    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_best_follows_the_metric_shown_and_the_season_is_named() -> None:
    from rnn_tui.tui.widgets.forecast_table import error_table, verdict

    def e(rmse, mape):
        return {"mse": rmse**2, "rmse": rmse, "mape": mape}

    errors = {1: {"mlp": e(1.0, 50.0), "naive": e(2.0, 10.0), "seasonal_naive": e(3.0, 30.0)}}
    views = {"ar": fake_view("mlp", errors, [1.0, 2.0, 3.0])}
    # By RMSE the MLP wins; by MAPE the naive forecast (the column ranked by RMSE before).
    assert table_text(error_table(views, "rmse")).splitlines()[1].split()[-1] == "mlp"
    row = table_text(error_table(views, "mape")).splitlines()[1].split()
    assert row[-1] == "naive" and row[:4] == ["1", "50.0", "10.0", "30.0"]
    assert "season m=12" in table_text(error_table(views, "mse"))
    # Every figure in the metric the winner was chosen by (RMSE figures beside a MAPE winner
    # read as percentages).
    said = "k = 1: naive wins by MAPE — 10.0% (vs seasonal naive (m=12) 30.0%, mlp 50.0%)"
    assert verdict(views, "mape").plain.splitlines()[0] == said
    said = "k = 1: mlp wins by RMSE — 1 (vs naive 2, seasonal naive (m=12) 3)"
    assert verdict(views, "rmse").plain.splitlines()[0] == said
    said = "k = 1: mlp wins by MSE — 1 (vs naive 4, seasonal naive (m=12) 9)"
    assert verdict(views, "mse").plain.splitlines()[0] == said
    del errors[1]["seasonal_naive"]
    views["ar"].period = None
    assert "no season found: no seasonal-naive baseline" in verdict(views).plain


def test_the_mape_hint_is_for_series_that_cross_zero_only() -> None:
    from rnn_tui.tui.widgets.forecast_table import crosses_zero

    assert crosses_zero({"ar": fake_view("mlp", {}, [-1.0, 2.0])})
    assert crosses_zero({"ar": fake_view("mlp", {}, [0.0, 2.0])})
    assert not crosses_zero({"ar": fake_view("mlp", {}, [112.0, 118.0])})


async def test_open_run_focuses_the_saved_runs(saved, tui, forecast_app) -> None:
    """o focused the path field, so r and ↓ were typed into it instead of acting on the list."""
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await pilot.press("o")
        run_list = screen.query_one("#run-list", SelectionList)
        # The list is read by a thread worker.
        await tui.until(pilot, lambda: run_list.option_count and run_list.has_focus, 60)
        await pilot.press("r", "down")
        await pilot.pause()
        assert screen.query_one("#run-path", Input).value == ""


async def test_open_run_highlights_a_run_shown(saved, tui, forecast_app) -> None:
    """As on the Train screen: o puts the list's highlight on a run the slots show, not on
    the one last used in the list."""
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await open_saved(pilot, tui, screen)
        run_list = screen.query_one("#run-list", SelectionList)
        left = run_list.get_option_at_index(run_list.highlighted).value
        run_list.deselect(left)
        await wait_for(pilot, screen, lambda: len(screen.views) == 1)
        screen.set_focus(None)
        await pilot.press("o")
        await tui.settle(pilot)
        shown = list(screen.pair.shown().values())
        assert left not in shown and len(shown) == 1
        assert run_list.get_option_at_index(run_list.highlighted).value == shown[0]


async def test_the_three_figures_are_handed_their_series_one_frame_apart(
    saved, tui, forecast_app
) -> None:
    # plotext builds each figure in ~40 ms on the event loop; handed all three at once, they
    # were built in one frame and a key pressed then waited 120 ms.
    async with forecast_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        await open_saved(pilot, tui, screen)
        results = screen.query_one(ForecastResults)
        plots = [
            screen.query_one(f"#{name}", LinePlot)
            for name in ("fc-plot-one", "fc-plot-multi", "fc-plot-k")
        ]
        results.show_views({})
        await tui.until(pilot, lambda: not any(plot.num_points for plot in plots))
        results.show_views(dict(screen.views))
        assert [bool(plot.num_points) for plot in plots] == [True, False, False]
        await tui.until(pilot, lambda: all(plot.num_points for plot in plots))
        # A newer draw supersedes what is left of an older one: the empty one wins here.
        results.show_views(dict(screen.views))
        results.show_views({})
        await tui.settle(pilot)
        await tui.until(pilot, lambda: not any(plot.num_points for plot in plots))
        for _ in range(5):
            await pilot.pause()
        assert not any(plot.num_points for plot in plots)
