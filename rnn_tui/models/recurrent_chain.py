"""Scratch cells' time loops as one C call each (chain_c.py): when, and how to call them.

A pass of the scratch RNN runs two chains of T dependent steps with one weight (d2l §8.5, §8.7):

    forward   H_t = tanh(X_t W_xh + b_h + H_{t-1} W_hh)
    BPTT      G_t = ([G_{t+1}, ∂L/∂O_t] [W_hhᵀ; W_hqᵀ]) ⊙ (1 − H_t²)

(the output layer's gradient ∂L/∂O_t W_hqᵀ folded into BPTT's product), and the scratch LSTM
two of the same kind, with W_h = [W_ho | W_hi | W_hf | W_hc] and its gates' element-wise work
between products (d2l §9.2). `forward`/`backward` and `lstm_forward`/
`lstm_backward` run each chain in one call to the C loops' library: the weight laid out once
(`pack`; the RNN's chains pack theirs in C, their threads sharing the work), torch's threads
kept in one parallel region for all T steps. Whether that is faster
than torch's own loop (a matmul and element-wise kernels a step, prepacked or plain) is a
property of the CPU, so the first training pass of each loop shape measures both
(`step_matmul.measured_choice`) and the faster runs for the rest of the process; a resumed run
keeps its first session's choice. Eligible where the C loops are (`fused_steps.loops_for`: a
CPU, float32, outside autocast and torch.compile) for loops of at least MIN_USES steps, as for
prepacking (a chain lays its weight out each pass, about one product's cost), whatever the
weight's size: the smaller the cell, the more of torch's loop is per-step dispatch, which the
chain saves (a scratch RNN of hidden 32 to 128 trained 1.5-1.6 times as fast through it on a
2-core Xeon). The same sums in another order: equal to torch's to float32 rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnn_tui.models import fused_steps
from rnn_tui.models.step_matmul import MIN_USES, Verdict, choose_measured, untimed_choice

PANEL = 16  # columns a panel, as panel_product_c's NR
# BPTT's per-thread sums of ∂L/∂W_xh (rnn_chain_c.py) up to this many floats in all (4 MiB):
# a character vocabulary's, not a word vocabulary's, which is summed after the chain instead.
MAX_SUMS = 1 << 20


def pack(*blocks: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """W (K, N), the blocks stacked row-wise, as ⌈N/16⌉ panels of 16 columns, (P, K, 16),
    contiguous, written into `out` where given; the last panel's missing columns are zeros.
    Each block, transposed or not, is copied once, straight into its rows of the panels."""
    N = blocks[0].shape[1]
    K = sum(W.shape[0] for W in blocks)
    P = -(-N // PANEL)
    if out is None:
        out = blocks[0].new_empty(P, K, PANEL)
    row = 0
    for W in blocks:
        if P * PANEL != N:
            W = F.pad(W, (0, P * PANEL - N))
        out[:, row : row + W.shape[0]] = W.unflatten(1, (P, PANEL)).transpose(0, 1)
        row += W.shape[0]
    return out


def by_rows(B: int, threads: int) -> bool:
    """Whether the chains split a batch of B rows by rows on `threads` threads (chain_c.py's
    chain_by_rows): a whole tile of 8 rows a thread but the last, which gets 4 or more."""
    return B >= 8 * threads - 4


def _panels(columns: int) -> int:
    return -(-columns // PANEL)


def library(W_hh: torch.Tensor, steps: int):
    """The C loops' library where a chain with the weight W_hh over `steps` steps may run,
    else None."""
    if steps < MIN_USES:
        return None
    return fused_steps.loops_for(W_hh)


def choose(model, key: tuple, run, args: tuple, weight: torch.Tensor, steps: int) -> bool:
    """Whether `model`'s pass over `steps` steps runs in the chains: `run(*args, chain)` either
    way, measured at the first training pass of `key` (its cell and shapes) where the chain is
    eligible for `weight`, its recurrent weight (`step_matmul.choose_measured`); a resumed
    run's earlier choice (`model.chain_preset`) is kept, and $RNN_TUI_NATIVE=on takes the
    chain untimed. The choice is kept as `model.chain_verdict` for the run's path notes and
    checkpoints."""
    eligible = library(weight, steps) is not None
    if eligible:
        key += (thread_count(),)
        if model.chain_preset is None and fused_steps.forced():
            verdict = untimed_choice(key)
        else:
            verdict = choose_measured(key, run, args, eligible, model.chain_preset)
    else:
        verdict = None
    if verdict is not None and verdict is not model.chain_verdict:
        # Set once, not on every call: under torch.compile an attribute written in the
        # forward is a guard (models/base.py `_prepacking`).
        model.chain_verdict = verdict
    return verdict is not None and verdict.packed


def thread_count() -> int:
    """Threads a chain splits its columns over: torch's, where the library has OpenMP."""
    lib = fused_steps.load().lib
    if lib is None or lib.chain_threads() <= 1:
        return 1
    return torch.get_num_threads()


