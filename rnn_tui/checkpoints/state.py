"""Training state beside the weights: optimizer and random states, as tensors plus JSON.

A resumed run must repeat the interrupted one exactly, so each state is split by what can hold it
without loss: tensors (optimizer moments and momentum buffers, Adam's 0-d `step`, torch's CPU and
CUDA RNG states) go into the tensor file, keeping dtype and every bit; settings and scalars
(param_groups without their `params` lists, non-tensor optimizer state, Python's and numpy's
global RNG states, a numpy Generator's state) go into the checkpoint's JSON.

Tensor names: `optim.<param index>.<key>`, `rng.torch`, `rng.cuda.<device index>`.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import torch

from rnn_tui.checkpoints import CheckpointError

# ---------------------------------------------------------------------------------------------
# Random states


def random_state_to_json(state: tuple) -> dict:
    """`random.getstate()` (or `random.Random.getstate()`) as a JSON-able dict."""
    version, internal, gauss_next = state
    return {"version": version, "state": list(internal), "gauss_next": gauss_next}


def random_state_from_json(obj) -> tuple:
    """The inverse of `random_state_to_json`, ready for `random.setstate`."""
    try:
        return (int(obj["version"]), tuple(int(x) for x in obj["state"]), obj["gauss_next"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError("malformed Python random state in the checkpoint") from None


def _numpy_legacy_state_to_json() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "kind": kind,
        "keys": [int(k) for k in keys],
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def _numpy_legacy_state_from_json(obj) -> tuple:
    try:
        keys = np.array(obj["keys"], dtype=np.uint32)
        state = (obj["kind"], keys, int(obj["pos"]), int(obj["has_gauss"]), obj["cached_gaussian"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise CheckpointError("malformed numpy random state in the checkpoint") from None
    # MT19937's 624 words: numpy reads past a shorter array (IndexError, a traceback).
    if keys.shape != (624,):
        raise CheckpointError(
            f"malformed numpy random state in the checkpoint ({keys.size} keys, not 624)"
        )
    return state


def rng_tensors() -> dict[str, torch.Tensor]:
    """torch's RNG states, as the tensors a checkpoint stores."""
    out = {"rng.torch": torch.get_rng_state()}
    # Only when this process has used CUDA: asking for its state would otherwise create a CUDA
    # context (seconds, hundreds of MB) in a CPU run on a GPU machine.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            out[f"rng.cuda.{i}"] = state
    return out


def rng_record(numpy_generator: np.random.Generator | None = None) -> dict:
    """Python's and numpy's global RNG states (and a Generator's, when given), as the JSON
    entries a checkpoint records."""
    record = {
        "python_random": random_state_to_json(random.getstate()),
        "numpy_random": _numpy_legacy_state_to_json(),
    }
    if numpy_generator is not None:
        record["numpy_generator"] = numpy_generator.bit_generator.state
    return record


def restore_rng(
    tensors: dict[str, torch.Tensor],
    meta: dict,
    numpy_generator: np.random.Generator | None,
    *,
    path: Path,
    json_path: Path,
) -> None:
    """Put back what `rng_tensors` and `rng_record` saved; `path` and `json_path` (the
    checkpoint's two files) name it in errors. All or nothing: when one state is malformed,
    CheckpointError, and every global RNG is left as it was."""
    before = _global_states()
    try:
        _restore(tensors, meta, numpy_generator, path=path, json_path=json_path)
    except BaseException:
        _set_global_states(before)
        raise


def check_rng(tensors: dict[str, torch.Tensor], meta: dict, *, path: Path, json_path: Path) -> None:
    """CheckpointError when the saved RNG states cannot be restored; nothing changes either way
    (a resume checks them before it touches the run directory)."""
    before = _global_states()
    try:
        _restore(tensors, meta, None, path=path, json_path=json_path)
    finally:
        _set_global_states(before)


