"""The fields of a saved Vocab (a checkpoint's JSON), checked before anything is built from
them: each value's type and range, named by its place in one line ("vocab.counts[3] is a
boolean, not a whole number"). Vocab.from_dict reads a vocabulary through these.
"""

from __future__ import annotations

import array

_MAX_COUNT = 2**63 - 1  # array("q") holds the counts


def _kind(value: object) -> str:
    """A JSON value's kind, for a message (never its repr: an edited value can be huge)."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "an object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


# Elements of a saved vocabulary checked per C call: element by element in Python, 2.26M tokens
# and their counts took 0.8 s of a checkpoint's load; a chunk's types (and a count chunk's
# least value and conversion) are a few C calls of a few milliseconds, which leave the GIL to
# the app's event loop between them. A chunk that fails is gone through element by element,
# for the message naming the first bad one.
CHECK_CHUNK = 1 << 16


def strings(value: object, field: str) -> list[str]:
    if not isinstance(value, list):
        raise TypeError(f"{field} is {_kind(value)}, not a list")
    for start in range(0, len(value), CHECK_CHUNK):
        part = value[start : start + CHECK_CHUNK]
        if set(map(type, part)) <= {str}:
            continue
        for i, token in enumerate(part, start):
            if not isinstance(token, str):
                raise TypeError(f"{field}[{i}] is {_kind(token)}, not a string")
    return value


def counts_array(values: list, field: str) -> array.array:
    """`values` as array("q"), each checked as `count` checks it (a bool is no count)."""
    out = array.array("q")
    for start in range(0, len(values), CHECK_CHUNK):
        part = values[start : start + CHECK_CHUNK]
        if set(map(type, part)) <= {int} and min(part) >= 0:
            try:
                out.fromlist(part)
                continue
            except OverflowError:  # past 2**63 - 1: said by `count` below
                pass
        out.extend(count(c, f"{field}[{i}]") for i, c in enumerate(part, start))
    return out


def count(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{field} is {_kind(value)}, not a whole number")
    if not 0 <= value <= _MAX_COUNT:
        raise ValueError(f"{field} is out of range (a count from 0 to 2**63 - 1)")
    return value


def token_freq_pairs(value: object, field: str) -> list[tuple[str, int]]:
    if not isinstance(value, list):
        raise TypeError(f"{field} is {_kind(value)}, not a list")
    pairs = []
    for i, pair in enumerate(value):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise TypeError(f"{field}[{i}] is not a [token, count] pair")
        if not isinstance(pair[0], str):
            raise TypeError(f"{field}[{i}][0] is {_kind(pair[0])}, not a string")
        pairs.append((pair[0], count(pair[1], f"{field}[{i}][1]")))
    return pairs


__all__ = ["CHECK_CHUNK", "count", "counts_array", "strings", "token_freq_pairs"]