def forward(
    lib,
    S: torch.Tensor,
    W_hh: torch.Tensor,
    X: torch.Tensor,
    table: torch.Tensor,
    W_hq: torch.Tensor | None = None,
    logits: torch.Tensor | None = None,
    threads: int | None = None,
) -> None:
    """S (T + 1, B, h), contiguous, S[0] = H_0 on entry; on return
    S[t] = H_t = tanh(H_{t-1} W_hh + table[X_t]) for t = 1..T, X (T, B) token ids and
    table = W_xh + b_h (V, h): one-hot X_t W_xh + b_h is row x_t of it. Where W_hq (h, V) is
    given, the outputs too: logits (B, T, V), contiguous, holding b_q on entry, gets
    logits[:, t-1] += H_t W_hq. `threads` defaults to `thread_count()`."""
    if S.dim() != 3:
        raise ValueError("S must be (T + 1, B, h)")
    T, B, n = S.shape[0] - 1, S.shape[1], S.shape[2]
    _rows((T + 1, B, n), S)
    _weight(W_hh, (n, n))
    table = table.contiguous()
    ids = _ids(X, T, B, (table, n))
    V = 0
    if W_hq is not None:
        V = W_hq.shape[-1]
        _weight(W_hq, (n, V))
        if logits is None:
            raise ValueError("the logits' buffer must be given with W_hq")
        _rows((B, T, V), logits)
    # The C code packs the weights into these panels itself, its threads sharing the work.
    # Names keep every buffer alive across the call.
    W_hh = W_hh.contiguous()
    W, W_q = S.new_empty(_panels(n), n, PANEL), None
    if W_hq is not None:
        W_hq, W_q = W_hq.contiguous(), S.new_empty(_panels(V), n, PANEL)
    pointers = (S, W_hh, W, ids, table, W_hq, W_q, None if W_q is None else logits)
    lib.rnn_chain_forward(
        *(None if x is None else x.data_ptr() for x in pointers), T, B, n, V,
        threads or thread_count(),
    )  # fmt: skip


