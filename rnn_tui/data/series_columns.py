"""Which row of a forecast's CSV names its columns, and which column holds what: the value
column (by name, by place, or the only numeric one), the label column (dates, months), the first
row read as a header or a point, and the layouts refused rather than read wrong (another
separator, dates newest first). See series_files.py for the reading itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from rnn_tui.data.errors import DataError

SNIFF_ROWS = 50  # rows that decide which columns are numbers
_PLACE = re.compile(r"column ([0-9]{1,7})")


def value_column(header: list[str], body: list[list[str]], label: str, column: str) -> int:
    if column:
        if header.count(column) > 1:
            places = " or ".join(
                f"column {i + 1}" for i, name in enumerate(header) if name == column
            )
            raise DataError(
                f"{label} has {header.count(column)} columns named {column!r}: name one by "
                f"its place ({places})"
            )
        if column in header:
            return header.index(column)
        lowered = [name.lower() for name in header]
        if column.lower() in lowered:
            return lowered.index(column.lower())
        place = _PLACE.fullmatch(column.strip().lower())
        if place and 1 <= int(place.group(1)) <= len(header):  # "column 3": by its place
            return int(place.group(1)) - 1
        raise DataError(
            f"no column {column!r} in {label} (its columns: {', '.join(header)})"
            + _separator_hint(header)
        )
    numeric = [i for i in range(len(header)) if _numeric_column(body, i)]
    if len(numeric) > 1:
        # A nameless column counting 0, 1, 2, … is an index (pandas' to_csv), not a series.
        numeric = [i for i in numeric if header[i] or not _counts_up(body, i)]
    if len(numeric) == 1:
        return numeric[0]
    if not numeric:
        raise DataError(
            f"{label} has no numeric column (its columns: {', '.join(header)})"
            + _separator_hint(header)
        )
    names = ", ".join(header[i] for i in numeric)
    raise DataError(
        f"{label} has several numeric columns ({names}): name the one to use as the column"
    )


_ADVICE = (
    "save it as CSV, cells separated by commas and decimals written with a point (5.5, not 5,5)"
)
_OTHER_SEPARATORS = ((";", "';'"), ("\t", "tabs"), ("|", "'|'"))


def refuse_other_separator(rows: list[list[str]], label: str) -> None:
    """DataError when the file reads as another separator's ("2020-01-01;103,7", as
    spreadsheets write where the comma is the decimal mark): read as CSV, "7" became the value
    and "2020-01-01;103" its label, without a word.

    Its rows are one or two cells, the first of which that mark splits into a label and a
    number (the second, where there is one, the digits after a decimal comma), in most rows;
    and a header row, if any, holds the mark too. A real CSV with a ';' or '|' in another
    column ("1;2" in a list of ids, a note "shift; 2") or in a header-labelled column is read."""
    header = rows[0] if rows and not any(ch.isdigit() for ch in "".join(rows[0])) else None
    for mark, name in _OTHER_SEPARATORS:
        if header is not None and mark not in header[0]:
            continue
        split = sum(_split_by(row, mark) for row in rows)
        if split * 2 > len(rows):
            raise DataError(f"{label} looks separated by {name}, not commas: {_ADVICE}")


def _split_by(row: list[str], mark: str) -> bool:
    """Whether `row` looks like a line of `mark`-separated cells that commas cut up."""
    filled = [cell.strip() for cell in row if cell.strip()]
    if not filled or len(filled) > 2 or mark not in filled[0]:
        return False
    if len(filled) == 2 and not filled[1].isdigit():  # not the digits after a decimal comma
        return False
    parts = [part.strip() for part in filled[0].split(mark)]
    return len(parts) > 1 and any(number(part) is not None for part in parts[1:])


def _counts_up(body: list[list[str]], i: int) -> bool:
    """Whether column `i` of the first rows reads 0, 1, 2, … (or 1, 2, 3, …)."""
    cells = [row[i].strip() if i < len(row) else "" for row in body[:SNIFF_ROWS]]
    if not cells or cells[0] not in ("0", "1"):
        return False
    start = int(cells[0])
    return cells == [str(start + k) for k in range(len(cells))]


def _separator_hint(header: list[str]) -> str:
    """What to do with a file whose cells another character separates ("date;value", as
    spreadsheets write where the comma is the decimal mark): read as CSV, it is one column."""
    if len(header) != 1:
        return ""
    for mark, name in _OTHER_SEPARATORS:
        if mark in header[0]:
            return f": it looks separated by {name}; {_ADVICE}"
    return ""


# What a first row's label cell says when it names the label column (compared lower-case).
HEADER_WORDS = frozenset(
    "date time datetime timestamp ds day week month year quarter period t index label name "
    "obs observation".split()
)


def first_row_is_data(first: list[str], body: list[list[str]], label: str) -> bool:
    """Whether the first row is a point rather than the columns' names.

    Without a number in every column the rows below hold numbers in, it names the columns
    ("month,passengers"), unless its label is shaped like the labels below ("1949-01,NA": a
    point with a gap). With numbers, its label decides: shaped like the rows' ("1949-01,112"),
    a point; a word that names a label column ("month,2019", "Date,2019"), or empty above a
    value 0 (what pandas writes for an unnamed series), a header; empty, or without a digit
    above dates ("start,0"), it could be either, and a series with a point dropped or a header
    made a point is worse than none: DataError. Labels of words ("Dec,112" above "Jan,118")
    and files without labels ("1,112") keep the first row as a point."""
    numeric = [i for i in range(len(first)) if _numeric_column(body, i)]
    numbers = bool(numeric) and all(number(first[i]) is not None for i in numeric)
    by = label_column(first, body, numeric[0] if len(numeric) == 1 else -1)
    if by is None:
        return numbers
    cell = first[by].strip()
    shape = _label_shape(body, by)
    if shape is not None and _shape(cell) == shape:
        return True
    if not numbers:
        return False
    if cell.lower() in HEADER_WORDS or (not cell and all(first[i].strip() == "0" for i in numeric)):
        return False
    dated = _mostly(body, by, lambda text: any(ch.isdigit() for ch in text))
    if not cell or (dated and not any(ch.isdigit() for ch in cell)):
        shown = ",".join(first)[:60]
        raise DataError(
            f"{label}: is its first row ({shown!r}) the header or a point? Its label is "
            + ("empty" if not cell else "not a date like those below it")
            + ": add a header row above it (e.g. date,value), or give the point its label"
        )
    return True


def _mostly(body: list[list[str]], i: int, test: Callable[[str], bool]) -> bool:
    """Whether over half the filled cells of column `i` in the first rows pass `test`."""
    cells = [row[i].strip() for row in body[:SNIFF_ROWS] if i < len(row) and row[i].strip()]
    return sum(map(test, cells)) * 2 > len(cells)


def _shape(cell: str) -> str:
    """A label's shape: digits as 9, letters as a ("1949-01" → "9999-99")."""
    return "".join("9" if ch.isdigit() else "a" if ch.isalpha() else ch for ch in cell.strip())


