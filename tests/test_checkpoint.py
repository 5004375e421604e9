"""Checkpoints: safetensors + JSON pairs, exact restores, and refusing what is unsafe or broken."""

from __future__ import annotations

import json
import pickle
import random
import re

import numpy as np
import pytest
import torch
from torch import nn

from rnn_tui.checkpoints import CheckpointError, store
from rnn_tui.checkpoints.checkpoint import (
    Checkpoint,
    load_checkpoint,
    looks_like_pickle,
    save_checkpoint,
)
from rnn_tui.checkpoints.tensor_file import serialize
from rnn_tui.data.vocab import Vocab

REFUSAL = (
    "refusing to load {}: it is a pickle (loading it could run code); "
    "rnn-tui reads .safetensors + .json"
)


class Tiny(nn.Module):
    """A small stand-in for a language model: linear input, a GRU, a linear output."""

    def __init__(self, hidden: int = 6):
        super().__init__()
        self.inp = nn.Linear(5, 8)
        self.rnn = nn.GRU(8, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 5)

    def forward(self, x):
        h, _ = self.rnn(self.inp(x))
        return self.out(h)


def tensors_of(folder, name: str = "last"):
    """The tensor file checkpoint `name` in `folder` commits (its JSON names it)."""
    meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return folder / meta["tensors_file"]


def _model(seed: int = 0, hidden: int = 6) -> Tiny:
    torch.manual_seed(seed)
    return Tiny(hidden)


def _batch():
    g = torch.Generator().manual_seed(123)
    return torch.randn(4, 3, 5, generator=g), torch.randn(4, 3, 5, generator=g)


def _step(model, optimizer) -> None:
    x, y = _batch()
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


META = {"config": {"model": "tiny", "hidden": 6}, "epoch": 3, "step": 120, "metrics": {"ppl": 2.5}}


def _save(folder, name="last", model=None, optimizer=None, meta=META):
    model = model or _model()
    return save_checkpoint(folder, name, model, optimizer, dict(meta))


# -- saving ------------------------------------------------------------------------------------


def test_save_writes_a_pair_and_loads_back_every_way(tmp_path):
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    _step(model, optimizer)
    folder = tmp_path / "run" / "checkpoints"
    path = save_checkpoint(folder, "best", model, optimizer, dict(META))
    assert path == folder / "best.safetensors"
    # The tensors under a fresh name (their content's), and the JSON that names them.
    tensors = tensors_of(folder, "best")
    assert re.fullmatch(r"best\.[0-9a-f]{12}\.safetensors", tensors.name)
    assert sorted(p.name for p in folder.iterdir()) == sorted(["best.json", tensors.name])

    meta = json.loads((folder / "best.json").read_text(encoding="utf-8"))
    assert meta["format_version"] == 1
    assert {k: meta[k] for k in META} == META
    assert len(meta["sha256"]) == 64
    assert meta["optimizer"]["kind"] == "SGD"
    assert meta["optimizer"]["param_groups"][0]["momentum"] == 0.9
    assert "params" not in meta["optimizer"]["param_groups"][0]
    assert isinstance(meta["python_random"]["state"], list)
    assert isinstance(meta["created"], float)

    for source in (path, tensors, folder / "best.json", tmp_path / "run", folder):
        ckpt = load_checkpoint(source)
        assert ckpt.path == path and ckpt.tensors_path == tensors
        assert ckpt.warning is None
        assert ckpt.config == META["config"]
        assert _same(ckpt.model_state(), _weights(model))
        assert "rng.torch" in ckpt.tensors
        assert "optim.0.momentum_buffer" in ckpt.tensors


def test_weights_load_into_a_fresh_model(tmp_path):
    model = _model(seed=1)
    _save(tmp_path, model=model)
    fresh = _model(seed=2)
    assert not _same(_weights(fresh), _weights(model))
    load_checkpoint(tmp_path / "last.json").load_weights(fresh)
    x, _ = _batch()
    assert torch.equal(fresh(x), model(x))


def test_the_json_is_written_last(tmp_path, monkeypatch):
    order = []
    write_bytes, write_text = store.atomic_write_bytes, store.atomic_write_text
    monkeypatch.setattr(
        store, "atomic_write_bytes", lambda p, d: (order.append(p.name), write_bytes(p, d))
    )
    monkeypatch.setattr(
        store, "atomic_write_text", lambda p, t: (order.append(p.name), write_text(p, t))
    )
    _save(tmp_path)
    assert order == [tensors_of(tmp_path).name, "last.json"]


