"""The prepacked recurrent product (rnn_tui/models/step_matmul.py): where it is used, and that the
scratch cells compute the same with it as without it (float32 rounding, not bit for bit)."""

from __future__ import annotations

import pytest
import torch

from rnn_tui.models import step_matmul
from rnn_tui.models.gru_scratch import GRURecurrence
from rnn_tui.models.lstm_scratch import LSTMRecurrence
from rnn_tui.models.rnn_scratch import RNNScratch, TanhRecurrence
from rnn_tui.models.step_matmul import (
    MIN_USES,
    TRIAL_ROUNDS,
    StepMatmul,
    Verdict,
    measured_choice,
    prepacking_available,
    weight_grad,
)

needs_onednn = pytest.mark.skipif(
    not prepacking_available(), reason="this torch build has no working oneDNN prepacking"
)


@pytest.fixture(autouse=True)
def _torch_loops(monkeypatch):
    """The products these tests prepack are torch's loops: the scratch RNN's C chain, which
    would replace them (tests/test_recurrent_chain.py), and the C loops stay off."""
    monkeypatch.setenv("RNN_TUI_NATIVE", "off")


def _decide(monkeypatch, packed: bool) -> None:
    """Every loop's measured choice made in advance: prepacked or plain, whatever is faster."""
    verdict = Verdict(packed=packed, packed_ms=1.0, plain_ms=2.0, trial_s=0.1)
    monkeypatch.setattr(step_matmul, "measured_choice", lambda key, trial: verdict)


