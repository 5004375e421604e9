"""nn.RNN, nn.GRU and nn.LSTM language models run through C chains (recurrent_chain).

nn.RNN's layer computes H_t = tanh(X_t W_ihᵀ + b_ih + H_{t-1} W_hhᵀ + b_hh): the scratch RNN's
recurrence (d2l §8.5, §8.6) with its W_xh = W_ihᵀ, its W_hh = nn.RNN's W_hhᵀ and
b_h = b_ih + b_hh. nn.LSTM's is the scratch LSTM's (d2l §9.2), its gate blocks ordered i, f, g, o
where the chain's are O, I, F, C̃. So those passes run as the scratch cells' chains: the same
sums in another order, equal to torch's kernels to float32 rounding, gradients reaching
nn.RNN's own parameters through the transpositions and reorderings. nn.GRU's is not the seeds'
GRU (its candidate is tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), the seeds'
tanh(X W_xh + (R ⊙ H) W_hh + b_h)): it has a chain of its own (gru_chain_c.py,
`ChainedTorchGRU`).

The chains read their input terms X_t W_x + b as rows of a table, by id (`input_terms`). For
the first layer the table is W_ihᵀ + b (one-hot inputs: row x_t) or E W_ihᵀ + b for an
embedding E (an embedding followed by a linear map is a lookup of their product), where the
vocabulary has no more rows than the minibatch has tokens. Otherwise, and for every layer above
(which reads the states below), the table has one row per token: the input terms for all steps
as one product (T·B rows), read with the ids 0..T·B − 1.

A bidirectional layer runs its reverse direction as a chain over the sequence flipped in time
(d2l §9.4), and the layer above (or the output layer) reads both directions' states side by side.

Where the chains apply (`chainable`): no dropout between layers while training
(torch's dropout draws its own random numbers), a CPU, float32, outside autocast and
torch.compile; whether they are faster than torch's kernels is measured at the first training
pass (`LanguageModel._chaining`), as for the scratch cells.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from rnn_tui.models import recurrent_chain
from rnn_tui.models.base import State
from rnn_tui.models.lstm_scratch import LSTMRecurrence
from rnn_tui.models.rnn_scratch import ChainedRNN

CELLS = ("rnn", "gru", "lstm")
_embedding_backward = torch.ops.aten.embedding_dense_backward


def chainable(cell: str, model, X: torch.Tensor) -> bool:
    """Whether `model` (an RNNModel or a tagger), whose recurrent layers are `cell`'s, may run
    its pass over X (B, T) in the C chains."""
    return (
        cell in CELLS
        and (model.rnn.dropout == 0 or not model.training)
        and X.device.type == "cpu"
        and model.linear.weight.dtype == torch.float32
        and not torch.compiler.is_compiling()
        and not torch.is_autocast_enabled("cpu")
    )


def parameter_names(num_layers: int, embed: int, directions: int = 1) -> list[str]:
    """The model's parameters a pass reads, in the order `chained_pass` takes them (torch's
    own: layer by layer, the reverse direction's after the forward's)."""
    names = [
        f"rnn.{kind}_l{layer}{'_reverse' if d else ''}"
        for layer in range(num_layers)
        for d in range(directions)
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    return names + ["linear.weight", "linear.bias"] + (["embedding.weight"] if embed > 0 else [])


def gate_order(W: torch.Tensor, cell: str, dim: int = 0) -> torch.Tensor:
    """nn.LSTM's gate blocks i, f, g, o (along `dim`) as the chain's O, I, F, C̃; an RNN's one
    block as it is."""
    if cell != "lstm":
        return W
    i, f, g, o = W.chunk(4, dim)
    return torch.cat((o, i, f, g), dim)


def input_terms(cell, W_ih, b, ids, below, E) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A layer's input terms X_t W_ihᵀ + b (gates in the chain's order; b None: without it)
    as a table and the ids of its rows (T, B), None for rows in token order. The table has the
    fewer rows: the vocabulary's (V, one-hot X_t or an embedding's), or one per token (T·B,
    row t·B + b), always for a layer above, which reads the states below. A word vocabulary's
    table would copy all of W_ih (and take its gradient) where a minibatch reads a few hundred
    of its columns."""
    T, B = ids.shape
    if below is not None:
        return _terms(cell, below.reshape(T * B, -1), W_ih, b), None
    if (W_ih.shape[1] if E is None else E.shape[0]) <= T * B:
        return _terms(cell, E, W_ih, b), ids
    if E is None:  # a one-hot X_t picks a row of W_ihᵀ, a column of W_ih: gathered
        P = W_ih.index_select(1, ids.reshape(-1)).T
        return gate_order(P if b is None else P + b, cell, 1), None
    return _terms(cell, F.embedding(ids.reshape(-1), E), W_ih, b), None


