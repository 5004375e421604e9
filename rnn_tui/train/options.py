"""Every training option, declared once (rnn_tui.options), without torch.

`rnn-tui train` builds its flags from these declarations, the Train screen's form its fields,
and `Config` (config.py) checks a run's values against them. An option shared by several tasks
is declared once in `OPTIONS`; a task takes the ones it has by name and may give an option its
own default or help text (the seeds' translation run uses Adam with lr 0.005, their language
models SGD with lr 1).

Ranges are generous (a GPU box can train a model far larger than a laptop) but finite, so a
typo such as `--hidden 1000000000` is one clear error instead of an allocator traceback.
"""

from __future__ import annotations

from rnn_tui.checkpoints import DEVICE
from rnn_tui.data.kinds import CLEAN_MODES, MAX_NUM_STEPS, STRATEGIES, TOKEN_LEVELS
from rnn_tui.data.sources import ENCODING
from rnn_tui.models.names import (
    ATTENTION_KINDS,
    MAX_EMBED,
    MAX_HIDDEN,
    MAX_LAYERS,
    MODEL_NAMES,
    SEQ2SEQ_MODEL,
)
from rnn_tui.options import UNSET, Option, by_name, with_changes

OPTIMIZERS = ("sgd", "adam")
# How a training step runs (rnn_tui/train/step.py).
GRAPH_MODES = ("auto", "on", "off")
PRECISIONS = ("fp32", "bf16")
COMPILE_MODES = ("off", "on")
MAX_VAL_FRACTION = 0.5
SEED_MAX = 2**63 - 1
FILE = "file"  # a form's "File…" entry: the value is the path typed beside it

