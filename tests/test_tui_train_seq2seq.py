"""The Train screen with seq2seq translation runs: the form's task switch, its checks and the
command it starts (no training: a fake trainer replays a recorded run), and following a recorded
seq2seq run (tests/fixtures/recorded-seq2seq) — BLEU in the header and its own plot, the four
translated sentences in the samples panel, overlays with a language model.
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

from rnn_tui.runs.follow import RunFollower, Sample
from rnn_tui.runs.process import train_command
from rnn_tui.tui.screens.train import TrainScreen
from rnn_tui.tui.widgets.plot import LinePlot
from rnn_tui.tui.widgets.train_curves import CurvePanel, measures, plot_ids
from rnn_tui.tui.widgets.train_form import TrainForm
from rnn_tui.tui.widgets.train_samples import samples_text, translations_text

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "recorded"
S2S = FIXTURES / "recorded-seq2seq" / "seq2seq-gru-recorded"
FAKE_TRAINER = FIXTURES / "fake_trainer.py"
# Rows a language model's form has and a translation run's does not.
LM_ONLY = ("corpus", "token", "mode", "model", "sampling", "max_tokens")
T0 = 1_790_000_000


@pytest.fixture
def runs(tmp_path, monkeypatch) -> Path:
    """The recorded seq2seq run and the LSTM run in ./runs of a fresh working directory."""
    root = tmp_path / "runs"
    root.mkdir()
    for i, source in enumerate([RECORDED / "lm-lstm-recorded", S2S]):
        shutil.copytree(source, root / source.name)
        for path in (root / source.name).iterdir():
            os.utime(path, (T0 + 100 * i, T0 + 100 * i))
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def train_app(tui, monkeypatch):
    """The app as the CLI makes it, opening on a Train screen built with the given options."""
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


def shown_rows(form: TrainForm) -> list[str]:
    return [row.id.removeprefix("row-") for row in form.query(".form-row") if row.display]


def replay_builder(calls: list, *extra: str):
    """Record the options and the real command line, then start the fake trainer replaying the
    recorded seq2seq run instead of training."""

    def build(options, folder):
        calls.append((dict(options), train_command(options, folder)))
        return [
            sys.executable, str(FAKE_TRAINER), "--source", str(S2S), "--run-dir", str(folder),
            *extra,
        ]  # fmt: skip

    return build


async def wait_for(pilot, screen, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen.poll()
        await pilot.pause()
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the run")


async def choose_seq2seq(pilot, form: TrainForm) -> None:
    """Pick the task with the keyboard, as a user does."""
    form.control("task").focus()
    await pilot.pause()
    await pilot.press("enter", "down", "enter")
    await pilot.pause()


# -- the form ----------------------------------------------------------------------------------


async def test_choosing_seq2seq_shows_its_fields_and_defaults(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one(TrainForm)
        lm_rows = shown_rows(form)
        assert lm_rows == [
            "task", "corpus", "token", "mode", "encoding", "min_freq", "model", "layers",
            "bidirectional", "hidden", "embed",
            "dropout", "batch_size", "num_steps", "lr", "optimizer", "epochs", "clip",
            "sampling", "max_tokens", "val_fraction", "device", "seed", "graph", "precision",
            "compile",
        ]  # fmt: skip
        form.set_value("epochs", 3)  # typed: kept across the switch
        await choose_seq2seq(pilot, form)
        assert form.selected_task == "seq2seq"
        rows = shown_rows(form)
        # The encoding: a pairs file from another system trains from the form as from the CLI.
        assert rows[:5] == ["task", "pairs", "num_examples", "encoding", "min_freq"]
        assert not set(LM_ONLY) & set(rows) and "corpus-path" not in rows
        values = {name: form.control(name).value for name in ("layers", "embed", "lr", "epochs")}
        assert values == {"layers": "2", "embed": "256", "lr": "0.005", "epochs": "3"}
        assert form.control("optimizer").value == "adam"
        assert "encoder" in text(screen, "#form-hint")
        options, problems = form.options()
        assert problems == []
        assert options["task"] == "seq2seq" and options["pairs"] == "fra-eng"
        assert options["num_examples"] is None and options["min_freq"] == 2
        assert not set(LM_ONLY) & set(options)
        # The focused field's hint says what it means for translation.
        form.control("batch_size").focus()
        await pilot.pause()
        assert text(screen, "#form-hint") == "Sentence pairs per minibatch"
        # Back to a language model: its rows and defaults, the typed epochs stay.
        form.set_value("task", "lm")
        await pilot.pause()
        assert shown_rows(form) == lm_rows
        assert form.control("layers").value == "1" and form.control("embed").value == ""
        assert form.control("optimizer").value == "sgd" and form.control("epochs").value == "3"
        options, problems = form.options()
        assert problems == [] and "pairs" not in options and options["model"] == "lstm"
        # A scratch model's fixed options are free again for the encoder–decoder.
        form.set_value("model", "gru-scratch")
        await pilot.pause()
        assert form.control("layers").disabled
        form.set_value("task", "seq2seq")
        await pilot.pause()
        assert not form.control("layers").disabled and form.control("layers").value == "2"
        form.set_value("task", "lm")
        await pilot.pause()
        assert form.control("layers").disabled and form.control("layers").value == "1"


async def test_the_form_finds_its_rows_without_searching(runs, tui, train_app, monkeypatch):
    """Showing a task's rows looks nothing up by id: such a query walks all ~170 widgets of
    the form, and the first showing asked for every row about three times (30–54 ms)."""
    from textual.dom import DOMNode

    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one(TrainForm)
        searched: list[str] = []
        for name in ("query", "query_one", "query_exactly_one", "query_children"):
            real = getattr(DOMNode, name)

            def counting(node, *args, _real=real, _name=name, **kwargs):
                if node is form:
                    searched.append(f"{_name}{args}")
                return _real(node, *args, **kwargs)

            monkeypatch.setattr(DOMNode, name, counting)
        form.on_mount()
        form.set_value("task", "seq2seq")
        form.set_value("pairs", "my.txt")  # a path: File… and the path row
        await pilot.pause()
        form.set_value("task", "lm")
        form.set_value("model", "rnn-scratch")
        await pilot.pause()
        form.options()
        assert searched == []
        assert "pairs" not in shown_rows(form) and form.control("layers").disabled


async def test_bad_seq2seq_values_are_marked_and_refuse_start(runs, tui, train_app) -> None:
    calls: list = []
    app = train_app(command_builder=replay_builder(calls))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one(TrainForm)
        # From the command palette: the form, switched to seq2seq, at its first own field.
        entries = {title: action for title, _, action in screen.palette_commands()}
        entries["Train: new translation run"]()
        await tui.settle(pilot)
        assert form.selected_task == "seq2seq" and screen.focused is form.control("pairs")
        # Typed into the field: marked at once, the hint says why.
        form.control("embed").focus()
        form.control("embed").value = ""
        await pilot.press("0")
        await pilot.pause()
        assert form.control("embed").has_class("-invalid")
        assert text(screen, "#form-hint") == "embed: an integer in [1, 16,384]"
        assert form.query_one("#form-hint").has_class("-error")
        form.set_value("num_examples", "-3")
        form.set_value("pairs", "file")
        await pilot.pause()
        assert form.control("num_examples").has_class("-invalid")
        assert form.query_one("#row-pairs-path").display
        await pilot.press("s")  # the path field has the focus: "s" is typed there
        await pilot.pause()
        assert form.query_one("#form-pairs-path").value == "s"
        form.query_one("#form-pairs-path").value = ""
        screen.action_start()
        await pilot.pause()
        assert tui.errors(app) == [
            "cannot start: pairs used: an integer in [1, 1,000,000,000], or empty for all; "
            "embed: an integer in [1, 16,384]; pairs: type the path of a file of sentence pairs"
        ]
        assert calls == [] and screen.process is None
        # 0 is a language model's one-hot input: valid again there.
        form.set_value("task", "lm")
        await pilot.pause()
        assert not form.control("embed").has_class("-invalid")
        assert form.options()[1] == []


@pytest.mark.parametrize(
    "where, expected",
    [
        ("missing.txt", "pairs file not found: missing.txt"),
        (".", "pairs file . is a directory, not a file"),
        ("/dev/zero", "pairs file /dev/zero is a character device, not a file rnn-tui can read"),
        ("n" * 5000, "File name too long"),
        ("EMPTY", "empty file: "),
        ("BINARY", "not a text file (NUL byte at offset 5): "),
    ],
    ids=["missing", "folder", "device", "too-long", "empty", "binary"],
)
async def test_a_path_the_trainer_cannot_read_is_refused_under_the_form(
    runs, tui, train_app, where, expected, tmp_path
) -> None:
    """It was taken: a run folder was made and a trainer started, which then failed."""
    if where in ("EMPTY", "BINARY"):
        made = tmp_path / f"{where.lower()}.txt"
        made.write_bytes(b"" if where == "EMPTY" else b"go .\t\x00va !\n" * 100)
        where, expected = str(made), expected + str(made)
    calls: list = []
    app = train_app(command_builder=replay_builder(calls))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one(TrainForm)
        await choose_seq2seq(pilot, form)
        before = sorted(runs.iterdir())
        form.set_value("pairs", "file")
        await pilot.pause()
        form.query_one("#form-pairs-path").value = where
        screen.action_start()
        await pilot.pause()
        (error,) = tui.errors(app)
        assert error.startswith("cannot start: ") and expected in error, error
        assert calls == [] and screen.process is None and sorted(runs.iterdir()) == before


async def test_start_builds_the_seq2seq_command_and_follows_the_run(
    runs, tui, train_app, tmp_path
) -> None:
    from rnn_tui.cli.parser import build_parser
    from rnn_tui.cli.train import _given
    from rnn_tui.train.config import Config

    calls: list = []
    # A delay long enough that the replay is still running when the test looks at it (a warm
    # machine replayed it in well under the few milliseconds between the key and the check).
    app = train_app(command_builder=replay_builder(calls, "--delay", "0.01"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        form = screen.query_one(TrainForm)
        await choose_seq2seq(pilot, form)
        pairs = tmp_path / "pairs.txt"
        pairs.write_text("go .\tva !\n", encoding="utf-8")
        form.set_value("pairs", "file")
        await pilot.pause()
        form.query_one("#form-pairs-path").value = str(pairs)
        for name, value in [("num_examples", 600), ("embed", 32), ("hidden", 32),
                            ("epochs", 300), ("val_fraction", 0)]:  # fmt: skip
            form.set_value(name, value)
        form.set_value("bidirectional", True)
        form.set_value("attention", "additive")
        await pilot.pause()
        screen.set_focus(None)
        await pilot.press("s")
        process = screen.process
        try:
            assert process is not None and len(calls) == 1
            options, argv = calls[0]
            folder = process.path
            assert folder.parent == runs and folder.name.startswith("seq2seq-")
            assert argv == [
                sys.executable, "-m", "rnn_tui", "train",
                "--task=seq2seq", f"--pairs={pairs}", "--num-examples=600", "--encoding=utf-8",
                "--min-freq=2", "--layers=2", "--bidirectional", "--attention=additive",
                "--hidden=32",
                "--embed=32", "--dropout=0.1", "--batch-size=64", "--num-steps=10",
                "--lr=0.005", "--optimizer=adam", "--epochs=300", "--clip=1.0",
                "--val-fraction=0.0", "--device=auto", "--seed=0", "--graph=auto",
                "--precision=fp32", "--compile=off", f"--run-dir={folder}",
            ]  # fmt: skip
            # The real CLI takes it, and the trainer's config accepts what it parsed.
            args = build_parser().parse_args(argv[3:])
            config = Config("seq2seq", **_given(args))
            assert (config.embed, config.epochs, config.bidirectional) == (32, 300, True)
            assert config.attention == "additive"
            # The replayed run is followed live until it finishes.
            follower = screen.followers[str(folder)]
            await wait_for(pilot, screen, lambda: screen.process is None, timeout=30.0)
            assert process.poll() == 0 and follower.status == "finished"
            assert "BLEU 37.0" in text(screen, "#run-metrics")
            finished = [m for m, _ in app.notified if "finished" in m]
            assert finished == [f"{folder.name} finished, best val ppl 6.412, best BLEU 37.0"]
            assert not tui.errors(app)
        finally:
            if process is not None and process.alive:
                process.kill()
                process.wait(5)


# -- following a seq2seq run -------------------------------------------------------------------


async def test_open_the_recorded_seq2seq_run_and_overlay_it(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        assert screen.open_run(runs / S2S.name)
        await tui.settle(pilot)
        title = text(screen, "#run-title")
        assert "finished" in title and "seq2seq 256×2 · fra-eng 61.9k+6.88k pairs" in title
        assert text(screen, "#run-eta").startswith("epoch 10/10 ·")
        metrics = text(screen, "#run-metrics")
        assert "train ppl 2.86 · val 7.09 (best 6.412) · BLEU 37.0 (≤5 words 54.5) ·" in metrics
        assert "trigram" not in metrics
        panel = screen.query_one(CurvePanel)
        assert panel.seq2seq and not panel.single
        grid = [p.id for p in panel.query(LinePlot) if p.display]
        assert grid == ["plot-ppl", "plot-bleu", "plot-loss", "plot-grad"]
        bleu = screen.query_one("#plot-bleu", LinePlot)
        assert [label for label, *_ in bleu._series] == ["held-out", "≤5 words"]
        held_out = bleu._series[0][2]
        assert len(held_out) == 10 and held_out[-1] == pytest.approx(37.01)
        samples = text(screen, "#samples").splitlines()
        assert samples == [
            "e10 go .        → va !                ✓",
            "    i lost .    → j'ai perdu .        ✓",
            "    he's calm . → il est malade .     ✗ il est calme .",
            "    i'm home .  → je suis chez moi .  ✓",
        ]
        assert not tui.errors(app)
        # Overlaid with a language model: one colour each, BLEU for the seq2seq run only.
        screen.open_run(runs / "lm-lstm-recorded")
        await tui.settle(pilot)
        assert "BLEU" not in text(screen, "#run-metrics")
        assert not screen.query_one("#samples").has_class("-translations")
        assert text(screen, "#samples").splitlines()[-1].startswith("e12 time traveller")
        screen.open_run(runs / S2S.name)  # shown in the header again
        await tui.settle(pilot)
        colors = [screen.run_colors[k] for k in screen.selected]
        assert screen.selected == [str(runs / S2S.name), str(runs / "lm-lstm-recorded")]
        assert len(set(colors)) == 2 and panel.seq2seq and not panel.single
        bleu = screen.query_one("#plot-bleu", LinePlot)
        assert [(label, color) for label, *_, color in bleu._series] == [("seq2seq", colors[0])]
        ppl = screen.query_one("#plot-ppl", LinePlot)
        # The baseline is the language model's: the line says so beside the translator.
        labels = [label for label, *_ in ppl._series]
        assert labels == ["seq2seq val", "lstm val", "lstm trigram 7.41"]
        assert "BLEU 37.0" in text(screen, "#run-metrics")
        assert screen.query_one("#samples").has_class("-translations")
        # Without the seq2seq run: the language model's four plots.
        screen.query_one("#run-list").deselect(str(runs / S2S.name))
        await tui.settle(pilot)
        assert not panel.seq2seq and "lm-lstm-recorded" in text(screen, "#run-title")
        grid = [p.id for p in panel.query(LinePlot) if p.display]
        assert grid == ["plot-ppl", "plot-loss", "plot-grad", "plot-speed"]


async def test_narrow_terminal_cycles_through_five_plots(runs, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / S2S.name)
        await tui.settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        panel = screen.query_one(CurvePanel)
        seen = []
        for _ in range(6):
            shown = [p for p in panel.query(LinePlot) if p.display]
            assert len(shown) == 1
            seen.append((shown[0].id, shown[0].plot_title))
            await pilot.press("v")
            await pilot.pause()
        cycle = plot_ids(measures(["seq2seq"]), grid=False)
        assert [plot_id for plot_id, _ in seen] == [*cycle, "plot-ppl"]
        assert seen[1][1] == "held-out BLEU, 0–100 (2/5, v: next)"
        # A language model again: no BLEU plot; the loss plot shown stays shown.
        await pilot.press("v")
        assert panel.active_id == "plot-loss"
        screen.open_run(runs / "lm-lstm-recorded")
        screen.query_one("#run-list").deselect(str(runs / S2S.name))
        await tui.settle(pilot)
        assert not panel.seq2seq
        assert [p.id for p in panel.query(LinePlot) if p.display] == ["plot-loss"]
        assert panel.query_one("#plot-loss", LinePlot).plot_title.endswith("(2/4, v: next)")


# -- the pieces --------------------------------------------------------------------------------


def test_the_follower_keeps_bleu(tmp_path) -> None:
    follower = RunFollower(S2S, clock=lambda: 2e9)
    assert follower.poll()
    snap = follower.snapshot()
    assert snap.task == "seq2seq" and snap.baseline_ppl is None
    assert (snap.bleu, snap.bleu_short, snap.best_bleu) == (37.01, 54.55, 37.01)
    x, y = snap.series["bleu"]
    assert x.tolist() == list(range(1, 11)) and y[0] == pytest.approx(10.1)
    assert len(snap.series["bleu_short"][0]) == 10
    assert snap.samples[-1].text.splitlines()[0] == "go . => va !"
    # An epoch without held-out pairs shows no BLEU, while the best stays.
    run = tmp_path / "run"
    shutil.copytree(S2S, run)
    with (run / "metrics.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"event": "epoch", "epoch": 11, "epochs": 11, "bleu": None}) + "\n")
        f.write(json.dumps({"event": "epoch", "epoch": 12, "epochs": 12, "bleu": 2.0}) + "\n")
    follower = RunFollower(run)
    follower.poll()
    snap = follower.snapshot()
    assert snap.bleu == 2.0 and snap.bleu_short is None and snap.best_bleu == 37.01
    # A language model has none of it.
    lm = RunFollower(RECORDED / "lm-lstm-recorded")
    lm.poll()
    snap = lm.snapshot()
    assert snap.task == "lm" and snap.bleu is None and snap.best_bleu is None
    assert len(snap.series["bleu"][0]) == 0


def test_translations_text_aligns_and_marks_the_references() -> None:
    samples = [
        Sample(1, "", "go . => je .\ni lost . => je ."),
        Sample(2, "", "go . => va !\nhello world => bonjour le monde\nno arrow here"),
    ]
    lines = translations_text(samples, 6).plain.splitlines()
    assert lines == [
        "e1  go .        → je .              ✗ va !",
        "    i lost .    → je .              ✗ j'ai perdu .",
        "e2  go .        → va !              ✓",
        "    hello world → bonjour le monde",
        "    no arrow here",
    ]
    # Too little room: the newest epoch only, cut to fit.
    assert translations_text(samples, 4).plain.splitlines()[0].startswith("e2  go .")
    assert len(translations_text(samples, 2).plain.splitlines()) == 2
    assert "no translations yet" in translations_text([], 4).plain


def test_epoch_labels_leave_a_space_before_the_text_at_any_epoch() -> None:
    """From epoch 100 the label "e241" is four columns: it gets one more, not the text's first."""
    samples = [Sample(99, "time", "time traveller"), Sample(241, "time", "time traveller")]
    assert samples_text(samples, 2).plain.splitlines() == [
        "e99  time traveller",
        "e241 time traveller",
    ]
    assert samples_text(samples[:1], 2).plain == "e99 time traveller"
    pairs = [Sample(1000, "", "go . => va !\ni lost . => je .")]
    assert translations_text(pairs, 4).plain.splitlines() == [
        "e1000 go .     → va !  ✓",
        "      i lost . → je .  ✗ j'ai perdu .",
    ]