def _label_shape(body: list[list[str]], i: int) -> str | None:
    """The shape most labels in column `i` of the first rows share, where it has a digit in
    and over half of them share it (dates, months); None otherwise."""
    shapes = Counter(_shape(row[i]) for row in body[:SNIFF_ROWS] if i < len(row) and row[i].strip())
    if not shapes:
        return None
    shape, count = shapes.most_common(1)[0]
    return shape if count * 2 > sum(shapes.values()) and "9" in shape else None


def _numeric_column(body: list[list[str]], i: int) -> bool:
    """Mostly numbers in the first 50 rows: a stray bad cell is then reported where it is,
    instead of hiding the column."""
    sample = [row[i].strip() for row in body[:50] if i < len(row) and row[i].strip()]
    numbers = sum(number(cell) is not None for cell in sample)
    return bool(sample) and numbers * 2 > len(sample)


def number(cell: str) -> float | None:
    try:
        return float(cell.replace("_", "x"))  # "1_000" is not a number a CSV means
    except ValueError:
        return None


def label_column(header: list[str], sniffed: list[list[str]], index: int) -> int | None:
    """The first other column when it is not numeric (dates, months) and holds something (an
    empty column a spreadsheet adds labelled every point ''): it labels the points; None when
    there is none (the points are then 1..N)."""
    for i in range(len(header)):
        filled = any(i < len(row) and row[i].strip() for row in sniffed[:SNIFF_ROWS])
        if i != index and filled and not _numeric_column(sniffed, i):
            return i
    return None


# Date layouts a newest-first export writes (Nasdaq's 02/29/2020, Yahoo's ISO, "Feb 09, 2020").
_DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y",
    "%b %d, %Y", "%d %b %Y", "%B %d, %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
)  # fmt: skip


def refuse_newest_first(labels: list[str], label: str) -> None:
    """DataError when the labels are dates (in a layout of _DATE_FORMATS) that run newest
    first, as price exports list them: the models would be trained on the latest values and
    scored on the earliest, forecasting the past, without a word."""
    head = [text.strip() for text in labels[:SNIFF_ROWS]]
    if len(head) < 3 or not any(ch.isdigit() for ch in head[0]):
        return
    for layout in _DATE_FORMATS:
        try:
            days = [datetime.strptime(text, layout) for text in (*head, labels[-1].strip())]
        except ValueError:
            continue
        if all(a > b for a, b in zip(days, days[1 : len(head)], strict=False)) and (
            days[-1] < days[0]
        ):
            raise DataError(
                f"{label} runs newest first ({head[0]} down to {labels[-1].strip()[:40]}): a "
                "forecast reads a series oldest first; sort the file by date"
            )
        return  # the first layout that reads every date decides


__all__ = [
    "HEADER_WORDS",
    "SNIFF_ROWS",
    "first_row_is_data",
    "label_column",
    "number",
    "refuse_newest_first",
    "refuse_other_separator",
    "value_column",
]
