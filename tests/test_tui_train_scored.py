"""The Train screen following classify and tag runs (tests/fixtures/recorded-classify) and
forecast runs (tests/fixtures/recorded-forecast), which have no perplexity: their losses and
held-out scores in the header, the scores' own plot in the perplexity plot's place, and overlays
with a language model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

import pytest

from rnn_tui.tui.screens.train import TrainScreen
from rnn_tui.tui.widgets.plot import LinePlot
from rnn_tui.tui.widgets.train_curves import CurvePanel

FIXTURES = Path(__file__).parent / "fixtures"
CLASSIFY = FIXTURES / "recorded-classify" / "classify-gru-recorded"
TAG = FIXTURES / "recorded-classify" / "tag-bi-recorded"
LM = FIXTURES / "recorded" / "lm-lstm-recorded"
MLP = FIXTURES / "recorded-forecast" / "forecast-mlp-recorded"
GRU = FIXTURES / "recorded-forecast" / "forecast-gru-recorded"


@pytest.fixture
def runs(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    for source in (CLASSIFY, TAG, LM, MLP, GRU):
        shutil.copytree(source, root / source.name)
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def train_app(tui, monkeypatch):
    import rnn_tui.tui.app as app_module

    class TrainFirst(app_module.RnnTuiApp):
        DEFAULT_MODE = "train"
        SUB_TITLE = "Train"
        MODES: ClassVar = {**app_module.RnnTuiApp.MODES, "train": TrainScreen}

    monkeypatch.setattr(app_module, "RnnTuiApp", TrainFirst)
    return tui.make_app


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def shown(panel: CurvePanel) -> list[str]:
    return [p.id for p in panel.query(LinePlot) if p.display]


async def opened(pilot, tui, folder: Path):
    """The Train screen once it has opened the run in `folder`, and its header's metrics."""
    await tui.settle(pilot)
    screen = pilot.app.screen
    assert screen.open_run(folder)
    await tui.settle(pilot)
    return screen, text(screen, "#run-metrics")


async def test_a_classify_run_shows_its_scores_not_an_empty_perplexity(
    runs, tui, train_app
) -> None:
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen, metrics = await opened(pilot, tui, runs / CLASSIFY.name)
        # It said "train ppl — · val —", and nothing of accuracy or macro-F1.
        assert "ppl" not in metrics and "—" not in metrics
        assert "train loss 0.7069 · val 0.717 · macro-F1 0.380 · accuracy 0.782 ·" in metrics
        panel = screen.query_one(CurvePanel)
        assert shown(panel) == ["plot-score", "plot-loss", "plot-grad", "plot-speed"]
        score = screen.query_one("#plot-score", LinePlot)
        assert score.plot_title == "held-out scores, 0–1"
        assert [label for label, *_ in score._series] == ["macro-F1", "accuracy"]
        assert score._series[1][2][-1] == pytest.approx(0.7821, abs=1e-4)
        # A tagger: its F1 of capitals and of punctuation too.
        screen.open_run(runs / TAG.name)
        screen.query_one("#run-list").deselect(str(runs / CLASSIFY.name))
        await tui.settle(pilot)
        metrics = text(screen, "#run-metrics")
        assert "macro-F1 0.152 · F1 capitals 0.678 · F1 punct 0.397" in metrics
        assert [label for label, *_ in score._series] == ["macro-F1", "F1 capitals", "F1 punct"]
        # Beside a language model: its perplexity and the tagger's macro-F1 each in its plot.
        screen.open_run(runs / LM.name)
        await tui.settle(pilot)
        assert shown(panel) == ["plot-ppl", "plot-score", "plot-loss", "plot-grad"]
        assert [label for label, *_ in score._series] == ["gru bidir macro-F1"]
        assert tui.errors(pilot.app) == []


async def test_at_80x24_the_scores_are_the_first_plot_of_the_cycle(runs, tui, train_app) -> None:
    async with train_app().run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.open_run(runs / CLASSIFY.name)
        await tui.settle(pilot)
        panel = screen.query_one(CurvePanel)
        assert shown(panel) == ["plot-score"]
        title = screen.query_one("#plot-score", LinePlot).plot_title
        assert title == "held-out scores, 0–1 (1/4, v: next)"


async def test_a_forecast_run_shows_its_held_out_rmse_not_an_empty_perplexity(
    runs, tui, train_app
) -> None:
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen, metrics = await opened(pilot, tui, runs / MLP.name)
        # It said "train ppl — · val —" above an empty perplexity plot.
        assert "ppl" not in metrics
        assert "train loss 0.05371 · val 0.04866 · RMSE 0.2206 · MAPE 208.9 % ·" in metrics
        panel = screen.query_one(CurvePanel)
        assert shown(panel) == ["plot-rmse", "plot-loss", "plot-grad", "plot-speed"]
        rmse = screen.query_one("#plot-rmse", LinePlot)
        assert rmse.plot_title == "held-out RMSE, k=1"
        assert list(rmse._series[0][1]) == [1, 2, 3, 4, 5]
        assert rmse._series[0][2][-1] == pytest.approx(0.2206, abs=1e-4)
        # Two forecasters overlaid: one RMSE curve each; beside a language model, its perplexity.
        screen.open_run(runs / GRU.name)
        await tui.settle(pilot)
        assert [label for label, *_ in rmse._series] == ["mlp", "gru"]
        screen.open_run(runs / LM.name)
        await tui.settle(pilot)
        assert shown(panel) == ["plot-ppl", "plot-rmse", "plot-loss", "plot-grad"]
        assert tui.errors(pilot.app) == []
