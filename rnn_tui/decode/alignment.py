"""The attention weights of a chosen translation: which source words each target word looked at.

For an attention translator (d2l §10.4) every decoding step t spends its weights
α_t = masked_softmax(a(s_{t−1}, h_1 … h_T)) over the source positions. Feeding the chosen output
back in (teacher forcing, [<bos>, y_1, …]) replays exactly the steps that chose it, so one
forward pass gives the whole target × source matrix, as attention visualisers draw it (abisee's
attn_vis, Seq2Seq-Vis): row t is the step that wrote target token t (the last row, `<eos>`, when
the translation finished), column i source token i as the encoder read it (ending in `<eos>`,
cut at num_steps); each row sums to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnn_tui.data.translation import EOS

__all__ = ["Alignment", "align"]


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
    """The Alignment of one source (its ids as the encoder reads them, `<eos>` included) and
    one chosen output (ids without `<eos>`); None for a model without attention or an empty
    output that never finished."""
    if getattr(model, "attention", "none") == "none":
        return None
    steps = len(target_ids) + (1 if finished else 0)
    if steps == 0:
        return None
    fed = ([bos, *target_ids])[:steps]
    X = torch.tensor([source_ids], dtype=torch.long, device=device)
    valid = torch.tensor([len(source_ids)], device=device)
    dec_X = torch.tensor([fed], dtype=torch.long, device=device)
    weights = model.attention_weights(X, valid, dec_X)[0].float().cpu()
    target = list(target_tokens) + ([EOS] if finished else [])
    return Alignment(list(source_tokens), target, [[float(w) for w in row] for row in weights])
