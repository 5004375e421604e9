"""The series a forecast trains on: the seeds' sine wave, the bundled airline passengers, or one
numeric column of any CSV file.

A CSV is read strictly, since a forecast from a silently mangled series is worse than none: a
header row names the columns (a first row of numbers is data: the columns are then "column 1",
"column 2", …); one column holds the values (`column`, by its name or its place, "column 3";
or the only numeric one);
a first column of dates or times is optional and only labels the points. Every problem is one
DataError naming the file, the row and the column: a missing column, an empty cell (a gap in the
series), a cell that is not a finite number, a row with more cells than the header, too few
values.
"""

from __future__ import annotations

import array
import csv
import hashlib
import itertools
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.data.errors import DataError
from rnn_tui.data.series_columns import (
    SNIFF_ROWS,
    first_row_is_data,
    label_column,
    number,
    refuse_newest_first,
    refuse_other_separator,
    value_column,
)
from rnn_tui.data.sources import read_bundled, read_path_pieces
from rnn_tui.data.timeseries import sine_series

SINE = "sine"
AIRLINE = "airline"
BUNDLED_SERIES = (SINE, AIRLINE)
MIN_POINTS = 3
MAX_POINTS = 1_000_000  # a latent model's held-out scoring steps through each point


class PointNumbers(Sequence[str]):
    """The labels "1" … "n" of a series without a label column, each made when it is read.
    Made up front, a million of them were one C loop that held the GIL for 110–270 ms (the
    Forecast screen's event loop stalled while its worker read the series) and 60 MB."""

    def __init__(self, n: int) -> None:
        self._numbers = range(1, n + 1)

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, i):  # an index, or a slice (a tuple)
        if isinstance(i, slice):
            return tuple(map(str, self._numbers[i]))
        return str(self._numbers[i])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PointNumbers):
            return self._numbers == other._numbers
        return isinstance(other, tuple) and len(other) == len(self) and tuple(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PointNumbers({len(self)})"


@dataclass(frozen=True)
class Series:
    """A univariate series: its values (float64), a label per point (dates, or t = 1..T), where
    it came from and the name of its value column, and the season length its source implies
    (12 for monthly data) or None."""

    name: str
    column: str
    values: np.ndarray
    labels: Sequence[str]  # a tuple, or PointNumbers
    period_hint: int | None = None

    def __len__(self) -> int:
        return len(self.values)


def load_series(
    source: str,
    column: str = "",
    *,
    length: int = 1000,
    noise: float = 0.2,
    seed: int = 0,
    encoding: str = "utf-8",
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Series:
    """`sine` (x_t = sin(0.01 t) + N(0, noise), t = 1..length, noise drawn with `seed`),
    `airline`, or the CSV file `source` (its column `column`, or its only numeric one);
    `progress(rows read, rows)` now and then while a file's rows are read."""
    if source == SINE:
        if column:  # a column asked of a series that has none would be silently ignored
            raise DataError(
                f"the sine series has no columns (column {column[:60]!r} asked): a column "
                "is for airline or a CSV file"
            )
        _, x = sine_series(length, noise, seed)
        return Series(SINE, "x", x.astype(np.float64), PointNumbers(len(x)))
    if source == AIRLINE:
        text = read_bundled("series", "airline.csv")
        return parse_csv(text, AIRLINE, column or "Passengers")
    if not str(source).strip():
        raise DataError("no series named: give sine, airline or the path of a CSV file")
    pieces = read_path_pieces(source, encoding, what="series file", cancelled=cancelled)
    # The same text read again (the Forecast screen's view after every epoch, of each model)
    # is not parsed again: a million rows take 1.2 s (0.04 s to read and hash again).
    key = (_digest(pieces), str(source), column)
    with _parsed_lock:
        if _parsed and _parsed[0] == key:
            return _parsed[1]
    series = parse_csv(pieces, str(source), column, progress=progress)
    with _parsed_lock:
        _parsed[:] = [key, series]
    return series


# Characters one string operation (a hash, a split, a line-end change) is given at a time: each
# holds the GIL, and the Forecast screen's event loop waits on the worker reading a series (one
# 100 MB StringIO held it 168 ms, the text's encoding for its hash 57 ms).
WINDOW = 1 << 20


def _digest(pieces: Sequence[str]) -> bytes:
    """The BLAKE2b digest of the text in `pieces`, in UTF-8, a WINDOW at a time."""
    h = hashlib.blake2b()
    for text in pieces:
        for start in range(0, len(text), WINDOW):
            h.update(text[start : start + WINDOW].encode("utf-8", "surrogatepass"))
    return h.digest()


def _csv_lines(pieces: Sequence[str]) -> Iterator[str]:
    """The lines of the text in `pieces` (never joined), each with its "\n", with "\r\n" and
    lone "\r" line ends (old Mac exports) read as "\n", as csv's reader wants them (corpora
    and pairs files read them too). Only "\n" and "\r" end a line: str.splitlines would also
    cut at form feeds and U+2028 inside a cell. A piece's unfinished last line (or its final
    "\r", which a "\n" may follow) is carried to the next."""
    carry = ""
    for i, piece in enumerate(pieces):
        text = carry + piece if carry else piece
        if i == len(pieces) - 1:
            yield from _window_lines(text)
            return
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut == len(text) - 1 and text[cut] == "\r":
            cut = max(text.rfind("\n", 0, cut), text.rfind("\r", 0, cut))
        yield from _window_lines(text[: cut + 1])
        carry = text[cut + 1 :]


def _window_lines(text: str) -> Iterator[str]:
    """`_csv_lines` of one string, cut a WINDOW at a time after a line end."""
    start, n = 0, len(text)
    while start < n:
        stop = start + WINDOW
        if stop >= n:
            end = n
        else:
            cut = max(text.rfind("\n", start, stop), text.rfind("\r", start, stop))
            if cut < 0:  # a line longer than a window: to its end
                ends = [i for i in (text.find("\n", stop), text.find("\r", stop)) if i >= 0]
                cut = min(ends) if ends else n - 1
            if text.startswith("\r\n", cut):
                cut += 1  # a "\r\n" is never cut in two
            end = cut + 1
        piece = text[start:end]
        if "\r" in piece:
            piece = piece.replace("\r\n", "\n").replace("\r", "\n")
        lines = piece.split("\n")
        for line in lines[:-1]:
            yield line + "\n"
        if lines[-1]:
            yield lines[-1]
        start = end


_parsed: list = []  # [key, Series] of the last CSV parsed (the values are never written to)
_parsed_lock = threading.Lock()


PROGRESS_ROWS = 65_536  # rows between two progress reports (a million take ~4 s)


def parse_csv(
    text: str | Sequence[str],
    label: str,
    column: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Series:
    """The series in CSV `text` (see the module docstring), or in the pieces of it a file is
    read as (`read_path_pieces`); `label` names it in messages; `progress(rows read, lines)`
    every PROGRESS_ROWS rows.

    The rows are read one at a time and only the value and label cells kept: a list per row
    (a million for the largest series) made the collector walk them all, and the app, whose
    workers read series, waited on those walks (136–259 ms)."""
    pieces = [text] if isinstance(text, str) else text
    rows = _filled_rows(pieces, label)
    try:
        header = [cell.strip() for cell in next(rows, [])]
        sniffed = list(itertools.islice(rows, min(SNIFF_ROWS, MAX_POINTS + 1)))
        number_of_first = 2  # the first data row is the file's second
        refuse_other_separator([header, *sniffed], label)
        if first_row_is_data(header, sniffed, label):
            # A file of bare values (one a line, or dates and values) has no header: taking its
            # first row as the column names dropped that point without a word.
            sniffed.insert(0, header)
            # As wide as most of its rows: one row's "1,234" made a third column, and the
            # file was refused for having "several numeric columns".
            widths = Counter(_filled_width(row) for row in sniffed)
            width = max(widths, key=lambda w: (widths[w], -w))
            header = [f"column {i + 1}" for i in range(width)]
            number_of_first = 1
        if not sniffed:
            raise DataError(
                f"{label} has no data rows: a header row and one row per point are needed"
            )
        index = value_column(header, sniffed, label, column)
        by = label_column(header, sniffed, index)
        values = array.array("d")
        labels: list[str] = []
        # Rows, blank ones too (lone "\r" line ends counted where the file has no "\n").
        lines = _line_count(pieces) + 1 if progress is not None else 0
        for r, row in enumerate(itertools.chain(sniffed, rows)):
            if progress is not None and r % PROGRESS_ROWS == 0 and r:
                progress(min(r, lines - 1), lines)
            # Refused as soon as it is known: 8M rows read whole took 13 s and 2.7 GB.
            if r >= MAX_POINTS:
                raise DataError(
                    f"{label} has more than {MAX_POINTS:,} rows, the most a series may have"
                )
            where = f"row {r + number_of_first} of {label}"
            _check_width(row, len(header), where, headed=number_of_first == 2)
            values.append(_cell_value(row, index, where, header[index]))
            if by is not None:
                labels.append(row[by].strip() if by < len(row) else "")
    except csv.Error as exc:
        raise DataError(f"{label} is not a CSV file ({exc})") from None
    if len(values) < MIN_POINTS:
        count = f"{len(values)} value{'s' if len(values) != 1 else ''}"
        raise DataError(f"{label} has {count}: a series needs at least {MIN_POINTS}")
    if by is not None:
        refuse_newest_first(labels, label)
    shown = tuple(labels) if by is not None else PointNumbers(len(values))
    period = 12 if _monthly(shown) else None
    numbers = np.frombuffer(values, dtype=np.float64)
    numbers.flags.writeable = False  # a Series may be shared (load_series keeps the last one)
    return Series(label, header[index], numbers, shown, period)


def _line_count(pieces: Sequence[str]) -> int:
    """Line ends in `pieces`: "\n"s, or lone "\r"s where the text has no "\n"."""
    return sum(p.count("\n") for p in pieces) or sum(p.count("\r") for p in pieces)


def _filled_rows(pieces: Sequence[str], label: str) -> Iterator[list[str]]:
    """The CSV rows that hold something. Blank lines before the first and after the last are
    skipped; one between two rows is a gap in the series, refused as an empty cell is."""
    reader = csv.reader(_csv_lines(pieces), strict=True)
    started, blank = False, None
    for row in _rows(reader, label):
        if any(cell.strip() for cell in row):
            if blank is not None:
                raise DataError(
                    f"line {blank} of {label} is blank: a gap in the series "
                    "(fill or remove the line)"
                )
            started = True
            yield row
        elif started and blank is None:
            blank = reader.line_num


def _rows(reader, label: str) -> Iterator[list[str]]:
    """`reader`'s rows (a strict reader); a quote opened and never closed is named with its
    line. Read leniently, it swallowed the rest of the file into one cell, and the file "had
    no data rows"."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "end of data" in str(exc):
                raise DataError(
                    f'line {start} of {label} opens a quote (") that is never closed'
                ) from None
            raise DataError(f"line {start} of {label} is not CSV ({exc})") from None
        yield row


def _filled_width(row: list[str]) -> int:
    """The cells of `row` up to its last filled one (spreadsheets add empty ones)."""
    return max((i + 1 for i, cell in enumerate(row) if cell.strip()), default=0)


def _check_width(row: list[str], width: int, where: str, headed: bool) -> None:
    """DataError when `row` fills cells past `width` (the header's, or for a file without one
    most rows'): its cells would no longer line up with the columns (an unquoted "1,234" read
    as 1). Empty trailing cells, which spreadsheets write, are fine."""
    if len(row) > width and any(cell.strip() for cell in row[width:]):
        columns = f"the header names {width}" if headed else f"most rows have {width}"
        raise DataError(
            f"{where} has {_filled_width(row)} cells but {columns} "
            "(a number written with a comma, like 1,234? remove the comma or quote it)"
        )


def _cell_value(row: list[str], index: int, where: str, name: str) -> float:
    """The finite number in `row[index]`; DataError naming the row and column if it is not."""
    where = f"{where}, column {name!r}"
    cell = row[index].strip() if index < len(row) else ""
    if not cell:
        raise DataError(f"{where} is empty: a gap in the series (fill or remove the row)")
    value = number(cell)
    if value is None:
        raise DataError(f"{where}: {cell[:40]!r} is not a number")
    if not math.isfinite(value):
        raise DataError(f"{where}: {cell!r} is not a finite number")
    return value


def _monthly(labels: Sequence[str]) -> bool:
    """Labels like 1949-01 or 1949-01-01 (a month 1–12), one month apart throughout."""
    months = []
    for text in labels:
        parts = text.split("-")
        # isdecimal and short: int() refuses "²" and numbers past 4,300 digits.
        if len(parts) < 2 or not all(p.isdecimal() and len(p) <= 6 for p in parts[:2]):
            return False
        if not 1 <= int(parts[1]) <= 12:
            return False  # "2020-0" … "2020-199" count something else: no months
        months.append(int(parts[0]) * 12 + int(parts[1]))
    return len(months) > 1 and all(b - a == 1 for a, b in zip(months, months[1:], strict=False))


__all__ = [
    "AIRLINE",
    "BUNDLED_SERIES",
    "SINE",
    "PointNumbers",
    "Series",
    "load_series",
    "parse_csv",
]
