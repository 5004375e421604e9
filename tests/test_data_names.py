"""Surnames by language (PyTorch's char-RNN name classification data)."""

from rnn_tui.data.names import ALL_LETTERS, languages, load_names, name_counts, unicode_to_ascii


def test_unicode_to_ascii():
    assert unicode_to_ascii("Bélanger") == "Belanger"
    assert unicode_to_ascii("Ślusarski") == "Slusarski"
    assert unicode_to_ascii("O'Néal") == "O'Neal"
    assert unicode_to_ascii("ß") == ""  # not a letter of ALL_LETTERS, as in the tutorial


def test_languages_and_counts():
    langs = languages()
    assert len(langs) == 18 and langs == sorted(langs)
    assert {"English", "French", "Russian", "Vietnamese"} <= set(langs)
    counts = name_counts()
    assert list(counts) == langs
    assert 19_000 < sum(counts.values()) < 21_000
    assert counts["Russian"] == 9408 and counts["Vietnamese"] == 73


def test_load_names():
    names = load_names()
    assert list(names) == languages()
    assert all(set(name) <= set(ALL_LETTERS) and name for ns in names.values() for name in ns)
    raw = load_names(ascii=False)
    assert any(not name.isascii() for ns in raw.values() for name in ns)
    assert {k: len(v) for k, v in raw.items()} == name_counts()
    # Callers get their own lists.
    names["English"].clear()
    assert load_names()["English"]
