"""sequence_mask and the masked cross-entropy of seq2seq training (d2l §9.7)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.train.masked_loss import masked_cross_entropy, sequence_mask


def test_sequence_mask_d2l_example():
    X = torch.tensor([[1, 2, 3], [4, 5, 6]])
    masked = sequence_mask(X, torch.tensor([1, 2]))
    assert masked.tolist() == [[1, 0, 0], [4, 5, 0]]
    assert X.tolist() == [[1, 2, 3], [4, 5, 6]]  # a new tensor; d2l writes into X


def test_sequence_mask_trailing_dims_and_value():
    # d2l: sequence_mask(torch.ones(2, 3, 4), torch.tensor([1, 2]), value=-1)
    masked = sequence_mask(torch.ones(2, 3, 4), torch.tensor([1, 2]), value=-1)
    expected = torch.ones(2, 3, 4)
    expected[0, 1:] = -1
    expected[1, 2:] = -1
    assert torch.equal(masked, expected)


def test_sequence_mask_lengths_outside_the_steps():
    X = torch.ones(3, 2)
    assert sequence_mask(X, torch.tensor([0, 2, 5])).tolist() == [[0, 0], [1, 1], [1, 1]]


def test_sequence_mask_shape_error():
    with pytest.raises(ValueError, match="valid_len"):
        sequence_mask(torch.ones(2, 3), torch.tensor([1, 2, 3]))


def hand_loss(logits, labels, valid_len) -> tuple[float, int]:
    """The definition, one token at a time."""
    total, count = 0.0, 0
    for i in range(logits.shape[0]):
        for t in range(min(int(valid_len[i]), logits.shape[1])):
            total -= F.log_softmax(logits[i, t].double(), dim=-1)[labels[i, t]].item()
            count += 1
    return total, count


@st.composite
def batches(draw):
    B, T, V = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(2, 7))
    valid = draw(st.lists(st.integers(0, T + 1), min_size=B, max_size=B))
    seed = draw(st.integers(0, 2**16))
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, V, generator=gen) * 3
    labels = torch.randint(0, V, (B, T), generator=gen)
    return logits, labels, torch.tensor(valid)


@settings(max_examples=60, deadline=None)
@given(batches())
def test_equals_a_hand_loop_over_valid_tokens(batch):
    logits, labels, valid = batch
    total, count = masked_cross_entropy(logits, labels, valid)
    expected_total, expected_count = hand_loss(logits, labels, valid)
    assert total.shape == () and count.shape == ()
    assert total.dtype == torch.float32 and count.dtype == torch.int64
    assert count.item() == expected_count
    assert total.item() == pytest.approx(expected_total, rel=1e-5, abs=1e-5)


@settings(max_examples=60, deadline=None)
@given(batches(), st.integers(0, 2**16), st.sampled_from([-100, -1, 0, 10_000]))
def test_padded_positions_are_ignored(batch, seed, bad_label):
    logits, labels, valid = batch
    padded = torch.arange(labels.shape[1]) >= valid[:, None]
    gen = torch.Generator().manual_seed(seed)
    noisy_logits = torch.where(
        padded[..., None], torch.randn(logits.shape, generator=gen) * 50, logits
    )
    # Whatever sits at padded positions — another logit, a label outside the vocabulary —
    # changes neither the sum nor the count.
    noisy_labels = labels.masked_fill(padded, bad_label)
    total, count = masked_cross_entropy(logits, labels, valid)
    noisy_total, noisy_count = masked_cross_entropy(noisy_logits, noisy_labels, valid)
    assert torch.equal(count, noisy_count)
    torch.testing.assert_close(noisy_total, total)


def test_no_gradient_reaches_padded_positions():
    logits = torch.randn(2, 4, 5, requires_grad=True)
    labels = torch.tensor([[1, 2, 3, 4], [0, 0, 0, 0]])
    total, count = masked_cross_entropy(logits, labels, torch.tensor([2, 3]))
    (total / count).backward()
    assert not logits.grad[0, 2:].any() and not logits.grad[1, 3:].any()
    assert logits.grad[0, :2].abs().sum() > 0 and logits.grad[1, :3].abs().sum() > 0


def test_mean_per_token_is_not_divided_by_num_steps():
    # With every token valid, sum / count is PyTorch's mean cross-entropy. d2l's
    # .mean(dim=1) then ÷ valid tokens gives that ÷ num_steps (d2l issue #2076).
    logits, labels = torch.randn(3, 5, 4), torch.randint(0, 4, (3, 5))
    total, count = masked_cross_entropy(logits, labels, torch.full((3,), 5))
    mean = F.cross_entropy(logits.reshape(-1, 4), labels.reshape(-1))
    torch.testing.assert_close(total / count, mean)
    d2l = F.cross_entropy(logits.permute(0, 2, 1), labels, reduction="none").mean(dim=1)
    torch.testing.assert_close(d2l.sum() / count, mean / 5)


def test_all_padding_gives_zero_sum_and_count():
    total, count = masked_cross_entropy(
        torch.randn(2, 3, 4), torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 0])
    )
    assert total.item() == 0.0 and count.item() == 0
    assert math.isfinite(total.item())


def test_low_precision_logits_give_a_float32_sum():
    logits = torch.randn(2, 3, 4)
    labels = torch.randint(0, 4, (2, 3))
    total, _ = masked_cross_entropy(logits.bfloat16(), labels, torch.tensor([3, 1]))
    assert total.dtype == torch.float32
    reference, _ = masked_cross_entropy(logits.bfloat16().float(), labels, torch.tensor([3, 1]))
    torch.testing.assert_close(total, reference)


@pytest.mark.parametrize(
    ("shapes"),
    [((2, 3), (2, 3), (2,)), ((2, 3, 4), (2, 4), (2,)), ((2, 3, 4), (2, 3), (3,))],
)
def test_shape_errors(shapes):
    logits_shape, labels_shape, valid_shape = shapes
    with pytest.raises(ValueError, match="masked_cross_entropy needs") as error:
        masked_cross_entropy(
            torch.zeros(logits_shape),
            torch.zeros(labels_shape, dtype=torch.long),
            torch.ones(valid_shape, dtype=torch.long),
        )
    assert "\n" not in str(error.value)
