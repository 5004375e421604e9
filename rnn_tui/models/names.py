"""The models' names, without torch: the options, the CLI and the app's forms list them before
torch is imported; `registry.build_model` maps each name to its class."""

from __future__ import annotations

SCRATCH_MODELS = ("rnn-scratch", "gru-scratch", "lstm-scratch")  # the seeds' equations
CONCISE_MODELS = ("rnn", "gru", "lstm")  # nn.RNN / nn.GRU / nn.LSTM
MODEL_NAMES = (*SCRATCH_MODELS, *CONCISE_MODELS)  # language models
SEQ2SEQ_MODEL = "seq2seq"  # the GRU encoder–decoder
ATTENTION_KINDS = ("none", "additive", "dot")  # its decoder: fixed context, or attention
FORECAST_MODEL = "forecast"  # a model_config's "model" for a series forecaster…
FORECAST_KINDS = ("mlp", "rnn", "gru", "lstm")  # …its "kind": the AR MLP or a latent AR cell
MAX_TAU = 10_000
CLASSIFIER_MODEL = "classifier"  # a model_config's "model" for a many-to-one classifier…
CLASSIFIER_KINDS = ("rnn", "gru", "lstm")  # …its "kind"
MAX_CLASSES = 10_000
TAGGER_MODEL = "tagger"  # a model_config's "model" for a many-to-many tagger (kind as above)
# The largest sizes a model may be built with, checked before anything is allocated (a config
# from the command line, the Train form or a checkpoint's JSON): generous for a GPU box, finite
# so that a typo or a tampered file is one clear error, not an allocator crash or a hang.
MAX_HIDDEN = 16384
MAX_EMBED = 16384
MAX_LAYERS = 64
MAX_VOCAB = 10_000_000
SIZE_LIMITS = {
    "hidden": MAX_HIDDEN,
    "embed": MAX_EMBED,
    "layers": MAX_LAYERS,
    "vocab_size": MAX_VOCAB,
    "src_vocab_size": MAX_VOCAB,
    "tgt_vocab_size": MAX_VOCAB,
}
# What a scratch model does not have (one layer, one direction, one-hot input, no dropout).
CONCISE_ONLY = ("layers", "bidirectional", "embed", "dropout")

__all__ = [
    "ATTENTION_KINDS",
    "MAX_EMBED",
    "MAX_HIDDEN",
    "MAX_LAYERS",
    "MAX_VOCAB",
    "SIZE_LIMITS",
    "CLASSIFIER_KINDS",
    "CLASSIFIER_MODEL",
    "CONCISE_MODELS",
    "CONCISE_ONLY",
    "FORECAST_KINDS",
    "FORECAST_MODEL",
    "MAX_CLASSES",
    "MAX_TAU",
    "MODEL_NAMES",
    "SCRATCH_MODELS",
    "SEQ2SEQ_MODEL",
    "TAGGER_MODEL",
]
