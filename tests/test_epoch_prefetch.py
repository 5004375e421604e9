"""On a GPU the next epoch's minibatches are gathered while the last steps of this one run
(rnn_tui/train/epoch.py `_prefetch`): taken only by the epoch they were gathered for, never on
the CPU, past the last epoch, or for epochs too large to hold twice."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from rnn_tui.train import epoch as epoch_module


class _Task:
    def __init__(self, units: int) -> None:
        self.units_per_epoch, self.calls = units, []

    def epoch_data(self, model, epoch: int):
        self.calls.append(epoch)
        return f"batches of epoch {epoch}"


def _trainer(device: str = "cuda", units: int = 1000, epochs: int = 5):
    return SimpleNamespace(
        task=_Task(units),
        model=None,
        device=torch.device(device),
        config=SimpleNamespace(epochs=epochs),
        prefetched=None,
    )


def test_the_next_epoch_is_gathered_ahead_and_taken_once_by_that_epoch():
    trainer = _trainer()
    epoch_module._prefetch(trainer, 3)
    assert trainer.task.calls == [3]
    assert epoch_module._epoch_data(trainer, 3) == "batches of epoch 3"
    assert trainer.task.calls == [3] and trainer.prefetched is None
    assert epoch_module._epoch_data(trainer, 3) == "batches of epoch 3"  # gathered again
    assert trainer.task.calls == [3, 3]


def test_batches_gathered_for_another_epoch_are_not_used():
    trainer = _trainer()
    epoch_module._prefetch(trainer, 4)
    assert epoch_module._epoch_data(trainer, 2) == "batches of epoch 2"
    assert trainer.task.calls == [4, 2] and trainer.prefetched is None


def test_nothing_is_gathered_ahead_on_the_cpu_past_the_last_epoch_or_for_a_large_epoch():
    for trainer, epoch in [
        (_trainer(device="cpu"), 2),
        (_trainer(epochs=5), 6),
        (_trainer(units=epoch_module.PREFETCH_MAX_UNITS + 1), 2),
    ]:
        epoch_module._prefetch(trainer, epoch)
        assert trainer.prefetched is None and trainer.task.calls == []