def _randn(*shape: int, scale: float = 1.0, dtype=torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(sum(shape))
    return (torch.randn(*shape, generator=generator, dtype=torch.float64) * scale).to(dtype)


@needs_onednn
def test_a_long_loop_over_a_large_float32_weight_is_prepacked():
    assert StepMatmul(_randn(512, 512), rows=32, uses=35).packed is not None
    assert StepMatmul(_randn(256, 1024), rows=32, uses=35).packed is not None
    assert StepMatmul(_randn(256, 256), rows=32, uses=35).packed is not None  # the GRU's W_hh


def test_where_the_plain_product_stays():
    assert StepMatmul(_randn(512, 512), rows=32, uses=MIN_USES - 1).packed is None  # generation
    assert StepMatmul(_randn(128, 256), rows=32, uses=35).packed is None  # too small to repay
    assert StepMatmul(_randn(512, 512, dtype=torch.float64), rows=32, uses=35).packed is None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert StepMatmul(_randn(512, 512), rows=32, uses=35).packed is None


def test_a_forward_being_compiled_keeps_the_plain_product(monkeypatch):
    # torch.compile cannot lower the prepacked ops (`--compile on` failed with an InductorError).
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    assert StepMatmul(_randn(512, 512), rows=32, uses=35).packed is None


def test_a_plain_loop_multiplies_by_a_row_major_copy_of_a_transposed_weight():
    # BPTT's W_hᵀ is a view; the CPU BLAS takes it 5–24 % slower a product than a row-major copy.
    W, X, out = _randn(256, 1024, scale=0.05), _randn(32, 1024), _randn(32, 256)
    step = StepMatmul(W.T, rows=32, uses=35, allowed=False)
    assert step.packed is None and step.W.is_contiguous()
    before = out.double()
    step.add_to(out, X)
    torch.testing.assert_close(
        out.double(), before + X.double() @ W.double().T, rtol=1e-5, atol=1e-5
    )
    # One product (generation) keeps the view: the copy would cost as much as it saves.
    assert not StepMatmul(W.T, rows=1, uses=1, allowed=False).W.is_contiguous()


@needs_onednn
def test_the_prepacked_products_equal_torch_mm():
    W, X, out = _randn(512, 512, scale=0.05), _randn(32, 512), _randn(32, 512)
    step = StepMatmul(W, rows=32, uses=35)
    assert step.packed is not None
    reference = X.double() @ W.double()
    torch.testing.assert_close(step(X).double(), reference, rtol=1e-5, atol=1e-5)
    into = torch.empty(32, 512)
    assert step(X, out=into) is into
    torch.testing.assert_close(into.double(), reference, rtol=1e-5, atol=1e-5)
    before = out.double()
    assert step.add_to(out, X) is out
    torch.testing.assert_close(out.double(), before + reference, rtol=1e-5, atol=1e-5)
    # A transposed view (backpropagation's W_hhᵀ) packs too.
    torch.testing.assert_close(
        StepMatmul(W.T, rows=32, uses=35)(X).double(),
        X.double() @ W.double().T,
        rtol=1e-5,
        atol=1e-5,
    )


def _run(function, inputs: list[torch.Tensor], plain: bool, monkeypatch) -> list[torch.Tensor]:
    """Outputs and input gradients of `function`, with prepacking on or off."""
    monkeypatch.setattr(step_matmul, "MIN_USES", 10**9 if plain else MIN_USES)
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    outputs = function.apply(*leaves, not plain)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    weights = [_randn(*o.shape, scale=0.1) for o in outputs]
    sum((o * w).sum() for o, w in zip(outputs, weights, strict=True)).backward()
    return [o.detach() for o in outputs] + [x.grad for x in leaves]


class _RNNSteps:
    """TanhRecurrence on fixed tokens (T = 35, B = 32, V = 28): H_0, W_hh, W_xh, b_h vary. Its
    prepacked forward is the concatenated product with tanh fused, its plain one the gather."""

    X = torch.randint(0, 28, (35, 32), generator=torch.Generator().manual_seed(2))

    @staticmethod
    def apply(H0, W_hh, W_xh, b_h, prepack):
        # Input terms of order 1, so that tanh is well into its curve.
        return TanhRecurrence.apply(_RNNSteps.X, H0, W_hh, W_xh * 10, b_h * 10, prepack)


class _RNNWordSteps:
    """TanhRecurrence over a vocabulary of 200 tokens (words): its prepacked forward is the
    gather with W_hh prepacked, as the one-hot part would make the concatenation slower."""

    X = torch.randint(0, 200, (35, 32), generator=torch.Generator().manual_seed(3))

    @staticmethod
    def apply(H0, W_hh, W_xh, b_h, prepack):
        return TanhRecurrence.apply(_RNNWordSteps.X, H0, W_hh, W_xh * 10, b_h * 10, prepack)


class _GRUSteps:
    """GRURecurrence on fixed tokens (T = 35, B = 32, V = 28): the input tables, H_0 and the
    recurrent weights vary."""

    X = torch.randint(0, 28, (35, 32), generator=torch.Generator().manual_seed(4))

    @staticmethod
    def apply(U_zr, U_h, H0, W_hzr, W_hh, prepack):
        return GRURecurrence.apply(
            _GRUSteps.X, U_zr * 10, U_h * 10, H0, W_hzr, W_hh, False, prepack
        )


class _LSTMSteps:
    """LSTMRecurrence on fixed tokens (T = 35, B = 32, V = 28)."""

    X = torch.randint(0, 28, (35, 32), generator=torch.Generator().manual_seed(5))

    @staticmethod
    def apply(U, H0, C0, W_h, prepack):
        return LSTMRecurrence.apply(_LSTMSteps.X, U * 10, H0, C0, W_h, False, prepack)


_GRU_SHAPES = [(28, 512), (28, 256), (32, 256), (256, 512), (256, 256)]
_LSTM_SHAPES = [(28, 1024), (32, 256), (32, 256), (256, 1024)]


@needs_onednn
@pytest.mark.parametrize(
    ("function", "shapes"),
    [
        # The book's sizes, where the products are prepacked: hidden 512 for the RNN, 256 for
        # the LSTM (its four gates make W_h 256 × 1024).
        (_RNNSteps, [(32, 512), (512, 512), (28, 512), (512,)]),
        (_RNNWordSteps, [(32, 512), (512, 512), (200, 512), (512,)]),
        (_LSTMSteps, _LSTM_SHAPES),
        # The GRU's weights pack from the book's hidden 256 ([W_hz | W_hr] 256 × 512, W_hh 256²).
        (_GRUSteps, _GRU_SHAPES),
    ],
    ids=["rnn", "rnn-words", "lstm", "gru"],
)
def test_the_cells_compute_the_same_prepacked_or_not(function, shapes, monkeypatch):
    inputs = [_randn(*shape, scale=0.5 if len(shape) == 3 else 0.05) for shape in shapes]
    plain = _run(function, inputs, plain=True, monkeypatch=monkeypatch)
    packed = _run(function, inputs, plain=False, monkeypatch=monkeypatch)
    for ours, reference in zip(packed, plain, strict=True):
        scale = reference.abs().max().item()
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-5 * max(scale, 1.0))