def test_non_finite_weights_are_refused_and_the_previous_checkpoint_kept(tmp_path):
    model = _model()
    _save(tmp_path, model=model)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with torch.no_grad():
        model.out.weight[0, 0] = float("nan")
    with pytest.raises(CheckpointError, match=r"out\.weight is not finite"):
        _save(tmp_path, model=model)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    with torch.no_grad():
        model.out.weight[0, 0] = float("inf")
    with pytest.raises(CheckpointError, match="not finite"):
        _save(tmp_path / "fresh", model=model)
    assert not (tmp_path / "fresh").exists()


def test_bad_meta_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        _save(tmp_path / "a", meta={"sha256": "mine"})
    with pytest.raises(CheckpointError, match="cannot save checkpoint"):
        _save(tmp_path / "b", meta={"config": {1, 2}})
    with pytest.raises(ValueError, match="plain file name"):
        _save(tmp_path / "c", name="../escape")
    assert list(tmp_path.iterdir()) == []


def test_model_config_is_recorded_from_the_model(tmp_path):
    class WithConfig(Tiny):
        def config(self):
            return {"model": "tiny", "vocab_size": 5, "hidden": 6}

    torch.manual_seed(0)
    _save(tmp_path, model=WithConfig())
    ckpt = load_checkpoint(tmp_path / "last.safetensors")
    assert ckpt.model_config == {"model": "tiny", "vocab_size": 5, "hidden": 6}


def test_vocab_and_config_properties(tmp_path):
    vocab = Vocab(list("time traveller"), reserved_tokens=["<pad>"])
    _save(tmp_path, meta={**META, "vocab": vocab.to_dict()})
    ckpt = load_checkpoint(tmp_path / "last.json")
    assert ckpt.vocab.idx_to_token == vocab.idx_to_token
    assert ckpt.vocab["t"] == vocab["t"]
    # no model_config recorded (Tiny has no config()): the run config plus the vocab size
    assert ckpt.model_config == {**META["config"], "vocab_size": len(vocab)}

    _save(tmp_path / "bare", meta={"epoch": 1})
    bare = load_checkpoint(tmp_path / "bare" / "last.json")
    with pytest.raises(CheckpointError, match="no vocabulary"):
        _ = bare.vocab
    with pytest.raises(CheckpointError, match="no config"):
        _ = bare.config


def test_weights_that_do_not_fit_are_refused(tmp_path):
    _save(tmp_path, model=_model(hidden=6))
    ckpt = load_checkpoint(tmp_path / "last.json")
    with pytest.raises(CheckpointError, match=r"does not fit the model: rnn\.weight_ih_l0"):
        ckpt.load_weights(_model(hidden=7))
    with pytest.raises(CheckpointError, match="missing"):
        ckpt.load_weights(nn.Linear(2, 2))


# -- exact restores ----------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd-momentum": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda params: torch.optim.Adam(params, lr=0.01, betas=(0.8, 0.95)),
    "adam-amsgrad": lambda params: torch.optim.Adam(params, lr=0.01, amsgrad=True),
}


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_optimizer_restore_repeats_the_step_exactly(tmp_path, kind):
    model = _model()
    optimizer = OPTIMIZERS[kind](model.parameters())
    for _ in range(3):
        _step(model, optimizer)
    save_checkpoint(tmp_path, "last", model, optimizer, dict(META))
    _step(model, optimizer)
    expected = _weights(model)
    expected_state = optimizer.state_dict()["state"]

    # the same objects, rolled back
    ckpt = load_checkpoint(tmp_path)
    ckpt.load_weights(model)
    ckpt.restore_optimizer(optimizer)
    _step(model, optimizer)
    assert _same(_weights(model), expected)

    # a new process: fresh model and optimizer (with a different lr: the saved one wins)
    fresh = _model(seed=9)
    fresh_optimizer = OPTIMIZERS[kind](fresh.parameters())
    fresh_optimizer.param_groups[0]["lr"] = 123.0
    ckpt.load_weights(fresh)
    ckpt.restore_optimizer(fresh_optimizer)
    assert fresh_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    if kind.startswith("adam"):
        assert isinstance(fresh_optimizer.param_groups[0]["betas"], tuple)
    _step(fresh, fresh_optimizer)
    assert _same(_weights(fresh), expected)
    state = fresh_optimizer.state_dict()["state"]
    for idx, entries in expected_state.items():
        for key, value in entries.items():
            assert torch.equal(torch.as_tensor(state[idx][key]), torch.as_tensor(value)), key