def _terms(cell: str, X: torch.Tensor | None, W_ih: torch.Tensor, b) -> torch.Tensor:
    """X W_ihᵀ + b, gates in the chain's order; X None: one-hot rows (W_ihᵀ + b itself). The
    weight's rows are reordered, not the product's columns: (4h, inputs) is the smaller copy
    once a layer has more tokens than inputs."""
    W_ih = gate_order(W_ih, cell)
    b = None if b is None else gate_order(b, cell)
    if X is None:
        return W_ih.T if b is None else W_ih.T + b
    return X @ W_ih.T if b is None else torch.addmm(b, X, W_ih.T)


class ChainedTanhLayer(torch.autograd.Function):
    """A tanh layer below the top one: H_t = tanh(X_t W_xh + b_h + H_{t-1} W_hh) for t = 1..T,
    both time loops one C call (recurrent_chain), X given as row ids of the table W_xh (V, h).
    BPTT (d2l §8.7): G_t = (∂L/∂H_t + G_{t+1} W_hhᵀ) ⊙ (1 − H_t²), ∂L/∂W_hh = Σ_t H_{t-1}ᵀ G_t
    (one product), ∂L/∂H_0 = G_1 W_hhᵀ; the chain sums ∂L/∂W_xh (row x_t gets G_t) and ∂L/∂b_h."""

    @staticmethod
    def forward(ctx, X, H0, W_hh, W_xh, b_h, lib):
        T, B = X.shape
        S = W_hh.new_empty(T + 1, B, W_hh.shape[0])
        S[0] = H0
        recurrent_chain.forward(lib, S, W_hh, X, W_xh + b_h)
        ctx.save_for_backward(X, W_hh, S)
        ctx.vocab_size, ctx.lib = W_xh.shape[0], lib
        return S[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, dHs):
        X, W_hh, S = ctx.saved_tensors
        T, B = X.shape
        n = W_hh.shape[0]
        Z = S.new_empty(T + 1, B, n)  # Z[u] = G_{u+1}; row T is read as zeros
        dW_xh, db_h = W_hh.new_zeros(ctx.vocab_size, n), W_hh.new_zeros(n)
        E = dHs.contiguous()
        recurrent_chain.backward(ctx.lib, Z, S[1:], (W_hh.T,), X, dW_xh, db_h, E)
        G = Z[:T].view(-1, n)
        dW_hh = S[:T].view(-1, n).T @ G
        dH0 = Z[0] @ W_hh.T if ctx.needs_input_grad[1] else None
        return None, dH0, dW_hh, dW_xh, db_h, None


