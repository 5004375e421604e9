"""The Train screen, driven with Pilot over recorded run directories (tests/fixtures/recorded) and a
fake trainer that replays them (tests/fixtures/fake_trainer.py); one quick real `rnn-tui train`.

Snapshots: regenerate with `pytest tests/test_tui_train.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest
from textual.geometry import Region

from rnn_tui.runs.process import TrainProcess, last_line, rss_mb, train_command
from rnn_tui.tui.screens.train import TrainScreen
from rnn_tui.tui.widgets.plot import LinePlot
from rnn_tui.tui.widgets.train_curves import CurvePanel
from rnn_tui.tui.widgets.train_quit import QuitRunDialog

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "recorded"
FAKE_TRAINER = FIXTURES / "fake_trainer.py"
T0 = 1_790_000_000


@pytest.fixture
def runs(tmp_path, monkeypatch) -> Path:
    """The recorded runs copied to ./runs of a fresh working directory, newest: the LSTM."""
    root = tmp_path / "runs"
    shutil.copytree(RECORDED, root)
    for i, name in enumerate(["lm-rnn-running", "lm-gru-recorded", "lm-lstm-recorded"]):
        for path in (root / name).iterdir():
            os.utime(path, (T0 + 100 * i, T0 + 100 * i))
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def train_app(tui, monkeypatch):
    """Make the app as the CLI does, opening on its Train screen built with the given options
    (command builder, clock, ...); the Dataset screen is never built (nor its corpus loaded)."""
    import rnn_tui.tui.app as app_module

    def make(**screen_options):
        class TrainFirst(app_module.RnnTuiApp):
            DEFAULT_MODE = "train"
            SUB_TITLE = "Train"
            MODES: ClassVar = {
                **app_module.RnnTuiApp.MODES,
                "train": lambda: TrainScreen(**screen_options),
            }

        monkeypatch.setattr(app_module, "RnnTuiApp", TrainFirst)
        return tui.make_app()

    return make


async def show_train(pilot, tui) -> TrainScreen:
    await tui.settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TrainScreen)
    return screen


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_path(pilot, tui, path: Path | str) -> None:
    await pilot.press("o")
    await pilot.pause()
    screen = pilot.app.screen
    screen.query_one("#run-path").focus()  # o focuses the run list
    screen.query_one("#run-path").value = str(path)
    await pilot.press("enter")
    await tui.settle(pilot)


def fake_builder(*extra: str, source: str = "lm-gru-recorded", calls: list | None = None):
    def build(options, folder):
        if calls is not None:
            calls.append(dict(options))
        return [
            sys.executable, str(FAKE_TRAINER), "--source", str(RECORDED / source),
            "--run-dir", str(folder), *extra,
        ]  # fmt: skip

    return build


async def wait_for(pilot, screen, condition, timeout: float = 10.0) -> None:
    """Poll the screen (as its timer does) until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen.poll()
        await pilot.pause()
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the run")


def stop_child(process: TrainProcess | None) -> None:
    if process is not None and process.alive:
        process.terminate()
        if process.wait(10) is None:
            process.kill()
            process.wait(5)


# -- following recorded runs -----------------------------------------------------------------


async def test_a_diverged_run_opens_with_its_figures_in_exponents(runs, tui, train_app) -> None:
    """Its held-out perplexity of 3.8e295, padded on the plot's log axis, overflowed a tick
    (10.0**309) and the app exited; the header wrote it with its 296 digits."""
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, FIXTURES / "diverged" / "lm-lstm-diverged")
        assert app.is_running and "failed" in text(screen, "#run-title")
        # Why, where it is seen once the notification has faded (only at the title's end,
        # which its ellipsis cut).
        box = screen.query_one("#run-metrics")
        shown = " ".join(box.render_line(y).text for y in range(box.size.height))
        assert "loss diverged to 1.01e+03 in epoch 2" in shown, shown
        metrics = text(screen, "#run-metrics")
        figures = metrics.splitlines()[-1]
        assert "5.589e+24" in figures and "3.803e+295" in figures and len(figures) < 200
        for key in ("v", "v", "v"):  # every plot of the run drawn
            await pilot.press(key)
            await tui.settle(pilot)
        assert app.is_running