def test_restoring_twice_from_one_checkpoint_gives_the_same_result(tmp_path):
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    _step(model, optimizer)
    save_checkpoint(tmp_path, "last", model, optimizer, dict(META))
    ckpt = load_checkpoint(tmp_path / "last.json")
    results = []
    for _ in range(2):
        ckpt.load_weights(model)
        ckpt.restore_optimizer(optimizer)
        _step(model, optimizer)
        results.append(_weights(model))
    assert _same(results[0], results[1])


def test_step_counts_are_in_the_json(tmp_path):
    model = _model()
    optimizer = torch.optim.Adam(model.parameters())
    for _ in range(4):
        _step(model, optimizer)
    save_checkpoint(tmp_path, "last", model, optimizer, dict(META))
    meta = json.loads((tmp_path / "last.json").read_text(encoding="utf-8"))
    assert set(meta["optimizer"]["steps"].values()) == {4}
    assert meta["optimizer"]["param_groups"][0]["betas"] == [0.9, 0.999]


def test_optimizer_mismatches_are_refused(tmp_path):
    model = _model()
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _step(model, sgd)
    save_checkpoint(tmp_path, "last", model, sgd, dict(META))
    ckpt = load_checkpoint(tmp_path / "last.json")
    with pytest.raises(CheckpointError, match="saved with optimizer SGD, not Adam"):
        ckpt.restore_optimizer(torch.optim.Adam(model.parameters()))
    two_groups = torch.optim.SGD(
        [{"params": model.inp.parameters()}, {"params": model.out.parameters()}], lr=0.1
    )
    with pytest.raises(CheckpointError, match="groups do not match"):
        ckpt.restore_optimizer(two_groups)
    save_checkpoint(tmp_path / "none", "last", model, None, dict(META))
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(tmp_path / "none").restore_optimizer(sgd)


def test_rng_states_are_restored(tmp_path):
    generator = np.random.default_rng(7)
    torch.manual_seed(5)
    random.seed(5)
    np.random.seed(5)
    generator.random()
    save_checkpoint(tmp_path, "last", _model(), None, dict(META), numpy_generator=generator)
    torch.manual_seed(5)  # _model() reseeded torch before the save; draw after the save
    ckpt = load_checkpoint(tmp_path / "last.json")
    ckpt.restore_rng()
    drawn = (torch.rand(4), random.random(), np.random.rand(), generator.random())
    torch.rand(100)
    random.random()
    np.random.rand(3)
    generator.random(5)
    ckpt.restore_rng(numpy_generator=generator)
    again = (torch.rand(4), random.random(), np.random.rand(), generator.random())
    assert torch.equal(drawn[0], again[0])
    assert drawn[1:] == again[1:]


def test_rng_after_save_equals_rng_after_restore(tmp_path):
    model = _model()
    save_checkpoint(tmp_path, "last", model, None, dict(META))
    after_save = (torch.rand(3), random.random())
    load_checkpoint(tmp_path).restore_rng()
    after_restore = (torch.rand(3), random.random())
    assert torch.equal(after_save[0], after_restore[0])
    assert after_save[1] == after_restore[1]


def test_cuda_rng_states_are_saved_and_restored_per_device(tmp_path, monkeypatch):
    # No GPU here: stand in for two CUDA devices to check the plumbing (names, indices).
    states = [torch.arange(16, dtype=torch.uint8), torch.arange(16, 32, dtype=torch.uint8)]
    restored = {}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: states)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(
        torch.cuda, "set_rng_state", lambda state, device: restored.update({device: state})
    )
    save_checkpoint(tmp_path, "last", _model(), None, dict(META))
    ckpt = load_checkpoint(tmp_path / "last.json")
    assert torch.equal(ckpt.tensors["rng.cuda.0"], states[0])
    assert torch.equal(ckpt.tensors["rng.cuda.1"], states[1])
    ckpt.restore_rng()
    assert list(restored) == [0]  # device 1 is not present any more
    assert torch.equal(restored[0], states[0])


# -- refusing pickles --------------------------------------------------------------------------


def _refused(path, target=None):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(info.value) == REFUSAL.format(target or path)


