"""The seeds' sine series and its τ = 4 autoregressive features."""

import numpy as np
import pytest

from rnn_tui.data.errors import DataError
from rnn_tui.data.timeseries import ar_features, sine_series


def test_sine_series_deterministic_per_seed():
    t, x = sine_series(T=1000, noise=0.2, seed=0)
    assert t.shape == x.shape == (1000,)
    assert t[0] == 1 and t[-1] == 1000
    assert np.array_equal(x, sine_series(seed=0)[1])
    assert not np.array_equal(x, sine_series(seed=1)[1])
    residual = x - np.sin(0.01 * t)
    assert 0.15 < residual.std() < 0.25 and abs(residual.mean()) < 0.05
    _, clean = sine_series(T=50, noise=0.0)
    assert np.allclose(clean, np.sin(0.01 * np.arange(1, 51)), atol=1e-6)


def test_ar_features_shapes_and_values():
    _, x = sine_series()
    features, labels = ar_features(x, tau=4)
    assert features.shape == (996, 4) and labels.shape == (996,)
    for i in (0, 1, 500, 995):
        for j in range(4):
            assert features[i, j] == x[i + j]
        assert labels[i] == x[i + 4]
    i, j = np.meshgrid(np.arange(996), np.arange(4), indexing="ij")
    assert np.array_equal(features, x[i + j])
    assert np.array_equal(labels, x[4:])


def test_bad_arguments():
    with pytest.raises(DataError):
        sine_series(T=0)
    with pytest.raises(DataError):
        sine_series(noise=-1)
    with pytest.raises(DataError, match="too short"):
        ar_features(np.arange(4.0), tau=4)
    with pytest.raises(DataError):
        ar_features(np.arange(10.0), tau=0)
    with pytest.raises(DataError):
        ar_features(np.zeros((3, 3)))