def test_a_utf16_file_is_not_taken_for_binary_where_the_encoding_says_so(tmp_path) -> None:
    from rnn_tui.tui.widgets.start_checks import path_problem as _path_problem

    made = tmp_path / "wide.txt"
    made.write_text("the time traveller\n", encoding="utf-16-le")
    assert _path_problem(str(made), "corpus file", wide=True) is None
    assert _path_problem(str(made), "corpus file").startswith("not a text file (NUL byte at")


def test_cuda_on_a_cpu_build_of_torch_is_refused_before_a_trainer_starts(monkeypatch) -> None:
    """The form offers cuda before torch is imported; once it is, a CPU build is named."""
    import sys
    from types import SimpleNamespace

    from rnn_tui.tui.widgets.start_checks import device_problem

    cpu = SimpleNamespace(__version__="2.13.0+cpu", version=SimpleNamespace(cuda=None))
    monkeypatch.setitem(sys.modules, "torch", cpu)
    said = "device: cuda:1, but this torch 2.13.0+cpu has no CUDA support (auto or cpu)"
    assert device_problem("cuda:1") == said
    assert device_problem("auto") is None and device_problem("cpu") is None
    monkeypatch.setitem(sys.modules, "torch", SimpleNamespace(version=SimpleNamespace(cuda="12.8")))
    assert device_problem("cuda") is None  # a CUDA build: the trainer looks for the GPU
    monkeypatch.delitem(sys.modules, "torch")
    assert device_problem("cuda") is None  # not imported yet: never imported here
    assert "torch" not in sys.modules


async def test_the_form_refuses_cuda_where_torch_is_a_cpu_build(runs, tui, train_app) -> None:
    import torch

    if torch.version.cuda is not None:
        pytest.skip("a CUDA build of torch")
    calls: list = []
    app = train_app(command_builder=replay_builder(calls))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        screen.query_one(TrainForm).set_value("device", "cuda")
        await pilot.pause()
        screen.action_start()
        await pilot.pause()
        (error,) = tui.errors(app)
        assert f"device: cuda, but this torch {torch.__version__} has no CUDA support" in error
        assert calls == [] and screen.process is None