@needs_onednn
@pytest.mark.parametrize(
    ("function", "shapes", "weights"),
    [
        (_RNNSteps, [(32, 512), (512, 512), (28, 512), (512,)], 1),
        (_LSTMSteps, _LSTM_SHAPES, 1),
        (_GRUSteps, _GRU_SHAPES, 2),
    ],
    ids=["rnn", "lstm", "gru"],
)
def test_a_prepacked_pass_takes_its_weight_gradients_through_onednn(
    function, shapes, weights, monkeypatch
):
    """The all-steps weight gradients go with the loop's measured choice: oneDNN's (about twice
    MKL's speed on an AVX-512 EPYC) where the products are prepacked, the plain product where
    not. The values agree either way (the test above)."""
    assert step_matmul.weight_grads_available()  # its probe made before counting
    calls = []
    real = step_matmul._onednn_weight_grad
    monkeypatch.setattr(
        step_matmul, "_onednn_weight_grad", lambda A, B: calls.append(A.shape) or real(A, B)
    )
    inputs = [_randn(*shape, scale=0.5 if len(shape) == 3 else 0.05) for shape in shapes]
    _run(function, inputs, plain=True, monkeypatch=monkeypatch)
    assert calls == []
    _run(function, inputs, plain=False, monkeypatch=monkeypatch)
    # All steps' rows at once, H_0's term included: one product per weight.
    assert len(calls) == weights and all(shape[0] == 35 * 32 for shape in calls)


def test_a_weight_gradient_is_the_product_over_all_rows():
    A, B = _randn(70, 16), _randn(70, 12)
    assert torch.equal(weight_grad(A, B, False), A.T @ B)  # the plain path: the product as before
    if step_matmul.weight_grads_available():
        torch.testing.assert_close(weight_grad(A, B, True), A.T @ B)
        # Rows read in place from a wider buffer (the scratch RNN's [H_{t-1}, one-hot] rows).
        wide = _randn(70, 20)
        torch.testing.assert_close(weight_grad(wide[:, :16], B, True), wide[:, :16].T @ B)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # never through oneDNN's fp32 path
        assert weight_grad(A, B, True).dtype == torch.bfloat16


@needs_onednn
def test_training_losses_are_the_same_prepacked_or_not(monkeypatch):
    """A few SGD steps of the book's scratch RNN: the loss curves agree to float32 rounding."""
    paths = []

    def losses(plain: bool) -> list[float]:
        _decide(monkeypatch, packed=not plain)
        torch.manual_seed(0)
        model = RNNScratch(28, 512)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        X = torch.randint(0, 28, (32, 35), generator=torch.Generator().manual_seed(1))
        out = []
        for _ in range(5):
            logits, _ = model(X)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, 28), X.roll(-1, 1).reshape(-1)
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            out.append(loss.item())
        paths.append(model.prepacked_weights(35))
        return out

    plain, packed = losses(plain=True), losses(plain=False)
    assert paths[0] == [] and paths[1] != []  # the verdict chose each path
    assert packed == pytest.approx(plain, rel=1e-5)
    assert plain[-1] < plain[0]  # it trained: the comparison is not of five equal numbers


RNN_NOTE = "recurrent products prepacked for oneDNN: [W_hh; W_xh] with b_h and tanh fused, W_hhᵀ"
TIMES = "(measured earlier: a pass 1.0 ms prepacked, 2.0 ms plain)"


