"""Vocabulary: tokens ⇄ indices, the d2l way (text preprocessing chapter, `Vocab`)."""

from __future__ import annotations

import array
import bisect
import collections
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from rnn_tui.data.errors import DataError
from rnn_tui.data.vocab_fields import count, counts_array, strings, token_freq_pairs

UNK = "<unk>"
DICT_PIECE = 1 << 16  # entries added per call while indexing a big vocabulary


def _dict_in_pieces(keys: Sequence, values: Sequence) -> dict:
    """dict(zip(keys, values)) a piece at a time: for millions of tokens one C call would hold
    the GIL for a second, and the app's event loop waits on the worker building a vocabulary."""
    out: dict = {}
    for start in range(0, len(keys), DICT_PIECE):
        out.update(zip(keys[start : start + DICT_PIECE], values[start : start + DICT_PIECE]))
    return out


def position_of(tokens: Sequence[str], token: str) -> int:
    """The first index of `token` in `tokens`, or -1."""
    find = getattr(tokens, "find", None)  # a TokenList searches a piece at a time
    if find is not None:
        return find(token)
    try:
        return tokens.index(token)
    except ValueError:
        return -1


def count_order(counts: Any) -> Any:
    """The indices of `counts` (an array of integers) by descending count, ties in index order: a
    stable sort, as d2l's `sorted(counter.items(), key=..., reverse=True)` orders tokens."""
    import numpy as np  # here: `rnn-tui --help` imports this module and not numpy

    top = int(counts.max()) if len(counts) else 0
    if len(counts) and counts.min() >= 0 and top < 1 << 32:
        # Sorted by max - count in 4 bytes, not by -count in 8: the key is made beside the
        # counts and the order, at the peak of `stats`' memory (14M distinct words: 56 MB).
        key = counts.astype(np.uint32)
        np.subtract(np.uint32(top), key, out=key)
        return np.argsort(key, kind="stable")
    return np.argsort(-counts.astype(np.int64), kind="stable")


def count_corpus(tokens: Iterable) -> collections.Counter:
    """Count token frequencies (d2l `count_corpus`).

    `tokens` is a 1-D list of tokens or a 2-D list (one list per line), which is flattened.
    As in d2l only lists count as lines, so a 1-D list of n-gram tuples is counted as is.
    """
    tokens = list(tokens)
    if tokens and isinstance(tokens[0], list):
        return collections.Counter(token for line in tokens for token in line)
    return collections.Counter(tokens)