async def test_open_a_finished_run(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        assert "no run yet" in text(screen, "#run-title")
        await open_path(pilot, tui, runs / "lm-lstm-recorded")
        title = text(screen, "#run-title")
        assert "finished" in title and "lm-lstm-recorded" in title and "lstm 256" in title
        assert text(screen, "#run-eta").startswith("epoch 12/12 ·") and "done" in text(
            screen, "#run-eta"
        )
        metrics = text(screen, "#run-metrics")
        assert "train ppl 4.643" in metrics and "val 5.162" in metrics
        assert "trigram 7.41" in metrics and "mem 330 MB" in metrics
        samples = text(screen, "#samples").splitlines()
        assert samples[-1].startswith("e12 time traveller for so it will")
        ppl = screen.query_one("#plot-ppl", LinePlot)
        labels = [label for label, *_ in ppl._series]
        assert labels == ["train", "val", "trigram 7.41"]
        assert 0 < ppl.num_points <= 2 * ppl.size.width * 3
        assert not tui.errors(app)
        # The run list knows it and ticks it.
        assert screen.selected == [str(runs / "lm-lstm-recorded")]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_whole_step_path_shows(runs, tui, train_app, size) -> None:
    """The device and step path (the longest: data-parallel) wrap on the numbers' line, whole at
    both sizes: at the end of the one-line title they were cut off at 120 columns."""
    path = "eager · fp32 · DDP × 2 (gloo)"
    with (runs / "lm-lstm-recorded" / "metrics.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"event": "path", "path": path, "processes": 2}) + "\n")
    app = train_app()
    async with app.run_test(size=size) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, runs / "lm-lstm-recorded")
        await pilot.press("f")  # the side panel hidden, as it is on a small terminal
        await tui.settle(pilot)
        metrics = screen.query_one("#run-metrics")
        shown = metrics.render_lines(Region(0, 0, *metrics.content_size))
        drawn = "".join(strip.text for strip in shown)
        assert "".join(f"cpu {path}".split()) in "".join(drawn.split())
        assert "fp32" not in text(screen, "#run-title")


async def test_the_first_read_happens_in_a_worker_and_help_lists_the_keys(runs, tui, train_app):
    from rnn_tui.tui.screens.help import HelpScreen

    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        key = str(runs / "lm-gru-recorded")
        assert screen.open_run(key)
        assert key in screen._loading  # read off the UI thread; drawn when it is done
        # Meanwhile the header says so (a long run's file takes seconds), not "no run yet".
        assert text(screen, "#run-title") == "reading lm-gru-recorded…"
        await tui.settle(pilot)
        assert not screen._loading and "lm-gru-recorded" in text(screen, "#run-title")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.rows)
        assert keys["s"].startswith("Start") and keys["x"].startswith("Stop")
        assert keys["p"].startswith("Pause/Resume") and keys["2 / f3"].startswith("Train")
        assert "perplexity" in app.screen.query_one("#help-guide").source


async def test_overlay_two_runs(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, runs / "lm-lstm-recorded")
        run_list = screen.query_one("#run-list")
        run_list.select(str(runs / "lm-gru-recorded"))
        await tui.settle(pilot)
        assert screen.selected == [str(runs / "lm-lstm-recorded"), str(runs / "lm-gru-recorded")]
        colors = [screen.run_colors[k] for k in screen.selected]
        assert len(set(colors)) == 2
        ppl = screen.query_one("#plot-ppl", LinePlot)
        assert [(label, color) for label, *_, color in ppl._series] == [
            ("lstm val", colors[0]),
            ("gru val", colors[1]),
            ("trigram 7.41", "gray"),
        ]
        # The header follows the run ticked last.
        assert "lm-gru-recorded" in text(screen, "#run-title")
        run_list.deselect(str(runs / "lm-gru-recorded"))
        await tui.settle(pilot)
        assert screen.selected == [str(runs / "lm-lstm-recorded")]
        assert "lm-lstm-recorded" in text(screen, "#run-title")


