"""The forecast task's data: pad/drop features, CSV series, the transform fitted on the training
part only and undone exactly, and the naive baselines."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data.errors import DataError
from rnn_tui.data.series_baselines import (
    detect_period,
    naive_forecast,
    seasonal_naive_forecast,
)
from rnn_tui.data.series_files import PointNumbers, load_series, parse_csv
from rnn_tui.data.series_transform import SeriesTransform
from rnn_tui.data.timeseries import ar_features, sine_series
from rnn_tui.metrics.forecast import baseline_errors, forecast_errors, winner


def d2l_features(x: np.ndarray, tau: int) -> tuple[np.ndarray, np.ndarray]:
    """d2l §8.1 verbatim: features[:, i] = x[i : T - tau + i]; labels = x[tau:]."""
    T = len(x)
    features = np.zeros((T - tau, tau), dtype=x.dtype)
    for i in range(tau):
        features[:, i] = x[i : T - tau + i]
    return features, x[tau:]


@pytest.mark.parametrize("tau", [1, 4, 16])
def test_drop_is_d2l_and_pad_keeps_every_label_with_zeros_before(tau):
    _, x = sine_series(T=200)
    features, labels = ar_features(x, tau, "drop")
    expected_f, expected_l = d2l_features(x, tau)
    assert np.array_equal(features, expected_f) and np.array_equal(labels, expected_l)
    padded, all_labels = ar_features(x, tau, "pad")
    assert padded.shape == (200, tau) and np.array_equal(all_labels, x)
    assert np.array_equal(padded[tau:], features)  # past the first τ, pad and drop agree
    for i in range(tau):  # the first τ rows: zeros where the history is missing
        assert np.array_equal(padded[i, : tau - i], np.zeros(tau - i))
        assert np.array_equal(padded[i, tau - i :], x[:i])


def test_the_bundled_airline_series():
    series = load_series("airline")
    assert len(series) == 144 and series.column == "Passengers"
    assert series.values[0] == 112 and series.values[-1] == 432
    assert series.labels[0] == "1949-01" and series.period_hint == 12
    assert detect_period(series.values[:110]) == 12  # found, not only hinted


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("Date,V\n2020-01,1\n2020-02,\n2020-03,2\n", "", "row 3 of s.csv, column 'V' is empty"),
        ("Date,V\n2020-01,1\n2020-02,abc\n2020-03,2\n", "", "'abc' is not a number"),
        ("Date,V\n2020-01,1\n2020-02,nan\n2020-03,2\n", "", "'nan' is not a finite number"),
        ("a,b\n1,2\n3,4\n5,6\n", "", "several numeric columns (a, b): name the one to use"),
        ("a,b\n1,2\n3,4\n5,6\n", "c", "no column 'c' in s.csv (its columns: a, b)"),
        ("name,city\nx,y\nz,w\n", "", "no numeric column"),
        ("V\n1\n2\n", "", "has 2 values: a series needs at least 3"),
        ("V\n1\n", "", "has 1 value: a series needs at least 3"),
        ("V\n", "", "no data rows"),
        # A blank line between rows is a gap, as an empty cell is (one column has no comma).
        ("V\n1\n2\n\n3\n4\n", "", "line 4 of s.csv is blank: a gap in the series"),
        ("v,v\n1,2\n3,4\n5,6\n", "v", "s.csv has 2 columns named 'v'"),
        # An unquoted thousands comma shifts the cells: 1,234 was read as 1 without a word.
        ("Month,V\n2001-01,999\n2001-02,1,234\n2001-03,1,5\n", "", "row 3 of s.csv has 3 cells"),
        # Without a header too: most rows' width is the file's (not the widest row's).
        (
            "2001-01,999\n2001-02,1,234\n2001-03,15\n2001-04,16\n",
            "",
            "row 2 of s.csv has 3 cells but most rows have 2 (a number written with a comma",
        ),
        ("5\n6\n1,234\n7\n", "", "row 3 of s.csv has 2 cells but most rows have 1"),
        # Separated by semicolons (decimal commas): one column of text, with a hint.
        (
            "date;value\n2020-01;5,5\n2020-02;6\n2020-03;7\n",
            "",
            "s.csv looks separated by ';', not commas: save it as CSV, cells separated by "
            "commas and decimals written with a point (5.5, not 5,5)",
        ),
        ("date;value\n2020-01;5\n2020-02;6\n", "value", "looks separated by ';', not commas"),
        ("date\tvalue\n2020-01\t5\n2020-02\t6\n", "", "looks separated by tabs, not commas"),
        # Without a header the decimal comma split each row in two: "7" of "103,7" became the
        # value and "2020-01-01;103" its label, and the series trained without a word.
        ("2020-01-01;103,7\n2020-01-02;106,4\n2020-01-03;109,1\n", "", "separated by ';'"),
        ("2020-01-01\t103,7\n2020-01-02\t106,4\n2020-01-03\t109,1\n", "", "by tabs"),
        # A first row labelled like the rows below is a point: its empty or "NA" value is a gap,
        # not the name of the value column (which dropped the point without a word).
        ("1949-01,NA\n1949-02,101\n1949-03,102\n1949-04,103\n", "", "row 1 of s.csv"),
        ("1949-01,\n1949-02,101\n1949-03,102\n1949-04,103\n", "", "row 1 of s.csv, column"),
        # A quote never closed swallowed the rest of the file: "no data rows" named nothing.
        ('"v\n1\n2\n', "", 'line 1 of s.csv opens a quote (") that is never closed'),
        ('a,v\n1,"2\n3,4\n5,6\n', "", 'line 2 of s.csv opens a quote (") that is never closed'),
        ('v\n1\n"2"x\n3\n', "", "line 3 of s.csv is not CSV (',' expected after '\"')"),
    ],
)
def test_csv_problems_are_one_line_naming_row_and_column(text, column, fragment):
    with pytest.raises(DataError) as exc:
        parse_csv(text, "s.csv", column)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_empty_cells_past_the_header_are_no_extra_cells():
    # Spreadsheets end rows with commas; only a filled cell past the header is refused.
    series = parse_csv("Month,V,\n2001-01,5,,\n2001-02,6,\n2001-03,7\n", "s.csv")
    assert list(series.values) == [5, 6, 7]


def test_blank_lines_around_the_rows_are_no_gap():
    series = parse_csv("\n\nV\n1\n2\n3\n\n\n", "s.csv")
    assert series.values.tolist() == [1.0, 2.0, 3.0]


def test_a_csv_with_too_many_rows_is_refused_as_soon_as_it_is_known(monkeypatch):
    # 8M rows were parsed whole (13 s, 2.7 GB) before the count was checked. Row 20 here is
    # beyond what csv reads in a field: a reader that stops at the limit never gets there.
    from rnn_tui.data import series_files

    monkeypatch.setattr(series_files, "MAX_POINTS", 10)
    text = "V\n" + "".join(f"{i}\n" for i in range(18)) + "9" * 200_000 + "\n1\n"
    with pytest.raises(DataError, match="s.csv has more than 10 rows, the most a series may"):
        parse_csv(text, "s.csv")
    assert len(parse_csv("V\n" + "1\n" * 10, "s.csv").values) == 10


def test_a_csv_column_by_name_any_case_and_dates_as_labels():
    series = parse_csv("Month,Sales,Cost\n2001-01,5,1\n2001-02,6,2\n2001-03,7,3\n", "s", "sales")
    assert series.column == "Sales" and list(series.values) == [5, 6, 7]
    assert series.labels == ("2001-01", "2001-02", "2001-03") and series.period_hint == 12


def test_a_file_of_bare_values_has_no_header_and_loses_no_point():
    # Its first value was taken as the column's name: point 1 dropped without a word.
    series = parse_csv("".join(f"{i % 7}\n" for i in range(100)), "s.txt")
    assert series.column == "column 1" and len(series.values) == 100
    assert list(series.values[:3]) == [0, 1, 2]
    dated = parse_csv("2001-01,5\n2001-02,6\n2001-03,7\n", "s.csv")
    assert list(dated.values) == [5, 6, 7] and dated.labels[0] == "2001-01"
    assert dated.period_hint == 12
    # Rows are counted from the file's first line.
    with pytest.raises(DataError, match="row 3 of s.csv, column 'column 2' is empty"):
        parse_csv("2001-01,1\n2001-02,2\n2001-03,\n2001-04,4\n", "s.csv")
    both = parse_csv("1,2\n3,4\n5,6\n", "s.csv", "column 2")
    assert list(both.values) == [2, 4, 6]
    # A header whose names are words stays a header, numeric cells below or not.
    assert parse_csv("year,V\n2019,1\n2020,2\n2021,3\n", "s", "V").column == "V"


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=3, max_size=40))
@settings(max_examples=50, deadline=None)
def test_bare_values_come_back_every_one(values):
    series = parse_csv("".join(f"{v!r}\n" for v in values), "s.txt")
    assert list(series.values) == values


def test_a_series_without_a_label_column_is_numbered_from_one():
    # Made when read: a million labels made up front held the GIL for 110–270 ms.
    series = parse_csv("V\n" + "".join(f"{i}.5\n" for i in range(1_000)), "s.csv")
    labels = series.labels
    assert isinstance(labels, PointNumbers) and len(labels) == 1_000
    assert (
        labels[0] == "1" and labels[999] == labels[-1] == "1000" and labels[3:6] == ("4", "5", "6")
    )
    assert list(labels)[:3] == ["1", "2", "3"] and "17" in labels and "0" not in labels
    assert labels == tuple(str(i) for i in range(1, 1_001)) and labels == PointNumbers(1_000)
    assert labels != ("1",) and labels != PointNumbers(999) and series.period_hint is None
    with pytest.raises(IndexError):
        labels[1_000]
    assert load_series("sine", length=7).labels == ("1", "2", "3", "4", "5", "6", "7")


def test_a_csv_read_again_unchanged_is_not_parsed_again(tmp_path, monkeypatch):
    # The Forecast screen reads the series for each model's view after every epoch: a million
    # rows took 1.2 s to parse each time.
    from rnn_tui.data import series_files

    parsed = []
    parse = series_files.parse_csv
    monkeypatch.setattr(
        series_files, "parse_csv", lambda *a, **k: (parsed.append(a[1:3]), parse(*a, **k))[1]
    )
    path = tmp_path / "s.csv"
    path.write_text("t,a,b\n1,1.5,7\n2,2.5,8\n3,3.5,9\n")
    first = load_series(str(path), "a")
    again = load_series(str(path), "a")
    assert again is first and len(parsed) == 1
    with pytest.raises(ValueError, match="read-only"):
        first.values[0] = 0.0
    assert list(load_series(str(path), "b").values) == [7, 8, 9] and len(parsed) == 2
    path.write_text("t,a,b\n1,1.5,7\n2,2.5,8\n3,4.5,9\n")  # the same size, one digit changed
    assert list(load_series(str(path), "a").values) == [1.5, 2.5, 4.5] and len(parsed) == 3


def test_the_transform_is_fitted_on_the_training_part_only():
    x = np.arange(1.0, 101.0)
    fitted = SeriesTransform.fit(x, 60, log=False, diff=False, scale=True)
    assert fitted.mean == pytest.approx(x[:60].mean()) and fitted.std == pytest.approx(x[:60].std())
    changed = x.copy()
    changed[60:] *= 100  # the held-out tail changes nothing that was fitted
    assert SeriesTransform.fit(changed, 60, False, False, True) == fitted
    huge = np.array([1e308, -1e308, 1e308, 2.0])
    with pytest.raises(DataError, match="too large to difference or scale"):
        SeriesTransform.fit(huge, 4, log=False, diff=True, scale=True)
    with pytest.raises(DataError, match="log transform needs every value above 0"):
        SeriesTransform.fit(np.array([1.0, 0.0, 2.0]), 3, log=True, diff=False, scale=False)


def test_values_too_large_for_float32_name_the_cause_and_the_scaling_that_works():
    # Unscaled, undifferenced values near 1e30 were "too large to difference or scale in
    # float64": nothing had been, and --scale auto trains them.
    x = 3e30 + 1e30 * np.sin(np.arange(200) / 5)
    raw = SeriesTransform.fit(x, 150, log=False, diff=False, scale=False)
    with pytest.raises(DataError) as refused:
        raw.forward(x)
    said = str(refused.value)
    assert said.startswith("the series' values, as they are, reach 4e+30: too large for the")
    assert "float32" in said and "--scale auto" in said and "difference" not in said
    assert np.abs(SeriesTransform.fit(x, 150, False, False, True).forward(x)).max() < 3
    # Scaled, a held-out part far outside the training part's range: no --scale to suggest.
    y = np.concatenate([np.sin(np.arange(150.0)), np.full(50, 1e31)])
    with pytest.raises(DataError, match=r"^the scaled series reaches .*outside the training"):
        SeriesTransform.fit(y, 150, False, False, True).forward(y)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0.5, 1e4), min_size=8, max_size=40),
    log=st.booleans(),
    diff=st.booleans(),
    scale=st.booleans(),
    k=st.integers(1, 4),
)
def test_levels_undo_the_transform_exactly(values, log, diff, scale, k):
    # The true z paths, turned back into levels, are the series itself.
    x = np.array(values)
    transform = SeriesTransform.fit(x, len(x) // 2 + 1, log, diff, scale)
    z = transform.forward(x)
    starts = np.arange(len(z) - k)  # z[s+1 … s+k] from the values up to z[s]
    paths = np.stack([z[s + 1 : s + 1 + k] for s in starts])
    anchors = x[starts + transform.offset]  # the last value observed before each path
    levels = transform.levels(paths, anchors)
    expected = np.stack(
        [x[s + 1 + transform.offset : s + 1 + transform.offset + k] for s in starts]
    )
    np.testing.assert_allclose(levels, expected, rtol=1e-9, atol=1e-9)


def test_naive_and_seasonal_naive():
    x = np.arange(100.0)
    targets = np.array([50, 60])
    assert list(naive_forecast(x, targets, 1)) == [49, 59]
    assert list(naive_forecast(x, targets, 4)) == [46, 56]
    assert list(seasonal_naive_forecast(x, targets, 1, 12)) == [38, 48]
    assert list(seasonal_naive_forecast(x, targets, 13, 12)) == [26, 36]  # two seasons back
    t = np.arange(240)
    assert detect_period(np.sin(2 * np.pi * t / 12) + 0.01 * t) == 12
    assert detect_period(np.random.default_rng(0).normal(size=240)) is None


def period_by_loop(x: np.ndarray) -> int | None:
    """The module docstring's rule as written: every lag's autocorrelation, the first highest
    local maximum above 0.3 and 2/√n."""
    d = np.diff(np.asarray(x, dtype=np.float64))
    if len(d) < 8:
        return None
    d = d - d.mean()
    if float(d @ d) <= 0:
        return None

    def acf(lag: int) -> float:
        return float(d[:-lag] @ d[lag:]) / float(d @ d)

    best, best_acf = None, max(0.3, 2 / len(d) ** 0.5)
    for lag in range(2, len(d) // 3 + 1):
        value = acf(lag)
        if value > best_acf and value > acf(lag - 1) and value >= acf(lag + 1):
            best, best_acf = lag, value
    return best


def test_a_smooth_series_without_a_season_has_none():
    # Its autocorrelation decays from lag 1 on: the largest at lags ≥ 2 is lag 2, no peak
    # (it was taken as a season of 2).
    i = np.arange(160)
    assert detect_period(np.sin(i / 10)) is None
    assert fft_period(np.sin(i / 10)) is None
    # Long enough for a whole cycle in n/3: its true period, 20π ≈ 62.8.
    i = np.arange(800)
    assert detect_period(np.sin(i / 10)) == fft_period(np.sin(i / 10)) == 63
    assert detect_period(np.exp(np.arange(100) / 50)) is None  # a smooth trend


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=2, max_size=12),
    st.integers(1, 40),
    st.lists(st.integers(-1, 1), min_size=0, max_size=400),
)
def test_a_long_series_finds_the_season_the_exact_loop_finds(season, repeats, noise):
    # A million points took 16 s one lag at a time; the FFT path must choose the same lag.
    x = np.array(season * repeats, dtype=np.float64)
    x[: len(noise)] += np.array(noise[: len(x)], dtype=np.float64)
    assert fft_period(x) == period_by_loop(x)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-2, 2), min_size=9, max_size=40))
def test_equal_peaks_go_to_the_first_lag_as_in_the_loop(values):
    # Short integer series: equal autocorrelations at several lags, and values at 0.3 exactly.
    x = np.array(values, dtype=np.float64)
    assert fft_period(x) == period_by_loop(x)


@pytest.mark.parametrize(
    ("values", "period"),
    [
        ([0, -2, 0, 0, 2, 2, 1, -2, 2, 0, 2, -2, 1, -2, 2, -2, -2, -2, 1, -2, 1, 0], 4),  # 4, 6 tie
        (
            [-1, 2, -1, 0, 0, 2, -1, 1, -2, 0, 0, -1, 0, 1, 1, -2, 0, -2, 1, -2]
            + [1, 1, 1, 2, -2, -1, -2, 0, -1],
            2,  # 2 and 9 tie
        ),
    ],
)
def test_of_equal_highest_peaks_the_first_lag_is_the_season(values, period):
    x = np.array(values, dtype=np.float64)
    assert period_by_loop(x) == period and fft_period(x) == period and detect_period(x) == period


def fft_period(x: np.ndarray) -> int | None:
    from rnn_tui.data import series_baselines

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(series_baselines, "EXACT_UP_TO", 0)  # the FFT path at any length
        return detect_period(x)


def test_a_million_point_series_finds_its_season():
    t = np.arange(1_000_000)
    assert detect_period(np.sin(2 * np.pi * t / 24) + 1e-3 * t) == 24
    assert detect_period(np.random.default_rng(3).normal(size=len(t))) is None


def test_forecast_errors_and_the_winner():
    errors = forecast_errors(np.array([2.0, 4.0]), np.array([1.0, 2.0]))
    assert errors == {"mse": 2.5, "rmse": pytest.approx(2.5**0.5), "mape": 100.0}
    assert forecast_errors(np.array([1.0]), np.array([0.0]))["mape"] is None
    assert winner({"mlp": 0.3, "naive": 0.2, "seasonal_naive": None}) == "naive"
    assert winner({"mlp": None}) is None


def test_the_winner_ignores_a_nan_or_infinite_rmse():
    """A diverged model's RMSE (NaN, inf) never wins: min() over a NaN keeps whatever came
    first, so it must be left out before."""
    assert winner({"mlp": float("nan"), "naive": 0.2, "seasonal_naive": 0.3}) == "naive"
    assert winner({"mlp": float("inf"), "naive": None}) is None


def test_a_csv_is_read_without_an_object_per_row_for_the_collector(monkeypatch):
    # A list per row (a million for the largest series) made every full collection walk them
    # all, and a worker's collection holds the app's event loop (136–259 ms seen).
    import gc

    from rnn_tui.data import series_files

    text = "month,value\n" + "".join(f"1949-{i % 12 + 1:02d},{i}.5\n" for i in range(20_000))
    number, seen = series_files.number, []

    def counting(cell: str):
        if cell == "19999.5":  # the last value: every row has been read
            seen.append(len(gc.get_objects()) - before)
        return number(cell)

    monkeypatch.setattr(series_files, "number", counting)
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        series = parse_csv(text, "s.csv")
    finally:
        gc.enable()
    assert len(series) == 20_000 and series.values[3] == 3.5 and series.labels[13] == "1949-02"
    assert seen and max(seen) < 1_000


@pytest.mark.parametrize("year", ["9" * 5000, "²"], ids=["5000-digits", "superscript"])
def test_labels_that_int_refuses_are_not_months(year):
    """str.isdigit() passed them and int() raised (past 4,300 digits, or "²"): a traceback
    from `rnn-tui train --task forecast`. They are simply not monthly labels."""
    text = "month,value\n" + "".join(f"{year}-{i % 12 + 1:02d},{i}\n" for i in range(30))
    series = parse_csv(text, "s.csv")
    assert len(series.values) == 30 and series.period_hint is None
    monthly = "month,value\n" + "".join(
        f"19{49 + i // 12}-{i % 12 + 1:02d},{i}\n" for i in range(30)
    )
    assert parse_csv(monthly, "s.csv").period_hint == 12


def test_labels_past_month_12_are_not_monthly_dates():
    # "2020-0" … "2020-199" went one "month" apart and were taken as monthly: a season of 12.
    text = "t,v\n" + "".join(f"2020-{i},{i % 5}\n" for i in range(200))
    assert parse_csv(text, "s.csv").period_hint is None
    text = "t,v\n" + "".join(f"2020-{i},{i % 5}\n" for i in range(1, 13))
    assert parse_csv(text, "s.csv").period_hint == 12


def test_a_header_may_name_its_value_column_with_a_number():
    # "month,2019" was read as a point (the value 2019 labelled "month"): the rows below are
    # labelled with dates, and "month" is not one.
    series = parse_csv("month,2019\n2019-01,5\n2019-02,6\n2019-03,7\n", "s.csv")
    assert series.values.tolist() == [5.0, 6.0, 7.0]
    assert series.column == "2019" and series.labels == ("2019-01", "2019-02", "2019-03")
    assert parse_csv("month,2019\n2019-01,5\n2019-02,6\n2019-03,7\n", "s.csv", "2019").column


def test_a_first_row_of_data_is_still_a_point():
    series = parse_csv("1949-01,112\n1949-02,118\n1949-03,132\n", "s.csv")
    assert series.values.tolist() == [112.0, 118.0, 132.0] and series.period_hint == 12
    series = parse_csv("Jan,5\nFeb,6\nMar,7\n", "s.csv")  # labels without digits
    assert series.values.tolist() == [5.0, 6.0, 7.0]


def test_lone_carriage_returns_end_lines():
    series = parse_csv("value\r1\r2\r3\r", "s.csv")
    assert series.values.tolist() == [1.0, 2.0, 3.0]
    assert parse_csv("d,v\r\n1949-01,1\r\n1949-02,2\r\n1949-03,3\r\n", "s.csv").period_hint == 12


@pytest.mark.parametrize("size", [1e-13, 1e-30, 1e-200, 1.0, 1e12])
def test_scaling_is_relative_to_the_values_size(size):
    # An absolute floor (std > 1e-12) left a series of 1e-13 · sin unscaled: the models then
    # learnt the constant it looked like.
    x = size * (1 + 0.5 * np.sin(np.arange(200) / 3))
    t = SeriesTransform.fit(x, 150, log=False, diff=False, scale=True)
    z = t.forward(x)
    assert 0.9 < z[:150].std() < 1.1 and abs(z[:150].mean()) < 1e-9
    assert np.allclose(z * t.std + t.mean, x, rtol=1e-9, atol=0)


def test_a_flat_training_part_is_centred_only():
    x = np.full(100, 1e6)
    t = SeriesTransform.fit(x, 80, log=False, diff=False, scale=True)
    assert (t.mean, t.std, t.flat) == (1e6, 1.0, True)
    # Its differences are float rounding (±5e-17), flat beside values of 0.3: they were scaled
    # up to ±1 when flatness was judged by the differences' mean, about 0.
    t = SeriesTransform.fit(np.array([0.3, 0.1 + 0.2] * 50), 80, log=False, diff=True, scale=True)
    assert t.flat and t.std == 1.0
    # A spread of exactly 1 is no flat part ("which is flat: not scaled" was said of it).
    t = SeriesTransform.fit(np.tile([1.0, 3.0], 100), 156, log=False, diff=False, scale=True)
    assert t.std == 1.0 and not t.flat
    assert not SeriesTransform.fit(x, 80, log=False, diff=False, scale=False).flat


def test_mape_is_none_when_any_true_value_is_zero():
    """100·mean|x̂ − x|/|x| is undefined as soon as ONE true value is 0, not only when all are."""
    errors = forecast_errors(np.array([1.0, 3.0]), np.array([0.0, 2.0]))
    assert errors["mape"] is None
    assert errors["mse"] == 1.0 and errors["rmse"] == 1.0


def test_seasonal_naive_is_scored_once_a_whole_season_precedes_the_first_target():
    """x̂_{t+k} = x_{t+k−m⌈k/m⌉} needs index ≥ 0: at exactly m⌈k/m⌉ points of history the
    baseline exists (it reads x[0]); one point fewer and it would wrap to the series' end."""
    x = np.array([1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 4.0, 5.0, 3.0])
    period = 4
    targets = np.array([4, 5, 6, 7, 8])  # targets[0] - 4·⌈1/4⌉ = 0
    out = baseline_errors(x, targets, [1, 4, 5], period)
    assert sorted(out["naive"]) == [1, 4, 5]
    # k = 1 and k = 4 look one season back (x[0..4]); k = 5 needs two seasons: not available.
    assert sorted(out["seasonal_naive"]) == [1, 4]
    # Each seasonal forecast is the value a season earlier: +1 everywhere, so MSE 1, MAPE by hand.
    assert out["seasonal_naive"][1]["mse"] == 1.0
    expected_mape = 100 * np.mean([1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 3])
    assert out["seasonal_naive"][1]["mape"] == pytest.approx(expected_mape)
    # One point less history: no seasonal baseline at all.
    assert baseline_errors(x[1:], targets - 1, [1], period)["seasonal_naive"] == {}


