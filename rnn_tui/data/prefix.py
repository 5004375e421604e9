"""A prefix tokenized as the model's corpus was (the seeds' prediction starts from one).

The checkpoint's config says how its corpus was read: in "clean" mode every run of non-letters
becomes a space and letters are lower-cased (the seeds' `re.sub('[^A-Za-z]+', ' ', line).lower()`),
so "Time Traveller!" reads "time traveller "; "char" lists the characters, "word" splits on
whitespace. Tokens outside the vocabulary map to `<unk>` (index 0) and are reported. The trainer
checks its sample prefix with these functions and the generator reads with them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rnn_tui.data.corpus import CLEAN_MODES, TOKEN_LEVELS
from rnn_tui.data.errors import DataError
from rnn_tui.data.vocab import UNK

_NON_LETTERS = re.compile("[^A-Za-z]+")
# The most tokens a prefix may have: reading 100,000 characters takes ~4 s on two cores (as many
# as `--length` may generate).
MAX_PREFIX_TOKENS = 100_000


@dataclass(frozen=True)
class Prefix:
    """A prefix as the model reads it: `tokens` after cleaning and tokenizing, `ids` their
    vocabulary indices, `unknown` the distinct tokens that map to `<unk>` (first-seen order),
    `cleaned` the distinct characters other than whitespace that cleaning turned into spaces;
    `what` the input's name in messages ("prefix"; the gradient probe's "text")."""

    tokens: list[str]
    ids: list[int]
    unknown: list[str]
    cleaned: list[str]
    what: str = "prefix"

    def warnings(self) -> list[str]:
        """What the reader should know the model does not read as typed: the characters
        cleaning replaced, the tokens that became `<unk>`."""
        out = [cleaned_message(self.cleaned)] if self.cleaned else []
        if not self.unknown:
            return out
        unknown = set(self.unknown)
        replaced = sum(tok in unknown for tok in self.tokens)
        return out + [unknown_message(self.unknown, self.what, replaced)]

    @property
    def shown(self) -> list[str]:
        """The tokens the model sees: unknown ones as `<unk>` (what the seeds' output prints)."""
        unknown = set(self.unknown)
        return [UNK if tok in unknown else tok for tok in self.tokens]


def clean_prefix(prefix: str, mode: str = "clean") -> str:
    """The prefix cleaned like the corpus lines: "clean" maps every run of non-letters to one
    space and lower-cases (the corpus also strips line ends; a prefix keeps a trailing space the
    user typed, since it says where the next word starts); "raw" keeps it as it is."""
    if mode == "clean":
        return _NON_LETTERS.sub(" ", prefix).lower()
    if mode == "raw":
        return prefix
    raise DataError(f"unknown cleaning mode {mode!r} (choose from {', '.join(CLEAN_MODES)})")


def tokenize_prefix(prefix: str, token: str = "char", mode: str = "clean") -> list[str]:
    """The prefix's tokens: characters ("char") or whitespace-separated words ("word")."""
    text = clean_prefix(prefix, mode)
    if token == "char":
        return list(text)
    if token == "word":
        return text.split()
    raise DataError(f"unknown token level {token!r} (choose from {', '.join(TOKEN_LEVELS)})")


def encode_prefix(
    prefix: str, vocab, token: str = "char", mode: str = "clean", what: str = "prefix"
) -> Prefix:
    """Tokenize and look up the prefix; DataError when nothing is left to warm up on. `what`
    names it in messages (the gradient probe reads a "text")."""
    if not isinstance(prefix, str) or not prefix:
        raise DataError(f"the {what} is empty: type at least one character")
    tokens = _known_form(prefix, vocab, token, mode)
    if not tokens:
        raise DataError(f"the {what} {prefix!r} has no {token} tokens after cleaning")
    if len(tokens) > MAX_PREFIX_TOKENS:
        raise DataError(
            f"the {what} is {len(tokens):,} {token} tokens long; at most "
            f"{MAX_PREFIX_TOKENS:,} are read"
        )
    ids = vocab[tokens]
    unknown = list(dict.fromkeys(tok for tok in tokens if tok not in vocab))
    replaced = "".join(_NON_LETTERS.findall(prefix)) if mode == "clean" else ""
    cleaned = list(dict.fromkeys(ch for ch in replaced if not ch.isspace()))
    return Prefix(tokens=tokens, ids=ids, unknown=unknown, cleaned=cleaned, what=what)


def _known_form(prefix: str, vocab, token: str, mode: str) -> list[str]:
    """The prefix's tokens with its accents composed (NFC, as corpora are read), or decomposed
    (NFD) when the vocabulary knows more of those: a model trained before corpora were composed
    may have learned "e" + U+0301."""
    composed = unicodedata.normalize("NFC", prefix)
    tokens = tokenize_prefix(composed, token, mode)
    if unicodedata.is_normalized("NFD", composed):  # nothing to decompose (ASCII, CJK)
        return tokens
    decomposed = tokenize_prefix(unicodedata.normalize("NFD", prefix), token, mode)
    if sum(tok not in vocab for tok in decomposed) < sum(tok not in vocab for tok in tokens):
        return decomposed
    return tokens


def unknown_tokens(prefix: str, vocab, token: str = "char", mode: str = "clean") -> list[str]:
    """The prefix's tokens that are not in the vocabulary (each once, first-seen order)."""
    return encode_prefix(prefix, vocab, token, mode).unknown


def unknown_message(unknown: list[str], what: str = "prefix", replaced: int | None = None) -> str:
    """The warning for a prefix's (a `what`'s) distinct unknown tokens (at most ten listed),
    `replaced` the places they take (as many as the `<unk>`s the model reads), e.g.
    "2 prefix tokens not in the vocabulary → <unk>: 'é', '!'", or for "hello" read by a model
    that knows none of its letters "5 prefix tokens (4 different) not in the vocabulary → …"."""
    count = len(unknown)
    places = count if replaced is None else max(replaced, count)
    listed = ", ".join(repr(tok) for tok in unknown[:10]) + (", …" if count > 10 else "")
    plural = "s" if places != 1 else ""
    different = f" ({count:,} different)" if places != count else ""
    return f"{places:,} {what} token{plural}{different} not in the vocabulary → <unk>: {listed}"


def cleaned_message(cleaned: list[str]) -> str:
    """The note for the characters cleaning replaced (at most ten listed), e.g. "cleaned as
    the corpus was (letters a–z only): 'É', '9', '!' read as spaces"."""
    listed = ", ".join(repr(ch) for ch in cleaned[:10]) + (", …" if len(cleaned) > 10 else "")
    return f"cleaned as the corpus was (letters a–z only): {listed} read as spaces"


def corpus_prefix(tokens: list[str], token: str, length: int) -> str | None:
    """A prefix taken from a corpus's own opening `tokens` (as the model reads them): at most
    `length` tokens from the first that is not whitespace, up to the first `<unk>` or line end
    (a prefix is one line to type); None when nothing usable is there. Samples of a model trained
    on another corpus than the seeds' then start from text it has seen, not from "time
    traveller" mapped to `<unk>`s."""
    start = next((i for i, tok in enumerate(tokens) if tok.strip()), len(tokens))
    chosen: list[str] = []
    for tok in tokens[start : start + length]:
        if tok == UNK or not tok.isprintable():
            break
        chosen.append(tok)
    while chosen and not chosen[-1].strip():  # no trailing space or line end to show
        chosen.pop()
    return join_tokens(chosen, token) if chosen else None


def join_tokens(tokens: list[str], token: str) -> str:
    """Tokens back to text: characters concatenate, words take a space between them."""
    return "".join(tokens) if token == "char" else " ".join(tokens)


__all__ = [
    "Prefix",
    "clean_prefix",
    "corpus_prefix",
    "encode_prefix",
    "join_tokens",
    "tokenize_prefix",
    "unknown_message",
    "unknown_tokens",
]