async def test_a_growing_run_updates_the_screen(runs, tui, train_app, tmp_path) -> None:
    live = tmp_path / "elsewhere" / "live"
    live.mkdir(parents=True)
    shutil.copy(RECORDED / "lm-lstm-recorded" / "config.json", live)
    lines = (RECORDED / "lm-lstm-recorded" / "metrics.jsonl").read_text().splitlines(True)
    (live / "metrics.jsonl").write_text("".join(lines[:70]))
    (live / "status.json").write_text(json.dumps({"status": "running"}))
    app = train_app(clock=lambda: T0 + 100.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, live)
        # 3 epochs done, 4 minibatches into the 4th
        assert text(screen, "#run-eta").startswith("epoch 4/12 · batch 4/40")
        assert "ETA 4m" in text(screen, "#run-eta")
        panel = screen.query_one(CurvePanel)
        replots = []
        original_show = panel.show
        panel.show = lambda curves: replots.append(original_show(curves)) or replots[-1]
        screen.poll()
        await pilot.pause()
        assert replots and not any(replots)  # nothing new: no replot
        with (live / "metrics.jsonl").open("a") as f:
            f.write("".join(lines[70:150]))
            f.write(lines[150][:25])  # the trainer is mid-line
        before = len(replots)
        screen.poll()
        await pilot.pause()
        assert replots[before] is True
        assert text(screen, "#run-eta").startswith("epoch 7/12 · batch 32/40")  # 6 done
        (live / "status.json").write_text(json.dumps({"status": "finished"}))
        with (live / "metrics.jsonl").open("a") as f:
            f.write(lines[150][25:] + "".join(lines[151:]))
        screen.poll()
        await pilot.pause()
        assert text(screen, "#run-eta").startswith("epoch 12/12")
        assert any("live finished" in m for m, _ in app.notified)
        # Opened by path from outside ./runs: it is listed too.
        assert str(live) in [o.value for o in screen.query_one("#run-list")._options]


async def test_opening_a_bad_path_notifies_and_keeps_the_screen(
    runs, tui, train_app, tmp_path
) -> None:
    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, runs / "lm-lstm-recorded")
        await open_path(pilot, tui, tmp_path / "no-such-run")
        await open_path(pilot, tui, tmp_path)
        errors = tui.errors(app)
        assert len(errors) == 2
        assert errors[0].endswith("no-such-run does not exist")
        assert "is not a run directory" in errors[1]
        assert app.screen is screen
        assert "lm-lstm-recorded" in text(screen, "#run-title")  # what was shown stays


async def test_a_failed_run_shows_its_message(runs, tui, train_app, tmp_path) -> None:
    failed = tmp_path / "failed-run"
    shutil.copytree(runs / "lm-gru-recorded", failed)
    message = "loss became nan in epoch 3: try a smaller --lr or --clip"
    (failed / "status.json").write_text(json.dumps({"status": "failed", "message": message}))
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, failed)
        # The trainer's advice names its flags; here it names the form's fields.
        shown = "loss became nan in epoch 3: try a smaller lr or clip θ"
        assert tui.errors(app) == [f"failed-run failed: {shown}"]
        assert shown in text(screen, "#run-title")


async def test_narrow_terminal_shows_one_plot_at_a_time(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, runs / "lm-lstm-recorded")
        await pilot.press("f")
        await pilot.pause()
        assert not screen.query_one("#train-side").display
        # The focus moves to a control still shown that leaves the screen's keys (v) working.
        assert screen.focused in screen.focus_chain
        assert not screen.focused.check_consume_key("v", "v")
        panel = screen.query_one(CurvePanel)
        assert panel.single
        shown = [p.id for p in panel.query(LinePlot) if p.display]
        assert shown == ["plot-ppl"]
        await pilot.press("v")
        await pilot.pause()
        assert [p.id for p in panel.query(LinePlot) if p.display] == ["plot-loss"]


