"""The interface every language model shares, so trainers and decoders treat them alike.

Batch-major throughout: X is a LongTensor of token ids (B, T); logits are (B, T, V), so
`cross_entropy(logits.reshape(-1, V), Y.reshape(-1))` is the seeds' loss for labels Y (B, T).
A state is what the recurrence carries between minibatches: the hidden state H of shape
(layers · directions, B, hidden) — or the pair (H, C) for an LSTM — the layout nn.RNN uses, so a
scratch model's state looks like a one-layer concise model's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from rnn_tui.models import recurrent_chain
from rnn_tui.models.step_matmul import choose_prepacking, packs

State = torch.Tensor | tuple[torch.Tensor, ...]
WARM_UP_CHUNK = 256  # prefix tokens a warm-up pass reads
# What else tells one concise model's pass from another's in a chain choice's key (a scratch
# cell has none of them: the defaults).
CHAIN_SHAPE = (("num_layers", 1), ("embed", 0), ("num_directions", 1))


class ModelError(ValueError):
    """An invalid model configuration; the message is one line naming the problem."""


class LanguageModel(nn.Module, ABC):
    """Batch-major interface shared by every LM (scratch and concise)."""

    model_name: str  # its name in registry.MODEL_NAMES
    vocab_size: int
    num_hiddens: int

    @abstractmethod
    def begin_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """The zero state for a minibatch of `batch_size` sequences (the seeds' init_*_state)."""

    @abstractmethod
    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Logits (B, T, V) for token ids X (B, T) and the state after the last step.

        `state=None` starts from `begin_state` on X's device.
        """

    @abstractmethod
    def config(self) -> dict:
        """JSON-able description; `registry.build_model(config)` rebuilds the same architecture."""

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    # A scratch cell's measured choice of prepacked or plain products (models/step_matmul.py),
    # set by its first training pass on a CPU where prepacking is eligible; a resumed run's
    # model is given its earlier sessions' choice (prepack_preset) instead of measuring again.
    prepack_verdict = None
    prepack_preset: bool | None = None
    # Whether the cell's element-wise steps can run as C loops (models/fused_steps.py).
    fused_steps = False
    # The scratch RNN's measured choice of its time loop as one C call (models/recurrent_chain.py),
    # and a resumed run's earlier choice.
    chain_verdict = None
    chain_preset: bool | None = None

    @contextmanager
    def frozen_weights(self) -> Iterator[None]:
        """A decoding session: the weights stay as they are until it ends, so gate weights
        joined for one step are kept for the next (`_joined`)."""
        fresh = "_joins" not in self.__dict__
        if fresh:
            self.__dict__["_joins"] = {}
        try:
            yield
        finally:
            if fresh:
                self.__dict__.pop("_joins", None)

    def _joined(self, key: str, parts: tuple[torch.Tensor, ...], dim: int = 0) -> torch.Tensor:
        """torch.cat(parts, dim), made once a `frozen_weights` session outside autograd. A
        generated token's step copied the gate weights anew each time: the scratch LSTM's
        joins were 0.24 of its 0.58 ms step (hidden 256), the GRU's 0.12 of 0.42. Only there:
        an optimizer step or a CUDA graph's replay changes the weights without a Python call
        that could tell a cache."""
        joins = self.__dict__.get("_joins")
        if joins is None or torch.is_grad_enabled() or torch.compiler.is_compiling():
            return torch.cat(parts, dim)
        if key not in joins:
            joins[key] = torch.cat(parts, dim)
        return joins[key]

    def _recurrence(self, function, args: tuple, weight: torch.Tensor, steps: int, batch: int):
        """`function.apply(*args, prepack)` for a scratch cell's time loop (an autograd Function
        whose last argument allows prepacked products), with the choice measured once per loop
        shape where `weight`, its largest recurrent weight, is eligible (`packs`)."""
        return function.apply(*args, self._prepacking(function, args, weight, steps, batch))

    def _prepacking(self, function, args: tuple, weight: torch.Tensor, steps: int, batch: int):
        """The measured choice of prepacked products for `function.apply(*args, prepack)`."""
        eligible = packs(weight.numel(), weight.dtype, weight.device, steps)
        key = (self.model_name, steps, batch, self.vocab_size, self.num_hiddens, weight.device)
        verdict = choose_prepacking(key, function, args, eligible, self.prepack_preset)
        if verdict is not None and verdict is not self.prepack_verdict:
            # Set once, not on every call: under torch.compile an attribute written in the
            # forward is a guard, and rewriting it made every run recompile at its second step.
            self.prepack_verdict = verdict
        return verdict is not None and verdict.packed

    def _chaining(self, run, args: tuple, weight, packed: bool, steps: int, batch: int):
        """The measured choice of the time loops as one C call each (recurrent_chain.choose),
        for `run(*args, chain, packed)`: once per loop shape and thread count where the chain
        is eligible for `weight`, its recurrent weight."""
        # A concise model's layers, embedding and directions change the pass too
        # (models/concise_chain.py).
        shape = tuple(getattr(self, name, d) for name, d in CHAIN_SHAPE)
        key = ("chain", self.model_name, steps, batch, self.vocab_size, self.num_hiddens, packed)

        def apply(*leaves):
            return run(*leaves, packed)

        return recurrent_chain.choose(self, key + shape, apply, args, weight, steps)

    def prepacked_weights(self, num_steps: int) -> list[str]:
        """The recurrent weights that a pass of `num_steps` steps multiplies through a prepacked
        copy (models/step_matmul.py): the scratch cells' loops; none for nn.RNN/GRU/LSTM."""
        return []

    # -- the seeds' prediction (predict_ch8), one step at a time -------------------------------

    def warm_up(
        self,
        ids: list[int],
        device: torch.device | str = "cpu",
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[State, int]:
        """Read a prefix without predicting (the seeds' warm-up): the state after all prefix
        ids but the last, and that last id, which the first prediction step feeds.

        Forward passes of WARM_UP_CHUNK tokens over the prefix; token by token for a
        bidirectional model, as the seeds do, since its backward half would otherwise read
        ahead. `progress(read, total)` comes first with 0 read, then every WARM_UP_CHUNK tokens
        (a 100,000-character prefix takes seconds); whatever it raises stops the warm-up. Call
        under no_grad.
        """
        if not ids:
            raise ModelError("warm-up needs at least one token")
        state = self.begin_state(1, device)
        read = ids[:-1]
        if progress is not None and read:
            progress(0, len(read))  # the first pass can load and check the C loops: seconds
        if getattr(self, "bidirectional", False):
            for t, i in enumerate(read, 1):
                _, state = self(torch.tensor([[i]], device=device), state)
                if progress is not None and (t % WARM_UP_CHUNK == 0 or t == len(read)):
                    progress(t, len(read))
        else:
            # WARM_UP_CHUNK tokens a pass, the state carried on: the same recurrence, but
            # each pass's gates and logits (T·|V|) are freed before the next. Read at once,
            # a 100,000-character prefix took 975 MB.
            for start in range(0, len(read), WARM_UP_CHUNK):
                chunk = read[start : start + WARM_UP_CHUNK]
                _, state = self(torch.tensor([chunk], device=device), state)
                if progress is not None:
                    progress(start + len(chunk), len(read))
        return state, ids[-1]

    def next_logits(
        self, token: int, state: State, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, State]:
        """Logits (V,) of the token after `token`, and the new state."""
        logits, state = self(torch.tensor([[token]], device=device), state)
        return logits[0, -1], state

    @torch.no_grad()
    def predict(
        self, ids: list[int], num_preds: int, device: torch.device | str = "cpu"
    ) -> list[int]:
        """The seeds' greedy `predict_ch8`: warm up on `ids`, then `num_preds` times feed back
        argmax o_t; the ids generated. Runs in eval mode and restores the mode it found."""
        was_training = self.training
        self.eval()
        try:
            with self.frozen_weights():
                state, current = self.warm_up(ids, device)
                out = []
                for _ in range(num_preds):
                    logits, state = self.next_logits(current, state, device)
                    current = int(logits.float().argmax())
                    out.append(current)
                return out
        finally:
            self.train(was_training)


def autocast_args(args: tuple) -> tuple:
    """`args` with their floating tensors in autocast's dtype where autocast is on for their
    device (bf16 training): what autocast does to nn.RNN/GRU/LSTM's weights and state. A
    scratch cell's time loop adds its products in place into buffers of its inputs' dtype,
    which autocast never casts; without this its recurrence ran in float32 under "bf16"."""
    tensors = [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]
    if not tensors:
        return args
    device = tensors[0].device.type
    if not torch.is_autocast_enabled(device):
        return args
    dtype = torch.get_autocast_dtype(device)
    return tuple(
        a.to(dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args
    )


def detach_state(state: State) -> State:
    """Cut the graph at a minibatch boundary (truncated BPTT with sequential partitioning).

    The values carry over to the next minibatch; gradients stop here, as the seeds' training loop
    does with `state.detach_()` when the state is not re-initialised.
    """
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def state_tensors(state: State, clone: bool = False) -> tuple[torch.Tensor, ...]:
    """The state's tensors as a tuple (an LSTM's (H, C), another cell's H alone); `clone`:
    detached copies (a CUDA graph's static state)."""
    tensors = state if isinstance(state, tuple) else (state,)
    return tuple(t.detach().clone() for t in tensors) if clone else tensors
