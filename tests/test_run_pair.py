"""RunPair without Textual: slots by model, one task only, a plan started at once, stop."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from rnn_tui.runs.pair import RunPair
from rnn_tui.runs.process import shared_threads
from rnn_tui.runs.rundir import RunError

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "recorded-forecast"
FAKE_TRAINER = FIXTURES / "fake_trainer.py"


def pair() -> RunPair:
    return RunPair(
        {"ar": "cyan+", "latent": "orange+"},
        lambda config: "ar" if config.get("model") == "mlp" else "latent",
        "forecast",
    )


@pytest.fixture
def saved(tmp_path) -> Path:
    shutil.copytree(RECORDED, tmp_path / "runs")
    return tmp_path / "runs"


def test_opened_runs_go_to_their_models_slot_and_replace_it(saved) -> None:
    runs = pair()
    assert runs.open(saved / "forecast-gru-recorded")[0] == "latent"
    assert runs.open(saved / "forecast-mlp-recorded")[0] == "ar"
    copy = saved / "another-mlp"
    shutil.copytree(saved / "forecast-mlp-recorded", copy)
    slot, key = runs.open(copy)
    assert slot == "ar" and runs.shown() == {
        "ar": key,
        "latent": str(saved / "forecast-gru-recorded"),
    }
    runs.clear("ar")
    assert set(runs.shown()) == {"latent"}


def test_a_run_of_another_task_or_no_run_is_one_line(saved) -> None:
    runs = pair()
    with pytest.raises(RunError, match="lm-gru-recorded is a run of task lm, not forecast: "):
        runs.open(FIXTURES / "recorded" / "lm-gru-recorded")
    with pytest.raises(RunError):
        runs.open(saved / "missing")
    assert runs.shown() == {}


def test_a_plan_starts_one_trainer_per_slot_and_stop_reaches_both(saved, tmp_path) -> None:
    def build(options, folder):
        source = RECORDED / f"forecast-{options['model']}-recorded"
        return [sys.executable, str(FAKE_TRAINER), "--source", str(source),
                "--run-dir", str(folder), "--hold"]  # fmt: skip

    runs = pair()
    assert runs.stop() and runs.stop()[0].severity == "warning"  # nothing to stop
    plan = {
        "ar": {"task": "forecast", "model": "mlp"},
        "latent": {"task": "forecast", "model": "gru"},
    }
    started, notices = runs.start(tmp_path / "new", plan, build)
    try:
        assert notices == [] and len(started) == 2 and len(runs.training()) == 2
        assert {p.path.name.split("-")[1] for p in started} == {"mlp", "gru"}
        assert {p.threads for p in started} == {shared_threads(2)}  # the cores shared out
    finally:
        for process in started:
            process.terminate()
            process.wait(10)
    assert runs.training() == []


def test_a_stop_right_after_the_start_reaches_trainers_still_starting(tmp_path) -> None:
    """Before a trainer has written its status (torch still importing) its run is not shown as
    active; a stop then used to answer "no run is training" and leave both trainers running."""

    def build(options, folder):
        return [sys.executable, "-c", "import time; time.sleep(60)"]

    runs = pair()
    plan = {"ar": {"task": "forecast", "model": "mlp"}, "latent": {"task": "forecast"}}
    started, _ = runs.start(tmp_path / "new", plan, build)
    try:
        notices = runs.stop()
        assert [n.severity for n in notices] == ["information", "information"], notices
        assert all(n.text.startswith("stopping") for n in notices)
        assert [p.wait(60) for p in started] == [-15, -15]  # SIGTERM reached both
    finally:
        for process in started:
            process.terminate()
            process.wait(10)


@pytest.mark.parametrize(
    ("extra", "emptied_again"),
    [(("--refuse", "no"), False), (("--fail-after", "1", "--fail", "boom"), False), ((), True)],
)
def test_a_slot_left_out_of_a_start_shows_its_run_again_when_the_start_comes_to_nothing(
    saved, tmp_path, extra, emptied_again
) -> None:
    """A plan without the latent model empties its slot; a start refused or failed gives it
    back (it stayed empty), a run that finishes keeps it empty."""

    def build(options, folder):
        source = RECORDED / f"forecast-{options['model']}-recorded"
        return [sys.executable, str(FAKE_TRAINER), "--source", str(source),
                "--run-dir", str(folder), "--delay", "0.001", *extra]  # fmt: skip

    runs = pair()
    runs.open(saved / "forecast-mlp-recorded")
    gru = runs.open(saved / "forecast-gru-recorded")[1]
    started, _ = runs.start(tmp_path / "new", {"ar": {"task": "forecast", "model": "mlp"}}, build)
    assert "latent" not in runs.shown()
    assert started[0].wait(30) is not None
    for _ in range(3):  # the exit, then the run read to its end
        runs.poll(1 << 20)
    assert runs.shown().get("latent") == (None if emptied_again else gru)
    # A slot opened or cleared after the start is the person's choice: never given back.
    runs.clear("latent")
    runs.poll(1 << 20)
    assert "latent" not in runs.shown()


def test_a_start_that_starts_nothing_empties_no_slot(saved, tmp_path) -> None:
    runs = pair()
    gru = runs.open(saved / "forecast-gru-recorded")[1]
    (tmp_path / "new").write_text("a file where the runs folder should be")
    started, notices = runs.start(
        tmp_path / "new", {"ar": {"task": "forecast", "model": "mlp"}}, lambda o, f: ["true"]
    )
    assert started == [] and notices and runs.shown() == {"latent": gru}