# -- the form ----------------------------------------------------------------------------------


async def test_a_bad_value_refuses_start(runs, tui, train_app) -> None:
    calls: list = []
    app = train_app(command_builder=fake_builder(calls=calls))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one("#train-form")
        form.set_value("lr", "0")
        form.set_value("hidden", "many")
        await pilot.pause()
        assert form.control("lr").has_class("-invalid")
        await pilot.press("s")
        await pilot.pause()
        assert tui.errors(app) == [
            "cannot start: hidden: an integer in [1, 16,384]; lr: a number in (0, 1e+06]",
        ]
        assert calls == []
        assert sorted(p.name for p in runs.iterdir()) == sorted(p.name for p in RECORDED.iterdir())


async def test_many_bad_values_are_one_readable_notification(runs, tui, train_app) -> None:
    # Every range in full ran past the bottom of an 80 x 24 screen: the last ones were lost.
    app = train_app(command_builder=fake_builder(calls=[]))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one("#train-form")
        for name in ("hidden", "lr", "batch_size", "num_steps", "epochs"):
            form.set_value(name, "z")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert tui.errors(app) == [
            "cannot start: hidden: an integer in [1, 16,384]; batch: an integer in "
            "[1, 65,536]; and 3 more: num_steps, lr, epochs",
        ]
        toast = app.screen.query_one("Toast")
        assert toast.region.bottom <= 24 - 1  # above the footer, whole


