"""Build any language model from a JSON-able config (what config.json and checkpoints carry).

    {"model": "lstm", "vocab_size": 28, "hidden": 256, "layers": 1, "dropout": 0.0,
     "bidirectional": false, "embed": 0}

`model` and the sizes are required; layers, dropout, bidirectional and embed have the defaults
above (embed 0 = one-hot inputs). The scratch models are the seeds' single-layer, one-directional,
one-hot cells, so asking them for more is a ModelError rather than a silent change.

A translation model's config has "model": "seq2seq" and its own keys; build_model hands it to
`seq2seq.build_seq2seq` (see EncoderDecoder.config()). A series forecaster's has "model":
"forecast" and goes to `forecast.build_forecaster`; a many-to-one classifier's, "model":
"classifier", to `classifier.build_classifier`; a many-to-many tagger's, "model": "tagger", to
`tagger.build_tagger`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from rnn_tui.models.base import LanguageModel, ModelError
from rnn_tui.models.classifier import build_classifier
from rnn_tui.models.concise import RNNModel
from rnn_tui.models.forecast import build_forecaster
from rnn_tui.models.gru_scratch import GRUScratch
from rnn_tui.models.lstm_scratch import LSTMScratch
from rnn_tui.models.names import (
    CLASSIFIER_MODEL,
    FORECAST_MODEL,
    MODEL_NAMES,
    SCRATCH_MODELS,
    SEQ2SEQ_MODEL,
    SIZE_LIMITS,
    TAGGER_MODEL,
)
from rnn_tui.models.rnn_scratch import RNNScratch
from rnn_tui.models.seq2seq import EncoderDecoder, build_seq2seq
from rnn_tui.models.tagger import build_tagger
from rnn_tui.quoting import quoted

__all__ = ["MODEL_NAMES", "ModelError", "build_model", "build_skeleton", "count_parameters"]

SCRATCH_CLASSES: dict[str, type[LanguageModel]] = dict(
    zip(SCRATCH_MODELS, (RNNScratch, GRUScratch, LSTMScratch), strict=True)
)

DEFAULTS = {"layers": 1, "dropout": 0.0, "bidirectional": False, "embed": 0}
REQUIRED = ("model", "vocab_size", "hidden")


class _NoInitialValues(TorchFunctionMode):
    """Initial values skipped, shapes kept: an initialiser (torch.nn.init, Tensor.normal_,
    uniform_) returns its tensor, randn and rand an empty one, a tensor times a number (the
    seeds' randn(shape) * 0.01) an empty one of its shape. On the meta device there are no
    values, and torch's meta fallbacks for these ops (and for empty_like) import its compiler
    stack and sympy (1.1–1.6 s, once a process) for nothing."""

    IN_PLACE = frozenset({torch.Tensor.normal_, torch.Tensor.uniform_})
    FACTORIES = frozenset({torch.randn, torch.rand})
    SCALINGS = frozenset({torch.Tensor.mul, torch.Tensor.__mul__, torch.mul})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__module__", None) == "torch.nn.init":
            return kwargs["tensor"] if "tensor" in kwargs else args[0]
        if func in self.IN_PLACE:
            return args[0]
        if func in self.FACTORIES:
            kwargs.pop("generator", None)
            return torch.empty(*args, **kwargs)
        if func in self.SCALINGS and len(args) == 2 and isinstance(args[1], int | float):
            tensor = args[0]
            return torch.empty(tensor.shape, dtype=tensor.dtype, device=tensor.device)
        return func(*args, **kwargs)


def build_skeleton(config: Mapping) -> LanguageModel | EncoderDecoder:
    """build_model(config) on the "meta" device: every parameter's name and shape, no storage
    and no initial values (to check a config's sizes before anything is allocated)."""
    with torch.device("meta"), _NoInitialValues():
        return build_model(config)


def build_model(config: Mapping) -> LanguageModel | EncoderDecoder:
    """A freshly initialised model for `config` (see the module docstring).

    Raises ModelError (one line) for a missing or unknown key, an unknown model name, a size out of
    range, or an option the chosen model does not have.
    """
    if not isinstance(config, Mapping):
        raise ModelError(f"model config must be a mapping, not {type(config).__name__}")
    if config.get("model") == SEQ2SEQ_MODEL:
        return build_seq2seq(config)
    if config.get("model") == FORECAST_MODEL:
        return build_forecaster(config)
    if config.get("model") == CLASSIFIER_MODEL:
        return build_classifier(config)
    if config.get("model") == TAGGER_MODEL:
        return build_tagger(config)
    unknown = sorted(set(config) - set(REQUIRED) - set(DEFAULTS))
    if unknown:
        raise ModelError(f"unknown model config key(s): {', '.join(map(str, unknown))}")
    missing = [key for key in REQUIRED if key not in config]
    if missing:
        raise ModelError(f"model config is missing: {', '.join(missing)}")
    name = config["model"]
    if name not in MODEL_NAMES:
        raise ModelError(f"unknown model {name!r} (choose from {', '.join(MODEL_NAMES)})")
    cfg = {**DEFAULTS, **config}
    vocab_size = _integer(cfg, "vocab_size", minimum=1)
    hidden = _integer(cfg, "hidden", minimum=1)
    layers = _integer(cfg, "layers", minimum=1)
    embed = _integer(cfg, "embed", minimum=0)
    dropout = _dropout(cfg["dropout"])
    bidirectional = cfg["bidirectional"]
    if not isinstance(bidirectional, bool):
        raise ModelError(f"bidirectional must be true or false (got {quoted(bidirectional)})")

    if name in SCRATCH_MODELS:
        concise = name.removesuffix("-scratch")
        if layers != 1:
            raise ModelError(f"{name} has one layer (got layers={layers}); use {concise!r}")
        if bidirectional:
            raise ModelError(f"{name} runs in one direction; use {concise!r} for bidirectional")
        if embed != 0:
            raise ModelError(f"{name} takes one-hot inputs (got embed={embed}); use {concise!r}")
        if dropout != 0:
            raise ModelError(f"{name} has no dropout (got dropout={dropout}); use {concise!r}")
        return SCRATCH_CLASSES[name](vocab_size, hidden)
    if dropout != 0 and layers == 1:
        # nn.RNN applies dropout between layers only: with one layer it would silently do nothing.
        raise ModelError(f"dropout acts between layers: dropout={dropout} needs layers > 1")
    return RNNModel(name, vocab_size, hidden, layers, dropout, bidirectional, embed)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters (every weight and bias element)."""
    return sum(p.numel() for p in model.parameters())


def _integer(cfg: Mapping, key: str, minimum: int) -> int:
    value, maximum = cfg[key], SIZE_LIMITS.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ModelError(f"{key} must be an integer ≥ {minimum} (got {quoted(value)})")
    if maximum is not None and value > maximum:
        raise ModelError(f"{key} must be at most {maximum:,} (got {value:,})")
    return value


def _dropout(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value < 1
    ):
        raise ModelError(f"dropout must be a number in [0, 1) (got {quoted(value)})")
    return float(value)