def backward(
    lib,
    Z: torch.Tensor,
    H: torch.Tensor,
    W: tuple[torch.Tensor, ...],
    X: torch.Tensor,
    dW_xh: torch.Tensor | None = None,
    db_h: torch.Tensor | None = None,
    E: torch.Tensor | None = None,
    threads: int | None = None,
    own_sums: bool | None = None,
) -> None:
    """BPTT with the output layer's gradient folded into each step's product. Z (T + 1, B, K),
    contiguous, K = h + V, holds Z_u = [G_{u+1}, ∂L/∂O_u]: on entry every row's last V entries
    (Z[T, :, :h], G_{T+1}, is taken as zeros and not read); on return, for u = T-1..0,
    Z[u, :, :h] = G_{u+1} = (Z[u+1] W + E[u]) ⊙ (1 − H[u]²), with W = [W_hhᵀ; W_hqᵀ] (K, h),
    given as its row blocks (W_hhᵀ, W_hqᵀ), H the states H_1..H_T (T, B, h) and E their other
    gradients (T, B, h) or None.
    Where given, dW_xh (V', h) gets each G row added to row X[u, b] and db_h (h) their sum;
    with the batch split by rows, into each thread's own sums as it goes where `own_sums`
    (by default, where those fit in MAX_SUMS), else after the chain."""
    if Z.dim() != 3:
        raise ValueError("Z must be (T + 1, B, h + V)")
    T, B, K = Z.shape[0] - 1, Z.shape[1], Z.shape[2]
    _rows((T + 1, B, K), Z)
    n = H.shape[-1] if H.dim() == 3 else -1
    _rows((T, B, n), H, *([] if E is None else [E]))
    # The chain writes G into each row's first h entries: the first block must be W_hhᵀ (h, h),
    # or rows of K < h would be written past their ends.
    if not 1 <= len(W) <= 2:
        raise ValueError("the weight must be given as W_hhᵀ, or W_hhᵀ and W_hqᵀ")
    _weight(W[0], (n, n))
    for block in W[1:]:
        _weight(block, (block.shape[0], n))
    if sum(block.shape[0] for block in W) != K:
        raise ValueError(f"the weight's blocks must have {K} rows in all")
    if db_h is not None:
        _rows((n,), db_h)
    ids = _ids(X, T, B, *([] if dW_xh is None else [(dW_xh, n)]))
    # The C code packs [W_hhᵀ; W_hqᵀ] into these panels from W_hh and W_hq, row-major.
    rows = [block.T.contiguous() for block in W]
    packed = Z.new_empty(_panels(n), K, PANEL)
    threads = threads or thread_count()
    vocab = 0 if dW_xh is None else dW_xh.shape[0]
    sums = None  # each thread's own [∂L/∂b_h; ∂L/∂W_xh], where the batch is split by rows
    summed = dW_xh is not None or db_h is not None
    if own_sums is None:
        own_sums = threads * (vocab + 1) * n <= MAX_SUMS
    if summed and own_sums and by_rows(B, threads):
        sums = Z.new_zeros(threads, vocab + 1, n)
    pointers = (
        Z,
        E,
        H,
        rows[0],
        rows[1] if len(rows) > 1 else None,
        packed,
        ids,
        dW_xh,
        db_h,
        sums,
    )
    lib.rnn_chain_backward(
        *(None if x is None else x.data_ptr() for x in pointers), T, B, n, K, vocab, threads,
    )  # fmt: skip


def lstm_forward(lib, gates, Hs, Cs, tanh_C, W_h, X, U, threads: int | None = None) -> None:
    """The LSTM's time loop (d2l §9.2, gates ordered O, I, F, C̃) in one call: gates (T, B, 4h)
    written and activated, Hs and Cs (T + 1, B, h) from H_0 and C_0 given in row 0, tanh_C
    (T, B, h); W_h (h, 4h); U = W_x + b (V, 4h), whose row x_t is X_t W_x + b."""
    T, B, n = _shape(tanh_C)
    _rows((T, B, 4 * n), gates)
    _rows((T + 1, B, n), Hs, Cs)
    _weight(W_h, (n, 4 * n))
    ids = _ids(X, T, B, (U, 4 * n))
    W = _packed_blocks(W_h, 4, n)
    pointers = (gates, Hs, Cs, tanh_C, W, ids, U)
    lib.lstm_chain_forward(*(x.data_ptr() for x in pointers), T, B, n, threads or thread_count())


def lstm_backward(lib, dH, dC, dA, gates, Cs, tanh_C, W_h, threads: int | None = None) -> None:
    """Its BPTT in one call: for t = T..1, dA_t from dH_t (dH (T + 1, B, h): the outputs'
    gradients in rows 1..T, zeros in row 0), dC (B, h, updated in place) and the forward's
    buffers; then dH_{t-1} += dA_t W_hᵀ. On return dH[0] = ∂L/∂H_0 and dC = ∂L/∂C_0."""
    T, B, n = _shape(tanh_C)
    _rows((T, B, 4 * n), dA, gates)
    _rows((T + 1, B, n), dH, Cs)
    _rows((B, n), dC)
    _weight(W_h, (n, 4 * n))
    W = pack(W_h.T)
    pointers = (dH, dC, dA, gates, Cs, tanh_C, W)
    lib.lstm_chain_backward(*(x.data_ptr() for x in pointers), T, B, n, threads or thread_count())