def test_a_column_is_named_by_its_place_where_two_share_a_name():
    # "has 2 columns named 'value'" was a dead end: no other way to name either.
    text = "date,value,value\n2020-01,1,5\n2020-02,2,6\n2020-03,3,7\n"
    with pytest.raises(DataError, match=r"name one by its place \(column 2 or column 3\)$"):
        parse_csv(text, "s.csv", "value")
    assert parse_csv(text, "s.csv", "column 3").values.tolist() == [5.0, 6.0, 7.0]
    assert parse_csv(text, "s.csv", "Column 2").values.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(DataError, match="no column 'column 4'"):
        parse_csv(text, "s.csv", "column 4")


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@pytest.mark.parametrize(
    "text, column, values",
    [
        # A header whose label cell names a label column, above labels of any kind.
        ("month,2019\n" + "".join(f"{m},{i}\n" for i, m in enumerate(MONTHS)), "2019", 12),
        ("Date,2019\n1/5/2019,1\n1/15/2019,2\n10/5/2019,3\n10/15/2019,4\n", "2019", 4),
        # What pandas writes for an unnamed series: an empty label above the value 0.
        (",0\n" + "".join(f"{m},{i}\n" for i, m in enumerate(MONTHS)), "0", 12),
        (",0\n1/1/2019,100\n1/15/2019,101\n2/1/2019,102\n2/15/2019,103\n", "0", 4),
        # A nameless index column counting up (pandas' to_csv) is not a second series.
        (",value\n0,1.5\n1,2.5\n2,3.5\n", "value", 3),
        # Words below words: the first row is a point.
        ("Dec,112\nJan,118\nFeb,132\nMar,129\n", "column 2", 4),
    ],
)
def test_a_first_row_is_read_as_a_person_reads_it(text, column, values):
    # Each of the first four was read with its header as a point: 13 points, the first 2019.
    series = parse_csv(text, "s.csv")
    assert series.column == column and len(series) == values