class Vocab:
    """d2l `Vocab`: index 0 is `<unk>`, then the reserved tokens, then the counted tokens by
    descending frequency (ties keep first-seen order: a stable sort of the Counter), dropping
    tokens seen fewer than `min_freq` times. Unknown tokens map to index 0.
    """

    def __init__(
        self,
        tokens: Iterable | None = None,
        min_freq: int = 0,
        reserved_tokens: Iterable[str] | None = None,
    ) -> None:
        counter = count_corpus(tokens if tokens is not None else [])
        self._build(counter, min_freq, reserved_tokens)

    @classmethod
    def from_counts(
        cls,
        counts: Iterable[tuple[str, int]],
        min_freq: int = 0,
        reserved_tokens: Iterable[str] | None = None,
    ) -> Vocab:
        """The Vocab of a token stream given its (token, count) pairs in first-seen order, as
        the Counter `count_corpus` would hold them (what rnn_tui.data.token_array counts without
        Python lists of tokens). `Vocab.from_counts(count_corpus(t).items()) == Vocab(t)`."""
        vocab = cls.__new__(cls)
        vocab._build(dict(counts), min_freq, reserved_tokens)
        return vocab

    @classmethod
    def from_token_counts(
        cls,
        tokens: Sequence[str],
        counts: Any,
        min_freq: int = 0,
        reserved_tokens: Iterable[str] | None = None,
        order: Any = None,
    ) -> Vocab:
        """`from_counts(zip(tokens, counts))` for distinct `tokens` in first-seen order and their
        counts as an array: sorted by numpy (a stable sort, so ties keep first-seen order) with no
        dict or tuple per token, which for millions of distinct words saves seconds and GBs.
        `order` may give that sort (`count_order(counts)`) where the caller needs it too."""
        # Here: `rnn-tui --help` imports this module and not numpy.
        import numpy as np

        from rnn_tui.data.token_list import TokenList

        counts = np.asarray(counts)
        if counts.dtype.kind not in "iu":  # a scan's are uint32 or int64, as they are kept
            counts = counts.astype(np.int64)
        if counts.shape != (len(tokens),):
            raise DataError(f"{len(tokens)} tokens but {counts.size} counts")
        order = count_order(counts) if order is None else order
        vocab = cls.__new__(cls)
        head = [UNK, *(reserved_tokens or [])]
        # One table of tokens the garbage collector does not walk (rnn_tui.data.token_list):
        # the head, then the counted tokens by count; by_freq and idx_to_token are views of it.
        # PackedTokens take into PackedTokens (rnn_tui.data.packed_tokens): no str per token.
        table = (tokens if hasattr(tokens, "take") else TokenList(tokens)).take(order, head)
        # 4 bytes a count where they fit (all but corpora of billions of tokens): a vocabulary
        # of 14M distinct words held 112 MB of them as 8.
        narrow = array.array("I").itemsize == 4 and (not len(counts) or counts.max() < 1 << 32)
        freqs = array.array("I" if narrow else "q")
        for start in range(0, len(order), DICT_PIECE):  # no sorted copy of all the counts
            piece = counts[order[start : start + DICT_PIECE]]
            piece = np.ascontiguousarray(piece, dtype="=u4" if narrow else "=i8")
            freqs.frombytes(memoryview(piece).cast("B"))
        vocab._layout(table[len(head) :], freqs, min_freq, reserved_tokens, table)
        return vocab

    def _build(
        self, counter: dict[str, int], min_freq: int, reserved_tokens: Iterable[str] | None
    ) -> None:
        # sorted() is stable, so equal counts stay in the order the Counter first saw them.
        token_freqs = sorted(counter.items(), key=operator.itemgetter(1), reverse=True)
        by_freq = [token for token, _ in token_freqs]
        self._layout(
            by_freq, array.array("q", (f for _, f in token_freqs)), min_freq, reserved_tokens
        )

    def _layout(
        self,
        by_freq: Sequence[str],
        freqs: array.array,
        min_freq: int,
        reserved_tokens: Iterable[str] | None,
        joined: Any = None,
    ) -> None:
        """Index the counted tokens `by_freq` (descending count `freqs`): `<unk>`, the reserved
        tokens, then those seen at least min_freq times. The counts stay two flat sequences
        (a tuple and a dict entry per token cost ~250 bytes each for a million-word corpus).
        `joined`, where given, is head + by_freq as one table (`from_token_counts`), of which
        idx_to_token is a view."""
        self.min_freq = int(min_freq)
        self.reserved_tokens = list(reserved_tokens or [])
        self._by_freq, self._freqs = by_freq, freqs
        self._counts: dict[str, int] | None = None  # built on demand (`freq`)
        # Tokens seen at least min_freq times: a prefix of the list sorted by count.
        self._kept = bisect.bisect_right(freqs, -self.min_freq, key=operator.neg)
        head = [UNK, *self.reserved_tokens]
        kept = by_freq[: self._kept]
        tokens: Sequence[str]
        if joined is not None:
            tokens = joined[: len(head) + self._kept]
        else:
            tokens = [*head, *kept]
        self.idx_to_token: Sequence[str] = tokens
        self._token_to_idx: dict[str, int] | None = None  # built at the first lookup
        # Where counted token i sits in idx_to_token (None: not simply offset, see below).
        self._offset: int | None = len(head)
        if len(set(head)) != len(head) or any(position_of(kept, token) >= 0 for token in head):
            # A token repeated (`<unk>` in the text, a reserved one counted): the first place.
            self._offset = None
            idx_to_token, index = [UNK], {UNK: 0}
            for token in tokens[1:]:
                if token not in index:
                    index[token] = len(idx_to_token)
                    idx_to_token.append(token)
            self.idx_to_token, self._token_to_idx = idx_to_token, index

    @property
    def token_to_idx(self) -> dict[str, int]:
        """token → index (d2l's attribute), built at the first lookup: for millions of tokens
        the dict takes a second to build and, each time it grows, holds the GIL for a tenth of
        a second (the Dataset screen, which never looks a token up, does without it)."""
        index = self._token_to_idx
        if index is None:
            index = _dict_in_pieces(self.idx_to_token, range(len(self.idx_to_token)))
            self._token_to_idx = index
        return index

    @property
    def counted_offset(self) -> int | None:
        """Where the counted tokens start in idx_to_token: the i-th most frequent one kept is
        `idx_to_token[counted_offset + i]`. None when a counted token repeats `<unk>` or a
        reserved token (each token then has the first place it was given)."""
        return self._offset

    def counts_by_index(self, stop: int | None = None) -> Any:
        """`freq(idx_to_token[i])` for every index i below `stop` (default: all), as an int64
        array, with no lookups: the head of a vocabulary of millions needs no token → index dict."""
        import numpy as np  # here: `rnn-tui --help` imports this module and not numpy

        size = len(self.idx_to_token) if stop is None else max(0, min(stop, len(self)))
        if self._offset is None:
            return np.array([self.freq(t) for t in self.idx_to_token[:size]], dtype=np.int64)
        out = np.empty(size, dtype=np.int64)
        for i, token in enumerate(self.idx_to_token[: min(self._offset, size)]):
            where = position_of(self._by_freq, token)  # a head token counted, but dropped
            out[i] = self._freqs[where] if where >= 0 else 0
        if size > self._offset:
            counted = np.frombuffer(self._freqs, dtype=self._freqs.typecode, count=self._kept)
            out[self._offset :] = counted[: size - self._offset]
        return out

    def min_freq_within(self, size: int) -> tuple[int, int]:
        """The smallest min_freq (not below this one) whose Vocab of the same counts has at
        most `size` entries, `<unk>` and the reserved tokens included, and how many counted
        tokens it keeps (by the counts, sorted: no Vocab is built)."""
        room = max(0, size - 1 - len(self.reserved_tokens))
        if room >= self._kept:
            return self.min_freq, self._kept
        # Every token as frequent as the first one past the room must go, and no other.
        least = self._freqs[room] + 1
        return least, bisect.bisect_right(self._freqs, -least, key=operator.neg)

    def check_not_empty(self, what: str) -> None:
        """DataError when min_freq dropped every counted token (a model would then learn
        `<unk>` alone): the message says the highest count, which min_freq must not pass."""
        if len(self) > 1 + len(self.reserved_tokens) or not self._by_freq:
            return
        token, top = self._by_freq[0], self._freqs[0]
        raise DataError(
            f"min-freq {self.min_freq} leaves no token of {what} but <unk>: the most frequent, "
            f"{token!r}, occurs {'once' if top == 1 else f'{top:,} times'} "
            f"(use min-freq {top} or less)"
        )

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token: object) -> bool:
        return token in self.token_to_idx

    def __getitem__(self, tokens: Any) -> Any:
        """A token → its index (unknown → 0); a list/tuple of tokens → a list of indices."""
        if isinstance(tokens, list | tuple):
            get = self.token_to_idx.get
            return [get(token, 0) for token in tokens]
        return self.token_to_idx.get(tokens, 0)

    def to_tokens(self, indices: Any) -> Any:
        """An index → its token; a list/tuple/array of indices → a list of tokens."""
        if hasattr(indices, "tolist"):  # numpy arrays and scalars
            indices = indices.tolist()
        if isinstance(indices, list | tuple):
            return [self.idx_to_token[int(index)] for index in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self) -> int:
        """Index of the unknown token (always 0)."""
        return 0

    @property
    def token_freqs(self) -> list[tuple[str, int]]:
        """Every counted token with its count, by descending frequency (min_freq not applied)."""
        return list(zip(self._by_freq, self._freqs, strict=True))

    def freq(self, token: str) -> int:
        """How often `token` occurred in the tokens this vocabulary was built from (0 if never)."""
        idx = self.token_to_idx.get(token)
        if self._offset is not None and idx is not None and idx >= self._offset:
            return self._freqs[idx - self._offset]
        if self._counts is None:
            # Any other counted token was dropped by min_freq (or, with tokens repeated in
            # idx_to_token, is anywhere): a dict of those only, built at the first question.
            rest = self._kept if self._offset is not None else 0
            self._counts = _dict_in_pieces(self._by_freq[rest:], self._freqs[rest:])
        return self._counts.get(token, 0)

    def to_dict(self) -> dict:
        """A JSON-ready description that `from_dict` turns back into a Vocab with the same
        indices and counts: the tokens min_freq dropped are left out (they all map to `<unk>`;
        for a corpus of millions of distinct words they were most of a checkpoint), and where
        the counted tokens follow the head unrepeated, their counts are a list of numbers."""
        d: dict[str, Any] = {
            "idx_to_token": list(self.idx_to_token),
            "min_freq": self.min_freq,
            "reserved_tokens": list(self.reserved_tokens),
        }
        if self._offset is not None:
            d["counts"] = self._freqs[: self._kept].tolist()
        else:
            kept = zip(self._by_freq[: self._kept], self._freqs[: self._kept])
            d["token_freqs"] = [[token, freq] for token, freq in kept]
        return d

    def kept_bytes(self) -> Any:
        """The JSON bytes (`to_dict`, compact, UTF-8) each kept counted token takes, by
        descending count, as an int64 array: what a smaller vocabulary would save."""
        import json

        import numpy as np  # here: `rnn-tui --help` imports this module and not numpy

        size = json.JSONEncoder(ensure_ascii=False).encode
        pairs = self._offset is None
        out = np.empty(self._kept, dtype=np.int64)
        for i in range(self._kept):
            text = size(self._by_freq[i])
            width = len(text) if text.isascii() else len(text.encode())
            # ,"token" in idx_to_token; then count, in counts or ["token",count], in token_freqs
            count = len(str(self._freqs[i])) + 1
            out[i] = width + 1 + (count + width + 3 if pairs else count)
        return out

    def kept_at(self, min_freq: int) -> int:
        """How many counted tokens a min_freq of `min_freq` (not below this one's) keeps."""
        if min_freq <= self.min_freq:
            return self._kept
        return bisect.bisect_right(self._freqs, -min_freq, key=operator.neg, hi=self._kept)

    @classmethod
    def from_dict(cls, d: dict, field: str = "") -> Vocab:
        """Rebuild a Vocab saved by `to_dict` (e.g. from a checkpoint's JSON, whose key `field`
        names in messages: "vocab."). Every value is checked, not converted: an edited token 7
        read as "7" would be another token, and generation would print <unk> in its place."""
        try:
            idx_to_token = strings(d["idx_to_token"], f"{field}idx_to_token")
            min_freq = count(d.get("min_freq", 0), f"{field}min_freq")
            reserved = strings(d.get("reserved_tokens", []), f"{field}reserved_tokens")
            counts = d.get("counts")
            if counts is not None:
                # The counted tokens follow <unk> and the reserved ones, in count order.
                head = 1 + len(reserved)
                if (
                    not isinstance(counts, list)
                    or idx_to_token[1:head] != reserved
                    or len(counts) != len(idx_to_token) - head
                ):
                    raise ValueError(f"{field}counts do not match the tokens")
                by_freq = idx_to_token[head:]
                freqs = counts_array(counts, f"{field}counts")
            else:
                token_freqs = token_freq_pairs(d.get("token_freqs", []), f"{field}token_freqs")
                by_freq = [token for token, _ in token_freqs]
                freqs = array.array("q", (freq for _, freq in token_freqs))
        except KeyError:
            raise DataError(f"malformed vocabulary: {field}idx_to_token is missing") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise DataError(f"malformed vocabulary: {exc}") from None
        if not idx_to_token or idx_to_token[0] != UNK:
            raise DataError("malformed vocabulary: index 0 must be '<unk>'")
        # Built a piece at a time, which hands the GIL over between pieces; a set of the tokens
        # first was one C call (331 ms for 2.26M words, in the worker of a screen loading it).
        token_to_idx = _dict_in_pieces(idx_to_token, range(len(idx_to_token)))
        if len(token_to_idx) != len(idx_to_token):
            raise DataError("malformed vocabulary: duplicate tokens")
        vocab = cls.__new__(cls)
        vocab.min_freq = min_freq
        vocab.reserved_tokens = reserved
        vocab._by_freq, vocab._freqs = by_freq, freqs
        # With counts, counted token i sits at head + i; else `freq` asks a dict.
        vocab._kept = len(by_freq)
        vocab._offset = 1 + len(reserved) if counts is not None else None
        vocab._counts = None
        vocab.idx_to_token = idx_to_token
        vocab._token_to_idx = token_to_idx
        return vocab

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        # The same indices and counts; the counts of tokens min_freq dropped (which a saved
        # Vocab leaves out) do not matter.
        return (
            self.idx_to_token == other.idx_to_token
            and self._by_freq[: self._kept] == other._by_freq[: other._kept]
            and self._freqs[: self._kept] == other._freqs[: other._kept]
        )

    def __repr__(self) -> str:
        head = ", ".join(self.idx_to_token[:5])
        return f"Vocab(size={len(self)}, first=[{head}{', …' if len(self) > 5 else ''}])"
