"""The tensor file of a checkpoint: safetensors bytes as the reference implementation writes them,
and every malformed file refused as one line."""

from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tui import atomic
from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.tensor_file import (
    DTYPES,
    load_tensors,
    parse_tensors,
    save_tensors,
    serialize,
)

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def _file(header: dict | bytes, data: bytes = b"", pad: bool = True) -> bytes:
    """A safetensors file built by hand: u64 LE header length, header, data."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


# -- golden bytes ------------------------------------------------------------------------------

GOLDEN_HEADER = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
GOLDEN = (
    (56).to_bytes(8, "little")  # the 54-byte header padded with spaces to 56, a multiple of 8
    + GOLDEN_HEADER
    + b"  "
    + b"\x00\x00\x80\x3f"  # 1.0f little-endian
    + b"\x00\x00\x00\x40"  # 2.0f
)


def test_golden_file_is_read():
    tensors, metadata = parse_tensors(GOLDEN)
    assert metadata == {}
    assert list(tensors) == ["a"]
    assert tensors["a"].dtype == torch.float32
    assert torch.equal(tensors["a"], torch.tensor([1.0, 2.0]))


def test_writer_output_equals_the_official_bytes(tmp_path):
    assert serialize({"a": torch.tensor([1.0, 2.0])}) == GOLDEN
    save_tensors({"a": torch.tensor([1.0, 2.0])}, tmp_path / "a.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == GOLDEN
    tensors, _ = load_tensors(tmp_path / "a.safetensors")
    assert torch.equal(tensors["a"], torch.tensor([1.0, 2.0]))


def test_reference_test_vectors():
    # The reference implementation's own serialization tests (safetensors/src/tensor.rs).
    assert serialize({}) == b"\x08" + b"\x00" * 7 + b"{}" + b" " * 6
    with_meta = b'{"__metadata__":{"framework":"pt"}}'
    assert serialize({}, {"framework": "pt"}) == (
        (40).to_bytes(8, "little") + with_meta + b" " * (40 - len(with_meta))
    )
    values = torch.arange(6, dtype=torch.float32).reshape(1, 1, 2, 3)
    header = b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'
    expected = (72).to_bytes(8, "little") + header + b" " * 7 + struct.pack("<6f", *range(6))
    assert serialize({"attn0": values}) == expected
    tensors, _ = parse_tensors(expected)
    assert torch.equal(tensors["attn0"], values)


# -- round trips -------------------------------------------------------------------------------


def test_every_dtype_round_trips(tmp_path):
    tensors = {
        "f64": torch.tensor([1.5, -2.25], dtype=torch.float64),
        "f32": torch.randn(3, 4, generator=torch.Generator().manual_seed(0)),
        "f16": torch.tensor([0.5, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0 / 3.0, -7.5, 1e30], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2**62), 2**62], dtype=torch.int64),
        "i32": torch.tensor([-5, 7], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(3.25),
        "empty": torch.empty(0, 3),
    }
    path = tmp_path / "all.safetensors"
    save_tensors(tensors, path, metadata={"format": "pt", "note": "é"})
    loaded, metadata = load_tensors(path)
    assert metadata == {"format": "pt", "note": "é"}
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype, name
        assert loaded[name].shape == tensor.shape, name
        assert torch.equal(loaded[name], tensor), name


def test_non_contiguous_tensors_round_trip():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    views = {"t": base.t(), "step": base[:, ::2], "bf16": base.to(torch.bfloat16).t()[1:]}
    assert not any(v.is_contiguous() for v in views.values())
    loaded, _ = parse_tensors(serialize(views))
    for name, view in views.items():
        assert loaded[name].is_contiguous()
        assert torch.equal(loaded[name], view), name


def test_loaded_tensors_own_their_memory():
    data = bytearray(serialize({"a": torch.tensor([1.0, 2.0])}))
    tensors, _ = parse_tensors(data)
    data[-4:] = b"\x00\x00\x00\x00"
    assert torch.equal(tensors["a"], torch.tensor([1.0, 2.0]))


def test_loaded_tensors_are_writable_and_independent():
    # A tensor over an immutable bytes object warns when made and, written in place, would
    # change that object; a one-byte one could even be CPython's shared b"\x01".
    data = serialize({"one": torch.tensor([1], dtype=torch.uint8), "f": torch.tensor([1.0, 2.0])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tensors, _ = parse_tensors(data)
        tensors["one"] += 6
        tensors["f"].mul_(2)
    assert tensors["one"].item() == 7
    assert b"\x01" == bytes([1])
    assert torch.equal(parse_tensors(data)[0]["f"], torch.tensor([1.0, 2.0]))


def test_tensors_sharing_memory_are_saved_each_in_full():
    # Tied weights, or overlapping views of one buffer: the package refuses these itself.
    weight = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    base = torch.arange(5, dtype=torch.int64)
    tensors = {"embed": weight, "out": weight, "head": base[:3], "tail": base[2:]}
    loaded, _ = parse_tensors(serialize(tensors))
    for name, tensor in tensors.items():
        assert torch.equal(loaded[name], tensor), name
    assert torch.equal(base, torch.arange(5))


@pytest.mark.parametrize("name", ["timemachine-char-lstm", "fra-eng-gru"])
def test_shipped_checkpoints_are_written_again_with_the_same_layout(name):
    # Saved before the package took over, they come out the same: tensor order, offsets, data.
    # Only the order of the metadata keys may differ (the package keeps them in a hash map).
    data = (SHIPPED / f"{name}.safetensors").read_bytes()
    tensors, metadata = parse_tensors(data)
    assert metadata == {"format": "pt", "producer": "rnn-tui"}
    again = serialize(tensors, metadata)
    n = int.from_bytes(data[:8], "little")
    header, header_again = json.loads(data[8 : 8 + n]), json.loads(again[8 : 8 + n])
    assert again[:8] == data[:8]
    assert header_again == header
    assert list(header_again) == list(header)
    assert again[8 + n :] == data[8 + n :]


def test_any_tensor_order_and_misaligned_data_are_read():
    # u8 first puts the f32 at offset 3: valid, if not what the reference writes.
    header = {
        "u": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]},
        "f": {"dtype": "F32", "shape": [2], "data_offsets": [3, 11]},
    }
    data = _file(header, b"\x01\x02\x03" + struct.pack("<2f", 0.5, -4.0))
    tensors, _ = parse_tensors(data)
    assert torch.equal(tensors["u"], torch.tensor([1, 2, 3], dtype=torch.uint8))
    assert torch.equal(tensors["f"], torch.tensor([0.5, -4.0]))


def test_device_argument():
    tensors, _ = parse_tensors(GOLDEN, device=torch.device("cpu"))
    assert tensors["a"].device.type == "cpu"


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    save_tensors({"a": torch.tensor([1.0, 2.0])}, path)

    def crash(src, dst):
        raise OSError("crash")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError):
        save_tensors({"a": torch.tensor([9.0])}, path)
    assert path.read_bytes() == GOLDEN
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_save_rejects_what_the_format_cannot_hold():
    with pytest.raises(CheckpointError, match="unsupported dtype"):
        serialize({"c": torch.zeros(2, dtype=torch.complex64)})
    with pytest.raises(CheckpointError, match="__metadata__"):
        serialize({"__metadata__": torch.zeros(1)})
    with pytest.raises(TypeError):
        serialize({"a": [1.0, 2.0]})
    with pytest.raises(TypeError):
        serialize({}, {"epoch": 3})


# -- strict validation -------------------------------------------------------------------------

F32_2 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
EIGHT = b"\x00" * 8

BAD_FILES = {
    "empty": b"",
    "short": b"\x01\x02\x03",
    "header too large": struct.pack("<Q", 100_000_001) + b"{}",
    "header past the end": struct.pack("<Q", 64) + b"{}",
    "huge length": b"\xff" * 8 + b"{}",
    "not utf-8": _file(b'{"a\xff":1}'),
    "not json": _file(b"{not json}"),
    "json array": _file(b"[1, 2]"),
    "entry not an object": _file({"a": 3}),
    "unknown dtype": _file({"a": {**F32_2, "dtype": "F128"}}, EIGHT),
    "lowercase dtype": _file({"a": {**F32_2, "dtype": "f32"}}, EIGHT),
    "missing shape": _file({"a": {"dtype": "F32", "data_offsets": [0, 8]}}, EIGHT),
    "negative dim": _file({"a": {**F32_2, "shape": [-2]}}, EIGHT),
    "bool dim": _file({"a": {**F32_2, "shape": [True, 2]}}, EIGHT),
    "float dim": _file({"a": {**F32_2, "shape": [2.0]}}, EIGHT),
    "shape vs span": _file({"a": {**F32_2, "shape": [3]}}, EIGHT),
    "reversed offsets": _file({"a": {**F32_2, "data_offsets": [8, 0]}}, EIGHT),
    "three offsets": _file({"a": {**F32_2, "data_offsets": [0, 4, 8]}}, EIGHT),
    "gap at start": _file({"a": {**F32_2, "data_offsets": [4, 12]}}, EIGHT + b"\x00" * 4),
    "past the data": _file({"a": F32_2}, b"\x00" * 4),
    "trailing bytes": _file({"a": F32_2}, EIGHT + b"\x00"),
    "overlap": _file({"a": F32_2, "b": {**F32_2, "data_offsets": [4, 12]}}, EIGHT + EIGHT),
    "overlap at the end": _file(
        {"a": F32_2, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, EIGHT
    ),
    "gap between": _file(
        {"a": F32_2, "b": {**F32_2, "data_offsets": [12, 20]}}, EIGHT + EIGHT + b"\x00" * 4
    ),
    "duplicate name": _file(
        b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
        b'"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
        b"\x00\x00",
    ),
    # The package reads the next five (it keeps the last of two entries with one name, and
    # skips whitespace before the '{'); the format forbids them, and so does rnn-tui.
    "duplicate name, one span": _file(
        b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
        b'"a":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}',
        b"\x00\x00",
    ),
    "duplicate metadata key": _file(
        b'{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
        b"\x00",
    ),
    "space before the header": _file(b" " + json.dumps({"a": F32_2}).encode(), EIGHT),
    "newline before the header": _file(b"\n" + json.dumps({"a": F32_2}).encode(), EIGHT),
    # A dtype of the format that rnn-tui neither writes nor reads.
    "float8 dtype": _file({"a": {**F32_2, "dtype": "F8_E4M3", "shape": [8]}}, EIGHT),
    "metadata not strings": _file({"__metadata__": {"epoch": 3}}),
    "metadata a list": _file({"__metadata__": ["x"]}),
    "huge integer": _file(
        b'{"a":{"dtype":"U8","shape":[' + b"9" * 5000 + b'],"data_offsets":[0,1]}}'
    ),
    "deep nesting": _file(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    # JSON may write a surrogate alone: a name or a value no message could print.
    "lone surrogate in a name": _file(
        b'{"a\\udc80":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', EIGHT
    ),
    "lone surrogate in metadata": _file({"__metadata__": {"k": "\ud800"}}),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_malformed_files_raise_one_line_checkpoint_errors(tmp_path, name):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(BAD_FILES[name])
    with pytest.raises(CheckpointError) as info:
        load_tensors(path)
    message = str(info.value)
    assert message.startswith(f"not a safetensors file: {path} (")
    assert message.endswith(")")
    assert "\n" not in message


def test_a_hostile_shape_is_rejected_quickly():
    header = b'{"a":{"dtype":"F64","shape":[' + b",".join([b"4294967295"] * 200_000)
    header += b'],"data_offsets":[0,8]}}'
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        parse_tensors(_file(header, EIGHT))


def test_a_pickle_is_not_a_safetensors_file(tmp_path):
    path = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_tensors(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_tensors(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match="directory"):
        load_tensors(tmp_path)


# -- fuzzing -----------------------------------------------------------------------------------

VALID = serialize(
    {
        "w": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "b": torch.tensor([1, 2], dtype=torch.int64),
        "m": torch.tensor([True]),
    },
    {"format": "pt"},
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_checkpoint_errors(data: bytes) -> None:
    try:
        parse_tensors(data)
    except CheckpointError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    _only_checkpoint_errors(data)


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_headers(header):
    _only_checkpoint_errors(struct.pack("<Q", len(header)) + header + b"\x00" * 16)


@FUZZ
@given(
    st.dictionaries(
        st.text(max_size=4),
        st.fixed_dictionaries(
            {
                "dtype": st.sampled_from(["F32", "U8", "BOOL", "X", 3]),
                "shape": st.lists(st.integers(-2, 2**40), max_size=4) | st.integers(),
                "data_offsets": st.lists(st.integers(-2, 64), max_size=3),
            }
        ),
        max_size=3,
    ),
    st.binary(max_size=64),
)
def test_fuzz_structured_headers(header, data):
    _only_checkpoint_errors(_file(header, data))


def test_every_truncation_of_a_valid_file_is_rejected():
    for end in range(len(VALID)):
        with pytest.raises(CheckpointError):
            parse_tensors(VALID[:end])


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.integers(0, 255))
def test_fuzz_single_byte_corruption(position, value):
    data = bytearray(VALID)
    data[position] = value
    _only_checkpoint_errors(bytes(data))


def _bytes_of(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.contiguous().view(-1).view(torch.uint8)


def _package_reads(data: bytes):
    import safetensors
    import safetensors.torch

    try:
        return safetensors.torch.load(data)
    except safetensors.SafetensorError:
        return None


@FUZZ
@given(
    st.dictionaries(
        st.text(alphabet="ab", max_size=2),
        st.fixed_dictionaries(
            {
                "dtype": st.sampled_from(["F32", "U8", "BOOL", "BF16", "I64", "X", 3]),
                "shape": st.lists(st.integers(-1, 5), max_size=3) | st.integers(),
                "data_offsets": st.lists(st.integers(-1, 40), min_size=1, max_size=3),
            }
        ),
        max_size=3,
    ),
    st.binary(max_size=40),
    st.sampled_from([None, {"k": "v"}, {"k": 1}]),
)
def test_the_tensors_are_read_as_the_package_reads_them(header, data, metadata):
    """What the package accepts, this reader accepts, with the same tensors, and what it
    refuses, this refuses (the reader copies with the GIL released; the package held it for
    100 ms on a 228 MB checkpoint)."""
    if metadata is not None:
        header = {**header, "__metadata__": metadata}
    raw = _file(header, data)
    expected = _package_reads(raw)
    try:
        got, _ = parse_tensors(raw)
    except CheckpointError:
        got = None
    assert (got is None) == (expected is None)
    if got is not None:
        assert got.keys() == expected.keys()
        for name, tensor in got.items():
            want = expected[name]
            assert tensor.dtype == want.dtype and tensor.shape == want.shape
            # Compared as bytes: a NaN is not equal to itself.
            assert torch.equal(_bytes_of(tensor), _bytes_of(want))


def test_valid_tensors_of_every_dtype_read_as_the_package_reads_them():
    tensors = {
        f"t{i}": (torch.arange(7 * (i + 1)) % 5).to(dtype).reshape(7, i + 1)
        for i, dtype in enumerate(DTYPES.values())
    }
    raw = serialize({**tensors, "empty": torch.zeros(0, 3), "scalar": torch.tensor(2.5)})
    got, _ = parse_tensors(raw)
    expected = _package_reads(raw)
    assert got.keys() == expected.keys()
    for name, tensor in got.items():
        assert tensor.dtype == expected[name].dtype and torch.equal(tensor, expected[name])
