"""Text a person typed, quoted in a message, and the message itself, kept readable in size
and safe to show.

An error names what was wrong with the value it quotes, but a value can be a 100,000-character
paste: quoted whole, the one clear line becomes pages of it, and the part that says what is
wrong scrolls away. So a quoted value keeps its start and its length, and any message line keeps
its start and its end. A name read from disk can hold control characters (an escape sequence a
terminal would obey, a newline that breaks a line): a message shows them as escapes (`visible`),
a table cell as "?" (`plain`).
"""

from __future__ import annotations

import re
import shlex
import unicodedata
import urllib.parse

QUOTE_CHARS = 60  # of a quoted value: enough to recognise a sentence, a name or a number
LINE_CHARS = 1_000  # of a whole message: a long path (PATH_MAX is 4,096) still fits a screen
NOTICE_CHARS = 400  # of a notification: its box is about 40 columns wide, so 10 lines


def quoted(value: object, limit: int = QUOTE_CHARS) -> str:
    """`repr(value)`, or for a longer string its first `limit` characters quoted, then "…" and
    the length: 'go go go go …' (60,000 characters). A byte of a name that is not UTF-8 is
    written "\\xff", as `visible` writes it."""
    if not isinstance(value, str) or len(value) <= limit:
        text = _bytes_as_bytes(repr(value))
        if len(text) <= limit * 2:
            return text
        return text[:limit] + f"… ({len(text):,} characters)"
    start = _bytes_as_bytes(repr(value[:limit]))
    return f"{start[:-1]}…{start[-1]} ({len(value):,} characters)"


# repr writes such a byte "\udcff": an escape an even number of backslashes after another.
_REPR_BYTE = re.compile(r"(?<!\\)((?:\\\\)*)\\udc([89a-f][0-9a-f])")


def _bytes_as_bytes(text: str) -> str:
    return _REPR_BYTE.sub(r"\1\\x\2", text) if "\\udc" in text else text


# Control characters (C0 but tab, DEL, C1) as the escapes repr would write; a second table
# keeps the newline, for a notification that is meant to have lines.
_CONTROLS = {
    c: repr(chr(c))[1:-1] for c in [*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0)]
}
# A name read from disk that is not UTF-8 (a folder made with `mkdir $'bad\xffname'`) reaches
# Python with each such byte as a lone surrogate (U+DC80–U+DCFF, "surrogateescape"): shown
# as is it is "\udcff" in one place and a zero-width glitch that shifts a table row in another.
# Every display writes the byte as "\xff" instead: plain ASCII, one column a character, and
# `printf %b` turns it back into the name. Other lone surrogates cannot come from a file name.
_BYTES = {c: f"\\x{c - 0xDC00:02x}" for c in range(0xDC80, 0xDD00)}
_CONTROLS.update(_BYTES)
_CONTROLS_BUT_NEWLINE = {c: text for c, text in _CONTROLS.items() if c != 0x0A}


def visible(message: str, newlines: bool = False) -> str:
    """`message` with its control characters written as escapes (ESC as "\\x1b", a newline as
    "\\n" unless `newlines`): a path or a name read from disk (a run folder someone named
    "a<ESC>[2J", or with a newline in it) is shown, not obeyed by the terminal, and a message
    line stays one line. A byte of a name that is not UTF-8 is written "\\xff" (`plain` too)."""
    return message.translate(_CONTROLS_BUT_NEWLINE if newlines else _CONTROLS)


def plain(text: str, lines: bool = False) -> str:
    """`text` safe to show as one line (or as `lines`, keeping its newlines): control characters
    (an escape sequence in a run name would reach the terminal, a newline would break a row)
    become a space when they are whitespace, "?" otherwise. Markup is the renderer's business:
    show the result as plain text (a rich Text, or markup=False). A byte of a name that is not
    UTF-8 is written "\\xff", as `visible` writes it."""
    if text.isprintable():
        return text
    return "".join(
        ch
        if unicodedata.category(ch) not in ("Cc", "Cs") or (lines and ch == "\n")
        else _BYTES.get(ord(ch), " " if ch.isspace() else "?")
        for ch in text
    )


def bounded(message: str, limit: int = LINE_CHARS) -> str:
    """`message` if it fits in `limit` characters; else its start and its end (where a message
    says what went wrong) around a note of how much was left out."""
    if len(message) <= limit:
        return message
    keep = limit // 2
    left_out = len(message) - 2 * keep
    return f"{message[:keep]} … [{left_out:,} characters left out] … {message[-keep:]}"


_DIGITS = re.compile(r"value has (\d+) digits")


def json_reason(exc: BaseException) -> str:
    """Why `json.loads` refused a file, in one short line. An integer of more than 4,300
    digits is refused by Python with advice to call sys.set_int_max_str_digits(), which a
    user cannot act on: it is reported as a number out of range."""
    text = str(exc)
    if "integer string conversion" in text:
        digits = _DIGITS.search(text)
        size = f"{int(digits.group(1)):,} digits" if digits else "too many digits"
        return f"a number in it is out of range: {size}"
    return text.splitlines()[0] if text else type(exc).__name__


def unquoted(text: str) -> str:
    """`text` as the path a shell or a file manager meant: without surrounding quotes, shell
    backslash escapes undone, a file:// URL as its path; itself where none of these apply."""
    text = text.strip()
    if text.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlsplit(text).path)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if "\\" in text:
        try:
            words = shlex.split(text)
        except ValueError:
            return text
        return words[0] if len(words) == 1 else text
    return text
