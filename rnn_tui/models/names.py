"""The models' names, without torch: the options, the CLI and the app's forms list them before
torch is imported; `registry.build_model` maps each name to its class."""

from __future__ import annotations

SCRATCH_MODELS = ("rnn-scratch", "gru-scratch", "lstm-scratch")  # the seeds' equations
CONCISE_MODELS = ("rnn", "gru", "lstm")  # nn.RNN / nn.GRU / nn.LSTM
MODEL_NAMES = (*SCRATCH_MODELS, *CONCISE_MODELS)  # language models
SEQ2SEQ_MODEL = "seq2seq"  # the GRU encoder–decoder
# What a scratch model does not have (one layer, one direction, one-hot input, no dropout).
CONCISE_ONLY = ("layers", "bidirectional", "embed", "dropout")

__all__ = ["CONCISE_MODELS", "CONCISE_ONLY", "MODEL_NAMES", "SCRATCH_MODELS", "SEQ2SEQ_MODEL"]