def gru_forward(lib, ZR, cand, RH, Hs, W_hzr, W_hh, X, U_zr, U_h, threads=None) -> None:
    """The GRU's time loop (d2l §9.1) in one call: ZR (T, B, 2h) = σ([Z | R]), cand = H̃,
    RH = R ⊙ H_{t-1} (T, B, h) written, Hs (T + 1, B, h) from H_0 in row 0; W_hzr (h, 2h),
    W_hh (h, h); U_zr (V, 2h) and U_h (V, h) the input tables, rows x_t."""
    T, B, n = _shape(cand)
    _rows((T, B, 2 * n), ZR)
    _rows((T, B, n), RH)
    _rows((T + 1, B, n), Hs)
    _weight(W_hzr, (n, 2 * n))
    _weight(W_hh, (n, n))
    ids = _ids(X, T, B, (U_zr, 2 * n), (U_h, n))
    W_zr = _packed_blocks(W_hzr, 2, n)
    W_h = pack(W_hh)
    pointers = (ZR, cand, RH, Hs, W_zr, W_h, ids, U_zr, U_h)
    lib.gru_chain_forward(*(x.data_ptr() for x in pointers), T, B, n, threads or thread_count())


def gru_backward(lib, dH, dA, dB, ZR, cand, Hs, W_hzr, W_hh, threads=None) -> None:
    """Its BPTT in one call: dH (T + 1, B, h) holds the outputs' gradients in rows 1..T and
    zeros in row 0; fills dA (T, B, 2h), dB (T, B, h) and dH[0] = ∂L/∂H_0."""
    T, B, n = _shape(cand)
    _rows((T, B, 2 * n), dA, ZR)
    _rows((T, B, n), dB)
    _rows((T + 1, B, n), dH, Hs)
    _weight(W_hzr, (n, 2 * n))
    _weight(W_hh, (n, n))
    W_zr, W_h = pack(W_hzr.T), pack(W_hh.T)
    dRH = dH.new_empty(B, n)
    pointers = (dH, dA, dB, dRH, ZR, cand, Hs, W_zr, W_h)
    lib.gru_chain_backward(*(x.data_ptr() for x in pointers), T, B, n, threads or thread_count())


# The C code trusts every pointer and size: a wrong one would read or write out of bounds, so
# each buffer, weight and token id is checked before a call.


def torch_gru_forward(lib, gates, HN, Hs, W_h, X, U, b_hn, threads: int | None = None) -> None:
    """nn.GRU's time loop (gru_chain_c.py, gates ordered r, z, n) in one call: gates (T, B, 3h)
    written as r, z, n, HN (T, B, h) = H_{t-1} W_hnᵀ + b_hn, Hs (T + 1, B, h) from H_0 in row
    0; W_h = W_hhᵀ (h, 3h); U (V, 3h) the input table (b_ih and b_hr, b_hz in it), rows x_t;
    b_hn (h)."""
    T, B, n = _shape(HN)
    _rows((T, B, 3 * n), gates)
    _rows((T + 1, B, n), Hs)
    _rows((n,), b_hn)
    _weight(W_h, (n, 3 * n))
    ids = _ids(X, T, B, (U, 3 * n))
    W = _packed_blocks(W_h, 3, n)
    pointers = (gates, HN, Hs, W, ids, U, b_hn)
    lib.tgru_chain_forward(*(x.data_ptr() for x in pointers), T, B, n, threads or thread_count())


