"""Finding checkpoints to generate from, without loading them (no torch: the UI lists them).

Looked for, in this order:

- shipped: the repository's top-level `checkpoints/` folder, then every folder named in
  $RNN_TUI_CHECKPOINTS (separated by the OS path separator, ':' on Unix): each NAME.json beside
  its NAME.safetensors, directly in the folder, one level down, or in a run directory's
  checkpoints/ folder one level down;
- run: every run's checkpoints/{best,last} under `default_runs_root()` ($RNN_TUI_RUNS or ./runs),
  newest first.

Only the JSON half of each pair is read: it holds the config, the vocabulary and the metrics, so
the list can show model, token level, vocabulary size and validation perplexity at once
(`describe` gathers those facts, `label_for` and `format_facts` word them).
"""

from __future__ import annotations

import math
import os
import site
import stat
import sys
from pathlib import Path

import rnn_tui
from rnn_tui import json_pieces
from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.store import MAX_JSON_READ_BYTES, read_leading, tensors_path_of
from rnn_tui.checkpoints.task import task_of
from rnn_tui.files import FileProblem, expanded, home, is_folder, look, read_bytes
from rnn_tui.metrics.perplexity import fmt_perplexity
from rnn_tui.quoting import plain, quoted
from rnn_tui.runs.rundir import CHECKPOINTS_DIR, bare_name, default_runs_root, resolve_run

CHECKPOINTS_ENV = "RNN_TUI_CHECKPOINTS"
INSTALLED_CHECKPOINTS = Path("share") / "rnn-tui" / "checkpoints"  # pyproject's data-files


def _shipped_dir() -> Path:
    """Where the shipped checkpoints are: checkpoints/ beside the package in a repository
    checkout (also an editable install); for an installed wheel (pip, pipx), the copy it put
    under <prefix>/share/rnn-tui/checkpoints (the environment's prefix, or the user base for
    `pip install --user`)."""
    checkout = Path(rnn_tui.__file__).resolve().parent.parent / "checkpoints"
    if checkout.is_dir():
        return checkout
    for prefix in (sys.prefix, site.getuserbase()):
        installed = Path(prefix) / INSTALLED_CHECKPOINTS
        if installed.is_dir():
            return installed
    return checkout


SHIPPED_DIR = _shipped_dir()
KINDS = ("shipped", "run")
RUN_CHECKPOINTS = ("best", "last")


def resolve_shipped(text: str) -> str:
    """A --checkpoint argument as a path: the argument itself when it names something that
    exists or holds a path separator; else, when a shipped folder (shipped_dirs) holds a
    checkpoint of that name (`fra-eng-gru`, with or without `.safetensors`), that checkpoint's
    path — so an installed rnn-tui reaches its shipped models without knowing where they are;
    else a run of that name in the runs folder (`resolve_run`), as `rnn-tui runs` lists it."""
    if not bare_name(text) or _there(text):
        return text
    name = text.removesuffix(".safetensors")
    for folder in shipped_dirs():
        # A checkpoint is its JSON (which names its tensor file, NAME.<hash>.safetensors for
        # newer ones); NAME.safetensors is how the loaders are given it.
        if _there(folder / f"{name}.json", unknown=False, file=True):
            return str(folder / f"{name}.safetensors")
    return resolve_run(text)


def unknown_name(text: str, what: str = "checkpoint") -> str | None:
    """The one line for a bare name that `resolve_shipped`/`resolve_run` left as given and
    that names nothing here: where it was looked for, so that a mistyped run name does not
    read as a missing file. None when the argument is a path or names something."""
    if not bare_name(text) or _there(text):
        return None
    try:
        root = str(default_runs_root())
    except (OSError, RuntimeError):
        root = "the runs folder"
    places = "no file here, no shipped checkpoint" if what == "checkpoint" else "no folder here"
    return (
        f"{what} not found: {quoted(text)} names {places} and no run in {root} "
        "(rnn-tui runs lists the runs)"
    )


