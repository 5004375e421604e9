"""Greedy decoding of many sources at once (d2l §9.7 `predict_seq2seq`, batched).

The trainer scores held-out BLEU every epoch over thousands of sentences; decoding them one by
one as `predict_seq2seq` does would cost more than the epoch. Here every row advances together:
each step feeds the previous argmax (starting from `<bos>`), and a row's output ends at its first
`<eos>`. Steps run to `max_len` without asking the device whether all rows are done, so a GPU never
waits on the host. The context is the encoder's final state throughout (the model keeps it).
"""

from __future__ import annotations

import torch


@torch.no_grad()
def greedy_batch(
    model, X: torch.Tensor, valid_len: torch.Tensor, bos: int, eos: int, max_len: int
) -> list[list[int]]:
    """Output ids (without `<eos>`) for each row of the source batch X (B, T)."""
    state = model.encode(X, valid_len)
    tokens = torch.full((X.shape[0],), bos, dtype=torch.long, device=X.device)
    steps = []
    for _ in range(max_len):
        log_probs, state = model.step(tokens, state)
        tokens = log_probs.argmax(dim=-1)
        steps.append(tokens)
    if not steps:
        return [[] for _ in range(X.shape[0])]
    out = torch.stack(steps, dim=1).tolist()
    return [row[: row.index(eos)] if eos in row else row for row in out]


__all__ = ["greedy_batch"]