def test_pickle_extensions_are_refused(tmp_path):
    for suffix in (".pt", ".pth", ".bin", ".ckpt"):
        path = tmp_path / f"model{suffix}"
        torch.save({"w": torch.zeros(2)}, path)
        _refused(path)


def test_a_torch_save_file_renamed_to_safetensors_is_refused(tmp_path):
    path = tmp_path / "last.safetensors"
    torch.save(_model().state_dict(), path)
    assert path.read_bytes()[:4] == b"PK\x03\x04"
    _refused(path)
    # also with a JSON beside it, and when asked through the JSON or the run directory
    (tmp_path / "last.json").write_text(json.dumps({"format_version": 1}), encoding="utf-8")
    _refused(path)
    _refused(tmp_path / "last.json", target=path)


def test_plain_and_legacy_pickles_are_refused(tmp_path):
    plain = tmp_path / "plain.safetensors"
    plain.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    assert plain.read_bytes()[0] == 0x80
    _refused(plain)
    legacy = tmp_path / "legacy.safetensors"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    _refused(legacy)
    other = tmp_path / "weights.data"
    other.write_bytes(pickle.dumps([1, 2]))
    _refused(other)


def test_a_safetensors_header_length_ending_in_0x80_is_not_a_pickle():
    for size in range(200):
        data = serialize({"a": torch.zeros(1)}, {"pad": "x" * size})
        if data[0] == 0x80:
            break
    assert data[0] == 0x80
    assert not looks_like_pickle(data[:16])


# -- incomplete or broken pairs ----------------------------------------------------------------


def test_a_hash_mismatch_is_an_incomplete_checkpoint(tmp_path):
    _save(tmp_path)
    path = tensors_of(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # the recorded size still fits: the sha256 decides
    path.write_bytes(data)
    with pytest.raises(
        CheckpointError, match=r"incomplete checkpoint .*last\..*safetensors.*sha256"
    ):
        load_checkpoint(tmp_path / "last.safetensors")


def test_missing_or_corrupt_json(tmp_path):
    _save(tmp_path)
    tensors = tensors_of(tmp_path)
    (tmp_path / "last.json").write_text('{"format_version": 1, "sha', encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"incomplete checkpoint .*last\.json.*unreadable"):
        load_checkpoint(tmp_path / "last.safetensors")
    (tmp_path / "last.json").unlink()
    with pytest.raises(
        CheckpointError,
        match=r"last\..*safetensors has no last\.json beside it: an rnn-tui checkpoint is a",
    ):
        load_checkpoint(tensors)
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "last.safetensors")


def test_missing_tensors_file(tmp_path):
    _save(tmp_path)
    tensors_of(tmp_path).unlink()
    with pytest.raises(
        CheckpointError, match=r"incomplete checkpoint .*last\..*safetensors is miss"
    ):
        load_checkpoint(tmp_path / "last.json")