def torch_gru_backward(lib, dH, dA, dR, gates, HN, Hs, W_h, threads: int | None = None) -> None:
    """Its BPTT in one call: for t = T..1, dA_t (the input side's gradient) and dR_t (the
    recurrent side's, its n block times r) from dH_t (dH (T + 1, B, h): the outputs' gradients
    in rows 1..T, zeros in row 0); then dH_{t-1} += dH_t ⊙ z_t + dR_t W_hh. On return
    dH[0] = ∂L/∂H_0."""
    T, B, n = _shape(HN)
    _rows((T, B, 3 * n), dA, dR, gates)
    _rows((T + 1, B, n), dH, Hs)
    _weight(W_h, (n, 3 * n))
    W = pack(W_h.T)
    pointers = (dH, dA, dR, gates, HN, Hs, W)
    lib.tgru_chain_backward(*(x.data_ptr() for x in pointers), T, B, n, threads or thread_count())


def _packed_blocks(W: torch.Tensor, count: int, n: int) -> torch.Tensor:
    """W's `count` column blocks of n each packed, (count, P, h, 16), into one buffer: packed
    one by one and then stacked, each block's panels were a second copy of W for a while (at
    hidden 1536, four 9 MiB buffers that glibc kept after they were freed)."""
    out = W.new_empty(count, _panels(n), W.shape[0], PANEL)
    for k in range(count):
        pack(W[:, k * n : (k + 1) * n], out=out[k])
    return out


def _shape(Y: torch.Tensor) -> tuple[int, int, int]:
    """(T, B, h) of a (T, B, h) buffer, itself checked like the others."""
    if Y.dim() != 3:
        raise ValueError("a chain's buffers are (T, B, h) rows")
    _rows(tuple(Y.shape), Y)
    return tuple(Y.shape)


def _rows(shape: tuple, *buffers: torch.Tensor) -> None:
    for Y in buffers:
        if (
            tuple(Y.shape) != shape
            or not Y.is_contiguous()
            or Y.dtype != torch.float32
            or Y.device.type != "cpu"
        ):
            raise ValueError(f"a chain needs contiguous CPU float32 rows of shape {shape}")


def _weight(W: torch.Tensor, shape: tuple[int, int]) -> None:
    if tuple(W.shape) != shape or W.dtype != torch.float32 or W.device.type != "cpu":
        raise ValueError(f"the recurrent weight must be a CPU float32 {shape} tensor")


def _ids(X: torch.Tensor, T: int, B: int, *tables: tuple[torch.Tensor, int]) -> torch.Tensor:
    """The token ids as contiguous int64 (T, B), each a row of every (table, width): the C code
    reads those rows unchecked, so an id out of range fails here, as torch's gather would."""
    ids = X.contiguous().to(torch.int64)
    if ids.shape != (T, B):
        raise ValueError(f"the token ids must be ({T}, {B})")
    for table, width in tables:
        if table.dim() != 2:
            raise ValueError(f"an input table must be (V, {width})")
        _rows((table.shape[0], width), table)
    if not tables:
        return ids
    low, high = torch.aminmax(ids)
    vocab = min(table.shape[0] for table, _ in tables)
    if int(low) < 0 or int(high) >= vocab:
        raise IndexError(f"token id out of range for a vocabulary of {vocab}")
    return ids


def note(verdict: Verdict, measured_now: bool) -> str:
    """One line for a run's path notes: where the time loop ran, and the times behind it."""
    if verdict.kept:
        times = "as the run's first session measured"
    elif verdict.forced:
        times = f"${fused_steps.NATIVE_ENV}=on, not timed"
    else:
        when = f"at the first step in {verdict.trial_s:.2f} s" if measured_now else "earlier"
        times = (
            f"measured {when}: a pass {verdict.packed_ms:.1f} ms in C, "
            f"{verdict.plain_ms:.1f} ms in torch"
        )
    if verdict.packed:
        count = thread_count()
        plural = "s" if count != 1 else ""
        return f"time loop one C call a pass, {count} thread{plural} ({times})"
    return f"time loop in torch, faster here ({times})"


__all__ = [
    "PANEL",
    "backward",
    "by_rows",
    "choose",
    "forward",
    "gru_backward",
    "gru_forward",
    "library",
    "lstm_backward",
    "lstm_forward",
    "note",
    "pack",
    "thread_count",
    "torch_gru_backward",
    "torch_gru_forward",
]