@pytest.mark.parametrize(
    "text, fragment",
    [
        (",112\n1949-02,118\n1949-03,132\n1949-04,129\n", "Its label is empty"),
        ("NA,1\n2020-01-02,2\n2020-01-03,3\n2020-01-04,4\n", "not a date like those below"),
        ("start,0\n2020-01-02,2\n2020-01-03,3\n2020-01-04,4\n", "add a header row above it"),
        ("Date,Close\n" + "".join(f"2020-01-{d:02d},{d}\n" for d in range(31, 0, -1)),
         "runs newest first (2020-01-31 down to 2020-01-01)"),
        ("date|value\n2020-01|1\n2020-02|2\n2020-03|3\n", "looks separated by '|'"),
    ],
)  # fmt: skip
def test_a_first_row_that_could_be_either_is_refused(text, fragment):
    # Each of these dropped its first point (or read a year's dates backwards) without a word.
    with pytest.raises(DataError, match=re.escape(fragment)):
        parse_csv(text, "s.csv")


def test_a_header_names_its_columns_even_where_two_are_years():
    text = "month,2019,2020\nJan,112,115\nFeb,118,126\nMar,132,141\n"
    assert parse_csv(text, "s.csv", "2019").values.tolist() == [112.0, 118.0, 132.0]
    # A name matches before a place does.
    assert parse_csv("Column 2,b\n1,2\n3,4\n5,6\n", "s.csv", "column 2").column == "Column 2"


