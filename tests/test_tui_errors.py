"""What a notification says about a worker's error (rnn_tui.tui.errors): the backend's own line,
or a library's error framed so the reader knows what it is — never a raw repr."""

from __future__ import annotations

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.data.errors import DataError
from rnn_tui.tui.errors import error_text


def test_the_backends_lines_are_shown_as_they_are():
    assert error_text(DataError("corpus file not found: x.txt\ndetail")) == (
        "corpus file not found: x.txt"
    )
    assert error_text(CheckpointError("refusing to load a.pt: it is a pickle")).startswith(
        "refusing to load"
    )


def test_library_errors_are_framed():
    assert error_text(KeyError("token")) == "unexpected error (KeyError): 'token'"
    assert error_text(OSError(28, "No space left on device", "/runs/x/metrics.jsonl")) == (
        "cannot read or write /runs/x/metrics.jsonl: No space left on device"
    )
    assert error_text(MemoryError()) == "out of memory: try a smaller model, batch or file"
    assert error_text(RuntimeError("")) == "unexpected error (RuntimeError)"
    assert error_text(None).startswith("something went wrong")
