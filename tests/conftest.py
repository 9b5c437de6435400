import numpy as np
import pytest

from lossland import Network

# Architectures used across the tests: (widths, biases)
ARCHS = [
    ((1, 2, 1), True),
    ((2, 3, 1), False),
    ((3, 4, 2, 1), True),
    ((2, 3, 4, 2, 1), False),
    ((2, 2, 3, 2, 2, 1), True),
]


def make_problem(widths, activation, biases, seed, n_samples=7, scale=0.5):
    rng = np.random.default_rng(seed)
    net = Network(widths, activation, biases=biases)
    X = rng.standard_normal((n_samples, widths[0]))
    y = rng.standard_normal(n_samples)
    theta = net.init_params(rng, scale)
    return net, theta, X, y


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
