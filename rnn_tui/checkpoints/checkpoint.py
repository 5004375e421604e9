"""Checkpoints without pickle: tensors in safetensors, everything else in JSON.

A checkpoint called NAME in a folder is a pair of files:

    NAME.<sha12>.safetensors                        (named after its sha256's first 12 hex)
                       model.<state_dict key>      the weights
                       optim.<param index>.<key>   optimizer state tensors (exp_avg, exp_avg_sq,
                                                   momentum_buffer, and Adam's 0-d `step`: every
                                                   tensor of optimizer.state_dict() is stored as a
                                                   tensor, so dtype and value round-trip exactly)
                       rng.torch, rng.cuda.<i>     torch.get_rng_state() (+ each CUDA device's,
                                                   when CUDA is in use in this process)
    NAME.json          the caller's meta (config, vocab, epoch, step, metrics, ...) plus
                       format_version, model_config, optimizer kind + param_groups (without the
                       params lists) + non-tensor state + per-param step counts, the Python and
                       numpy global RNG states, the tensor file's name (tensors_file) and sha256

The tensor file is written first and the JSON last, each atomically (store.py): replacing the
JSON is the commit. A crash in between leaves the old JSON naming the old, intact tensor file; a
pair whose sha256 does not match (a file changed by hand) is refused ("incomplete checkpoint")
and a run directory falls back to its other checkpoint (HF Trainer bug #35782 resumed from a
half-written one).

Nothing here unpickles: `torch.load` can run code from the file (even with weights_only, which
had CVEs), and a pickle handed to `load_checkpoint` is refused by its extension or its first
bytes (pickles.py).

This module is the pair and its loading; store.py commits and reads the pair, tensor_file.py
writes and parses the safetensors bytes, and
state.py turns optimizer and RNG state into tensors + JSON and back.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.pickles import (
    PICKLE_SUFFIXES,
    file_head,
    is_refused,
    looks_like_pickle,
    refusal,
)
from rnn_tui.checkpoints.state import (
    check_rng,
    optimizer_payload,
    random_state_from_json,
    random_state_to_json,
    restore_optimizer,
    restore_rng,
    rng_record,
    rng_tensors,
)
from rnn_tui.checkpoints.store import json_of, no_json, read_pair, write_pair
from rnn_tui.checkpoints.task import checked_task
from rnn_tui.checkpoints.tensor_file import parse_tensors, serialize
from rnn_tui.files import FileProblem, expanded, is_folder, look

FORMAT_VERSION = 1
CHECKPOINT_NAMES = ("best", "last")
# Keys save_checkpoint writes itself; a caller's meta may not use them.
RESERVED_META_KEYS = (
    "format_version",
    "name",
    "tensors_file",
    "sha256",
    "size",
    "created",
    "torch_version",
    "optimizer",
    "python_random",
    "numpy_random",
    "numpy_generator",
)
# One key: the package keeps metadata in a hash map, so two keys could be written in either
# order and identical tensors would not always give the same bytes (and sha256).
_SAFETENSORS_METADATA = {"format": "pt"}


# ---------------------------------------------------------------------------------------------
# Saving


def save_checkpoint(
    dir: str | os.PathLike,
    name: str,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    meta: dict,
    *,
    numpy_generator: np.random.Generator | None = None,
) -> Path:
    """Write checkpoint `name` in `dir`: its tensors under a fresh name, then dir/name.json,
    which names them (the commit: store.py); return dir/name.safetensors, the name that
    `load_checkpoint` reads it by.

    `meta` is the caller's JSON-able record (config, vocab = Vocab.to_dict(), epoch, step,
    metrics, ...). The model's own `config()`, when it has one, is recorded as "model_config"
    (what `Checkpoint.build_model` rebuilds) unless meta already has that key. The global Python
    and numpy RNG states are always recorded; pass `numpy_generator` to record a Generator's too.

    Non-finite weights are refused with CheckpointError before anything is written, so a
    diverged run never overwrites its last good checkpoint.
    """
    folder = Path(dir)
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"a checkpoint name is a plain file name, not {name!r}")
    clash = sorted(set(meta) & set(RESERVED_META_KEYS))
    if clash:
        raise ValueError(f"checkpoint meta may not set {', '.join(clash)} (save_checkpoint does)")

    state = model.state_dict()
    for key, value in state.items():
        if (value.is_floating_point() or value.is_complex()) and not bool(
            torch.isfinite(value).all()
        ):
            raise CheckpointError(
                f"refusing to save checkpoint {folder / name}: weight {key} is not finite "
                "(NaN or inf); the previous checkpoint is kept"
            )
    tensors = {f"model.{key}": value for key, value in state.items()}
    optimizer_info = None
    if optimizer is not None:
        optim_tensors, optimizer_info = optimizer_payload(optimizer)
        tensors.update(optim_tensors)
    tensors.update(rng_tensors())
    data = serialize(tensors, _SAFETENSORS_METADATA)

    record = {"format_version": FORMAT_VERSION, **meta}
    if "model_config" not in record and callable(getattr(model, "config", None)):
        record["model_config"] = model.config()
    record.update(
        {
            "name": name,
            "created": time.time(),
            "torch_version": torch.__version__,
            "optimizer": optimizer_info,
            **rng_record(numpy_generator),
        }
    )
    # The tensors under a fresh name, then the JSON naming them: one atomic commit (store.py).
    write_pair(folder, name, data, record)
    return folder / f"{name}.safetensors"


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass
class Checkpoint:
    """A loaded checkpoint: `path` is its name (NAME.safetensors beside NAME.json; what a user
    passes and the lists show), `tensors_path` the tensor file NAME.json commits (the same file
    for checkpoints written before fresh names, and shipped ones), `meta` the JSON, `tensors`
    every tensor by name; `warning` says when a run directory's preferred checkpoint was
    unusable."""

    path: Path
    meta: dict
    tensors: dict[str, torch.Tensor]
    warning: str | None = None
    tensors_path: Path | None = None

    def __post_init__(self) -> None:
        if self.tensors_path is None:
            self.tensors_path = self.path

    @property
    def json_path(self) -> Path:
        return self.path.with_suffix(".json")

    @property
    def file(self) -> Path:
        """The tensor file on disk, which messages name: `path` is a name only, no file, once
        the tensors are in NAME.<sha12>.safetensors."""
        return self.tensors_path or self.path

    @property
    def config(self) -> dict:
        """The run's config as the trainer recorded it."""
        config = self.meta.get("config")
        if not isinstance(config, dict):
            raise CheckpointError(f"checkpoint {self.json_path} has no config")
        return config

    @property
    def model_config(self) -> dict:
        """What `build_model` needs: the model's own config() recorded at save time, else (no
        such key) the run config, with vocab_size from the vocabulary when it lacks one."""
        recorded = self.meta.get("model_config")
        if isinstance(recorded, dict):
            return dict(recorded)
        if "model_config" in self.meta:
            raise CheckpointError(
                f"cannot rebuild the model of {self.file}: {self.json_path} has a model_config "
                f"that is not an object ({_kind(recorded)})"
            )
        config = dict(self.config)
        if "vocab_size" not in config and "vocab" in self.meta:
            config["vocab_size"] = len(self.vocab)
        return config

    @property
    def task(self):
        """The run's task (task.py `task_of`); CheckpointError when its JSON says none."""
        return checked_task(self.meta, self.json_path)

    @property
    def epoch(self) -> int | None:
        """The epoch it was saved at (a run's `best` is not its last epoch); None where its JSON
        says none, or not a positive whole number."""
        epoch = self.meta.get("epoch")
        return epoch if type(epoch) is int and epoch > 0 else None

    @property
    def vocab(self):
        """The Vocab the model was trained with (rnn_tui.data.vocab.Vocab)."""
        return self._vocab("vocab", "vocabulary")

    @property
    def src_vocab(self):
        """A seq2seq checkpoint's source (English) Vocab."""
        return self._vocab("src_vocab", "source vocabulary")

    @property
    def tgt_vocab(self):
        """A seq2seq checkpoint's target (French) Vocab."""
        return self._vocab("tgt_vocab", "target vocabulary")

    def _vocab(self, key: str, what: str):
        from rnn_tui.data.errors import DataError
        from rnn_tui.data.vocab import Vocab

        d = self.meta.get(key)
        if not isinstance(d, dict):
            raise CheckpointError(f"checkpoint {self.json_path} has no {what}")
        try:
            return Vocab.from_dict(d, field=f"{key}.")
        except DataError as exc:
            raise CheckpointError(f"checkpoint {self.json_path}: {exc}") from None

    def model_state(self) -> dict[str, torch.Tensor]:
        """The model's state_dict as saved (the `model.` tensors without their prefix)."""
        return {k[len("model.") :]: v for k, v in self.tensors.items() if k.startswith("model.")}

    def load_weights(self, model: torch.nn.Module) -> None:
        """Copy the saved weights into `model`, after checking that every name and shape fits."""
        self._check_fits(model.state_dict())
        model.load_state_dict(self.model_state())

    def build_model(self, device: torch.device | str = "cpu"):
        """build_model(model_config) with the saved weights, on `device`, in eval mode (the
        trainer calls .train() itself).

        The config comes from the JSON, which the sha256 does not cover: it is checked (its
        sizes in range, then every weight's name and shape, on a model built on the "meta"
        device, which allocates nothing) before the real model is built, so an edited config
        cannot make this allocate terabytes or hang.
        """
        from rnn_tui.models.registry import build_model, build_skeleton

        config = self.model_config
        try:
            skeleton = build_skeleton(config)
        except (ValueError, KeyError, TypeError) as exc:
            problem = str(exc)
            if "model_config" not in self.meta:
                # The run config stood in; its training options, listed as unknown model keys,
                # would hide that what is wrong is the missing model_config.
                problem = f"{self.json_path} has no model_config (the run config is not one)"
            raise CheckpointError(f"cannot rebuild the model of {self.file}: {problem}") from None
        self._check_fits(skeleton.state_dict())
        self._check_finite()
        model = build_model(config)
        self.load_weights(model)
        model.to(device)
        model.eval()
        return model

    def _check_fits(self, expected: dict) -> None:
        state = self.model_state()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise CheckpointError(
                f"checkpoint {self.file} does not fit the model: "
                f"missing {missing[:3]}, unexpected {unexpected[:3]}"
            )
        for key, value in expected.items():
            if state[key].shape != value.shape:
                saved, wanted = tuple(state[key].shape), tuple(value.shape)
                raise CheckpointError(
                    f"checkpoint {self.file} does not fit the model: {key} is {saved} in the "
                    f"checkpoint, {wanted} in the model"
                )

    def _check_finite(self) -> None:
        """A weight that is NaN or inf (never saved by rnn-tui; an edited file) is refused:
        the model would only print nonsense."""
        for key, value in self.model_state().items():
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                raise CheckpointError(
                    f"checkpoint {self.file}: weight {key} is not finite (NaN or inf)"
                )

    def restore_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Put the saved optimizer state (moments, momentum buffers, step counts, learning rates
        and other param_group settings) into `optimizer`, built over the same parameters."""
        restore_optimizer(
            optimizer,
            self.tensors,
            self.meta.get("optimizer"),
            path=self.file,
            json_path=self.json_path,
        )

    def check_rng(self) -> None:
        """CheckpointError when the saved RNG states could not be restored (nothing changes)."""
        check_rng(self.tensors, self.meta, path=self.file, json_path=self.json_path)

    def restore_rng(self, numpy_generator: np.random.Generator | None = None) -> None:
        """Restore torch's (CPU and, where saved and present, each CUDA device's), Python's and
        numpy's global random states as they were when the checkpoint was saved; also a numpy
        Generator's, when one was saved and `numpy_generator` is given."""
        restore_rng(
            self.tensors, self.meta, numpy_generator, path=self.file, json_path=self.json_path
        )