def test_unknown_format_version(tmp_path):
    _save(tmp_path)
    meta = json.loads((tmp_path / "last.json").read_text(encoding="utf-8"))
    meta["format_version"] = 2
    (tmp_path / "last.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CheckpointError, match="format_version 2"):
        load_checkpoint(tmp_path / "last.json")


def test_not_found_and_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        load_checkpoint(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(text)


def test_a_crash_before_the_commit_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    run = tmp_path / "run"
    model = _model()
    save_checkpoint(run / "checkpoints", "best", model, None, dict(META))
    before = _weights(model)

    def crash(path, text):
        raise OSError("killed before the JSON")

    monkeypatch.setattr(store, "atomic_write_text", crash)
    with torch.no_grad():
        model.out.bias += 1
    with pytest.raises(OSError):
        save_checkpoint(run / "checkpoints", "best", model, None, dict(META))
    monkeypatch.undo()

    # The new tensors were written under their own name; best.json still names the old ones.
    assert len(list((run / "checkpoints").glob("best.*.safetensors"))) == 2
    ckpt = load_checkpoint(run / "checkpoints" / "best.json")
    assert _same(ckpt.model_state(), before) and ckpt.warning is None
    # The next save commits and removes what is no longer named.
    save_checkpoint(run / "checkpoints", "best", model, None, dict(META))
    assert len(list((run / "checkpoints").glob("best.*.safetensors"))) == 1
    assert _same(load_checkpoint(run).model_state(), _weights(model))


def test_run_directory_preferences_and_total_failure(tmp_path):
    run = tmp_path / "run"
    _save(run / "checkpoints", name="best")
    _save(run / "checkpoints", name="last")
    assert load_checkpoint(run).path.name == "best.safetensors"
    assert load_checkpoint(run, prefer=("last", "best")).path.name == "last.safetensors"

    tensors_of(run / "checkpoints", "best").unlink()
    ckpt = load_checkpoint(run)
    assert ckpt.path.name == "last.safetensors" and "best" in ckpt.warning

    with open(tensors_of(run / "checkpoints", "last"), "ab") as f:
        f.write(b"\x00")
    with pytest.raises(CheckpointError, match="no usable checkpoint") as info:
        load_checkpoint(run)
    assert "\n" not in str(info.value)


def test_only_last_present(tmp_path):
    _save(tmp_path / "run" / "checkpoints", name="last")
    ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt.path.name == "last.safetensors"
    assert ckpt.warning is None
    assert isinstance(ckpt, Checkpoint)


# -- a real model from the registry --------------------------------------------------------------


def test_real_registry_model_round_trips(tmp_path):
    registry = pytest.importorskip("rnn_tui.models.registry")
    config = {"model": "gru", "vocab_size": 28, "hidden": 16}
    torch.manual_seed(0)
    model = registry.build_model(config)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    vocab = Vocab(list("abcdefghijklmnopqrstuvwxyz "))
    save_checkpoint(
        tmp_path, "best", model, optimizer, {"config": config, "vocab": vocab.to_dict()}
    )

    ckpt = load_checkpoint(tmp_path / "best.json")
    rebuilt = ckpt.build_model()
    assert not rebuilt.training
    assert _same(_weights(rebuilt), _weights(model))
    model.eval()
    x = torch.randint(0, 28, (2, 5))
    out, _ = model(x, model.begin_state(2))
    out2, _ = rebuilt(x, rebuilt.begin_state(2))
    assert torch.equal(out, out2)
    assert len(ckpt.vocab) == 28


def test_the_same_tensors_always_give_the_same_bytes():
    """The tensor file's metadata has one key, so its header (and the recorded sha256) cannot
    change between two saves of the same tensors (the package orders several keys at random)."""
    from rnn_tui.checkpoints.checkpoint import _SAFETENSORS_METADATA
    from rnn_tui.checkpoints.tensor_file import serialize

    tensors = {"model.w": torch.arange(6.0).reshape(2, 3), "rng.torch": torch.zeros(4)}
    assert len({serialize(tensors, _SAFETENSORS_METADATA) for _ in range(20)}) == 1


@pytest.mark.parametrize(
    ("saved_with", "restored_into"),
    [
        # a GPU run (fused) resumed on a CPU (foreach), and the other way round
        (dict(fused=True), dict(foreach=True)),
        (dict(foreach=True), dict(fused=True)),
        # a CUDA-graph run's Adam (capturable) resumed where no graph runs
        (dict(foreach=True, capturable=True), dict(foreach=True)),
    ],
)
def test_how_an_optimizer_computes_is_not_restored(tmp_path, saved_with, restored_into):
    """foreach / fused / capturable say how the update runs on the device that saved it, not
    what it computes: the resuming optimizer keeps its own, so a checkpoint from a GPU resumes
    on a CPU (restoring `fused` or `capturable` there failed at the first step, or at once)."""
    kind = torch.optim.Adam if "capturable" in saved_with else torch.optim.SGD
    model = _model()
    # A capturable Adam steps only on a GPU: stepped here as a plain one, saved as capturable.
    optimizer = kind(
        model.parameters(), lr=0.1, **(restored_into if kind is torch.optim.Adam else saved_with)
    )
    for _ in range(2):
        _step(model, optimizer)
    optimizer.param_groups[0].update(saved_with)
    save_checkpoint(tmp_path, "last", model, optimizer, dict(META))
    fresh = _model(seed=9)
    resumed = kind(fresh.parameters(), lr=0.1, **restored_into)
    ckpt = load_checkpoint(tmp_path)
    ckpt.load_weights(fresh)
    ckpt.restore_optimizer(resumed)
    group = resumed.param_groups[0]
    default = kind([nn.Parameter(torch.ones(1))]).param_groups[0]
    for key in ("foreach", "fused", "capturable"):
        if key in group:
            assert group[key] == restored_into.get(key, default[key]), key
    _step(fresh, resumed)
    optimizer.param_groups[0].update(restored_into, capturable=False, fused=None)
    _step(model, optimizer)
    assert _same(_weights(fresh), _weights(model))