@pytest.mark.parametrize(
    ("overrides", "packed", "note"),
    [
        ({"model": "rnn-scratch", "hidden": 512}, True, f"{RNN_NOTE} {TIMES}"),
        (
            {"model": "rnn-scratch", "hidden": 512},
            False,
            f"recurrent products plain, faster here {TIMES}",
        ),
        # Words: a one-hot part as long as the hidden state; the gather, W_hh prepacked.
        ({"model": "rnn-scratch", "hidden": 512, "token": "word"}, True, "oneDNN: W_hh, W_hhᵀ ("),
        ({"model": "lstm-scratch", "hidden": 256}, True, "[W_ho | W_hi | W_hf | W_hc] ("),
        ({"model": "lstm-scratch", "hidden": 256}, False, "plain, faster here"),
        ({"model": "gru-scratch", "hidden": 512}, True, "[W_hz | W_hr], W_hh ("),
        ({"model": "gru-scratch", "hidden": 256}, True, "[W_hz | W_hr], W_hh ("),
        ({"model": "gru-scratch", "hidden": 128}, True, None),  # too small to be measured
        ({"model": "rnn", "hidden": 512}, True, None),  # nn.RNN: torch's own kernels
        ({"model": "rnn-scratch", "hidden": 512, "precision": "bf16"}, True, None),
    ],
)
def test_the_run_says_whether_its_products_ran_prepacked(
    overrides, packed, note, tmp_path, monkeypatch
):
    """The path event and `--json`'s path_notes say which products ran prepacked, or that the
    plain ones measured faster, with the times that decided it."""
    from rnn_tui.data.sources import read_text
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer

    _decide(monkeypatch, packed)
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:12000], encoding="utf-8")  # ≥ 1,156 words
    config = Config(
        "lm", corpus=str(corpus), batch_size=32, num_steps=35, epochs=1, device="cpu", **overrides
    )
    trainer = Trainer(config)
    trainer.begin_session(RunDir(tmp_path / "run"))
    trainer.train_epoch(1)
    notes = [n for n in trainer.path.notes if n.startswith("recurrent products")]
    if note is None or not prepacking_available():
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0]


def test_a_build_whose_fused_product_fails_keeps_the_plain_path(monkeypatch):
    """prepacking_available checks the fused bias + tanh product the RNN's forward uses: a build
    where only that op fails does not pack, and the RNN trains on the plain path."""
    from rnn_tui.models.rnn_scratch import RNNScratch

    real = torch.ops.mkldnn._linear_pointwise

    class BrokenTanh:
        def __call__(self, X, W, b, attr, scalars, algorithm):
            if attr == "tanh":
                raise RuntimeError("unsupported post-op")
            return real(X, W, b, attr, scalars, algorithm)

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", BrokenTanh())
    step_matmul.prepacking_available.cache_clear()
    try:
        assert not prepacking_available()
        model = RNNScratch(28, 512)
        assert model.prepacked_weights(35) == []
        X = torch.randint(0, 28, (32, 35), generator=torch.Generator().manual_seed(1))
        logits, _ = model(X)
        logits.sum().backward()
        assert model.W_xh.grad is not None and torch.isfinite(logits).all()
    finally:
        monkeypatch.undo()
        step_matmul.prepacking_available.cache_clear()


def test_the_faster_way_is_chosen_once_and_kept(monkeypatch):
    """measured_choice times both ways, alternately, and keeps the faster one for the key."""
    import time

    monkeypatch.setattr(step_matmul, "_verdicts", {})
    calls = []

    def trial(packed: bool, slow: bool) -> None:
        calls.append(packed)
        if packed == slow:
            time.sleep(0.003)

    verdict = measured_choice("a", lambda packed: trial(packed, slow=True))
    assert verdict is not None and not verdict.packed
    assert verdict.packed_ms > verdict.plain_ms and verdict.trial_s > 0
    assert calls == [True, False] * (TRIAL_ROUNDS + 1)
    assert measured_choice("a", lambda packed: trial(packed, slow=False)) is verdict  # kept
    assert len(calls) == 2 * (TRIAL_ROUNDS + 1)
    assert measured_choice("b", lambda packed: trial(packed, slow=False)).packed
    with torch.no_grad():  # evaluation or generation: a new key is not measured
        assert measured_choice("c", lambda packed: trial(packed, slow=False)) is None
        assert measured_choice("a", lambda packed: trial(packed, slow=False)) is verdict


