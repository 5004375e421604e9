"""The seeds' RNN encoder–decoder for machine translation (d2l §9.6 encoder–decoder, §9.7 seq2seq).

The encoder embeds the source and runs a multi-layer GRU; its final hidden state (layers, B, H)
initialises the decoder. The decoder embeds the target shifted right ([<bos>, y_1, …]) and, at
every step, feeds the GRU [embedding(y_t); c] where the context c is the encoder's final
top-layer state — fixed for the whole output sequence (d2l's code re-reads `state[-1]`, which
after the first step is the decoder's own state; d2l issue #2134). Linear(H→V) gives the logits.

With `attention` "additive" or "dot" the decoder is attention_decoder.AttentionDecoder instead
(d2l §10.4, Bahdanau): every step builds its own context from all the encoder's outputs. "none"
is the fixed-context model above, and a config without the key (an older checkpoint) is "none".

Batch-major throughout: X (B, T) source ids with valid lengths (B,), dec_X (B, T′). Unlike the
seeds, padding is packed away (pack_padded_sequence) so `<pad>` tokens never reach the encoder's
final state: a sentence encodes the same whatever the padding around it. `padded=True` computes
the same with static shapes and no host read (gru_layers.py), for a step captured in a CUDA graph;
a bidirectional encoder's backward direction reads each row reversed within its own length.

    model = build_seq2seq({"model": "seq2seq", "src_vocab_size": 184, "tgt_vocab_size": 201,
                           "embed": 32, "hidden": 32, "layers": 2, "dropout": 0.1})
    logits = model(X, X_valid_len, dec_X)              # training, teacher forcing
    state = model.encode(X, X_valid_len)               # decoding: one step at a time
    log_probs, state = model.step(tokens, state)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_tui.models.attention_decoder import AttentionDecoder, AttentionState
from rnn_tui.models.base import ModelError
from rnn_tui.models.gru_layers import gru_by_layer
from rnn_tui.models.names import ATTENTION_KINDS, SIZE_LIMITS
from rnn_tui.quoting import quoted

__all__ = [
    "AttentionState",
    "DecoderState",
    "EncoderDecoder",
    "Seq2SeqDecoder",
    "Seq2SeqEncoder",
    "build_seq2seq",
]

MODEL_NAME = "seq2seq"


class Seq2SeqEncoder(nn.Module):
    """d2l's Seq2SeqEncoder: Embedding → GRU (layers deep, dropout between layers).

    Optionally bidirectional; the decoder still gets (layers, B, H) because each layer's forward
    and backward final states are merged by a bridge h = tanh(W [h_fwd; h_bwd] + b), W ∈ ℝ^{H×2H}.
    """

    def __init__(
        self,
        vocab_size: int,
        embed: int,
        hidden: int,
        layers: int = 2,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.hidden, self.layers, self.bidirectional = hidden, layers, bidirectional
        self.embedding = nn.Embedding(vocab_size, embed)
        self.rnn = nn.GRU(
            embed,
            hidden,
            num_layers=layers,
            dropout=dropout,
            bidirectional=bidirectional,
            batch_first=True,
        )
        self.bridge = (
            nn.ModuleList(nn.Linear(2 * hidden, hidden) for _ in range(layers))
            if bidirectional
            else None
        )

    def forward(
        self, X: torch.Tensor, valid_len: torch.Tensor, padded: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs (B, T, H·directions), zero at padded steps, and the state (layers, B, H).

        Only the first valid_len[i] tokens of row i are read; a length of 0 (or more than T) is
        clamped into [1, T], since an encoded source always holds at least its <eos>. padded:
        the same, layer by layer over the padded batch (valid_len on X's device).
        """
        if padded:
            outputs, state = gru_by_layer(self.rnn, self.embedding(X), None, valid_len)
        else:
            steps = X.shape[1]
            # pack_padded_sequence wants the lengths on the CPU (one small copy per minibatch).
            lengths = valid_len.detach().to("cpu", torch.int64).clamp(1, steps)
            packed = pack_padded_sequence(
                self.embedding(X), lengths, batch_first=True, enforce_sorted=False
            )
            packed_outputs, state = self.rnn(packed)
            outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=steps)
        if self.bridge is not None:
            # nn.GRU orders the state layer by layer, forward before backward.
            pairs = state.view(self.layers, 2, *state.shape[1:])
            state = torch.stack(
                [
                    torch.tanh(bridge(torch.cat((pairs[i, 0], pairs[i, 1]), dim=-1)))
                    for i, bridge in enumerate(self.bridge)
                ]
            )
        return outputs, state


class DecoderState(NamedTuple):
    """What the decoder carries: its GRU state (layers, B, H) and the fixed context (B, H)."""

    hidden: torch.Tensor
    context: torch.Tensor


