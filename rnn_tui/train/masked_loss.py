"""The masked cross-entropy loss of seq2seq training (d2l §9.7, "Loss Function").

Target sequences are padded to num_steps; only the first valid_len[i] tokens of row i (the words
and the final <eos>) count. The loss is Σ over valid tokens of −log softmax(o_t)[y_t], and the
caller divides it by the number of valid tokens — a true mean per token, so exp(loss) is a
perplexity. d2l's MaskedSoftmaxCELoss zeroes the padded terms and then takes `.mean(dim=1)`,
dividing each row by num_steps; train_seq2seq then divides the sum of those by the number of
valid tokens again, so its printed loss is num_steps times too small (d2l issue #2076).

Both functions stay on the tensors' device and never read a value back to the host, so a
training loop can accumulate (sum, count) over an epoch and synchronise once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["masked_cross_entropy", "sequence_mask"]


def _valid_positions(valid_len: torch.Tensor, steps: int) -> torch.Tensor:
    """Bool (B, T): position t of row i is valid when t < valid_len[i]."""
    positions = torch.arange(steps, device=valid_len.device)
    return positions.unsqueeze(0) < valid_len.unsqueeze(1)


def sequence_mask(X: torch.Tensor, valid_len: torch.Tensor, value: float = 0.0) -> torch.Tensor:
    """d2l's sequence_mask: X (B, T, ...) with every position t ≥ valid_len[i] set to `value`.

    Returns a new tensor (d2l writes into X in place), e.g. X = [[1, 2, 3], [4, 5, 6]] with
    valid_len = [1, 2] → [[1, 0, 0], [4, 5, 0]].
    """
    if X.dim() < 2 or valid_len.shape != X.shape[:1]:
        raise ValueError(
            f"sequence_mask needs X (B, T, ...) and valid_len (B,); "
            f"got {tuple(X.shape)} and {tuple(valid_len.shape)}"
        )
    mask = _valid_positions(valid_len, X.shape[1])
    return X.masked_fill(~mask.view(*mask.shape, *(1,) * (X.dim() - 2)), value)


def masked_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, valid_len: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Σ over valid tokens of −log softmax(logits)[label], number of valid tokens).

    logits (B, T, V), labels (B, T), valid_len (B,). Both results are 0-d tensors on logits'
    device (the sum float32, the count int64); the mean loss per token is sum / count, not
    d2l's `.mean(dim=1)` (issue #2076). Padded positions may hold any label id (even one outside
    the vocabulary): they neither add to the sum nor receive a gradient.
    """
    if logits.dim() != 3 or labels.shape != logits.shape[:2] or valid_len.shape != labels.shape[:1]:
        raise ValueError(
            f"masked_cross_entropy needs logits (B, T, V), labels (B, T), valid_len (B,); got "
            f"{tuple(logits.shape)}, {tuple(labels.shape)}, {tuple(valid_len.shape)}"
        )
    mask = _valid_positions(valid_len.to(labels.device), labels.shape[1])
    # ignore_index drops the padded terms inside the kernel: no (B, T) loss to multiply by a mask,
    # and a padded label outside [0, V) is never used as an index.
    targets = labels.masked_fill(~mask, -100)
    total = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(),
        targets.reshape(-1),
        ignore_index=-100,
        reduction="sum",
    )
    return total, mask.sum()