async def test_scratch_models_fix_the_concise_only_options(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one("#train-form")
        form.set_value("layers", "3")
        form.set_value("model", "rnn-scratch")
        await pilot.pause()
        options, problems = form.options()
        assert problems == []
        assert options["model"] == "rnn-scratch"
        assert not {"layers", "bidirectional", "embed", "dropout"} & set(options)
        assert form.control("layers").disabled and form.control("layers").value == "1"
        form.set_value("model", "lstm")
        form.set_value("embed", "")
        form.set_value("max_tokens", "10000")
        await pilot.pause()
        options, problems = form.options()
        assert problems == [] and options["embed"] is None and options["max_tokens"] == 10000


def test_train_command_spells_the_cli_options(tmp_path) -> None:
    argv = train_command(
        {"model": "gru", "batch_size": 8, "bidirectional": True, "embed": None, "lr": 0.5,
         "dropout": False},
        tmp_path,
    )  # fmt: skip
    assert argv[:4] == [sys.executable, "-m", "rnn_tui", "train"]
    assert argv[4:] == [
        "--model=gru", "--batch-size=8", "--bidirectional", "--lr=0.5", f"--run-dir={tmp_path}",
    ]  # fmt: skip
    # A file whose name starts with "-" was read by the trainer as an option ("--corpus:
    # expected one argument") after the form had accepted it.
    from rnn_tui.cli.parser import build_parser

    argv = train_command({"corpus": "-c.txt", "prefix": "--x"}, tmp_path / "-run")
    args = build_parser().parse_args(argv[3:])
    assert (args.corpus, args.prefix, args.run_dir) == ("-c.txt", "--x", str(tmp_path / "-run"))


def test_process_helpers(tmp_path) -> None:
    log = tmp_path / "train.log"
    log.write_text("epoch 1/2\rbar 50%\rbar 100%\nrnn-tui: error: bad option\n\n")
    assert last_line(log) == "rnn-tui: error: bad option"
    assert last_line(tmp_path / "missing.log") == ""
    assert rss_mb(os.getpid()) > 1


# -- starting and steering a trainer -----------------------------------------------------------


async def test_start_pause_resume_stop_with_a_fake_trainer(runs, tui, train_app) -> None:
    calls: list = []
    app = train_app(command_builder=fake_builder("--hold", "--delay", "0.002", calls=calls))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        screen.query_one("#train-form").set_value("lr", "0.5")
        screen.query_one("#train-form").set_value("precision", "bf16")
        # How the corpus is read: raw keeps a text in another script, as on the Dataset screen.
        screen.query_one("#train-form").set_value("mode", "raw")
        screen.query_one("#train-form").set_value("min_freq", "3")
        screen.query_one("#train-form").set_value("encoding", "latin-1")
        await pilot.pause()
        await pilot.press("s")
        process = screen.process
        try:
            assert process is not None and process.alive
            assert calls[0]["lr"] == 0.5 and calls[0]["model"] == "lstm"
            assert calls[0]["precision"] == "bf16"  # the form offers bf16 autocast
            assert (calls[0]["mode"], calls[0]["min_freq"], calls[0]["encoding"]) == (
                "raw",
                3,
                "latin-1",
            )
            assert process.path.parent == runs and process.path.name.startswith("lm-lstm-")
            assert os.getsid(process.pid) == process.pid  # its own session: survives the app
            mine = os.getpriority(os.PRIO_PROCESS, 0)
            assert os.getpriority(os.PRIO_PROCESS, process.pid) == min(19, mine + 5)
            follower = screen.followers[str(process.path)]
            await wait_for(pilot, screen, lambda: follower.status == "running")
            await pilot.press("p")
            assert json.loads((process.path / "control.json").read_text())["command"] == "pause"
            await wait_for(pilot, screen, lambda: follower.status == "paused")
            assert str(screen.query_one("#pause").label) == "Resume"
            await pilot.press("p")
            await wait_for(pilot, screen, lambda: follower.status == "running")
            await wait_for(pilot, screen, lambda: follower.epoch == 12)
            assert screen.memory_mb(str(process.path)) > 1  # the child's resident memory
            await pilot.press("x")
            assert json.loads((process.path / "control.json").read_text())["command"] == "stop"
            await wait_for(pilot, screen, lambda: screen.process is None)
            assert process.poll() == 0 and follower.status == "stopped"
            assert "fake trainer: started" in (process.path / "train.log").read_text()
            messages = [m for m, _ in app.notified]
            assert any(m.endswith("paused") for m in messages)
            assert any(m.endswith("resumed") for m in messages)
            assert any("stopped (checkpoint saved)" in m for m in messages)
            assert not tui.errors(app)
        finally:
            stop_child(process)


async def test_a_refused_start_reports_the_trainers_message(runs, tui, train_app) -> None:
    message = "num_steps 35 needs at least 36 tokens"
    app = train_app(command_builder=fake_builder("--refuse", message))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await pilot.press("s")
        await wait_for(pilot, screen, lambda: screen.process is None and tui.errors(app))
        assert tui.errors(app) == [f"rnn-tui: error: {message}"]
        # Nothing but its log was written: the new run folder is removed again.
        assert sorted(p.name for p in runs.iterdir()) == sorted(p.name for p in RECORDED.iterdir())
        assert screen.primary is None and "no run yet" in text(screen, "#run-title")


async def test_a_refused_start_shows_again_the_run_shown_before(runs, tui, train_app) -> None:
    # It showed "no run yet": the run on screen before the start was no longer ticked.
    app = train_app(command_builder=fake_builder("--refuse", "corpus file pipe: no data"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, runs / "lm-lstm-recorded")
        assert "lm-lstm-recorded" in text(screen, "#run-title")
        await pilot.press("escape", "s")
        await wait_for(pilot, screen, lambda: screen.process is None and tui.errors(app))
        assert tui.errors(app) == ["rnn-tui: error: corpus file pipe: no data"]
        await tui.settle(pilot)
        assert "lm-lstm-recorded" in text(screen, "#run-title")
        assert screen.primary is not None and screen.primary.endswith("lm-lstm-recorded")


async def test_a_run_that_fails_reports_its_message(runs, tui, train_app) -> None:
    app = train_app(command_builder=fake_builder("--fail-after", "30"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await pilot.press("s")
        process = screen.process
        try:
            await wait_for(pilot, screen, lambda: screen.process is None)
            errors = tui.errors(app)
            assert len(errors) == 1 and "failed: loss became nan in epoch 2" in errors[0]
            assert "failed" in text(screen, "#run-title")
        finally:
            stop_child(process)


async def test_quit_asks_about_a_running_run(runs, tui, train_app) -> None:
    app = train_app(command_builder=fake_builder("--hold"))
    process = None
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await show_train(pilot, tui)
            await pilot.press("s")
            process = screen.process
            follower = screen.followers[str(process.path)]
            await wait_for(pilot, screen, lambda: follower.status == "running")
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert isinstance(app.screen, QuitRunDialog)
            await pilot.press("escape")  # Cancel
            await pilot.pause()
            assert app.screen is screen and process.alive
            await pilot.press("ctrl+q")
            await pilot.pause()
            await pilot.click("#quit-stop")
            await pilot.pause()
        assert app.return_code == 0
        assert process.wait(10) == 0  # stopped by request, after the app had gone
        assert json.loads((process.path / "status.json").read_text())["status"] == "stopped"
    finally:
        stop_child(process)


async def test_quit_can_leave_the_run_running(runs, tui, train_app) -> None:
    app = train_app(command_builder=fake_builder("--hold"))
    process = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await show_train(pilot, tui)
            await pilot.press("s")
            process = screen.process
            await wait_for(pilot, screen, lambda: screen.followers[str(process.path)].epoch > 0)
            await pilot.press("ctrl+q")
            await pilot.pause()
            await pilot.press("l")
            await pilot.pause()
        time.sleep(0.2)
        assert process.alive
    finally:
        stop_child(process)


async def test_quit_without_a_run_just_quits(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_train(pilot, tui)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_real_tiny_run_from_the_form(runs, tui, train_app) -> None:
    """`rnn-tui train` for real: a 16-unit GRU on 2,000 characters for 2 epochs (≈ 8 s)."""
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one("#train-form")
        for name, value in [("model", "gru"), ("hidden", 16), ("max_tokens", 2000),
                            ("epochs", 2), ("batch_size", 8), ("num_steps", 20)]:  # fmt: skip
            form.set_value(name, value)
        await pilot.pause()
        await pilot.press("s")
        process = screen.process
        try:
            await wait_for(pilot, screen, lambda: screen.process is None, timeout=60)
            assert process.poll() == 0, process.log_message()
            follower = screen.followers[str(process.path)]
            assert follower.status == "finished" and follower.epoch == 2
            assert text(screen, "#run-eta").startswith("epoch 2/2")
            assert "gru 16" in text(screen, "#run-title") and "(cpu eager" in text(
                screen, "#run-metrics"
            )
            assert not tui.errors(app)
        finally:
            stop_child(process)


# -- snapshots ---------------------------------------------------------------------------------


def _open_recorded(tui, hide_side: bool):
    async def run_before(pilot) -> None:
        screen = await show_train(pilot, tui)
        screen.open_run(Path("runs") / "lm-lstm-recorded")
        await tui.settle(pilot)
        screen.query_one("#train-side").active = "tab-runs"
        await tui.settle(pilot)
        if hide_side:
            await pilot.press("f")
        else:
            screen.query_one("#run-list").focus()
        await tui.settle(pilot)

    return run_before


def test_snapshot_finished_run_80x24(runs, tui, train_app, snap_compare) -> None:
    app = train_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_recorded(tui, True))


def test_snapshot_finished_run_120x40(runs, tui, train_app, snap_compare) -> None:
    app = train_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_open_recorded(tui, False))


def test_a_paused_run_shows_no_eta_counting():
    """While paused nothing counts down: the header showed the ETA it had when paused."""
    from types import SimpleNamespace

    from rnn_tui.tui.widgets.train_header import progress_text

    snap = SimpleNamespace(
        epochs=4, epoch=1, batch=0, batches=8, elapsed=6.0, eta=10.0, status="running",
        active=True, first_step_s=None, step_path=None,
    )  # fmt: skip
    assert progress_text(snap) == "epoch 1/4 · 6s elapsed · ETA 10s"
    assert progress_text(SimpleNamespace(**{**vars(snap), "status": "paused"})) == (
        "epoch 1/4 · 6s elapsed"
    )


async def test_the_title_keeps_the_run_name_beside_the_side_panel(runs, tui, train_app) -> None:
    # At 80 columns the title wrapped after "✓ finished": the run's name was not on screen.
    name = "lm-lstm-bidir-20261203-183412"
    shutil.copytree(runs / "lm-lstm-recorded", runs / name)
    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        screen.open_run(Path("runs") / name)
        await tui.settle(pilot)
        assert screen.query_one("#train-side").display
        title = screen.query_one("#run-title")
        assert title.size.width < len(f"✓ finished  {name}")
        row = title.render_line(0).text.rstrip()
        # The status word stays; the middle of the name goes, not its time.
        assert row.startswith("✓ finished  lm-lstm") and row.endswith("…-183412"), row
        assert len(row) == title.size.width
        screen.open_run(Path("runs") / "lm-lstm-recorded")
        await tui.settle(pilot)
        # A shorter name loses less of its middle.
        assert title.render_line(0).text.rstrip() == "✓ finished  lm-lstm…ecorded"
        screen.open_run(Path("runs") / name)
        await tui.settle(pilot)
        await pilot.press("f")  # the side panel hidden: room for the whole title
        await tui.settle(pilot)
        assert title.render_line(0).text.startswith(f"✓ finished  {name}  lstm 256")


async def test_a_run_still_training_is_followed_when_the_screen_opens(runs, tui, train_app) -> None:
    """Someone back over SSH after "leave running" saw "no run yet" until they opened the run
    by hand. A run whose trainer holds its lock is followed at once; the recorded
    lm-rnn-running, whose trainer is unknown (no lock, no pid), is not."""
    from rnn_tui.runs.rundir import RunDir

    async def followed() -> list[str]:
        app = train_app()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await show_train(pilot, tui)
            await pilot.app.workers.wait_for_complete()
            await tui.settle(pilot)
            return list(screen.selected), [m for m, _ in app.notified]

    assert (await followed())[0] == []
    live = runs / "lm-live"
    shutil.copytree(RECORDED / "lm-gru-recorded", live)
    (live / "status.json").write_text(json.dumps({"status": "running"}))
    trainer = RunDir(live)
    trainer.claim()  # as a trainer holds it while it trains
    try:
        selected, notified = await followed()
    finally:
        trainer.release()
    assert selected == [str(live)]
    assert "following lm-live, still running" in notified


async def test_stop_works_while_the_trainer_starts(runs, tui, train_app) -> None:
    # For its first seconds a trainer had no status: the Stop button stayed disabled though x
    # worked, and a stop then killed it before its signal handler was set, which the app told
    # as "the trainer exited with status -15" and left a folder holding only train.log.
    def starting(options, folder):
        return [sys.executable, "-c", "import time; time.sleep(60)"]

    app = train_app(command_builder=starting)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await pilot.press("s")
        process = screen.process
        try:
            assert process is not None and process.alive
            await wait_for(pilot, screen, lambda: not screen.query_one("#stop").disabled)
            assert screen.query_one("#pause").disabled  # pausing needs a running trainer
            await pilot.click("#stop")
            await wait_for(pilot, screen, lambda: screen.process is None)
            assert process.stopped_early and not process.path.exists()
            told = [text for text, severity in app.notified if severity == "error"]
            assert told == [] and any("before it began training" in t for t, _ in app.notified)
        finally:
            process.kill()