def _global_states() -> tuple:
    cuda = (
        torch.cuda.get_rng_state_all()
        if torch.cuda.is_available() and torch.cuda.is_initialized()
        else None
    )
    return torch.get_rng_state(), cuda, random.getstate(), np.random.get_state()


def _set_global_states(states: tuple) -> None:
    cpu, cuda, python, numpy_state = states
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)
    random.setstate(python)
    np.random.set_state(numpy_state)


def _restore(
    tensors: dict[str, torch.Tensor],
    meta: dict,
    numpy_generator: np.random.Generator | None,
    *,
    path: Path,
    json_path: Path,
) -> None:
    cpu = tensors.get("rng.torch")
    if cpu is None:
        raise CheckpointError(f"checkpoint {path} holds no RNG state")
    try:
        torch.set_rng_state(cpu.clone())
    except (RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path}: bad torch RNG state ({exc})") from None
    if torch.cuda.is_available():
        for name, value in tensors.items():
            if name.startswith("rng.cuda."):
                try:
                    index = int(name.rsplit(".", 1)[1])
                    # A device of the saving machine that this one lacks is skipped.
                    if index < torch.cuda.device_count():
                        torch.cuda.set_rng_state(value.clone(), index)
                except (RuntimeError, TypeError, ValueError) as exc:
                    raise CheckpointError(
                        f"checkpoint {path}: bad CUDA RNG state ({exc})"
                    ) from None
    try:
        if "python_random" in meta:
            random.setstate(random_state_from_json(meta["python_random"]))
        if "numpy_random" in meta:
            np.random.set_state(_numpy_legacy_state_from_json(meta["numpy_random"]))
    except (TypeError, ValueError, OverflowError, IndexError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"checkpoint {json_path}: bad random state ({reason})") from None
    if numpy_generator is not None and "numpy_generator" in meta:
        try:
            numpy_generator.bit_generator.state = meta["numpy_generator"]
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
            raise CheckpointError(
                f"checkpoint {json_path}: bad numpy generator state ({exc})"
            ) from None


# ---------------------------------------------------------------------------------------------
# Optimizer state