class Seq2SeqDecoder(nn.Module):
    """d2l's Seq2SeqDecoder: Embedding → GRU over [embedding; context] → Linear(H→V)."""

    def __init__(
        self, vocab_size: int, embed: int, hidden: int, layers: int = 2, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed)
        self.rnn = nn.GRU(
            embed + hidden, hidden, num_layers=layers, dropout=dropout, batch_first=True
        )
        self.dense = nn.Linear(hidden, vocab_size)

    def init_state(self, enc_state: torch.Tensor) -> DecoderState:
        """d2l's init_state: the encoder's state, and as context its top layer c = h_T^(L)."""
        return DecoderState(enc_state, enc_state[-1])

    def forward(
        self, Y: torch.Tensor, state: DecoderState, layerwise: bool = False
    ) -> tuple[torch.Tensor, DecoderState]:
        """Logits (B, T, V) for inputs Y (B, T); the new state keeps the same context.
        layerwise: the GRU one layer at a time (gru_layers.py), as a CUDA graph captures it."""
        embedded = self.embedding(Y)
        context = state.context.unsqueeze(1).expand(-1, Y.shape[1], -1)
        inputs = torch.cat((embedded, context), dim=-1)
        if layerwise:
            outputs, hidden = gru_by_layer(self.rnn, inputs, state.hidden)
        else:
            outputs, hidden = self.rnn(inputs, state.hidden)
        return self.dense(outputs), DecoderState(hidden, state.context)


class EncoderDecoder(nn.Module):
    """d2l's EncoderDecoder (§9.6) with the seq2seq encoder and decoder (§9.7)."""

    model_name = MODEL_NAME

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        embed: int = 256,
        hidden: int = 256,
        layers: int = 2,
        dropout: float = 0.1,
        bidirectional: bool = False,
        attention: str = "none",
    ) -> None:
        super().__init__()
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.embed, self.hidden, self.layers = embed, hidden, layers
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.attention = attention
        self.encoder = Seq2SeqEncoder(src_vocab_size, embed, hidden, layers, dropout, bidirectional)
        if attention == "none":
            self.decoder = Seq2SeqDecoder(tgt_vocab_size, embed, hidden, layers, dropout)
        else:
            value_size = hidden * (2 if bidirectional else 1)
            self.decoder = AttentionDecoder(
                tgt_vocab_size, embed, hidden, layers, dropout, attention, value_size
            )
        self.apply(_init_seq2seq)

    def forward(
        self, X: torch.Tensor, X_valid_len: torch.Tensor, dec_X: torch.Tensor, padded: bool = False
    ) -> torch.Tensor:
        """Teacher forcing: logits (B, T′, V) for dec_X = [<bos>, Y[:, :-1]] given source X.

        padded: the same computation with static shapes and no host read (X_valid_len on the
        device), which a CUDA graph can capture."""
        logits, _ = self.decoder(dec_X, self.encode(X, X_valid_len, padded), layerwise=padded)
        return logits

    def encode(
        self, X: torch.Tensor, X_valid_len: torch.Tensor, padded: bool = False
    ) -> DecoderState | AttentionState:
        """The decoder's initial state for sources X (B, T) with valid lengths (B,)."""
        enc_outputs, enc_state = self.encoder(X, X_valid_len, padded)
        if self.attention == "none":
            return self.decoder.init_state(enc_state)
        lengths = X_valid_len.to(X.device).clamp(1, X.shape[1])
        return self.decoder.init_state(enc_outputs, enc_state, lengths)

    @torch.no_grad()
    def attention_weights(
        self, X: torch.Tensor, X_valid_len: torch.Tensor, dec_X: torch.Tensor
    ) -> torch.Tensor:
        """α (B, T′, T): the weights each decoding step put on each source position when fed
        dec_X = [<bos>, y_1, …] (teacher forcing reproduces the steps that chose y_1, y_2, …).
        Row t is the step that predicted y_{t+1}; columns at or beyond a source's valid length
        are 0. ModelError for a model without attention."""
        if self.attention == "none":
            raise ModelError("this translator has no attention (a fixed context): no weights")
        _, _, weights = self.decoder(dec_X, self.encode(X, X_valid_len), keep_weights=True)
        return weights

    def step(self, tokens: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]:
        """One decoding step for N rows at once (every beam in one batch): float32 log-probs
        log softmax(o_t) (N, V) of the next token after `tokens` (N,), and the new state.

        Gradients follow torch's grad mode: decode under torch.no_grad() / inference_mode().
        """
        logits, state = self.decoder(tokens.unsqueeze(1), state)
        return F.log_softmax(logits[:, 0].float(), dim=-1), state

    @torch.no_grad()
    def greedy_batch(
        self, X: torch.Tensor, valid_len: torch.Tensor, bos: int, eos: int, max_len: int
    ) -> list[list[int]]:
        """Greedy decoding of many sources at once (d2l §9.7 `predict_seq2seq`, batched): the
        output ids (without `<eos>`) of each row of X (B, T).

        Every row advances together: each step feeds the previous argmax (from `<bos>`), and a
        row's output ends at its first `<eos>`. Steps run to `max_len` without asking the device
        whether all rows are done, so a GPU never waits on the host; the trainer scores
        held-out BLEU over thousands of sentences this way every epoch.
        """
        state = self.encode(X, valid_len)
        tokens = torch.full((X.shape[0],), bos, dtype=torch.long, device=X.device)
        steps = []
        for _ in range(max_len):
            log_probs, state = self.step(tokens, state)
            tokens = log_probs.argmax(dim=-1)
            steps.append(tokens)
        if not steps:
            return [[] for _ in range(X.shape[0])]
        out = torch.stack(steps, dim=1).tolist()
        return [row[: row.index(eos)] if eos in row else row for row in out]

    @staticmethod
    def reorder(
        state: DecoderState | AttentionState, index: torch.Tensor
    ) -> DecoderState | AttentionState:
        """The rows `index` (M,) of a state: beam search keeps the surviving hypotheses' states."""
        if isinstance(state, AttentionState):
            return state.select(index)
        return DecoderState(
            state.hidden.index_select(1, index), state.context.index_select(0, index)
        )

    def config(self) -> dict:
        """JSON-able; build_seq2seq(config) or registry.build_model(config) rebuilds it."""
        return {
            "model": MODEL_NAME,
            "src_vocab_size": self.src_vocab_size,
            "tgt_vocab_size": self.tgt_vocab_size,
            "embed": self.embed,
            "hidden": self.hidden,
            "layers": self.layers,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
            "attention": self.attention,
        }