class ChainedTorchGRU(torch.autograd.Function):
    """nn.GRU's layer (gru_chain_c.py), both time loops one C call: all H_t (T, B, h) from the
    ids X (T, B) of the input table U (V, 3h: X_t W_ihᵀ + b_ih + [b_hr, b_hz, 0], gates r, z,
    n), or U's rows in token order where X is None, H_0, W_h = W_hhᵀ (h, 3h) and b_hn.
    BPTT's recurrent side gives ∂L/∂W_hh = Σ_t H_{t-1}ᵀ dR_t (one product) and ∂L/∂b_hn = Σ of
    dR's n block; its input side ∂L/∂U (row x_t gets dA_t)."""

    @staticmethod
    def forward(ctx, X, U, H0, W_h, b_hn, lib):
        B, n3 = H0.shape[0], U.shape[1]
        T = X.shape[0] if X is not None else U.shape[0] // B
        ids = X if X is not None else torch.arange(T * B, device=U.device).view(T, B)
        gates, HN = U.new_empty(T, B, n3), U.new_empty(T, B, n3 // 3)
        Hs = U.new_empty(T + 1, B, n3 // 3)
        Hs[0] = H0
        recurrent_chain.torch_gru_forward(lib, gates, HN, Hs, W_h, ids, U.contiguous(), b_hn)
        ctx.save_for_backward(X, W_h)
        ctx.saved, ctx.lib, ctx.vocab_size = (gates, HN, Hs), lib, U.shape[0]
        return Hs[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, dHs):
        X, W_h = ctx.saved_tensors
        gates, HN, Hs = ctx.saved
        T, B, n3 = gates.shape
        n = n3 // 3
        dH = dHs.new_empty(T + 1, B, n)
        dH[0].zero_()
        dH[1:] = dHs
        dA, dR = torch.empty_like(gates), torch.empty_like(gates)
        recurrent_chain.torch_gru_backward(ctx.lib, dH, dA, dR, gates, HN, Hs, W_h)
        rows = dA.view(-1, n3)
        # What autograd runs for F.embedding's gather (as the scratch cells' BPTT does).
        dU = (
            rows
            if X is None
            else _embedding_backward(rows, X.reshape(-1), ctx.vocab_size, -1, False)
        )
        dW_h = Hs[:-1].reshape(-1, n).T @ dR.view(-1, n3)
        return None, dU, dH[0], dW_h, dR[..., 2 * n :].sum((0, 1)), None


def chained_pass(model, ids: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, State]:
    """The logits (B, T, V) and new state of a language model's pass over `ids` (T, B) in the
    chains; `tensors` is the state (H, or H and C for an LSTM, each (layers · directions, B,
    h)) then the parameters in `parameter_names` order. The caller checked `chainable` and the
    library."""
    cell, layers, D = model.model_name, model.num_layers, model.num_directions
    count = 2 if cell == "lstm" else 1
    state, weights = tensors[:count], tensors[count:]
    n = 4 * layers * D
    W_out, b_out = weights[n], weights[n + 1]
    E = weights[n + 2] if len(weights) > n + 2 else None
    Y, finals, folded = chained_layers(cell, layers, D, ids, state, weights[:n], E, (W_out, b_out))
    logits = Y if folded else F.linear(Y, W_out, b_out).transpose(0, 1).contiguous()
    return logits, finals if cell == "lstm" else finals[0]


def chained_layers(cell, layers, D, ids, state, weights, E, output=None, order=None):
    """The recurrent layers' pass over `ids` (T, B) in the chains, from `state` (H,) or (H, C)
    ((layers · D, B, h) each) with the layers' `weights` (torch's order) and the embedding E
    (None: one-hot): (the top layer's states (T, B, h · D), the final state as a tuple of
    (layers · D, B, h) tensors, False). Where `output` (W_out, b_out) is given and the top
    layer is an RNN's in one direction, the output layer runs inside its chains: the logits
    (B, T, V) instead of the states, and True. `order` (T, B), where given, is the time
    order the reverse direction reads each row in (`reversal`), else the sequence flipped."""
    T = ids.shape[0]
    lib = recurrent_chain.library(weights[1], T)
    below = None  # the states of the layer below, (T, B, h · directions)
    finals: list[list[torch.Tensor]] = [[] for _ in state]
    for layer in range(layers):
        outputs = []
        for d in range(D):
            k = layer * D + d
            # The reverse direction reads the sequence from its end (d2l §9.4): its inputs
            # flipped in time, its states flipped back; its final state is the one at t = 1.
            flip = d == 1
            X = _reversed(ids, order) if flip else ids
            inputs = _reversed(below, order) if flip and below is not None else below
            fold = output is not None and cell == "rnn" and D == 1 and layer == layers - 1
            Hs, ends = _direction(
                cell, weights[4 * k : 4 * k + 4], X, inputs, E if layer == 0 else None,
                tuple(s[k] for s in state), lib, output if fold else None,
            )  # fmt: skip
            for final, end in zip(finals, ends, strict=True):
                final.append(end)
            if fold:
                return Hs, (torch.stack(finals[0]),), True  # Hs: the logits
            outputs.append(_reversed(Hs, order) if flip else Hs)
        below = outputs[0] if D == 1 else torch.cat(outputs, 2)
    return below, tuple(torch.stack(f) for f in finals), False


def reversal(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(T, B): the time order in which the reverse direction reads each row of a padded batch,
    its own valid steps backwards and then its padding (what a packed sequence's reverse
    direction reads), for lengths (B,), each in [1, T]. Its own inverse."""
    t = torch.arange(T, device=lengths.device).unsqueeze(1)
    return torch.where(t < lengths, lengths - 1 - t, t)


def _reversed(X: torch.Tensor, order: torch.Tensor | None) -> torch.Tensor:
    """X (T, B, …) read in `order` along time; flipped where `order` is None."""
    if order is None:
        return X.flip(0)
    index = order.view(*order.shape, *[1] * (X.dim() - 2)).expand_as(X)
    return X.gather(0, index)


def _direction(cell, weights, ids, below, E, state, lib, output):
    """One layer's pass in one direction: its states (T, B, h), or the logits (B, T, V) where
    `output` (W_out, b_out) is folded into an RNN's chains, and its final (H_T,) or (H_T, C_T)."""
    W_ih, W_hh, b_ih, b_hh = weights
    T, B = ids.shape
    n = W_hh.shape[1]
    b, W_h = b_ih + b_hh, gate_order(W_hh, cell).T
    if cell == "gru":  # b_hn acts inside r ⊙ (·): only b_hr and b_hz join the input terms
        b = b_ih + F.pad(b_hh[: 2 * n], (0, n))
    # The LSTM's and GRU's tables take their bias; the RNN's chains add b_h themselves.
    table, rows = input_terms(cell, W_ih, None if cell == "rnn" else b, ids, below, E)
    if cell == "lstm":
        Hs, C_T = LSTMRecurrence.apply(rows, table, state[0], state[1], W_h, True, False)
        return Hs, (Hs[-1], C_T)
    if cell == "gru":
        Hs = ChainedTorchGRU.apply(rows, table, state[0], W_h, b_hh[2 * n :], lib)
        return Hs, (Hs[-1],)
    if rows is None:  # the RNN's chains read ids whatever the order
        rows = torch.arange(T * B, device=ids.device).view(T, B)
    if output is not None:
        logits, H_T = ChainedRNN.apply(rows, state[0], W_h, table, b, output[0].T, output[1], lib)
        return logits, (H_T,)
    Hs = ChainedTanhLayer.apply(rows, state[0], W_h, table, b, lib)
    return Hs, (Hs[-1],)


def chained_states(cell, weights, X, state):
    """One layer's pass over real-valued inputs X (T, B, inputs) in the chains, from `state`
    (H_0,) or (H_0, C_0), (B, h) each, with the layer's weights in torch's order: its states
    (T, B, h) and an LSTM's cell states (T, B, h), else None (the forecasters read both at
    every step); None where no chain may run. torch's GRU took ~15 µs a step for one row of
    10 units, the chain ~0.2."""
    W_ih, W_hh, b_ih, b_hh = weights
    T, B = X.shape[:2]
    lib = recurrent_chain.library(W_hh, T)
    if lib is None or cell not in CELLS:
        return None
    if cell != "lstm":
        ids = torch.zeros(T, B, dtype=torch.long, device=X.device)  # only its shape is read
        return _direction(cell, weights, ids, X, None, state, lib, None)[0], None
    n = W_hh.shape[1]
    U = _terms(cell, X.reshape(T * B, -1), W_ih, b_ih + b_hh)
    Hs, Cs = U.new_empty(T + 1, B, n), U.new_empty(T + 1, B, n)
    Hs[0], Cs[0] = state
    rows = torch.arange(T * B, device=X.device).view(T, B)
    W_h, gates, tanh_C = gate_order(W_hh, cell).T, U.new_empty(T, B, 4 * n), U.new_empty(T, B, n)
    recurrent_chain.lstm_forward(lib, gates, Hs, Cs, tanh_C, W_h, rows, U)
    return Hs[1:], Cs[1:]


def torch_pass(model, ids: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, State]:
    """The same pass with torch's kernels (nn.RNN / nn.LSTM run on the given tensors): what the
    first training pass measures the chains against."""
    count = 2 if model.model_name == "lstm" else 1
    state = tensors[0] if count == 1 else tensors[:count]
    names = parameter_names(model.num_layers, model.embed, model.num_directions)
    named = dict(zip(names, tensors[count:], strict=True))
    layer = {k.removeprefix("rnn."): v for k, v in named.items() if k.startswith("rnn.")}
    if model.embed > 0:
        inputs = F.embedding(ids, named["embedding.weight"])
    else:
        inputs = F.one_hot(ids, model.vocab_size).to(named["linear.weight"].dtype)
    Y, state = torch.func.functional_call(model.rnn, layer, (inputs, state))
    return F.linear(Y, named["linear.weight"], named["linear.bias"]).transpose(0, 1), state


__all__ = [
    "CELLS",
    "ChainedTanhLayer",
    "chainable",
    "chained_layers",
    "chained_pass",
    "chained_states",
    "gate_order",
    "parameter_names",
    "reversal",
    "torch_pass",
]
