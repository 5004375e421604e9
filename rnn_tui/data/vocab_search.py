"""Case-insensitive substring search over a vocabulary: the Dataset screen's search box.

A token matches a query when `query.casefold() in token.casefold()` (Unicode full case
folding: "STRASSE" finds "Straße"). The tokens are folded once, at the first search, and
each search is then a scan of the folded tokens.

Two forms, one answer. A vocabulary held as a list of str is folded into a list of str and
scanned a token at a time. A packed one (`PackedTokens`, the millions of distinct words of a
100 MB corpus) is folded as its bytes and scanned by numpy: casefolding is a per-character
map, so folding the NUL-separated blob folds each token, and a UTF-8 needle occurs in a
token's bytes exactly where it occurs in the token. For 17.6M words a token at a time took
6.4 s and 1.2 GB to fold and 1.6-2.5 s a search.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rnn_tui.data.packed_tokens import PackedTokens
from rnn_tui.data.token_list import PIECE, TokenList, let_others_run

SEARCH_PIECE = 1 << 13  # tokens searched between looks at cancellation
SCAN_BYTES = 1 << 23  # bytes of a packed vocabulary scanned between looks at cancellation
FOLD_BYTES = 1 << 22  # bytes of a packed vocabulary folded at once (the GIL held ~10 ms)

Cancelled = Callable[[], bool] | None
Found = tuple[np.ndarray, int]  # the matching indices, and the row of the exact match (or 0)


def fold(tokens: Sequence[str]) -> TokenList:
    """The tokens casefolded, as a list the garbage collector does not walk. A token that
    casefolding leaves as it was is kept, not copied: 11M lower-case ids (a 100 MB log) were
    otherwise held twice, 700 MB more, while the Dataset screen searched them."""
    out = np.empty(len(tokens), dtype=object)
    for start in range(0, len(tokens), PIECE):
        piece = np.fromiter(tokens[start : start + PIECE], dtype=object)
        folded = np.fromiter(map(str.casefold, piece), dtype=object, count=len(piece))
        same = folded == piece
        folded[same] = piece[same]
        out[start : start + len(piece)] = folded
        let_others_run()
    return TokenList(out)


class FoldedList:
    """A vocabulary's tokens casefolded, searched a token at a time."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.folded = fold(tokens)

    def find(self, needle: str, cancelled: Cancelled = None) -> Found | None:
        """The indices of the tokens containing `needle` (casefolded), and the row among them
        of the token equal to it (0 if none); None if `cancelled()` says so between pieces."""
        folded = self.folded
        parts = [np.zeros(0, dtype=np.int64)]
        for start in range(0, len(folded), SEARCH_PIECE):
            if cancelled is not None and cancelled():
                return None
            piece = folded[start : start + SEARCH_PIECE]
            parts.append(np.array([i for i, t in enumerate(piece, start) if needle in t], np.int64))
        shown = np.concatenate(parts)
        return shown, next((r for r, i in enumerate(shown.tolist()) if folded[i] == needle), 0)


class FoldedBlob:
    """A packed vocabulary casefolded as one NUL-separated UTF-8 blob, searched by numpy."""

    def __init__(self, tokens: PackedTokens) -> None:
        view = tokens.utf8_view()
        parts, ends, size, low = [], [np.zeros(0, dtype=np.int64)], 0, 0
        while low < len(view):
            # Cut between characters (casefolding maps each alone), not between tokens: one
            # token may be a 100 MB line.
            high = min(low + FOLD_BYTES, len(view))
            while high < len(view) and view[high] & 0xC0 == 0x80:  # a continuation byte
                high += 1
            raw = bytes(view[low:high])
            # ASCII folds by bytes.lower (A-Z only, as casefold); other text through str.
            if raw.isascii():
                part = raw.lower()
            else:
                part = (
                    raw.decode("utf-8", "surrogatepass").casefold().encode("utf-8", "surrogatepass")
                )
            # A token holds no NUL and casefolding makes none: the NULs still end the tokens.
            ends.append(np.flatnonzero(np.frombuffer(part, dtype=np.uint8) == 0) + size)
            parts.append(part)
            size += len(part)
            low = high
            let_others_run()
        view.release()
        self.blob = b"".join(parts)
        self.data = np.frombuffer(self.blob, dtype=np.uint8)
        self.ends = np.concatenate(ends)

    def find(self, needle: str, cancelled: Cancelled = None) -> Found | None:
        """As `FoldedList.find`."""
        pattern = needle.encode("utf-8", "surrogatepass")
        if not pattern or b"\0" in pattern:  # a NUL is in no token ("" is for the caller)
            return np.zeros(0, dtype=np.int64), 0
        hits = self._occurrences(pattern, cancelled)
        if hits is None:
            return None
        # A hit holds no NUL, so it lies in one token: the one whose NUL is the next after it.
        owners = np.searchsorted(self.ends, hits)
        first = np.ones(len(owners), dtype=bool)
        first[1:] = owners[1:] != owners[:-1]
        shown = owners[first].astype(np.int64)
        starts = np.where(owners > 0, self.ends[np.maximum(owners - 1, 0)] + 1, 0)
        exact = np.flatnonzero((hits == starts) & (self.ends[owners] - hits == len(pattern)))
        target = int(np.searchsorted(shown, owners[exact[0]])) if len(exact) else 0
        return shown, target

    def _occurrences(self, pattern: bytes, cancelled: Cancelled) -> np.ndarray | None:
        """Where `pattern` starts in the blob (overlapping ones too), in order."""
        data, m = self.data, len(pattern)
        found = [np.zeros(0, dtype=np.int64)]
        for low in range(0, max(len(data) - m + 1, 0), SCAN_BYTES):
            if cancelled is not None and cancelled():
                return None
            span = data[low : low + SCAN_BYTES + m - 1]
            at = np.flatnonzero(span[: len(span) - m + 1] == pattern[0])
            for k in range(1, m):
                at = at[span[at + k] == pattern[k]]
            found.append(at + low)
            let_others_run()
        return np.concatenate(found)


def search_size(tokens: Sequence[str], limit: int) -> int:
    """What a search of `tokens` scans: their bytes when packed, else their characters,
    counted up to `limit` at most (a few tokens can be a whole 100 MB file)."""
    if isinstance(tokens, PackedTokens):
        view = tokens.utf8_view()
        size = len(view)
        view.release()
        return size
    size = 0
    for start in range(0, len(tokens), SEARCH_PIECE):
        size += sum(map(len, tokens[start : start + SEARCH_PIECE]))
        if size > limit:
            break
    return size


def folded_vocab(tokens: Sequence[str]) -> FoldedList | FoldedBlob:
    """The tokens, casefolded for `find`: by their bytes when they are packed."""
    return FoldedBlob(tokens) if isinstance(tokens, PackedTokens) else FoldedList(tokens)


__all__ = ["FoldedBlob", "FoldedList", "SEARCH_PIECE", "fold", "folded_vocab", "search_size"]