def _json_value(value, where: str):
    """A param_groups / optimizer-state value as JSON: tuples become lists, 0-d tensors numbers."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, list | tuple):
        return [_json_value(v, where) for v in value]
    raise CheckpointError(f"cannot save optimizer setting {where}: {type(value).__name__} value")


def optimizer_payload(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """`optimizer.state_dict()` split into (tensors named `optim.<index>.<key>`, the JSON entry
    "optimizer": kind, param_groups, non-tensor state, step counts)."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict] = {}
    steps: dict[str, int] = {}
    for idx, entries in sd["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = _json_value(value, f"state {idx}.{key}")
            if key == "step":
                steps[str(idx)] = int(value.item() if isinstance(value, torch.Tensor) else value)
    groups = [
        {k: _json_value(v, f"param_groups.{k}") for k, v in group.items() if k != "params"}
        for group in sd["param_groups"]
    ]
    info = {
        "kind": type(optimizer).__name__,
        "param_groups": groups,
        "state": scalars,
        # For people and the UI; restoring uses the `step` tensors themselves.
        "steps": steps,
    }
    return tensors, info


def _setting(old, value, key: str, where: Path):
    """A saved param_group setting in the type the optimizer uses for it (JSON turned tuples
    into lists and tensors into numbers); CheckpointError for a value of another kind, so a
    tampered lr cannot fail in the middle of training."""

    def number(v) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    if isinstance(old, bool) or old is None or isinstance(old, str):
        if type(value) is type(old):
            return value
    elif isinstance(old, int | float):
        if number(value):
            return type(old)(value) if isinstance(old, float) else value
    elif isinstance(old, tuple):
        if isinstance(value, list) and len(value) == len(old) and all(map(number, value)):
            return tuple(value)
    elif isinstance(old, torch.Tensor):
        if number(value):
            return torch.tensor(value, dtype=old.dtype, device=old.device)
    raise CheckpointError(f"checkpoint {where}: bad optimizer setting {key} = {value!r}")


# How an update runs on the device that saved it (a GPU's fused kernel, a CUDA graph's
# capturable step), not what it computes: the resuming optimizer keeps its own. Restoring them
# failed a GPU run resumed on a CPU (`foreach` None where a bool is expected, `capturable`).
IMPLEMENTATION_SETTINGS = frozenset({"foreach", "fused", "capturable", "differentiable"})


def _restored_groups(current: list[dict], saved: list[dict], json_path: Path) -> list[dict]:
    """The optimizer's own param_groups (its `params`) with the saved settings put back; only
    the settings the optimizer has are taken, and none of IMPLEMENTATION_SETTINGS."""
    groups = []
    for cur, entries in zip(current, saved):
        if not isinstance(entries, dict):
            raise CheckpointError(f"checkpoint {json_path}: malformed optimizer parameter group")
        group = dict(cur)
        for key, value in entries.items():
            if key in cur and key != "params" and key not in IMPLEMENTATION_SETTINGS:
                group[key] = _setting(cur[key], value, key, json_path)
        groups.append(group)
    return groups


def _check_state_shapes(state: dict[int, dict], params: list[torch.Tensor], path: Path) -> None:
    """Each saved moment or momentum tensor has its parameter's shape and a float dtype (a
    wrong one would only fail at the first step, in the middle of training)."""
    for idx, entries in state.items():
        for key, value in entries.items():
            if key == "step" or not isinstance(value, torch.Tensor):
                continue
            if value.shape != params[idx].shape or not value.is_floating_point():
                raise CheckpointError(
                    f"checkpoint {path}: optimizer state {idx}.{key} is {tuple(value.shape)} "
                    f"{value.dtype}, its parameter {tuple(params[idx].shape)}"
                )


def restore_optimizer(
    optimizer: torch.optim.Optimizer,
    tensors: dict[str, torch.Tensor],
    info,
    *,
    path: Path,
    json_path: Path,
) -> None:
    """Put what `optimizer_payload` saved (`tensors` and the JSON entry `info`) into
    `optimizer`, built over the same parameters; `path` and `json_path` (the checkpoint's two
    files) name it in errors."""
    if not isinstance(info, dict):
        raise CheckpointError(f"checkpoint {json_path} holds no optimizer state")
    kind = type(optimizer).__name__
    if info.get("kind") != kind:
        raise CheckpointError(
            f"checkpoint {json_path} was saved with optimizer {info.get('kind')}, not {kind}"
        )
    current = optimizer.state_dict()
    saved_groups = info.get("param_groups")
    if not isinstance(saved_groups, list) or len(saved_groups) != len(current["param_groups"]):
        raise CheckpointError(f"checkpoint {json_path}: optimizer parameter groups do not match")
    groups = _restored_groups(current["param_groups"], saved_groups, json_path)

    num_params = sum(len(g["params"]) for g in current["param_groups"])
    state: dict[int, dict] = {}
    try:
        for name, value in tensors.items():
            if name.startswith("optim."):
                _, idx, key = name.split(".", 2)
                state.setdefault(int(idx), {})[key] = value.clone()
        for idx, entries in (info.get("state") or {}).items():
            state.setdefault(int(idx), {}).update(entries)
    except (ValueError, AttributeError, TypeError):
        raise CheckpointError(f"checkpoint {path}: malformed optimizer state") from None
    if any(not 0 <= idx < num_params for idx in state):
        raise CheckpointError(
            f"checkpoint {path}: optimizer state for more parameters than the model has"
        )
    params = [p for group in optimizer.param_groups for p in group["params"]]
    _check_state_shapes(state, params, path)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError, TypeError, IndexError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"cannot restore the optimizer from {path}: {reason}") from None


__all__ = [
    "optimizer_payload",
    "random_state_from_json",
    "random_state_to_json",
    "restore_optimizer",
    "check_rng",
    "restore_rng",
    "rng_record",
    "rng_tensors",
]
