"""JSON parsed a piece at a time (rnn_tui/json_pieces.py): what json.loads returns, or raises."""

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


def _parsed(text: str):
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


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
            with pytest.raises((ValueError, RecursionError)) as raised:
                json_pieces.loads(text)
            assert f"{type(raised.value).__name__}: {raised.value}" == expected


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
