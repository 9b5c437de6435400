import functools

import numpy as np
import pytest

from lossland import Network, SquaredLoss

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


# --------------------------------------------------------------------------
# Independent reference implementations (written from the documented
# conventions, not from lossland's code) and cached critical points.
# --------------------------------------------------------------------------
def reference_layers(widths, biases, theta):
    """Parse a flat vector by the documented layout: for l = 1..L, W[l] row by row, then b[l]."""
    theta = np.asarray(theta, dtype=float)
    pos, layers = 0, []
    for l in range(1, len(widths)):
        n_out, n_in = widths[l], widths[l - 1]
        W = [[theta[pos + i * n_in + j] for j in range(n_in)] for i in range(n_out)]
        pos += n_out * n_in
        if biases:
            b = [theta[pos + i] for i in range(n_out)]
            pos += n_out
        else:
            b = [0.0] * n_out
        layers.append((W, b))
    assert pos == theta.size, "theta has the wrong length for these widths"
    return layers


def reference_forward_sample(widths, sigma, biases, theta, x):
    """One sample, plain Python loops: returns (pre, act) lists indexed by layer 0..L."""
    layers = reference_layers(widths, biases, theta)
    L = len(widths) - 1
    act = [list(map(float, np.atleast_1d(x)))]
    pre = [None]
    for l, (W, b) in enumerate(layers, start=1):
        z = [sum(W[i][j] * act[-1][j] for j in range(len(act[-1]))) + b[i] for i in range(len(W))]
        pre.append(z)
        act.append([float(sigma(np.float64(t))) for t in z] if l < L else z)
    return pre, act


def reference_dh_dn(widths, activation, biases, theta, x, layer):
    """d f(x) / d n(layer, k; x) for one sample: the product of per-layer Jacobians.

    h maps n(layer; x) to the output: J = W[L] diag(sigma'(n(L-1))) ... W[layer+1] diag(sigma'(n(layer)))
    (for layer = L it is 1). Written per sample with numpy matrices.
    """
    layers = reference_layers(widths, biases, theta)
    pre, _ = reference_forward_sample(widths, activation.f, biases, theta, x)
    L = len(widths) - 1
    J = np.eye(widths[layer])
    for m in range(layer, L):
        J = np.array(layers[m][0]) @ (np.diag(activation.d1(np.array(pre[m]))) @ J)
    assert J.shape == (1, widths[layer])
    return J[0]


TEACHER_WIDTHS = (2, 5, 5, 1)

# (activation, widths, biases, seed of the start point): find_critical_point reaches
# ||grad|| <= 1e-10 at a point of non-zero loss in well under a second for each of them.
CRITICAL_CASES = [
    ("sigmoid", (2, 2, 1), True, 0),
    ("tanh", (2, 2, 1), True, 0),
    ("softplus", (2, 1, 2, 1), False, 0),
    ("gelu", (2, 2, 2, 1), True, 0),
    ("mish", (2, 2, 2, 1), False, 1),
    ("silu", (2, 1, 1, 1, 1), False, 1),
]


@functools.lru_cache(maxsize=None)
def teacher_data(n_samples=20, seed=1):
    from lossland.datasets import teacher_student

    X, y, _ = teacher_student(Network(TEACHER_WIDTHS, "tanh"), n_samples, seed)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@functools.lru_cache(maxsize=None)
def critical_point(activation, widths, biases, seed, gtol=1e-10):
    """A critical point of a student network on teacher-student data (cached per worker)."""
    from lossland.optimize import find_critical_point

    X, y = teacher_data()
    net = Network(widths, activation, biases=biases)
    obj = SquaredLoss(net, X, y)
    cp = find_critical_point(obj, net.init_params(seed, 0.5), gtol=gtol, maxiter=300)
    assert cp.converged, f"precondition: {net} did not converge ({cp.summary()})"
    assert cp.loss > 1e-3, "precondition: a critical point with non-zero loss"
    cp.theta.setflags(write=False)
    return net, cp.theta, X, y, cp
