"""A CSV series is read from the pieces its file is decoded into, a window at a time, never as
one string: a 100 MB file's StringIO held the GIL 168 ms (the Forecast screen waits on its
worker), its join 78 ms, its encoding for the cache key 57 ms. The rows are those one string
gives."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import series_files
from rnn_tui.data.errors import DataError
from rnn_tui.data.series_files import _csv_lines, _digest, load_series, parse_csv

ENDS = st.sampled_from(["\n", "\r\n", "\r"])


def _pieces(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:], strict=False)] or [""]


def _one_string_lines(text: str) -> list[str]:
    """The lines as the reader had them: line ends made "\\n", then a StringIO's lines."""
    return list(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")))


@settings(max_examples=200, deadline=None)
@given(
    text=st.text('ab,1.\n\r\x0c\u2028\u0085"', max_size=80),
    cuts=st.lists(st.integers(0, 200), max_size=6),
    window=st.integers(1, 9),
)
def test_the_lines_are_one_strings_lines_however_the_text_is_cut(text, cuts, window):
    series_files.WINDOW = window
    try:
        assert list(_csv_lines(_pieces(text, cuts))) == _one_string_lines(text)
        assert _digest(_pieces(text, cuts)) == _digest([text])
    finally:
        series_files.WINDOW = 1 << 20


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(-999, 999), min_size=3, max_size=40),
    end=ENDS,
    cuts=st.lists(st.integers(0, 600), max_size=5),
    dated=st.booleans(),
)
def test_a_series_in_pieces_is_the_series_in_one_string(values, end, cuts, dated):
    rows = [
        f"{1950 + i // 12}-{i % 12 + 1:02d},{v}" if dated else str(v) for i, v in enumerate(values)
    ]
    text = end.join(["month,value" if dated else "value", *rows]) + end
    whole = parse_csv(text, "s.csv")
    pieces = parse_csv(_pieces(text, cuts), "s.csv")
    assert pieces.values.tolist() == whole.values.tolist() == [float(v) for v in values]
    assert tuple(pieces.labels) == tuple(whole.labels) and pieces.period_hint == whole.period_hint


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_gap_is_named_at_its_line_whatever_the_pieces(end, monkeypatch):
    monkeypatch.setattr(series_files, "WINDOW", 4)
    text = end.join(["value", "1", "2", "", "3", "4"]) + end
    with pytest.raises(DataError, match="line 4 of s.csv is blank") as whole:
        parse_csv(text, "s.csv")
    with pytest.raises(DataError) as cut:
        parse_csv(_pieces(text, [3, 7, 8, 9]), "s.csv")
    assert str(cut.value) == str(whole.value)


def test_a_file_is_parsed_from_its_pieces_without_joining_them(tmp_path, monkeypatch):
    path = tmp_path / "s.csv"
    path.write_text("value\r\n" + "".join(f"{i}\r\n" for i in range(5_000)), encoding="utf-8")
    # Pieces as a big file is decoded into (a few MiB each), here a few bytes.
    real = series_files.read_path_pieces

    def small_pieces(*args, **kwargs):
        text = "".join(real(*args, **kwargs))
        return [text[i : i + 1000] for i in range(0, len(text), 1000)]

    monkeypatch.setattr(series_files, "read_path_pieces", small_pieces)
    monkeypatch.setattr(series_files, "WINDOW", 333)
    series = load_series(str(path))
    assert series.values.tolist() == [float(i) for i in range(5_000)]
