"""JSON parsed a piece at a time, for a worker thread beside a UI.

`json.loads` parses a text in one C call that holds the GIL: a checkpoint's JSON with a
vocabulary of 1M words (15.6 MB) held it for 137 ms, and a checkpoint's JSON may be 64 MiB, a
stall of the app whose worker loads it (the Generate, Translate and Gradients screens). `loads`
returns what `json.loads` returns, parsing arrays (a vocabulary's tokens and counts) PIECE
characters per C call and the containers around them in Python, so the interpreter hands the
GIL over between pieces. A text it does not parse to the end (a malformed
one) is handed to `json.loads`, whose error is the one raised.
"""

from __future__ import annotations

import json
import re
from json.scanner import make_scanner

PIECE = 1 << 18  # characters of an array's elements parsed per C call (~3 ms)
SMALL = 1 << 20  # characters below which json.loads parses at once (a few milliseconds)

_WS = re.compile(r"[ \t\n\r]*")
_scan_once = make_scanner(json.JSONDecoder())


class _Unparsed(Exception):
    """Internal: not parsed here; json.loads says why."""


def loads(text: str) -> object:
    """`json.loads(text)`, parsed a piece at a time where the text is large."""
    if len(text) < SMALL:
        return json.loads(text)
    try:
        value, end = _value(text, 0)
        if _WS.match(text, end).end() != len(text):
            raise _Unparsed
        return value
    except (_Unparsed, ValueError, RecursionError, IndexError, StopIteration):
        return json.loads(text)  # raises what json.loads raises, or agrees where it does not


def _value(text: str, at: int) -> tuple[object, int]:
    at = _WS.match(text, at).end()
    opening = text[at]
    if opening == "{":
        return _object(text, at + 1)
    if opening == "[":
        return _array(text, at + 1)
    return _scan_once(text, at)  # a scalar (StopIteration where there is none)


def _object(text: str, at: int) -> tuple[dict, int]:
    out: dict = {}
    at = _WS.match(text, at).end()
    if text[at] == "}":
        return out, at + 1
    while True:
        if text[at] != '"':
            raise _Unparsed
        key, at = _scan_once(text, at)
        at = _WS.match(text, at).end()
        if text[at] != ":":
            raise _Unparsed
        out[key], at = _value(text, at + 1)  # a repeated key: the last, as json.loads
        at = _WS.match(text, at).end()
        if text[at] == "}":
            return out, at + 1
        if text[at] != ",":
            raise _Unparsed
        at = _WS.match(text, at + 1).end()


def _array(text: str, at: int) -> tuple[list, int]:
    """The elements from `at` (an element's start) to the closing bracket. A piece ends at
    the last comma within PIECE characters: where that comma lies between two elements of
    this array, the piece is JSON once bracketed, and where it lies inside a string or a
    nested container it is not (the piece ends inside either), so json.loads refuses it and
    the elements up to that comma are parsed one at a time instead."""
    out: list = []
    at = _WS.match(text, at).end()
    if text[at] == "]":
        return out, at + 1
    window = max(1, int(PIECE))
    slow_until = at
    while True:
        cut = text.rfind(",", at, at + window) if at >= slow_until else -1
        if cut > at:
            try:
                piece = json.loads(f"[{text[at:cut]}]")
            except ValueError:
                piece = None
            if piece:  # not empty: "[ ]" from a piece of blanks, where "[ ,": not JSON
                out.extend(piece)
                at = _WS.match(text, cut + 1).end()
                continue
            slow_until = cut + 1
        value, at = _value(text, at)
        out.append(value)
        at = _WS.match(text, at).end()
        if text[at] == "]":
            return out, at + 1
        if text[at] != ",":
            raise _Unparsed
        at = _WS.match(text, at + 1).end()


__all__ = ["PIECE", "SMALL", "loads"]
