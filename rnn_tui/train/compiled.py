"""What torch.compile did in this process: the seconds it spent compiling, and the parts of a
compiled forward it left eager (its nn.RNN/GRU/LSTM layers, its graph breaks), so that a run's
path says "compiled" for no more than was (train/step.py)."""

from __future__ import annotations

import torch


def compile_seconds() -> float:
    """Seconds torch.compile has spent compiling in this process, forward and backward (0.0
    where this torch does not say)."""
    try:
        from torch._dynamo.utils import calculate_time_spent
    except ImportError:
        return 0.0
    return float(calculate_time_spent().get("total_wall_time", 0.0))


def graph_breaks() -> dict[str, int]:
    """The graph breaks torch.compile has counted in this process so far, by reason (empty
    where this torch does not say)."""
    try:
        from torch._dynamo.utils import counters
    except ImportError:
        return {}
    return {str(reason): int(n) for reason, n in counters.get("graph_break", {}).items()}


def eager_parts(model, breaks_before: dict[str, int]) -> list[str]:
    """What a compiled forward still runs eagerly, so that "compiled" does not claim more than
    it did: torch.compile does not trace nn.RNN/GRU/LSTM (the layer runs as written), and a
    graph break leaves the code around it outside the graph. Only the breaks counted since
    `breaks_before` are this model's: the count is the process's."""
    notes = []
    layers = sorted({type(m).__name__ for m in model.modules() if isinstance(m, torch.nn.RNNBase)})
    if layers:
        names = "/".join(f"nn.{name}" for name in layers)
        notes.append(f"torch.compile does not trace {names}: the layer runs eagerly")
    reasons = [
        reason.strip()
        for reason, n in graph_breaks().items()
        if n > breaks_before.get(reason, 0) and reason.strip()
    ]
    if reasons:
        first = reasons[0].splitlines()[0].rstrip(".:")
        count = f"{len(reasons)} graph breaks, first" if len(reasons) > 1 else "graph break"
        notes.append(f"torch.compile ran part of the forward eagerly ({count}: {first})")
    return notes


__all__ = ["compile_seconds", "eager_parts", "graph_breaks"]
