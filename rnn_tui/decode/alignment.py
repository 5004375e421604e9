"""The attention weights of a chosen translation: which source words each target word looked at.

For an attention translator (d2l §10.4) every decoding step t spends its weights
α_t = masked_softmax(a(s_{t−1}, h_1 … h_T)) over the source positions. Feeding the chosen output
back in (teacher forcing, [<bos>, y_1, …]) replays exactly the steps that chose it, so one
forward pass gives the whole target × source matrix, as attention visualisers draw it (abisee's
attn_vis, Seq2Seq-Vis): row t is the step that wrote target token t (the last row, `<eos>`, when
the translation finished), column i source token i as the encoder read it (ending in `<eos>`
unless the sentence had num_steps tokens or more: build_array_nmt then keeps its first
num_steps, with no room for `<eos>`); each row sums to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnn_tui.data.translation import EOS

__all__ = ["Alignment", "Chosen", "align", "align_many"]


@dataclass(frozen=True)
class Alignment:
    """Attention weights of one translation: `weights[t][i]` is what target token t put on
    source token i."""

    source: list[str]
    target: list[str]
    weights: list[list[float]]

    def strongest(self, t: int) -> int:
        """The source position target token t attended to most (the first, on ties)."""
        row = self.weights[t]
        return max(range(len(row)), key=row.__getitem__)

    def to_dict(self) -> dict:
        """JSON-able: {"source": [...], "target": [...], "weights": [[...], ...]}."""
        return {"source": self.source, "target": self.target, "weights": self.weights}


def align(
    model,
    source_ids: list[int],
    source_tokens: list[str],
    target_ids: tuple[int, ...],
    target_tokens: list[str],
    finished: bool,
    bos: int,
    device: torch.device,
) -> Alignment | None:
    """The Alignment of one source (its ids as the encoder reads them, `<eos>` included where
    num_steps left room for it) and one chosen output (ids without `<eos>`); None for a model
    without attention or an empty output that never finished."""
    chosen = Chosen(source_ids, source_tokens, target_ids, target_tokens, finished)
    return align_many(model, [chosen], bos, device)[0]


@dataclass(frozen=True)
class Chosen:
    """A source as the encoder reads it and the output chosen for it (see `align`)."""

    source_ids: list[int]
    source_tokens: list[str]
    target_ids: tuple[int, ...]
    target_tokens: list[str]
    finished: bool

    @property
    def steps(self) -> int:
        return len(self.target_ids) + (1 if self.finished else 0)


def align_many(model, chosen: list[Chosen], bos: int, device: torch.device):
    """`align` for many translations in one teacher-forced pass: sources padded to the longest
    (the encoder packs them, the attention masks the padding), outputs padded at the end (a
    step sees only the tokens before it), each one's matrix cut back to its own size."""
    if getattr(model, "attention", "none") == "none":
        return [None] * len(chosen)
    rows = [i for i, c in enumerate(chosen) if c.steps > 0]
    found: list[Alignment | None] = [None] * len(chosen)
    if not rows:
        return found
    width = max(len(chosen[i].source_ids) for i in rows)
    steps = max(chosen[i].steps for i in rows)
    X = torch.zeros(len(rows), width, dtype=torch.long)
    dec_X = torch.full((len(rows), steps), bos, dtype=torch.long)
    for r, i in enumerate(rows):
        c = chosen[i]
        X[r, : len(c.source_ids)] = torch.tensor(c.source_ids, dtype=torch.long)
        dec_X[r, : c.steps] = torch.tensor([bos, *c.target_ids][: c.steps], dtype=torch.long)
    valid = torch.tensor([len(chosen[i].source_ids) for i in rows])
    weights = model.attention_weights(X.to(device), valid.to(device), dec_X.to(device))
    weights = weights.float().cpu()
    for r, i in enumerate(rows):
        c = chosen[i]
        matrix = weights[r, : c.steps, : len(c.source_ids)].tolist()
        target = list(c.target_tokens) + ([EOS] if c.finished else [])
        found[i] = Alignment(list(c.source_tokens), target, matrix)
    return found
