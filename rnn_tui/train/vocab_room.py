"""Whether a run's vocabularies fit in its checkpoints, checked before a model is built.

A checkpoint's JSON holds the vocabularies and may be at most MAX_JSON_BYTES
(checkpoints/store.py): past that, a run would train for hours and then save checkpoints that
nothing can load (seen: a log of hex ids, 3M distinct words, wrote an 83 MiB `last.json` that
`--resume` and `generate` refused). A run whose vocabularies do not fit is refused at once, with
the --min-freq that makes them fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnn_tui.checkpoints.store import MAX_JSON_BYTES, json_size
from rnn_tui.data.vocab import Vocab
from rnn_tui.train.config import ConfigError

# What a checkpoint holds besides the vocabularies: the config, progress, the last epochs'
# metrics (train/progress.py HISTORY_KEPT), RNG states, a sample: well under 1 MiB.
ROOM_FOR_THE_REST = 4 * 2**20
VOCAB_JSON_MAX = MAX_JSON_BYTES - ROOM_FOR_THE_REST


def check_vocab_room(
    vocabs: Sequence[Vocab], what: str, budget: int = VOCAB_JSON_MAX, other: str = ""
) -> None:
    """ConfigError naming the smallest --min-freq whose vocabularies fit `budget` bytes of a
    checkpoint's JSON, where these do not (`other`: another way out, e.g. character tokens)."""
    sizes = [json_size(vocab.to_dict()) for vocab in vocabs]
    total = sum(sizes)
    if total <= budget:
        return
    least = min_freq_that_fits(vocabs, sizes, budget)
    kept = sum(vocab.kept_at(least) for vocab in vocabs)
    if kept:
        counted = sum(vocab.kept_at(0) for vocab in vocabs)
        hint = f"--min-freq {least} keeps {kept:,} of its {counted:,} tokens"
    else:  # every token as rare as the rarest: no min_freq leaves one
        most = "once" if least == 2 else f"{least - 1:,} times"
        hint = f"no --min-freq leaves a token: none occurs more than {most}"
    raise ConfigError(
        f"the vocabulary of {what} would take {total / 2**20:,.1f} MiB of every checkpoint, more "
        f"than the {budget / 2**20:,.0f} MiB a checkpoint may hold: {hint}"
        + (f" ({other})" if other else "")
    )


def min_freq_that_fits(vocabs: Sequence[Vocab], sizes: Sequence[int], budget: int) -> int:
    """The smallest min_freq (above each vocabulary's own) at which their JSON, `sizes` bytes
    now, fits `budget`: each kept token's bytes are known (Vocab.kept_bytes), and a higher
    min_freq keeps a prefix of the tokens by count."""
    # Bytes of each vocabulary with its first k kept tokens: the size now less the rest.
    prefix = []
    for vocab, size in zip(vocabs, sizes, strict=True):
        cumulative = np.concatenate(([0], np.cumsum(vocab.kept_bytes())))
        prefix.append((vocab, size - int(cumulative[-1]), cumulative))

    def size_at(min_freq: int) -> int:
        total = 0
        for vocab, base, cum in prefix:
            kept = vocab.kept_at(min_freq)
            # Each kept token's bytes hold one comma; a list of k holds k - 1. Taking all the
            # tokens' bytes away took one comma too many, which k ≥ 1 tokens put back, and
            # an emptied list does not. The JSON's min_freq number changes width too.
            emptied = 1 if kept == 0 and len(cum) > 1 else 0
            width = len(str(min_freq)) - len(str(vocab.min_freq))
            total += base + int(cum[kept]) + emptied + width
        return total

    low = 1 + max(vocab.min_freq for vocab in vocabs)
    high = 1 + max((vocab.counts_by_index().max(initial=0) for vocab in vocabs), default=0)
    high = max(low, high)  # keeps no counted token at all
    while low < high:  # the size only falls as min_freq rises
        middle = (low + high) // 2
        if size_at(middle) <= budget:
            high = middle
        else:
            low = middle + 1
    return low


__all__ = ["ROOM_FOR_THE_REST", "VOCAB_JSON_MAX", "check_vocab_room", "min_freq_that_fits"]