OPTIONS: tuple[Option, ...] = (
    # -- data -----------------------------------------------------------------------------
    Option(
        "corpus",
        str,
        "timemachine",
        "text to train on: a bundled corpus or a text file",
        presets=(
            ("The Time Machine", "timemachine"),
            ("fra-eng English", "fra-eng-en"),
            ("fra-eng French", "fra-eng-fr"),
        ),
        metavar="timemachine|fra-eng-en|fra-eng-fr|PATH",
        empty_ok=False,
        extra={"file": "a text file", "path_hint": "a UTF-8 text file"},
    ),
    Option(
        "pairs",
        str,
        "fra-eng",
        "sentence pairs: the bundled fra-eng or a file of tab-separated pairs",
        presets=(("fra-eng (bundled)", "fra-eng"),),
        metavar="fra-eng|PATH",
        empty_ok=False,
        extra={"file": "a file of sentence pairs", "path_hint": "tab-separated English, French"},
    ),
    Option(
        "num_examples",
        int,
        -1,
        "use only the first N pairs (the book: 600)",
        minimum=1,
        maximum=10**9,
        unset=-1,
        unset_label="all",
        typed_unset=False,
        label="pairs used",
        metavar="N",
    ),
    Option("token", str, "char", "character- or word-level tokens", choices=TOKEN_LEVELS),
    Option(
        "mode",
        str,
        "clean",
        "clean: the seeds' [^A-Za-z]+ -> space, lower-case; raw: as written",
        choices=CLEAN_MODES,
        form=False,
    ),
    with_changes(ENCODING, help="text encoding of a corpus or pairs file", form=False),
    Option(
        "min_freq",
        int,
        0,
        "rarer tokens become <unk>",
        minimum=0,
        maximum=10**9,
        label="min freq",
        metavar="N",
        form=False,
    ),
    # -- model ----------------------------------------------------------------------------
    Option(
        "model",
        str,
        "lstm",
        "*-scratch: the seeds' equations; else nn.RNN/GRU/LSTM",
        choices=MODEL_NAMES,
    ),
    Option(
        "layers",
        int,
        1,
        "stacked recurrent layers (concise models)",
        minimum=1,
        maximum=MAX_LAYERS,
        metavar="L",
    ),
    Option(
        "bidirectional",
        bool,
        False,
        "also read the sequence backwards (concise models; it then predicts poorly)",
        label="bidirect.",
    ),
    Option(
        "attention",
        str,
        "none",
        "the decoder's context: none = the encoder's final state (d2l §9.7); additive "
        "(Bahdanau) or dot (scaled dot-product) = attention over every source word (§10.4)",
        choices=ATTENTION_KINDS,
    ),
    Option(
        "hidden", int, 256, "hidden units per layer", minimum=1, maximum=MAX_HIDDEN, metavar="H"
    ),
    Option(
        "embed",
        int,
        None,
        "embedding size, 0 = one-hot inputs (auto: 0 for scratch models and at char level up "
        "to 256 characters, else 128)",
        minimum=0,
        maximum=MAX_EMBED,
        unset=None,
        unset_label="auto",
        metavar="E",
    ),
    Option(
        "dropout",
        float,
        0.0,
        "dropout between layers",
        minimum=0.0,
        maximum=1.0,
        open_maximum=True,
        metavar="P",
    ),
    # -- optimisation ---------------------------------------------------------------------
    Option(
        "batch_size",
        int,
        32,
        "subsequences per minibatch",
        minimum=1,
        maximum=65536,
        label="batch",
        metavar="B",
    ),
    Option(
        "num_steps",
        int,
        35,
        "time steps per subsequence (the truncated BPTT length)",
        minimum=1,
        maximum=MAX_NUM_STEPS,
        label="num_steps",
        metavar="T",
    ),
    Option(
        "lr",
        float,
        1.0,
        "learning rate (the book: 1 with SGD)",
        minimum=0.0,
        maximum=1e6,
        open_minimum=True,
        metavar="LR",
    ),
    Option("optimizer", str, "sgd", "SGD as the book, or Adam", choices=OPTIMIZERS),
    Option(
        "epochs",
        int,
        50,
        "epochs in total (passes over the training data)",
        minimum=1,
        maximum=1_000_000,
        metavar="N",
    ),
    Option(
        "clip",
        float,
        1.0,
        "gradient clipping threshold θ: g ← min(1, θ/‖g‖) g",
        minimum=0.0,
        maximum=1e6,
        open_minimum=True,
        label="clip θ",
        metavar="THETA",
    ),
    Option(
        "sampling",
        str,
        "sequential",
        "minibatches: sequential carries the state (truncated BPTT), random resets it",
        choices=STRATEGIES,
    ),
    Option(
        "max_tokens",
        int,
        -1,
        "use only the first N tokens of the corpus (the book: 10000)",
        minimum=1,
        maximum=10**12,
        unset=-1,
        unset_label="all",
        typed_unset=False,
        label="max tokens",
        metavar="N",
    ),
    Option(
        "val_fraction",
        float,
        0.1,
        "held-out tail of the token stream (0: no validation)",
        minimum=0.0,
        maximum=MAX_VAL_FRACTION,
        label="val frac.",
        metavar="F",
    ),
    # -- the run --------------------------------------------------------------------------
    with_changes(DEVICE, help="where to train: auto = CUDA when present, else CPU"),
    Option(
        "seed",
        int,
        0,
        "random seed (initial weights, batches, samples)",
        minimum=0,
        maximum=SEED_MAX,
        metavar="S",
    ),
    Option(
        "sample_every",
        int,
        1,
        "a sample every N epochs (0: never)",
        minimum=0,
        maximum=1_000_000,
        metavar="N",
        form=False,
    ),
    Option("prefix", str, "time traveller", "prefix of the samples", metavar="TEXT", form=False),
    Option(
        "sample_length",
        int,
        50,
        "tokens per sample",
        minimum=1,
        maximum=10_000,
        metavar="N",
        form=False,
    ),
    Option(
        "graph",
        str,
        "auto",
        "capture the whole training step in a CUDA graph (auto: on a GPU when the task's step "
        "has a static form: language models and seq2seq; on: "
        "refuse to run without)",
        choices=GRAPH_MODES,
        label="CUDA graph",
    ),
    Option(
        "precision",
        str,
        "fp32",
        "with bf16 the forward and loss run under bfloat16 autocast, weights and updates in fp32: "
        "for GPUs and CPUs with bf16 units (nn.LSTM measured 1.3-1.6x fp32 on one); slower on "
        "an AVX2-only CPU",
        choices=PRECISIONS,
    ),
    Option(
        "compile",
        str,
        "off",
        "on: the model's forward through torch.compile (the first step compiles; falls back "
        "to eager if it fails; meant for GPUs: on a 2-core CPU it measured slower than eager)",
        choices=COMPILE_MODES,
    ),
    Option(
        "log_every",
        int,
        0,
        "a step event every N minibatches (0: about 20 per epoch)",
        minimum=0,
        maximum=10**9,
        metavar="N",
        form=False,
    ),
)
OPTION = by_name(OPTIONS)