def _kind(value: object) -> str:
    """A JSON value's kind, for a message."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return {**names, list: "a list", type(None): "null"}.get(type(value), type(value).__name__)


def _load(json_path: Path) -> Checkpoint:
    """The checkpoint `json_path` commits (store.read_pair), its format checked and its
    tensors parsed."""
    tensors_path, meta, data = read_pair(json_path)
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"unsupported checkpoint {json_path}: format_version {version!r} "
            f"(this rnn-tui reads {FORMAT_VERSION})"
        )
    tensors, _ = parse_tensors(data, tensors_path)
    return Checkpoint(
        path=json_path.with_suffix(".safetensors"),
        meta=meta,
        tensors=tensors,
        tensors_path=tensors_path,
    )


def _load_tensor_file(path: Path) -> Checkpoint:
    """A checkpoint named NAME.safetensors (read through NAME.json, whatever tensor file that
    commits), or named by its tensor file NAME.<hash>.safetensors (the current one only)."""
    if path.is_file() and is_refused(file_head(path)):
        raise refusal(path)
    json_path = json_of(path)
    if json_path is None:
        if path.exists():  # a safetensors file another tool wrote, or a link to one of a pair
            raise no_json(path)
        raise CheckpointError(f"checkpoint not found: {path}")
    checkpoint = _load(json_path)
    if path.name not in (checkpoint.path.name, checkpoint.tensors_path.name):
        raise CheckpointError(
            f"{path} is not the checkpoint {json_path.name} commits "
            f"({checkpoint.tensors_path.name} is): an older save"
        )
    return checkpoint


def _load_from_dir(folder: Path, prefer: tuple[str, ...]) -> Checkpoint:
    """FileProblem when the folder cannot be looked into."""
    base = (
        folder / "checkpoints" if is_folder(look(folder / "checkpoints", "checkpoint")) else folder
    )
    present = [name for name in prefer if look(base / f"{name}.json", "checkpoint") is not None]
    if not present:
        names = " or ".join(f"checkpoints/{name}.json" for name in prefer)
        raise CheckpointError(f"no checkpoint in {folder} (expected {names})")
    failures: list[str] = []
    for name in present:
        try:
            checkpoint = _load(base / f"{name}.json")
        except CheckpointError as exc:
            failures.append(f"{name}: {exc}")
            continue
        if failures:
            checkpoint.warning = f"loaded the {name} checkpoint instead ({'; '.join(failures)})"
        return checkpoint
    raise CheckpointError(f"no usable checkpoint in {folder} ({'; '.join(failures)})")


def load_checkpoint(
    path: str | os.PathLike, *, prefer: tuple[str, ...] = CHECKPOINT_NAMES
) -> Checkpoint:
    """Load a checkpoint from its .safetensors file, its .json, or a run directory.

    A run directory (or its checkpoints/ folder) gives the first loadable of `prefer`
    (best, then last; a resuming trainer passes ("last", "best")); when an earlier one is
    unusable, the returned Checkpoint's `warning` says why. Pickles (.pt/.pth/.bin/.ckpt, or
    bytes that start like one) are refused; the recorded sha256 is verified.
    """
    path = expanded(path)  # "~/runs/x" typed into the app's picker: no shell expanded it
    try:
        # A name too long, or a folder on the way without permission: one line, where the
        # pathlib checks below would raise a traceback.
        seen = look(path, "checkpoint")
        if is_folder(seen):
            return _load_from_dir(path, tuple(prefer))
    except FileProblem as exc:
        raise CheckpointError(str(exc)) from None
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise refusal(path)
    if path.suffix == ".json":
        if not path.exists():
            raise CheckpointError(f"checkpoint not found: {path}")
        return _load(path)
    if path.suffix == ".safetensors":
        return _load_tensor_file(path)
    if path.is_file() and is_refused(file_head(path)):
        raise refusal(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    raise CheckpointError(
        f"not a checkpoint: {path} (expected a .safetensors file, its .json, or a run directory)"
    )


__all__ = [
    "CHECKPOINT_NAMES",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "load_checkpoint",
    "looks_like_pickle",
    "random_state_from_json",
    "random_state_to_json",
    "save_checkpoint",
]
