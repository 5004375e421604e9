"""Tiny language-model checkpoints for the generation tests (no shipped checkpoint needed).

`make_lm_checkpoint` trains a small model for a few Adam steps on the Time Machine (so greedy
text reads "the the the" rather than one repeated character) and saves it as `save_checkpoint`
does for a real run. Built once per test session and cached: every test module importing the
fixtures shares the same files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_BUILT: dict[tuple, Path] = {}


def make_lm_checkpoint(
    folder: Path,
    *,
    token: str = "char",
    model: str = "gru",
    hidden: int = 32,
    embed: int = 0,
    steps: int = 80,
    mode: str = "clean",
    name: str = "best",
) -> Path:
    """Train `model` for `steps` minibatches (batch 16 × 35, Adam lr 0.02, clipping 1, seed 0) and
    save it as folder/<name>.{safetensors,json}; returns the .safetensors path."""
    import torch

    threads = torch.get_num_threads()
    # One thread: faster for a model this small, and steady when other processes share the CPU.
    torch.set_num_threads(1)
    try:
        return _train_and_save(folder, token, model, hidden, embed, steps, mode, name)
    finally:
        torch.set_num_threads(threads)


def _train_and_save(folder, token, model, hidden, embed, steps, mode, name) -> Path:
    import torch

    from rnn_tui.checkpoints.checkpoint import save_checkpoint
    from rnn_tui.data.corpus import load_corpus
    from rnn_tui.data.partition import iter_batches
    from rnn_tui.models.registry import build_model

    torch.manual_seed(0)
    corpus = load_corpus("timemachine", token=token, mode=mode)
    vocab = corpus.vocab
    config = {"model": model, "vocab_size": len(vocab), "hidden": hidden, "embed": embed}
    net = build_model(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    loss_fn = torch.nn.CrossEntropyLoss()
    state = None
    losses = []
    batches = iter_batches(corpus.ids, 16, 35, strategy="sequential", seed=0)
    for step, (X, Y) in enumerate(batches):
        if step == steps:
            break
        X, Y = torch.as_tensor(X), torch.as_tensor(Y)
        if state is None:
            state = net.begin_state(X.shape[0])
        else:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        logits, state = net(X, state)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
    ppl = float(torch.tensor(losses[-5:]).mean().exp())
    meta = {
        "config": {
            "task": "lm",
            "corpus": "timemachine",
            "token": token,
            "mode": mode,
            "model": model,
            "hidden": hidden,
            "epochs": 1,
        },
        "vocab": vocab.to_dict(),
        "epoch": 1,
        "step": steps,
        "metrics": {"train_ppl": ppl, "val_ppl": ppl},
    }
    return save_checkpoint(folder, name, net, optimizer, meta)


def save_untrained(folder: Path, vocab, model_config: dict, name: str = "best", **config) -> Path:
    """An untrained model saved as a checkpoint whose run config is `config` (task, token, mode
    default to lm / char / clean): for checkpoints training cannot make yet (another task)."""
    import torch

    from rnn_tui.checkpoints.checkpoint import save_checkpoint
    from rnn_tui.models.registry import build_model

    torch.manual_seed(0)
    net = build_model({"vocab_size": len(vocab), **model_config})
    run_config = {"task": "lm", "token": "char", "mode": "clean", **config}
    meta = {"config": run_config, "vocab": vocab.to_dict(), "epoch": 0, "step": 0}
    return save_checkpoint(folder, name, net, None, meta)


def cached_checkpoint(factory: pytest.TempPathFactory, **options) -> Path:
    """make_lm_checkpoint(options) in its own session folder, built once per test session."""
    key = tuple(sorted(options.items()))
    if key not in _BUILT:
        folder = factory.mktemp("lm-" + "-".join(str(v) for _, v in key) if key else "lm")
        _BUILT[key] = make_lm_checkpoint(folder, **options)
    return _BUILT[key]


@pytest.fixture(scope="session")
def char_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A character-level GRU (hidden 32) trained for 80 steps: the .safetensors path."""
    return cached_checkpoint(tmp_path_factory, token="char")


@pytest.fixture(scope="session")
def word_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A word-level GRU (hidden 16, embedding 16) trained for 10 steps: the .safetensors path."""
    return cached_checkpoint(tmp_path_factory, token="word", hidden=16, embed=16, steps=10)


def copy_checkpoint(source: Path, dest: Path) -> Path:
    """Checkpoint `source` (named NAME.safetensors) copied as `dest` (another such name): the
    tensor file its JSON commits, saved as `dest` itself, and that JSON naming it."""
    import json
    import shutil

    meta = json.loads(source.with_suffix(".json").read_text(encoding="utf-8"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source.parent / meta["tensors_file"], dest)
    meta["tensors_file"] = dest.name
    dest.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return dest
