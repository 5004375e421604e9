"""The seeds' sequence-model run (d2l §8.1): rnn-tui's forecast task against d2l's own loop.

    python benchmarks/bench_forecast.py [--repeat 7] [--json]

Setting: x_t = sin(0.01 t) + N(0, 0.2), T = 1000, τ = 4, the first 600 pairs train, batch 16,
the MLP 4 → 10 → 1 (Xavier), MSE, Adam lr 0.01, 5 epochs, on the CPU with one thread.

- d2l: the book's code as printed (`d2l.load_array`, `nn.MSELoss(reduction='none')`,
  `l.sum().backward()`, the training loss printed after every epoch with `d2l.evaluate_loss`).
- rnn-tui, training: the engine's epochs on the same data (`Trainer.train_epoch` × 5).
- rnn-tui, whole run: `rnn-tui train --task forecast` as a user runs it, in-process: the run
  directory, the checkpoints, and after every epoch the held-out k-step errors for k = 1, 4,
  16, 64 against the baselines — work d2l's loop does not do.

The three run alternately (A B C C B A …) in one process; reported: the median seconds of each
and d2l / rnn-tui (> 1: rnn-tui faster), and each one's final training loss.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _args import int_in, parser  # noqa: E402  (beside this script)

from rnn_tui.data.timeseries import ar_features, sine_series  # noqa: E402
from rnn_tui.runs.rundir import RunDir  # noqa: E402
from rnn_tui.train.config import Config  # noqa: E402
from rnn_tui.train.engine import Trainer  # noqa: E402


def d2l_run(features: torch.Tensor, labels: torch.Tensor) -> float:
    """d2l §8.1's get_net and train, as printed; returns the last epoch's mean loss."""
    from torch.utils import data

    def load_array(data_arrays, batch_size, is_train=True):
        dataset = data.TensorDataset(*data_arrays)
        return data.DataLoader(dataset, batch_size, shuffle=is_train)

    def init_weights(m):
        if type(m) is nn.Linear:
            nn.init.xavier_uniform_(m.weight)

    net = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 1))
    net.apply(init_weights)
    loss = nn.MSELoss(reduction="none")
    train_iter = load_array((features[:600], labels[:600]), 16, is_train=True)
    trainer = torch.optim.Adam(net.parameters(), 0.01)

    def evaluate_loss(net, data_iter, loss):  # d2l.evaluate_loss
        total, count = 0.0, 0
        for X, y in data_iter:
            out = net(X)
            l = loss(out, y.reshape(out.shape))  # noqa: E741 (the book's name)
            total, count = total + float(l.sum()), count + l.numel()
        return total / count

    for _ in range(5):
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)  # noqa: E741
            l.sum().backward()
            trainer.step()
        epoch_loss = evaluate_loss(net, train_iter, loss)  # the book prints it every epoch
    return epoch_loss


def engine_training(config: Config) -> float:
    trainer = Trainer(config)
    with tempfile.TemporaryDirectory() as folder:
        trainer.begin_session(RunDir(Path(folder) / "run"))
        for epoch in range(1, 6):
            loss, _, _ = trainer.train_epoch(epoch)
    return loss


def engine_run(config: Config) -> float:
    with tempfile.TemporaryDirectory() as folder:
        summary = Trainer(config).run(RunDir(Path(folder) / "run"))
    return summary["train_loss"]


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument("--repeat", type=int_in("repeat", 1, 1000), default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    _, x = sine_series(1000, 0.2, 0)
    f, y = ar_features(x, 4)
    features, labels = torch.from_numpy(f), torch.from_numpy(y).reshape(-1, 1)
    config = Config("forecast", device="cpu", sample_every=0)
    runs = {
        "d2l": lambda: d2l_run(features, labels),
        "rnn-tui training": lambda: engine_training(config),
        "rnn-tui whole run": lambda: engine_run(config),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    losses: dict[str, float] = {}
    order = list(runs)
    for r in range(args.repeat):
        for name in order if r % 2 == 0 else reversed(order):
            torch.manual_seed(r)
            start = time.perf_counter()
            losses[name] = runs[name]()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}
    result = {
        "seconds": median,
        "d2l_over_rnn_tui_training": median["d2l"] / median["rnn-tui training"],
        "d2l_over_rnn_tui_whole_run": median["d2l"] / median["rnn-tui whole run"],
        "final_train_loss": losses,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    for name, seconds in median.items():
        print(f"{name:20} {seconds * 1000:8.1f} ms   final train loss {losses[name]:.4f}")
    print(f"d2l / rnn-tui training  {result['d2l_over_rnn_tui_training']:.2f}×")
    print(f"d2l / rnn-tui whole run {result['d2l_over_rnn_tui_whole_run']:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
