"""JSON parsed a piece at a time (rnn_tui/json_pieces.py): what json.loads returns, or raises,
and a ValueError where a string holds a lone surrogate."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui import json_pieces

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=40,
)


def _same(a, b) -> bool:
    """Equal, a NaN equal to a NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


LONE = "a lone surrogate"  # what _parsed expects where json.loads returns one


def _lone(value) -> bool:
    """Whether a string or key of `value` holds a surrogate alone (it cannot be UTF-8)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _parsed(text: str):
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return (False, LONE) if _lone(value) else (True, value)


def _raises_as_expected(text: str, expected: str) -> None:
    with pytest.raises((ValueError, RecursionError)) as raised:
        json_pieces.loads(text)
    if expected == LONE:
        assert isinstance(raised.value, ValueError) and "holds a lone surrogate" in str(
            raised.value
        )
    else:
        assert f"{type(raised.value).__name__}: {raised.value}" == expected


@settings(max_examples=300, deadline=None)
@given(
    value=VALUES,
    indent=st.sampled_from([None, 0, 2, "\t"]),
    ascii_only=st.booleans(),
    piece=st.integers(1, 40),
)
def test_any_json_reads_as_json_loads_reads_it(value, indent, ascii_only, piece):
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_pieces, "SMALL", 0)  # every text a piece at a time
        patch.setattr(json_pieces, "PIECE", piece)
        patch.setattr(json_pieces, "FIND_PIECE", piece)  # a pair's escapes cut apart
        got = json_pieces.loads(text)
    assert _same(got, json.loads(text))


@settings(max_examples=300, deadline=None)
@given(
    value=VALUES,
    at=st.integers(0, 10**6),
    edit=st.sampled_from(["delete", "insert", "replace"]),
    char=st.sampled_from(list('[]{}",:\\ 0-1eE.tfnNI\x01\n') + ["\ud800", "é"]),
)
def test_a_broken_text_fails_as_json_loads_fails(value, at, edit, char):
    text = json.dumps({"v": value, "w": [1, "a", 2.5]})
    at %= len(text)
    if edit == "delete":
        text = text[:at] + text[at + 1 :]
    elif edit == "insert":
        text = text[:at] + char + text[at:]
    else:
        text = text[:at] + char + text[at + 1 :]
    ok, expected = _parsed(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_pieces, "SMALL", 0)
        patch.setattr(json_pieces, "PIECE", 7)
        if ok:
            assert _same(json_pieces.loads(text), expected)
        else:
            _raises_as_expected(text, expected)


def test_a_vocabulary_is_read_in_pieces(monkeypatch):
    """The long arrays go PIECE elements per json.loads call (the GIL handed over between)."""
    tokens = [f'w{i}"\\é' for i in range(10_000)]
    text = json.dumps({"vocab": {"idx_to_token": tokens, "counts": list(range(10_000))}})
    text = text[:-1] + ', "vocab": {"again": [NaN, -Infinity, 1e400, 12345678901234567890]}}'

    calls = []
    real = json.loads

    def counting(s, *args, **kwargs):
        calls.append(len(s))
        return real(s, *args, **kwargs)

    monkeypatch.setattr(json_pieces, "SMALL", 0)
    monkeypatch.setattr(json_pieces, "PIECE", 1000)
    monkeypatch.setattr(json_pieces.json, "loads", counting)
    assert json_pieces.loads(text) == real(text)
    assert len(calls) >= 20 and max(calls) < len(text) // 10


@pytest.mark.parametrize(
    "text",
    [
        "[1, ,2]",
        "[1,,2]",
        "[ , 1]",
        "[1, 2,]",
        '["a,", ",b", "c\\",d"]',
        "[[1, 2], [3, 4] ,]",
        '{"a": [1, 2,  ], "b": 3}',
        "[1 2]",
        '["x"  ,  "y"  ,  ]',
        "[1,\t ,2]",
    ],  # fmt: skip
)
@pytest.mark.parametrize("piece", [1, 2, 3, 4, 6])
def test_blanks_and_commas_in_strings_at_a_pieces_end(text, piece):
    ok, expected = _parsed(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_pieces, "SMALL", 0)
        patch.setattr(json_pieces, "PIECE", piece)
        if ok:
            assert _same(json_pieces.loads(text), expected)
        else:
            with pytest.raises(ValueError, match=expected.split(": ", 1)[1][:20]):
                json_pieces.loads(text)


@settings(max_examples=300, deadline=None)
@given(
    value=VALUES,
    surrogate=st.characters(categories=["Cs"]),
    place=st.sampled_from(["value", "key", "nested"]),
    ascii_only=st.booleans(),
    piece=st.integers(1, 12),
)
def test_a_lone_surrogate_is_refused_wherever_it_is(value, surrogate, place, ascii_only, piece):
    # JSON may write one ("\\udc80"); json.loads returns it in a str, and printing that fails.
    if place == "value":
        document = {"v": value, "w": f"a{surrogate}b"}
    elif place == "key":
        document = {"v": value, f"a{surrogate}": 1}
    else:
        document = {"v": value, "w": [1, {"x": ["ok", surrogate]}]}
    text = json.dumps(document, ensure_ascii=ascii_only)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_pieces, "SMALL", 0)
        patch.setattr(json_pieces, "PIECE", piece)
        patch.setattr(json_pieces, "FIND_PIECE", piece)  # the escape cut by a piece's end
        with pytest.raises(ValueError, match="holds a lone surrogate"):
            json_pieces.loads(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"vocab": {"idx_to_token": ["<unk>", "\\ud800"]}}',
            "vocab.idx_to_token[1] holds a lone surrogate (\\ud800)",
        ),
        ('{"a": {"k\\udfffey": 1}}', "the key 'k\\udfffey' in a holds a lone surrogate (\\udfff)"),
        ('"\\udc80"', "the document holds a lone surrogate (\\udc80)"),
        ('{"a\\nb": ["\\udc80"]}', "a\\nb[0] holds a lone surrogate (\\udc80)"),
        ('["\\ude00\\ud83d"]', "[0] holds a lone surrogate (\\ude00)"),
    ],
)
def test_a_lone_surrogate_is_named_where_it_is(text, problem):
    with pytest.raises(ValueError) as raised:
        json_pieces.loads(text)
    assert str(raised.value) == f"{problem}, not Unicode text"


@pytest.mark.parametrize(
    "text", ['["\\ud83d\\ude00"]', '["\\\\ud800"]', '{"\\\\udc00": "\\\\uDFFF"}']
)
def test_a_pair_or_an_escaped_backslash_is_text(text):
    assert json_pieces.loads(text) == json.loads(text)


def test_a_lone_surrogate_in_a_large_text_is_found_across_search_pieces():
    tokens = ["w"] * (json_pieces.FIND_PIECE // 4)
    text = json.dumps(tokens)  # '["w", "w", …': the i-th "w" at 2 + 5 i
    at = 2 + 5 * ((json_pieces.FIND_PIECE - 2) // 5)
    assert json_pieces.FIND_PIECE - 4 < at < json_pieces.FIND_PIECE  # the escape straddles
    text = text[:at] + "\\ud800" + text[at + 1 :]
    assert len(text) > max(json_pieces.SMALL, json_pieces.FIND_PIECE)
    with pytest.raises(ValueError, match="holds a lone surrogate"):
        json_pieces.loads(text)