@pytest.mark.parametrize(("pass_s", "rounds"), [(0.4, 2), (0.25, 4), (2.0, 1), (0.05, 6)])
def test_long_passes_are_timed_in_fewer_rounds(monkeypatch, pass_s, rounds):
    """Once TRIAL_BUDGET_S (2 s) have passed the trial stops after the round it is in, and a
    warm-up round that long is the measurement: passes of 2-3 s each way made a first step of
    35 s. Setting the C loops up in the first pass is not counted in its time."""
    clock, setup = [0.0], [0.0]
    monkeypatch.setattr(step_matmul, "_verdicts", {})
    monkeypatch.setattr(step_matmul.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(step_matmul.fused_steps, "setup_seconds", lambda: setup[0])
    calls = []

    def trial(packed: bool) -> None:
        if not calls:  # a build of the C loops: seconds, and no part of the pass
            clock[0] += 30.0
            setup[0] += 30.0
        calls.append(packed)
        clock[0] += pass_s * (1.0 if packed else 1.5)

    verdict = measured_choice("long", trial)
    assert len(calls) == 2 * rounds
    assert verdict.packed and verdict.packed_ms == pytest.approx(pass_s * 1e3)
    assert verdict.plain_ms == pytest.approx(pass_s * 1.5e3)
    assert verdict.trial_s == pytest.approx(pass_s * 2.5 * rounds)


@needs_onednn
def test_measuring_changes_nothing_the_run_keeps(monkeypatch):
    """The first training pass measures on copies: the parameters, their gradients and torch's
    random numbers are as if nothing had been measured, and the logits are the chosen path's."""
    monkeypatch.setattr(step_matmul, "_verdicts", {})
    torch.manual_seed(0)
    model = RNNScratch(28, 512)
    before = [p.detach().clone() for p in model.parameters()]
    X = torch.randint(0, 28, (32, 35), generator=torch.Generator().manual_seed(1))
    rng = torch.get_rng_state()
    logits, _ = model(X)
    assert torch.equal(torch.get_rng_state(), rng)
    verdict = model.prepack_verdict
    assert verdict is not None and verdict.trial_s > 0
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))
    assert (model.prepacked_weights(35) != []) == verdict.packed
    _decide(monkeypatch, packed=verdict.packed)
    again, _ = model(X)
    assert torch.equal(logits, again)
    with torch.no_grad():  # evaluation or generation
        monkeypatch.undo()
        monkeypatch.setattr(step_matmul, "_verdicts", {})
        model.prepack_verdict = None
        model(X)
        assert model.prepack_verdict is None  # a shape not trained on is not measured


@needs_onednn
def test_the_first_run_measures_and_says_so_and_the_next_reuses_it(tmp_path, monkeypatch):
    """The first trainer of a shape measures at its first step (time left out of tokens/s and
    named in the note); a second one in the same process reuses the verdict."""
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer

    monkeypatch.setattr(step_matmul, "_verdicts", {})
    paths = []
    for name in ("first", "second"):
        config = Config(
            "lm", model="lstm-scratch", hidden=256, max_tokens=3000, val_fraction=0, epochs=1
        )
        trainer = Trainer(config)
        trainer.begin_session(RunDir(tmp_path / name))
        trainer.train_epoch(1)
        paths.append(trainer.path)
    first, second = ([n for n in p.notes if n.startswith("recurrent products")] for p in paths)
    assert paths[0].measure_s > 0 and "(measured at the first step in" in first[0]
    assert paths[1].measure_s == 0 and "(measured earlier: a pass" in second[0]
    assert first[0].split(": a pass")[1] == second[0].split(": a pass")[1]


@needs_onednn
@pytest.mark.parametrize("first", [True, False], ids=["prepacked", "plain"])
def test_a_resumed_run_keeps_its_first_sessions_choice(first, tmp_path, monkeypatch):
    """The choice is saved with the checkpoint; a resume computes what the first session did,
    whatever this process would measure, and says so."""
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer

    def session(epochs: int, resume=None) -> Trainer:
        config = Config(
            "lm", model="lstm-scratch", hidden=256, max_tokens=3000, val_fraction=0, epochs=epochs
        )
        trainer = Trainer(config, resume=resume)
        trainer.run(RunDir(tmp_path / "run"))
        return trainer

    _decide(monkeypatch, packed=first)
    session(1)
    checkpoint = load_checkpoint(tmp_path / "run", prefer=("last",))
    assert checkpoint.meta["prepacked"] is first
    _decide(monkeypatch, packed=not first)  # this process would choose the other way
    resumed = session(2, resume=checkpoint)
    assert resumed.model.prepack_verdict.packed is first
    notes = [n for n in resumed.path.notes if n.startswith("recurrent products")]
    assert len(notes) == 1 and notes[0].endswith("(as the run's first session measured)")
    assert notes[0].startswith(
        "recurrent products prepacked" if first else "recurrent products plain"
    )
