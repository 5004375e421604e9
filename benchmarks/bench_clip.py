"""Gradient clipping: the trainer's grad_clipping against torch.nn.utils.clip_grad_norm_.

    python benchmarks/bench_clip.py [--repeat 400] [--theta 1] [--device cpu] [--json]

Both compute g ← min(1, θ/‖g‖) g over every parameter's gradient and return ‖g‖:
rnn_tui/train/clipping.py with torch._foreach_norm, one stack and torch._foreach_mul_, and the
public `clip_grad_norm_(params, θ, foreach=True)`, whose coefficient is θ/(‖g‖ + 1e-6).

For each parameter set the trainer clips (the book's language models and the translator), the
gradients are filled with random values, then the two functions are called alternately in this
one process (A B B A A B …, --repeat calls each), every call on the same starting gradients
(copied back outside the timed region), once with torch.set_num_threads(1) and once with the
default number of threads. Reported: median time per call, and torch / ours (> 1: ours faster).
Before timing, both are checked to give the same norm and the same clipped gradients.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _args import int_in, parser, refuse_missing_cuda, trainer_option  # noqa: E402

from rnn_tui.models.registry import build_model  # noqa: E402
from rnn_tui.train.clipping import grad_clipping  # noqa: E402

# The trainer's models: the book's configurations (char-level Time Machine, vocab 28) and the
# translator with its default sizes.
MODELS = {
    "RNN from scratch, 512": {"model": "rnn-scratch", "vocab_size": 28, "hidden": 512},
    "nn.RNN, 256": {"model": "rnn", "vocab_size": 28, "hidden": 256},
    "nn.GRU, 256": {"model": "gru", "vocab_size": 28, "hidden": 256},
    "nn.LSTM, 256": {"model": "lstm", "vocab_size": 28, "hidden": 256},
    "2-layer LSTM, 256": {"model": "lstm", "vocab_size": 28, "hidden": 256, "layers": 2},
    "seq2seq 8000→10000": {"model": "seq2seq", "src_vocab_size": 8000, "tgt_vocab_size": 10000},
}


def torch_clip(params: list[torch.Tensor], theta: float) -> torch.Tensor:
    return torch.nn.utils.clip_grad_norm_(params, theta, foreach=True)


FUNCTIONS = {"ours": grad_clipping, "torch": torch_clip}


def make_params(config: dict, device: str, seed: int = 0) -> tuple[list, list[torch.Tensor]]:
    """The model's trainable parameters with random gradients, and a copy of those gradients."""
    torch.manual_seed(seed)
    model = build_model(config).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = torch.randn_like(p)
    return params, [p.grad.clone() for p in params]


def reset(params: list, grads: list[torch.Tensor]) -> None:
    torch._foreach_copy_([p.grad for p in params], grads)


def check_same(params: list, grads: list[torch.Tensor], theta: float) -> dict:
    """Both functions from the same gradients: the norms, and the clipped gradients, compared."""
    out = {}
    for name, fn in FUNCTIONS.items():
        reset(params, grads)
        norm = fn(params, theta)
        out[name] = (float(norm), [p.grad.clone() for p in params])
    (norm_a, grads_a), (norm_b, grads_b) = out["ours"], out["torch"]
    rel_norm = abs(norm_a - norm_b) / norm_a
    max_diff = max(float((a - b).abs().max()) for a, b in zip(grads_a, grads_b))
    max_grad = max(float(a.abs().max()) for a in grads_a)
    # θ/‖g‖ and θ/(‖g‖ + 1e-6) differ by a relative 1e-6/‖g‖; float32 rounding adds ~1e-7.
    assert rel_norm < 1e-6, (norm_a, norm_b)
    assert max_diff <= 1e-5 * max_grad, (max_diff, max_grad)
    return {"norm": norm_a, "norm_rel_diff": rel_norm, "grad_max_abs_diff": max_diff}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_pair(params: list, grads: list[torch.Tensor], theta: float, repeat: int, device: str):
    """Median seconds per call of each function, called alternately A B B A A B …"""
    times: dict[str, list[float]] = {name: [] for name in FUNCTIONS}
    names = list(FUNCTIONS)
    for name in names:  # warm-up: first calls allocate and, on CUDA, load kernels
        for _ in range(5):
            reset(params, grads)
            FUNCTIONS[name](params, theta)
    for i in range(repeat):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            reset(params, grads)
            _sync(device)
            start = time.perf_counter()
            FUNCTIONS[name](params, theta)
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument(
        "--repeat", type=int_in("repeat", 1, 1_000_000), default=400, help="timed calls of each"
    )
    trainer_option(ap, "clip", 1.0, "θ of the clipping", flag="--theta")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)
    refuse_missing_cuda(ap, args.device)

    default_threads = torch.get_num_threads()
    rows = []
    for label, config in MODELS.items():
        params, grads = make_params(config, args.device)
        same = check_same(params, grads, args.theta)
        for threads in (1, default_threads):
            torch.set_num_threads(threads)
            medians = time_pair(params, grads, args.theta, args.repeat, args.device)
            rows.append(
                {
                    "model": label,
                    "tensors": len(params),
                    "parameters": sum(p.numel() for p in params),
                    "threads": threads,
                    "ours_us": medians["ours"] * 1e6,
                    "torch_us": medians["torch"] * 1e6,
                    "ratio": medians["torch"] / medians["ours"],
                    **same,
                }
            )
        torch.set_num_threads(default_threads)

    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"torch {torch.__version__}, device {args.device}, θ = {args.theta}, "
        f"median of {args.repeat} calls each (A B B A …); ratio = torch / ours (> 1: ours faster)"
    )
    print(
        f"{'model':22} {'tensors':>7} {'params':>11} {'threads':>7} {'ours µs':>9} "
        f"{'torch µs':>9} {'ratio':>6}  {'‖g‖ rel diff':>12} {'max |Δg|':>9}"
    )
    for r in rows:
        print(
            f"{r['model']:22} {r['tensors']:>7} {r['parameters']:>11,} {r['threads']:>7} "
            f"{r['ours_us']:>9.1f} {r['torch_us']:>9.1f} {r['ratio']:>6.2f}  "
            f"{r['norm_rel_diff']:>12.1e} {r['grad_max_abs_diff']:>9.1e}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
