"""The engine's optimizers: the seeds' minibatch SGD and Adam, each one multi-tensor update.

    SGD  (d2l §3.2 `sgd`):   θ ← θ − η g
    Adam (d2l §11.10):       v ← β₁ v + (1 − β₁) g,   s ← β₂ s + (1 − β₂) g²,
                             θ ← θ − η v̂ / (√ŝ + ε),  v̂ = v / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ)

g is the gradient of the mean loss over the minibatch, so SGD divides by no batch size (the
seeds' `sgd(params, lr, batch_size=1)` after `l.mean().backward()`, as `train_epoch_ch8` calls it).

These are torch.optim.SGD without momentum and torch.optim.Adam with its defaults, kernel for
kernel (torch's foreach paths: `_foreach_add_`; `_foreach_lerp_`, `_foreach_addcmul_`,
`_foreach_sqrt`, `_foreach_addcdiv_`), so they give the same bits; with the same class names,
param_groups and state_dict, so a checkpoint written by either resumes with the other. Why not
torch's own: the first call of any torch.optim method imports torch._dynamo, measured 1.2 s of
every training start on a 2-core CPU, before the first minibatch. On a GPU the engine keeps
torch's Adam (fused, or capturable under a CUDA graph; see prepare.py).
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch


def _rate(lr: object) -> float:
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr >= 0.0:
        raise ValueError(f"invalid learning rate: {lr!r}")
    return float(lr)


class _Optimizer:
    """One group of parameters with torch.optim's param_groups / state / state_dict layout.
    A subclass names the settings it implements (FIXED: a saved group with other values is a
    different update, refused) and the per-parameter state it keeps (STATE)."""

    FIXED: dict = {}
    STATE: tuple[str, ...] = ()

    def __init__(self, params, settings: dict) -> None:
        self.param_groups = [{**settings, "params": list(params)}]
        self.state: defaultdict[torch.Tensor, dict] = defaultdict(dict)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    def state_dict(self) -> dict:
        """torch.optim's format: state by parameter index, the groups' settings."""
        params = self.param_groups[0]["params"]
        settings = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        state = {i: dict(self.state[p]) for i, p in enumerate(params) if self.state.get(p)}
        return {"state": state, "param_groups": [{**settings, "params": list(range(len(params)))}]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take the saved group's learning rate (and FIXED settings equal to ours) and state;
        ValueError for what belongs to another update, another model or another shape."""
        saved = state_dict.get("param_groups")
        if not isinstance(saved, list) or len(saved) != 1 or not isinstance(saved[0], dict):
            raise ValueError("optimizer parameter groups do not match")
        group, entries = self.param_groups[0], saved[0]
        params = group["params"]
        if len(entries.get("params", params)) != len(params):
            raise ValueError("optimizer parameter groups do not match")
        for key, ours in self.FIXED.items():
            theirs = entries.get(key, ours)
            if (list(theirs) if isinstance(theirs, tuple | list) else theirs) != (
                list(ours) if isinstance(ours, tuple) else ours
            ):
                raise ValueError(f"{key} = {theirs!r}: this {type(self).__name__} has {ours!r}")
        lr = _rate(entries.get("lr", group["lr"]))
        state = {}
        for idx, values in (state_dict.get("state") or {}).items():
            if not isinstance(idx, int) or not 0 <= idx < len(params):
                raise ValueError(f"optimizer state for parameter {idx!r}, not one of the model's")
            state[params[idx]] = self._restored(params[idx], dict(values))
        group["lr"] = lr
        self.state = defaultdict(dict, state)

    def _restored(self, p: torch.Tensor, values: dict) -> dict:
        values = {k: v for k, v in values.items() if v is not None}
        if values and set(values) != set(self.STATE):
            raise ValueError(
                f"{type(self).__name__} keeps {', '.join(self.STATE) or 'no state'}, "
                f"the checkpoint has {', '.join(sorted(values))}"
            )
        return values


class SGD(_Optimizer):
    """θ ← θ − η g for every parameter θ with a gradient g."""

    FIXED = {"momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False, "maximize": False}

    def __init__(self, params, lr: float) -> None:
        extra = {"foreach": True, "differentiable": False, "fused": None}
        super().__init__(params, {"lr": _rate(lr), **self.FIXED, **extra})

    @torch.no_grad()
    def step(self) -> None:
        """One multi-tensor kernel (also inside a CUDA graph capture)."""
        group = self.param_groups[0]
        params = [p for p in group["params"] if p.grad is not None]
        if params:
            torch._foreach_add_(params, [p.grad for p in params], alpha=-group["lr"])


class Adam(_Optimizer):
    """Adam with β = (0.9, 0.999), ε = 1e-8 (torch's and d2l's defaults); the step count t is
    a float32 scalar per parameter, as torch keeps it."""

    FIXED = {
        "betas": (0.9, 0.999),
        "eps": 1e-08,
        "weight_decay": 0,
        "amsgrad": False,
        "maximize": False,
    }
    STATE = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr: float) -> None:
        extra = {"foreach": True, "capturable": False, "differentiable": False, "fused": None}
        super().__init__(
            params, {"lr": _rate(lr), **self.FIXED, **extra, "decoupled_weight_decay": False}
        )

    def _restored(self, p: torch.Tensor, values: dict) -> dict:
        values = super()._restored(p, values)
        if not values:
            return values
        step = values["step"]
        t = float(step.item() if isinstance(step, torch.Tensor) and step.numel() == 1 else step)
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"Adam step count {t!r}")
        restored = {"step": torch.tensor(t, dtype=torch.float32)}
        for key in ("exp_avg", "exp_avg_sq"):
            value = values[key]
            if not isinstance(value, torch.Tensor) or value.shape != p.shape:
                raise ValueError(f"Adam {key} does not fit its parameter {tuple(p.shape)}")
            restored[key] = value.to(dtype=p.dtype, device=p.device)
        return restored

    @torch.no_grad()
    def step(self) -> None:
        """torch.optim.Adam's foreach update (adam.py `_multi_tensor_adam`, no weight decay,
        not capturable), op for op."""
        group = self.param_groups[0]
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for p in params:
            if not self.state[p]:
                self.state[p] = {
                    "step": torch.tensor(0.0, dtype=torch.float32),
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
        states = [self.state[p] for p in params]
        grads = [p.grad for p in params]
        steps = [s["step"] for s in states]
        exp_avgs = [s["exp_avg"] for s in states]
        exp_avg_sqs = [s["exp_avg_sq"] for s in states]
        torch._foreach_add_(steps, torch.tensor(1.0), alpha=1.0)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)  # v ← β₁ v + (1 − β₁) g
        torch._foreach_mul_(exp_avg_sqs, beta2)  # s ← β₂ s + (1 − β₂) g²
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        counts = [t.item() for t in steps]  # one read of each step count, not two
        step_size = [(lr / (1 - beta1**t)) * -1 for t in counts]
        denominators = torch._foreach_sqrt(exp_avg_sqs)  # √ŝ + ε = √s / √(1 − β₂ᵗ) + ε
        torch._foreach_div_(denominators, [(1 - beta2**t) ** 0.5 for t in counts])
        torch._foreach_add_(denominators, eps)
        torch._foreach_addcdiv_(params, exp_avgs, denominators, step_size)


__all__ = ["SGD", "Adam"]
