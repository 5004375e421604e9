"""The ceiling for a GPU training step: d2l's own model, its whole step captured in one CUDA graph.

Issue 13's GPU target is rnn-tui at ≥ 80 % of "a bare CUDA-graph step of the same model". This
is that step, written the shortest way the CUDA graphs recipe allows (torch.cuda.graphs, "whole
network capture"), on the net `bench_train._d2l_builders` builds — d2l's `RNNModel` or
`RNNModelScratch`, called as `train_epoch_ch8` calls it:

    state ← detach(state);  l ← mean CE(net(X, state), Y);  l.backward();
    clip_grad_norm_(θ);  p ← p − lr·∇p;  state ← new state

Nothing else: no loss or norm read back, no run directory, no progress — the minibatches already
on the device, copied into the static inputs before each replay. d2l clips with a Python `if`
on the norm (a host sync, which a graph cannot hold); `clip_grad_norm_` scales by
min(1, θ / (‖g‖ + 1e-6)), the same update to within 1e-6.
"""

from __future__ import annotations

import statistics
import time


def bare_graph_tokens_per_s(net, batches, lr: float, theta: float, epochs: int) -> float:
    """Median tokens/s over `epochs` epochs of replays; `batches` is a list of (X, Y) on the GPU,
    X and Y (batch, num_steps) as d2l's sequential iterator yields them."""
    import torch
    from torch import nn

    params = list(net.parameters()) if isinstance(net, nn.Module) else list(net.params)
    X0, Y0 = batches[0]
    device = X0.device
    static_x, static_y = X0.clone(), Y0.clone()
    begun = net.begin_state(batch_size=X0.shape[0], device=device)
    single = isinstance(begun, torch.Tensor)  # nn.RNN/GRU take a tensor, the rest a tuple
    state = [begun] if single else list(begun)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> torch.Tensor:
        detached = [s.detach() for s in state]
        y_hat, new = net(static_x, detached[0] if single else tuple(detached))
        loss = loss_fn(y_hat, static_y.T.reshape(-1).long())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, theta, foreach=True)
        with torch.no_grad():
            torch._foreach_add_(params, [p.grad for p in params], alpha=-lr)
            for s, n in zip(state, [new] if single else new, strict=True):
                s.copy_(n)
        return loss.detach()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            for p in params:
                p.grad = None
            step()
    torch.cuda.current_stream().wait_stream(side)
    for p in params:
        p.grad = None
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    tokens = sum(X.numel() for X, _ in batches)
    rates = []
    for _ in range(epochs):
        for s in state:
            s.zero_()  # sequential partitioning: a fresh state at each epoch's start
        torch.cuda.synchronize()
        started = time.perf_counter()
        for X, Y in batches:
            static_x.copy_(X, non_blocking=True)
            static_y.copy_(Y, non_blocking=True)
            graph.replay()
        torch.cuda.synchronize()
        rates.append(tokens / (time.perf_counter() - started))
    return statistics.median(rates)
