"""JSON read from disk: parsed a piece at a time, for a worker thread beside a UI, and refused
where a string is not Unicode text.

`json.loads` parses a text in one C call that holds the GIL: a checkpoint's JSON with a
vocabulary of 1M words (15.6 MB) held it for 137 ms, and a checkpoint's JSON may be 64 MiB, a
stall of the app whose worker loads it (the Generate, Translate and Gradients screens). `loads`
returns what `json.loads` returns, parsing arrays (a vocabulary's tokens and counts) PIECE
characters per C call and the containers around them in Python, so the interpreter hands the
GIL over between pieces. A text it does not parse to the end (a malformed
one) is handed to `json.loads`, whose error is the one raised.

JSON may write a surrogate alone (`"\\ud800"`): `json.loads` returns it in a str, which no UTF-8
output can encode, so an edited checkpoint's vocabulary took `rnn-tui generate` down with a
traceback as it printed. `loads` refuses it (a ValueError naming where it is), as every reader of
the package's JSON files does (`refuse_lone_surrogates`).
"""

from __future__ import annotations

import json
import re
from json.scanner import make_scanner

from rnn_tui.quoting import visible

PIECE = 1 << 18  # characters of an array's elements parsed per C call (~3 ms)
SMALL = 1 << 20  # characters below which json.loads parses at once (a few milliseconds)
FIND_PIECE = 1 << 22  # characters searched per C call for a surrogate's escape (~2 ms)
KEY_SHOWN = 40  # the most characters of an object's key a message shows

_WS = re.compile(r"[ \t\n\r]*")
# An escape of \uD800-\uDFFF: text decoded from UTF-8 holds no surrogate itself, so only such
# an escape makes one (one search with the surrogates themselves as an alternative ran 30 times
# slower: they are looked for apart, by encoding).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_scan_once = make_scanner(json.JSONDecoder())


class _Unparsed(Exception):
    """Internal: not parsed here; json.loads says why."""


def loads(text: str) -> object:
    """`json.loads(text)`, parsed a piece at a time where the text is large; a ValueError
    where a string in it holds a lone surrogate."""
    if len(text) < SMALL:
        value = json.loads(text)
        if "\\u" not in text and text.isascii():
            return value  # a metrics line, read by the hundred thousand: no surrogate in it
    else:
        value = _pieces(text)
    refuse_lone_surrogates(text, value)
    return value


def refuse_lone_surrogates(text: str, value: object) -> None:
    """ValueError naming the first string (or key) of `value`, parsed from `text`, that holds a
    surrogate alone (a pair is one character once parsed): it is not text, and printing it
    fails."""
    if not _has_surrogate(text):
        return
    found = _lone_surrogate(value)
    if found is not None:
        where, char = found
        raise ValueError(f"{where} holds a lone surrogate (\\u{ord(char):04x}), not Unicode text")


def _has_surrogate(text: str) -> bool:
    """Whether `text` holds a surrogate or a surrogate's escape, searched a piece at a time
    (one search of a 57 MB text held the GIL 16 ms). The pieces overlap by an escape's length
    less one, so none is cut in two unseen."""
    search = _SURROGATE_ESCAPE.search
    starts = range(0, len(text), FIND_PIECE)
    if any(search(text, start, start + FIND_PIECE + 3) for start in starts):
        return True
    return not text.isascii() and any(
        _bad_char(text[start : start + FIND_PIECE]) for start in starts
    )


def _bad_char(string: str) -> str | None:
    if string.isascii():
        return None
    try:
        string.encode("utf-8")
    except UnicodeEncodeError as exc:
        return string[exc.start]
    return None


def _lone_surrogate(value: object) -> tuple[str, str] | None:
    """(where, the surrogate) of the first one in document order, walked without recursion
    (a deep nesting parsed is walked as deep)."""
    stack: list[tuple[object, tuple]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            char = _bad_char(item)
            if char is not None:
                return _where(path), char
        elif isinstance(item, dict):
            for key in reversed(list(item)):
                char = _bad_char(key)
                if char is not None:
                    inside = f" in {_where(path)}" if path else ""
                    return f"the key '{_shown(key)}'{inside}", char
                stack.append((item[key], (*path, key)))
        elif isinstance(item, list):
            stack.extend((item[i], (*path, i)) for i in range(len(item) - 1, -1, -1))
    return None


def _shown(key: str) -> str:
    """A key as a one-line message shows it: a control character or a surrogate as its escape,
    cut to KEY_SHOWN characters."""
    key = key if len(key) <= KEY_SHOWN else key[: KEY_SHOWN - 1] + "…"
    return visible(key).encode("utf-8", "backslashreplace").decode("utf-8")


def _where(path: tuple) -> str:
    if not path:
        return "the document"
    parts = [f"[{step}]" if isinstance(step, int) else f".{_shown(step)}" for step in path]
    return "".join(parts).lstrip(".")


def _pieces(text: str) -> object:
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


__all__ = ["FIND_PIECE", "PIECE", "SMALL", "loads", "refuse_lone_surrogates"]
