"""Capitalisation and punctuation tags (the many-to-many task's data): the seeds' sentence by
hand, and the round trip restore(make_tags(text)) == normalise(text) on any text and on the whole
Time Machine."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.data.sources import read_text
from rnn_tui.data.tagging import PUNCTUATION, make_tags, normalise, restore, tag_parts


def test_the_seeds_sentence_by_hand() -> None:
    text, tags = make_tags("I am not happy.")
    assert text == "i am not happy"
    assert tags[0] == "C" and tags[-1] == "." and set(tags[1:-1]) == {"O"}
    assert tag_parts("C.") == (True, ".") and tag_parts("O") == (False, "")


def test_marks_follow_the_character_before_them() -> None:
    text, tags = make_tags('He said, "No."  Then - nothing')
    assert text == "he said no then  nothing"  # whitespace runs are one space
    said = text.index("d")
    assert tags[said] == ","  # "said,"
    assert tags[said + 1] == '"'  # the space before the opening quote
    assert tags[text.index("no") : text.index("no") + 2] == ["C", '."']  # "No."
    assert restore(text, tags) == 'He said, "No." Then - nothing'


@given(st.text(alphabet="aZ 9.,;:!?\"'()-\n\té", max_size=60))
def test_tags_round_trip_to_the_normalised_text(raw) -> None:
    text, tags = make_tags(raw)
    assert len(text) == len(tags)
    assert not set(text) & set(PUNCTUATION) and text == text.lower()
    assert restore(text, tags) == normalise(raw)


def test_the_time_machine_round_trips() -> None:
    raw = read_text("timemachine")
    text, tags = make_tags(raw)
    assert restore(text, tags) == normalise(raw)
    assert len(text) > 150_000
    assert sum(t.startswith("C") for t in tags) > 1000 and sum("." in t for t in tags) > 1000
