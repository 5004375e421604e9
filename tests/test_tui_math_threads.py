"""The app's own torch work runs on one thread (rnn_tui.decode.math_threads), beside trainers
that keep every core busy. Each test sets torch to two threads first, as on a 2-core machine."""

from __future__ import annotations

import threading

import pytest
import torch
from test_tui_generate import checkpoints, start_here  # noqa: F401 (fixtures)
from test_tui_gradients import SHIPPED_LSTM, open_gradients, read_with

from rnn_tui.decode import math_threads


@pytest.fixture
def two_threads(monkeypatch):
    """torch on two threads in this process, and math_threads' memory of it, put back after."""
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setattr(math_threads, "_threads", [])
    yield
    torch.set_num_threads(saved)


def recording(module, name: str, seen: list[tuple[str, int]], monkeypatch) -> None:
    """`module.name` notes torch's threads in the thread that calls it, then runs as it did."""
    real = getattr(module, name)

    def watched(*args, **kwargs):
        seen.append((name, torch.get_num_threads()))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, watched)


def test_nested_blocks_keep_one_thread_until_the_outermost_ends(two_threads):
    seen = []

    def in_a_worker() -> None:
        with math_threads.one_math_thread():
            with math_threads.one_math_thread():
                seen.append(torch.get_num_threads())
            seen.append(torch.get_num_threads())  # the outer block's work goes on: still one
        seen.append(torch.get_num_threads())

    worker = threading.Thread(target=in_a_worker)
    worker.start()
    worker.join()
    assert seen == [1, 1, 2]


def test_a_decorated_job_runs_on_one_thread_and_returns_its_result(two_threads):
    @math_threads.on_one_math_thread
    def job(a, b=0):
        """A job."""
        return a + b, torch.get_num_threads()

    assert job(1, b=2) == (3, 1)
    assert job.__doc__ == "A job." and torch.get_num_threads() == 2


async def test_the_gradients_passes_run_on_one_thread(
    no_checkpoints, tui, two_threads, monkeypatch
) -> None:
    from rnn_tui.probe import activations, gradients, report

    seen: list[tuple[str, int]] = []
    recording(report, "compare_flows", seen, monkeypatch)
    recording(report, "gradient_report", seen, monkeypatch)
    recording(activations, "activations", seen, monkeypatch)
    recording(gradients, "connectivity", seen, monkeypatch)
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        assert not tui.errors(pilot.app)
    assert set(seen) == {
        ("activations", 1),
        ("compare_flows", 1),
        ("connectivity", 1),
        ("gradient_report", 1),
    }


@pytest.mark.usefixtures("checkpoints", "start_here")
async def test_the_consoles_load_and_generate_on_one_thread(monkeypatch, tui, two_threads):
    from rnn_tui.decode import generate
    from rnn_tui.tui.screens.generate import GenerateScreen

    seen: list[tuple[str, int]] = []

    def load(path: str):
        seen.append(("load", torch.get_num_threads()))
        return generate.load_lm(path, "cpu")

    monkeypatch.setattr(GenerateScreen, "loader", staticmethod(load))
    recording(generate, "predict", seen, monkeypatch)
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await tui.settle(pilot)
        app.screen.query_one("#length").value = "5"
        await pilot.press("ctrl+g")
        await tui.settle(pilot)
        assert app.screen.status.startswith("generated 5 tokens"), app.screen.status
    assert seen == [("load", 1), ("predict", 1)]


def test_the_classify_screens_jobs_run_on_one_thread(two_threads, monkeypatch):
    from rnn_tui.decode import classify, tag
    from rnn_tui.tui.screens import classify_jobs

    seen: list[tuple[str, int]] = []

    def record(name: str):
        return lambda *args, **kwargs: seen.append((name, torch.get_num_threads())) or {}

    monkeypatch.setattr(classify, "classify", lambda *a: [record("classify")()])
    monkeypatch.setattr(tag, "tag_text", record("tag_text"))

    class View:
        model = classes = vocab = None

    classify_jobs.classify_one(View(), "Ada")
    classify_jobs.restore_all({"a": View()}, "some text")
    assert seen == [("classify", 1), ("tag_text", 1)]
    assert torch.get_num_threads() == 2