def _there(
    path: str | Path, unknown: bool = True, file: bool = False, folder: bool = False
) -> bool:
    """Whether something (with `file`, a regular file; with `folder`, a folder) is at `path`;
    `unknown` when it cannot be looked at (a name too long, a folder without permission): the
    user's own path then goes to the loader, which names the reason, and a shipped folder we
    cannot read is skipped, where pathlib would raise a traceback."""
    try:
        seen = look(path)
    except FileProblem:
        return unknown
    if seen is None:
        return False
    return stat.S_ISREG(seen.st_mode) if file else is_folder(seen) if folder else True


def shipped_dirs() -> list[Path]:
    """The shipped checkpoints' folder, then the folders in $RNN_TUI_CHECKPOINTS."""
    folders = [SHIPPED_DIR]
    for entry in os.environ.get(CHECKPOINTS_ENV, "").split(os.pathsep):
        if entry.strip():
            folders.append(expanded(entry.strip()))
    return folders


def read_meta(json_path: str | os.PathLike) -> dict | None:
    """A checkpoint's JSON as a dict, or None when it is missing, unreadable or not one."""
    path = Path(json_path)
    try:
        data = read_bytes(path, limit=MAX_JSON_READ_BYTES, what="checkpoint JSON", pipes=False)
        meta = json_pieces.loads(data.decode("utf-8"))  # a piece at a time: store.read_meta
    except (FileProblem, OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(meta, dict) or "format_version" not in meta:
        return None
    return meta


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _first_number(*candidates) -> float | None:
    for value in candidates:
        number = _number(value)
        if number is not None:
            return number
    return None


def describe(meta: dict) -> dict:
    """The facts the UI shows about a checkpoint, from its JSON: task, model, bidirectional,
    token, mode, corpus, vocab_size, hidden, layers, epoch, step, train_ppl, val_ppl, and for
    translation checkpoints pairs, src_vocab_size, tgt_vocab_size, bleu (held-out: the
    metrics' own, else the checkpoint's epoch's) and epoch_bleu (that epoch's alone, which the
    list's labels show) (None when unknown).

    Perplexities come from meta["metrics"] ("val_ppl", or the last record of the trainer's
    per-epoch "history", which is the checkpoint's own epoch), else from the top level."""
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    model_config = meta.get("model_config") if isinstance(meta.get("model_config"), dict) else {}
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    vocab = meta.get("vocab") if isinstance(meta.get("vocab"), dict) else {}
    # The trainer keeps one record per epoch; the last is the checkpoint's own epoch.
    history = metrics.get("history")
    last = history[-1] if isinstance(history, list) and history else {}
    last = last if isinstance(last, dict) else {}
    tokens = vocab.get("idx_to_token")
    vocab_size = len(tokens) if isinstance(tokens, list) else model_config.get("vocab_size")
    sizes = {
        key: value if isinstance(value, int) and not isinstance(value, bool) else None
        for key, value in (
            ("src_vocab_size", model_config.get("src_vocab_size")),
            ("tgt_vocab_size", model_config.get("tgt_vocab_size")),
        )
    }
    return {
        "task": task_of(meta) if config else None,  # a seq2seq one without "task" is listed as one
        "model": model_config.get("model") or config.get("model"),
        "bidirectional": bool(model_config.get("bidirectional")),
        "attention": _attention(model_config.get("attention")),
        "token": config.get("token"),
        "mode": config.get("mode"),
        "corpus": config.get("corpus"),
        "vocab_size": vocab_size if isinstance(vocab_size, int) else None,
        "hidden": model_config.get("hidden") or config.get("hidden"),
        "layers": model_config.get("layers") or config.get("layers"),
        "epoch": meta.get("epoch") if isinstance(meta.get("epoch"), int) else None,
        "step": meta.get("step") if isinstance(meta.get("step"), int) else None,
        "train_ppl": _first_number(
            metrics.get("train_ppl"), last.get("train_ppl"), meta.get("train_ppl")
        ),
        "val_ppl": _first_number(
            metrics.get("val_ppl"),
            last.get("val_ppl"),
            metrics.get("best_val_ppl"),
            meta.get("val_ppl"),
            meta.get("best_val_ppl"),
        ),
        "pairs": config.get("pairs"),
        **sizes,
        "bleu": _first_number(metrics.get("bleu"), last.get("bleu")),
        "epoch_bleu": _first_number(last.get("bleu")),
    }


def _attention(value: object) -> str | None:
    """A translator's attention ("additive", "dot"); None for none, absent or not a name."""
    return value if isinstance(value, str) and value.isalnum() and value != "none" else None


# What describe() and the listing read of a checkpoint's JSON, and what they do without.
_FACT_KEYS = frozenset({"format_version", "config", "model_config", "metrics", "tensors_file"})
_VOCABULARIES = frozenset({"vocab", "src_vocab", "tgt_vocab"})


def read_facts(json_path: str | os.PathLike) -> dict | None:
    """read_meta without the vocabularies, where the JSON puts them last (store.json_text):
    a list of checkpoints parses kilobytes, not a large vocabulary's megabytes."""
    try:
        meta = read_leading(Path(json_path), _FACT_KEYS, _VOCABULARIES)
    except OSError:
        return None
    if meta is None:
        return read_meta(json_path)
    return meta if "format_version" in meta else None


def _entry(json_path: Path, name: str, kind: str) -> dict | None:
    meta = read_facts(json_path)
    if meta is None:
        return None
    # A JSON without the tensor file it commits is not a usable checkpoint: not listed.
    try:
        if not tensors_path_of(json_path, meta).is_file():
            return None
    except (CheckpointError, OSError):
        return None
    tensors = json_path.with_suffix(".safetensors")  # the checkpoint's name (store.py)
    try:
        updated = json_path.stat().st_mtime
    except OSError:
        updated = 0.0
    facts = describe(meta)
    return {
        "path": str(tensors),
        "name": name,
        "label": label_for(plain(name), kind, facts),  # a folder's name may not be UTF-8
        "kind": kind,
        "updated": updated,
        **facts,
    }


def label_for(name: str, kind: str, facts: dict) -> str:
    """One line for a list: "name · gru char · val ppl 5.43" (the parts that are known)."""
    parts = [name]
    what = " ".join(str(facts[k]) for k in ("model", "token") if facts.get(k))
    # A bidirectional language model (the seeds' warning) beside its one-way twin; a
    # translator's encoder reading both ways is its usual kind, not named.
    if what and facts.get("bidirectional") and facts.get("task") != "seq2seq":
        what = what.replace(str(facts.get("model")), f"{facts.get('model')} bidir", 1)
    if what and facts.get("attention"):
        what += f"+{facts['attention']}"
    if what:
        parts.append(what)
    if facts.get("val_ppl") is not None:
        parts.append(f"val ppl {fmt_perplexity(facts['val_ppl'])}")
    if facts.get("epoch_bleu") is not None:
        parts.append(f"BLEU {facts['epoch_bleu']:.1f}")
    if kind == "run":
        parts.append("run")
    return " · ".join(parts)


def format_facts(facts: dict, path: str | None) -> str:
    """One line of facts, the parts that are known, in this order: "gru ×2 layers · char
    (clean) · vocabulary 28 · hidden 32 · val ppl 8.65 · epoch 5 · PATH" for a language model,
    "seq2seq bidirectional · hidden 32 · vocab 184 → 201 · num_steps 10 · val ppl 9.12 ·
    BLEU 41.3 · epoch 300 · PATH" for a translation one (src_vocab, tgt_vocab and num_steps are
    the loaded model's, not describe's)."""
    parts = fact_parts(facts)
    if path:
        parts.append(short_path(path))
    return " · ".join(parts)


def fact_parts(facts: dict) -> list[str]:
    """format_facts's parts before the path, most telling first."""
    parts = []
    if facts.get("model"):
        model = str(facts["model"]) + (" bidirectional" if facts.get("bidirectional") else "")
        layers = facts.get("layers")
        parts.append(model + (f" ×{layers} layers" if layers and layers > 1 else ""))
        if facts.get("attention"):
            parts.append(f"{facts['attention']} attention")
    if facts.get("token"):
        parts.append(f"{facts['token']} ({facts['mode']})" if facts.get("mode") else facts["token"])
    if facts.get("vocab_size") is not None:
        parts.append(f"vocabulary {facts['vocab_size']:,}")
    if facts.get("hidden"):
        parts.append(f"hidden {facts['hidden']}")
    if facts.get("src_vocab") is not None and facts.get("tgt_vocab") is not None:
        parts.append(f"vocab {facts['src_vocab']:,} → {facts['tgt_vocab']:,}")
    if facts.get("num_steps"):
        parts.append(f"num_steps {facts['num_steps']}")
    if facts.get("val_ppl") is not None:
        parts.append(f"val ppl {fmt_perplexity(facts['val_ppl'])}")
    elif facts.get("train_ppl") is not None:
        parts.append(f"train ppl {fmt_perplexity(facts['train_ppl'])}")
    if facts.get("bleu") is not None:
        parts.append(f"BLEU {facts['bleu']:.1f}")
    if facts.get("epoch") is not None:
        parts.append(f"epoch {facts['epoch']}")
    return parts


def short_path(path: str) -> str:
    """`path` relative to the working directory, else to the home folder (~/…), else as is."""
    p = Path(path)
    for base, shown in ((Path.cwd(), ""), (home(), "~/")):
        if base is None:
            continue
        try:
            return shown + str(p.relative_to(base))
        except ValueError:
            continue
    return str(p)


def _shipped_in(folder: Path) -> list[dict]:
    if not _there(folder, unknown=False, folder=True):  # one we cannot read is skipped
        return []
    patterns = ("*.json", "*/*.json", f"*/{CHECKPOINTS_DIR}/*.json")
    found: list[dict] = []
    for pattern in patterns:
        try:
            paths = sorted(folder.glob(pattern))
        except OSError:
            continue
        for path in paths:
            name = path.relative_to(folder).with_suffix("").as_posix()
            name = name.replace(f"/{CHECKPOINTS_DIR}/", "/")
            entry = _entry(path, name, "shipped")
            if entry is not None:
                found.append(entry)
    return found


def _runs_in(root: Path) -> list[dict]:
    found: list[dict] = []
    try:
        if not root.is_dir():
            return []
        runs = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:  # a runs folder we cannot read lists no checkpoints
        return []
    for run in runs:
        for which in RUN_CHECKPOINTS:
            entry = _entry(run / CHECKPOINTS_DIR / f"{which}.json", f"{run.name}/{which}", "run")
            if entry is not None:
                found.append(entry)
    # Newest run first; best before last within a run (stable sort on the run's newest write).
    newest = {}
    for entry in found:
        run = entry["name"].rsplit("/", 1)[0]
        newest[run] = max(newest.get(run, 0.0), entry["updated"])
    found.sort(key=lambda e: -newest[e["name"].rsplit("/", 1)[0]])
    return found


def discover_checkpoints(
    runs_root: str | os.PathLike | None = None,
    shipped: list[str | os.PathLike] | None = None,
    task: str | None = None,
) -> list[dict]:
    """Every checkpoint found (see the module docstring), shipped ones first.

    Each entry: path (its .safetensors), name, label, kind ("shipped" | "run"), updated (the
    JSON's mtime) and `describe`'s facts (task, model, token, val_ppl, ...). `shipped` replaces
    `shipped_dirs()`, `runs_root` the default runs folder; `task` keeps only that task's. A file
    found twice (a folder listed twice) is listed once.
    """
    folders = [Path(f) for f in shipped] if shipped is not None else shipped_dirs()
    root = Path(runs_root) if runs_root is not None else default_runs_root()
    entries = [e for folder in folders for e in _shipped_in(folder)] + _runs_in(root)
    seen: set[str] = set()
    unique = []
    for entry in entries:
        key = os.path.realpath(entry["path"])
        if key in seen or (task is not None and entry["task"] != task):
            continue
        seen.add(key)
        unique.append(entry)
    return unique


__all__ = [
    "CHECKPOINTS_ENV",
    "KINDS",
    "SHIPPED_DIR",
    "describe",
    "discover_checkpoints",
    "fact_parts",
    "format_facts",
    "label_for",
    "read_facts",
    "read_meta",
    "shipped_dirs",
    "short_path",
]
