"""tanh in place for the scratch cells' loops: numpy's on CPU float tensors, torch's elsewhere."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.models import activations
from rnn_tui.models.activations import numpy_tanh_applies, tanh_, tanh_into


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([torch.float32, torch.float64]),
    st.integers(1, 5),
    st.integers(1, 40),
    st.integers(0, 2),
    st.floats(0.01, 30),
)
def test_tanh_in_place_equals_torch_on_every_layout(dtype, rows, cols, offset, scale):
    """Contiguous rows and the cells' strided slices (a gate's columns of a wider buffer)."""
    gen = torch.Generator().manual_seed(rows * 100 + cols)
    wide = torch.randn(rows, cols + 3, generator=gen, dtype=dtype) * scale
    for x in (wide.clone(), wide.clone()[:, offset : offset + cols], wide.clone().T):
        expected = torch.tanh(x.double())
        before = x.data_ptr()
        assert tanh_(x) is x and x.data_ptr() == before  # in place
        assert torch.allclose(x.double(), expected, rtol=0, atol=2e-7)
        out = torch.empty_like(x)
        source = torch.atanh(expected.clamp(-0.999, 0.999)).to(dtype)
        assert tanh_into(out, source) is out
        assert torch.allclose(out.double(), torch.tanh(source.double()), rtol=0, atol=2e-7)
    # The whole buffer around the slice is untouched outside it.
    buffer = wide.clone()
    tanh_(buffer[:, offset : offset + cols])
    assert torch.equal(buffer[:, :offset], wide[:, :offset])
    assert torch.equal(buffer[:, offset + cols :], wide[:, offset + cols :])


def test_torch_tanh_where_numpy_cannot_take_the_tensor(monkeypatch):
    x = torch.randn(4, 4)
    assert numpy_tanh_applies(x)
    assert not numpy_tanh_applies(x.to(torch.bfloat16))
    assert not numpy_tanh_applies(x.clone().requires_grad_())
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    assert not numpy_tanh_applies(x)  # a compiled forward traces torch ops only
    # and the fallbacks still compute tanh (bf16 to its precision)
    y = x.to(torch.bfloat16)
    assert torch.allclose(tanh_(y.clone()).float(), torch.tanh(x), atol=1e-2)
    z = x.clone()
    assert torch.allclose(tanh_(z), torch.tanh(x))
    out = torch.empty(4, 4, dtype=torch.bfloat16)
    assert torch.allclose(tanh_into(out, y).float(), torch.tanh(x), atol=1e-2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_a_gpu_tensor_takes_torch_tanh():
    x = torch.randn(8, 8, device="cuda")
    assert not numpy_tanh_applies(x)
    assert torch.allclose(tanh_(x.clone()), torch.tanh(x))


def test_the_cells_take_it(monkeypatch):
    """The scratch cells' torch loops go through this module's tanh (a test of wiring: the
    loops' results against the reference are tests/test_models.py's). The GRU's and LSTM's C
    loops (models/fused_steps.py) take libm's tanhf instead: turned off here."""
    monkeypatch.setenv("RNN_TUI_NATIVE", "off")
    from rnn_tui.models import gru_scratch, lstm_scratch, rnn_scratch
    from rnn_tui.models.registry import build_model

    calls = []
    real = activations.tanh_
    for module in (gru_scratch, lstm_scratch, rnn_scratch):
        monkeypatch.setattr(module, "tanh_", lambda x: calls.append(x.shape) or real(x))
    monkeypatch.setattr(
        lstm_scratch, "tanh_into", lambda out, x: calls.append(x.shape) or tanh_into(out, x)
    )
    X = torch.randint(0, 30, (2, 5))
    for name, per_step in (("rnn-scratch", 1), ("gru-scratch", 1), ("lstm-scratch", 2)):
        calls.clear()
        model = build_model({"model": name, "vocab_size": 30, "hidden": 8})
        model(X, model.begin_state(2))
        assert len(calls) == 5 * per_step