def test_an_empty_column_a_spreadsheet_adds_labels_nothing():
    series = parse_csv("value,\n1,\n2,\n3,\n", "s.csv")
    assert series.labels == PointNumbers(3)


@pytest.mark.parametrize(
    "other",
    ['"1;2"', "1|10", "shift; 2"],
)
def test_another_mark_in_another_column_is_read(other):
    # A list of ids, a score or a note in a third column was taken for a file separated by it.
    text = "date,value,more\n" + "".join(f"2020-01-{d:02d},{d},{other}\n" for d in range(1, 20))
    assert parse_csv(text, "s.csv", "value").values.tolist() == list(map(float, range(1, 20)))
    labelled = "label,value\n" + "".join(f"a|{d},{d}\n" for d in range(1, 20))
    assert len(parse_csv(labelled, "s.csv", "value")) == 19


@pytest.mark.parametrize("layout", ["%m/%d/%Y", "%b %d, %Y", "%d-%m-%Y", "%Y-%m-%d"])
def test_dates_newest_first_are_refused_in_the_layouts_exports_use(layout):
    # Only year-first dates were checked: a Nasdaq export (02/29/2020 down to 01/01/2020)
    # trained on its latest values and was scored on its earliest.
    import datetime

    days = [datetime.date(2020, 2, 29) - datetime.timedelta(days=i) for i in range(40)]
    newest = "Date,Price\n" + "".join(f'"{d.strftime(layout)}",{i}\n' for i, d in enumerate(days))
    with pytest.raises(DataError, match="runs newest first"):
        parse_csv(newest, "s.csv")
    oldest = "Date,Price\n" + "".join(
        f'"{d.strftime(layout)}",{i}\n' for i, d in enumerate(reversed(days))
    )
    assert len(parse_csv(oldest, "s.csv")) == 40
