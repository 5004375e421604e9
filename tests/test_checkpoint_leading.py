"""A checkpoint's JSON puts its small values first, so that a list of checkpoints reads their
facts from the first MiB and never parses a large vocabulary (which held the app's event loop
for ~0.3 s per checkpoint: the parse holds the interpreter, even in a worker thread)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.checkpoints import store
from rnn_tui.checkpoints.store import json_text, read_leading, write_pair
from rnn_tui.runs.discover import describe, read_facts, read_meta

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
RECORDS = st.dictionaries(st.text(max_size=6), VALUES, max_size=8)


def compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def top_level_order(text: str) -> list[str]:
    """The keys of a JSON object in the order written."""
    decode = json.JSONDecoder().raw_decode
    keys, at = [], 1
    while text[at] != "}":
        key, at = decode(text, at)
        _, at = decode(text, at + 1)
        keys.append(key)
        at += text[at] == ","
    return keys


@settings(max_examples=150, deadline=None)
@given(RECORDS)
def test_the_json_is_the_record_smallest_values_first(record) -> None:
    text = json_text(record)
    assert json.loads(text) == record
    order = top_level_order(text)
    assert sorted(order) == sorted(record)
    sizes = [len(compact(record[k])) for k in order]
    assert sizes == sorted(sizes)


@settings(max_examples=150, deadline=None)
@given(RECORDS, st.sampled_from(["", " ", "\n  "]))
def test_the_leading_values_are_those_before_the_first_skipped_key(tmp_path_factory, record, gap):
    path = tmp_path_factory.mktemp("lead") / "x.json"
    text = json_text(record)
    pairs = [(k, record[k]) for k in top_level_order(text)]
    spaced = (
        "{"
        + gap
        + ("," + gap).join(f"{json.dumps(k)}{gap}:{gap}{json.dumps(v)}" for k, v in pairs)
        + gap
        + "}"
    )
    path.write_text(spaced, encoding="utf-8")
    assert read_leading(path, frozenset(), frozenset()) == record
    skip = frozenset(k for k in record if len(k) % 2)
    expected = {}
    for key, value in pairs:
        if key in skip:
            break
        expected[key] = value
    assert read_leading(path, frozenset(), skip) == expected


def lm_meta(tokens: int) -> dict:
    return {
        "format_version": 1,
        "config": {"task": "lm", "token": "word", "corpus": "ids.txt", "model": "lstm"},
        "vocab": {"idx_to_token": ["<unk>", *(f"{i:030x}" for i in range(tokens))]},
        "model_config": {"model": "lstm", "vocab_size": tokens + 1, "hidden": 4},
        "metrics": {"history": [{"epoch": 3, "val_ppl": 7.5}]},
        "epoch": 3,
    }


def test_a_list_reads_the_facts_of_a_large_vocabulary_from_the_first_mib(
    tmp_path, monkeypatch
) -> None:
    meta = lm_meta(200_000)  # a 7 MB vocabulary
    write_pair(tmp_path, "last", b"tensors", meta)
    path = tmp_path / "last.json"
    assert path.stat().st_size > 4 * store.LEADING_BYTES
    facts = read_facts(path)
    assert "vocab" not in facts and facts["tensors_file"].endswith(".safetensors")
    assert describe(facts) == describe(read_meta(path))
    assert describe(facts)["vocab_size"] == 200_001 and describe(facts)["val_ppl"] == 7.5


def test_a_checkpoint_written_before_is_read_whole(tmp_path) -> None:
    meta = {**lm_meta(200_000), "tensors_file": "last.safetensors"}
    path = tmp_path / "last.json"
    path.write_text(json.dumps(meta), encoding="utf-8")  # the vocabulary before the metrics
    assert read_leading(path, frozenset({"metrics"}), frozenset({"vocab"})) is None
    assert read_facts(path) == meta


def test_what_is_not_a_checkpoints_json_reads_as_none(tmp_path) -> None:
    path = tmp_path / "x.json"
    for content in (b"", b"[1, 2]", b'{"a" 1}', b'{"a": 1,', b"\x80\x04garbage", b"{" * 10_000):
        path.write_bytes(content)
        assert read_leading(path, frozenset(), frozenset()) is None
        assert read_facts(path) is None


def test_a_character_cut_by_the_prefix_is_no_error_and_bad_bytes_are_not_hidden(
    tmp_path, monkeypatch
) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format_version":1,"config":{"corpus":"é"},"vocab":["ü"]}', "utf-8")
    cut = path.read_bytes().index("ü".encode()) + 1  # inside the 2-byte ü
    monkeypatch.setattr(store, "LEADING_BYTES", cut)
    facts = read_leading(path, frozenset({"config"}), frozenset({"vocab"}))
    assert facts == {"format_version": 1, "config": {"corpus": "é"}}
    path.write_bytes(b'{"format_version":1,"config":{"corpus":"\xff"},"vocab":[]}')
    monkeypatch.setattr(store, "LEADING_BYTES", 1 << 20)
    assert read_leading(path, frozenset(), frozenset({"vocab"})) is None
    assert read_facts(path) is None  # read whole, it is refused
