"""Machine-translation data: English→French pairs (d2l "Machine Translation and the Dataset").

read pairs → `preprocess_nmt` → `tokenize_nmt` → source/target Vocab (min_freq 2,
`<pad> <bos> <eos>`) → `build_array_nmt` (ids + `<eos>`, `truncate_pad` to num_steps, valid_len).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from rnn_tui.data.errors import DataError
from rnn_tui.data.sources import BUNDLED_PAIRS, nfc, read_raw_pairs
from rnn_tui.data.vocab import Vocab

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
RESERVED_TOKENS = [PAD, BOS, EOS]
# The seeds' four test sentences (d2l §9.7) and their references: a translation run's sample.
SEED_SENTENCES = (
    ("go .", "va !"),
    ("i lost .", "j'ai perdu ."),
    ("he's calm .", "il est calme ."),
    ("i'm home .", "je suis chez moi ."),
)

# d2l's no_space(char, prev_char) as a zero-width match: before , . ! ? whose previous character
# is not a space (a lookbehind reads the input, as d2l's text[i - 1] does; at i = 0 it fails).
_NO_SPACE = re.compile(r"(?<=[^ ])(?=[,.!?])")
# The same across many sentences joined by newlines, where a sentence start must not match.
_NO_SPACE_JOINED = re.compile(r"(?<=[^ \n])(?=[,.!?])")
_SPACES = re.compile(r"  +")
Progress = Callable[[int, int], None]  # (done, total) after each chunk
PREPROCESS_CHUNK = 2_000  # pairs a pass of `preprocess_pairs` (~5 ms of regular expression)


def preprocess_nmt(text: str) -> str:
    """d2l `preprocess_nmt`: U+202F and U+00A0 → space, lower-case, and a space inserted before
    `, . ! ?` when the previous character is not a space. Then runs of spaces become one and
    none is left at either end: `tokenize_nmt` splits on single spaces, as the book's does, and
    made an empty token of each (the most frequent word of a file with padded lines, and one of
    the bundled French vocabulary's, from 8 sentences like "qui est cette fille  ?"). Accents
    are composed (NFC) first: "é" typed as e + U+0301 is the vocabulary's "é"."""
    text = nfc(text).replace("\u202f", " ").replace("\xa0", " ").lower()
    return _SPACES.sub(" ", _NO_SPACE.sub(" ", text)).strip(" ")


def preprocess_pairs(
    pairs: Sequence[tuple[str, str]], chunk: int = PREPROCESS_CHUNK
) -> list[tuple[str, str]]:
    """`preprocess_nmt` on both sides of every pair, one pass over the joined text of each
    `chunk` pairs (the whole fra-eng set in 0.20–0.31 s, about what pair by pair takes on this
    project's machine; an earlier one measured ~0.15 s against ~0.3). One pass over all of it
    would be one regular-expression call of ~150 ms holding the GIL: the app loads the pairs in
    a thread, and its event loop would wait that long."""
    sides = [side for pair in pairs for side in pair]
    if not sides:
        return []
    if any("\n" in side for side in sides):
        return [(preprocess_nmt(src), preprocess_nmt(tgt)) for src, tgt in pairs]
    out: list[str] = []
    step = 2 * max(1, chunk)
    for start in range(0, len(sides), step):
        # A chunk starts and ends where the whole text has a newline: the lookbehind at its
        # start and lower() (Σ at the end of a word) see the same neighbours either way.
        text = "\n".join(sides[start : start + step])
        text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
        text = _SPACES.sub(" ", _NO_SPACE_JOINED.sub(" ", text))
        out += [side.strip(" ") for side in text.split("\n")]
    return list(zip(out[0::2], out[1::2], strict=True))


def preprocess_in_place(
    pairs: list[tuple[str, str]], chunk: int = PREPROCESS_CHUNK, progress: Progress | None = None
) -> None:
    """`preprocess_pairs` into the same list a chunk at a time: each chunk's raw strings are freed
    as its preprocessed ones arrive, so millions of pairs are never held twice. `progress(done,
    total)` follows each chunk, in pairs."""
    step = max(1, chunk)
    for start in range(0, len(pairs), step):
        pairs[start : start + step] = preprocess_pairs(pairs[start : start + step], step)
        if progress is not None:
            progress(min(start + step, len(pairs)), len(pairs))


def tokenize_nmt(
    pairs: Sequence[tuple[str, str]],
) -> tuple[list[list[str]], list[list[str]]]:
    """d2l `tokenize_nmt`: each side split on single spaces."""
    source = [src.split(" ") for src, _ in pairs]
    target = [tgt.split(" ") for _, tgt in pairs]
    return source, target


def truncate_pad(line: list, num_steps: int, padding_token) -> list:
    """d2l `truncate_pad`: cut to num_steps, or pad with padding_token up to num_steps."""
    if num_steps < 1:
        raise DataError(f"num_steps must be at least 1, got {num_steps}")
    if len(line) > num_steps:
        return line[:num_steps]
    return line + [padding_token] * (num_steps - len(line))


def build_array_nmt(
    lines: Sequence[list[str]], vocab: Vocab, num_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """d2l `build_array_nmt`: ids + `<eos>`, truncate_pad with `<pad>` to num_steps.

    Returns (array int64 (len(lines), num_steps), valid_len int64 (len(lines),)), valid_len
    counting the non-`<pad>` ids of each row.
    """
    if num_steps < 1:
        raise DataError(f"num_steps must be at least 1, got {num_steps}")
    pad, eos = vocab[PAD], vocab[EOS]
    get = vocab.token_to_idx.get
    # Filling a padded array row by row is truncate_pad without building the padded lists.
    array = np.full((len(lines), num_steps), pad, dtype=np.int64)
    for i, line in enumerate(lines):
        ids = [get(token, 0) for token in line[:num_steps]]
        if len(ids) < num_steps:
            ids.append(eos)
        array[i, : len(ids)] = ids
    valid_len = (array != pad).sum(axis=1).astype(np.int64)
    return array, valid_len


def build_array_sentences(
    sentences: Sequence[str],
    vocab: Vocab,
    num_steps: int,
    chunk: int = 1 << 16,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`build_array_nmt` of the `tokenize_nmt` split of each sentence, without a list of tokens
    per sentence (for millions of pairs those lists take GBs): a chunk of sentences is split as
    one text, looked up in one `map`, and placed by numpy: sentence i's token j lands at
    [i, j] while j < num_steps, `<eos>` at [i, len] when len < num_steps."""
    if num_steps < 1:
        raise DataError(f"num_steps must be at least 1, got {num_steps}")
    pad, eos = vocab[PAD], vocab[EOS]
    get = vocab.token_to_idx.get
    array = np.full((len(sentences), num_steps), pad, dtype=np.int64)
    step = max(1, chunk)
    for start in range(0, len(sentences), step):
        piece = sentences[start : start + step]
        ids = np.fromiter(map(get, " ".join(piece).split(" "), repeat(0)), dtype=np.int64)
        # split(" ") gives one token more than the sentence has spaces.
        lengths = np.fromiter(map(str.count, piece, repeat(" ")), np.int64, len(piece)) + 1
        rows = np.repeat(np.arange(len(piece)), lengths)
        cols = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        kept = cols < num_steps
        array[start + rows[kept], cols[kept]] = ids[kept]
        short = np.flatnonzero(lengths < num_steps)
        array[start + short, lengths[short]] = eos
        if progress is not None:
            progress(start + len(piece), len(sentences))
    valid_len = (array != pad).sum(axis=1).astype(np.int64)
    return array, valid_len


def side_counts(
    sentences: Sequence[str], chunk: int = PREPROCESS_CHUNK, progress: Progress | None = None
) -> Counter:
    """`count_corpus` of the `tokenize_nmt` tokens of `sentences`, in the same first-seen order,
    a chunk of sentences at a time: `Vocab.from_counts(side_counts(s).items())` is the Vocab of
    the sentences' token lists without holding those lists. (Splitting sentences joined by one
    space on " " gives the concatenation of their splits.)"""
    counts: Counter = Counter()
    step = max(1, chunk)
    for start in range(0, len(sentences), step):
        counts.update(" ".join(sentences[start : start + step]).split(" "))
        if progress is not None:
            progress(min(start + step, len(sentences)), len(sentences))
    return counts


@dataclass(eq=False)
class TranslationData:
    raw: list[tuple[str, str]]  # as read
    pairs: list[tuple[str, str]]  # after preprocess_nmt
    source: list[list[str]]
    target: list[list[str]]
    src_vocab: Vocab
    tgt_vocab: Vocab
    malformed: int
    third_column: int = 0  # lines whose third field (an attribution) was dropped


def load_translation(
    source: str = BUNDLED_PAIRS,
    num_examples: int | None = None,
    min_freq: int = 2,
    encoding: str = "utf-8",
) -> TranslationData:
    """Pairs, their tokens and both vocabularies (d2l `load_data_nmt` before the arrays)."""
    if min_freq < 0:
        raise DataError(f"min_freq must be 0 or more, got {min_freq}")
    read = read_raw_pairs(source, encoding, num_examples)
    pairs = preprocess_pairs(read.pairs)
    src_tokens, tgt_tokens = tokenize_nmt(pairs)
    src_vocab = Vocab(src_tokens, min_freq=min_freq, reserved_tokens=RESERVED_TOKENS)
    tgt_vocab = Vocab(tgt_tokens, min_freq=min_freq, reserved_tokens=RESERVED_TOKENS)
    src_vocab.check_not_empty(f"the English side of {source}")
    tgt_vocab.check_not_empty(f"the French side of {source}")
    return TranslationData(
        raw=read.pairs,
        pairs=pairs,
        source=src_tokens,
        target=tgt_tokens,
        src_vocab=src_vocab,
        tgt_vocab=tgt_vocab,
        malformed=read.malformed,
        third_column=read.third_column,
    )


def length_histogram(
    lines: Sequence[Sequence], max_len: int | None = None
) -> list[tuple[int, int]]:
    """(length, count) for the token counts of `lines`, sorted by length. With max_len, longer
    lines are counted at max_len, so the last bar reads "max_len or more"."""
    if max_len is not None and max_len < 0:
        raise DataError(f"max_len must be 0 or more, got {max_len}")
    lengths = (len(line) for line in lines)
    if max_len is not None:
        lengths = (min(length, max_len) for length in lengths)
    return sorted(Counter(lengths).items())


def length_stats(lines: Sequence[Sequence]) -> dict:
    """count, mean, median and max of the token counts of `lines` (zeros when there are none)."""
    lengths = [len(line) for line in lines]
    if not lengths:
        return {"count": 0, "mean": 0.0, "median": 0.0, "max": 0}
    return {
        "count": len(lengths),
        "mean": statistics.fmean(lengths),
        "median": float(statistics.median(lengths)),
        "max": max(lengths),
    }