def pick(*names: str, **changes: dict) -> tuple[Option, ...]:
    """The declarations `names`, in OPTIONS' order, with `changes[name]` applied to that one
    (another default or help text for this task)."""
    unknown = sorted(set(names) - set(OPTION)) + sorted(set(changes) - set(names))
    if unknown:
        raise KeyError(f"no such option for this task: {', '.join(unknown)}")
    return tuple(
        with_changes(option, **changes.get(option.name, {}))
        for option in OPTIONS
        if option.name in names
    )


# The seeds' warning as a preset (the Train screen's palette; README "Bidirectional used
# wrongly"): a bidirectional LSTM language model on the book's 10,000-character setting.
BIDIRECTIONAL_LM = {
    "task": "lm",
    "model": "lstm",
    "bidirectional": True,
    "max_tokens": 10000,
    "val_fraction": 0.0,
    "epochs": 40,
}
BIDIRECTIONAL_LM_NOTE = (
    "a bidirectional LM sees each character it predicts through its backward direction: "
    "training perplexity falls near 1, generation is gibberish (start it, then the same run "
    "with bidirect. no, and tick both in Runs to overlay them)"
)

_RUN = ("device", "graph", "precision", "compile", "seed", "sample_every", "log_every")
_OPTIMISATION = ("batch_size", "num_steps", "lr", "optimizer", "epochs", "clip")

LM_OPTIONS = pick(
    "corpus",
    "token",
    "mode",
    "encoding",
    "min_freq",
    "max_tokens",
    "val_fraction",
    "model",
    "layers",
    "bidirectional",
    "hidden",
    "embed",
    "dropout",
    *_OPTIMISATION,
    "sampling",
    *_RUN,
    "prefix",
    "sample_length",
    # The form offers the corpus reading the Dataset screen explores: raw mode is what keeps a
    # text in another script (or its case and punctuation), min freq what shrinks a vocabulary.
    mode=dict(form=True),
    encoding=dict(form=True),
    min_freq=dict(form=True),
)

# d2l §9.7's translation run (--num-examples 600 --embed 32 --hidden 32 --epochs 300 is the
# book's; these defaults are sized for all ~68.8k bundled pairs).
SEQ2SEQ_OPTIONS = pick(
    "pairs",
    "num_examples",
    "encoding",
    "min_freq",
    "val_fraction",
    "model",
    "layers",
    "bidirectional",
    "attention",
    "hidden",
    "embed",
    "dropout",
    *_OPTIMISATION,
    *_RUN,
    min_freq=dict(default=2, help="rarer words become <unk> (per language)", form=True),
    encoding=dict(form=True),  # a pairs file from another system, as the CLI reads it
    val_fraction=dict(help="held-out share of the pairs, for loss and BLEU (0: none)"),
    model=dict(
        default=SEQ2SEQ_MODEL,
        choices=(SEQ2SEQ_MODEL,),
        help="the GRU encoder–decoder (d2l §9.7)",
        hint="the other models are language models (--task lm)",
        form=False,
    ),
    layers=dict(default=2, help="GRU layers of the encoder and of the decoder"),
    bidirectional=dict(help="the encoder reads the source both ways (the decoder: one way)"),
    hidden=dict(help="hidden units per GRU layer"),
    embed=dict(default=256, minimum=1, unset=UNSET, help="word embedding size (source and target)"),
    dropout=dict(default=0.1),
    batch_size=dict(default=64, help="sentence pairs per minibatch"),
    num_steps=dict(default=10, help="tokens per sentence: longer ones are cut, shorter padded"),
    lr=dict(default=0.005, help="learning rate (the book: 0.005 with Adam)"),
    optimizer=dict(default="adam", help="Adam as the book, or SGD"),
    epochs=dict(default=10, help="epochs in total (passes over the training pairs)"),
    seed=dict(help="random seed (weights, batches; the held-out split is fixed)"),
)

__all__ = [
    "BIDIRECTIONAL_LM",
    "BIDIRECTIONAL_LM_NOTE",
    "COMPILE_MODES",
    "FILE",
    "GRAPH_MODES",
    "LM_OPTIONS",
    "MAX_VAL_FRACTION",
    "OPTIMIZERS",
    "OPTION",
    "OPTIONS",
    "PRECISIONS",
    "SEQ2SEQ_OPTIONS",
    "pick",
]