def _init_seq2seq(module: nn.Module) -> None:
    """d2l's init_seq2seq: Xavier-uniform weights for Linear and GRU layers (biases as torch);
    the attention's Linear layers too."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
    elif isinstance(module, nn.GRU):
        for name, param in module.named_parameters():
            if "weight" in name:
                nn.init.xavier_uniform_(param)


DEFAULTS = {
    "embed": 256,
    "hidden": 256,
    "layers": 2,
    "dropout": 0.1,
    "bidirectional": False,
    "attention": "none",
}
REQUIRED = ("model", "src_vocab_size", "tgt_vocab_size")


def build_seq2seq(config: Mapping) -> EncoderDecoder:
    """A freshly initialised EncoderDecoder for a config as `EncoderDecoder.config()` writes it.

    Required: model ("seq2seq"), src_vocab_size, tgt_vocab_size; the rest default as DEFAULTS
    (a config written before attention existed has no "attention": it is "none").
    Raises ModelError (one line) for a missing or unknown key, a size out of range, or dropout
    with a single layer (nn.GRU applies dropout between layers only).
    """
    if not isinstance(config, Mapping):
        raise ModelError(f"model config must be a mapping, not {type(config).__name__}")
    unknown = sorted(set(config) - set(REQUIRED) - set(DEFAULTS), key=str)
    if unknown:
        raise ModelError(f"unknown seq2seq config key(s): {', '.join(map(str, unknown))}")
    missing = [key for key in REQUIRED if key not in config]
    if missing:
        raise ModelError(f"seq2seq config is missing: {', '.join(missing)}")
    if config["model"] != MODEL_NAME:
        raise ModelError(f"not a seq2seq config (model={config['model']!r})")
    cfg = {**DEFAULTS, **config}
    sizes = {
        key: _integer(cfg, key)
        for key in ("src_vocab_size", "tgt_vocab_size", "embed", "hidden", "layers")
    }
    dropout = cfg["dropout"]
    if (
        isinstance(dropout, bool)
        or not isinstance(dropout, int | float)
        or not math.isfinite(dropout)
        or not 0 <= dropout < 1
    ):
        raise ModelError(f"dropout must be a number in [0, 1) (got {quoted(dropout)})")
    if dropout != 0 and sizes["layers"] == 1:
        raise ModelError(f"dropout acts between layers: dropout={dropout} needs layers > 1")
    bidirectional = cfg["bidirectional"]
    if not isinstance(bidirectional, bool):
        raise ModelError(f"bidirectional must be true or false (got {quoted(bidirectional)})")
    attention = cfg["attention"]
    if attention not in ATTENTION_KINDS:
        kinds = ", ".join(ATTENTION_KINDS)
        raise ModelError(f"attention must be one of {kinds} (got {quoted(attention)})")
    return EncoderDecoder(
        **sizes, dropout=float(dropout), bidirectional=bidirectional, attention=attention
    )


def _integer(cfg: Mapping, key: str) -> int:
    value, maximum = cfg[key], SIZE_LIMITS.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelError(f"{key} must be an integer ≥ 1 (got {quoted(value)})")
    if maximum is not None and value > maximum:
        raise ModelError(f"{key} must be at most {maximum:,} (got {value:,})")
    return value
