"""Batched random-direction scans (lossland.landscape) at the scale of 001 Fig. 3.

Complements tests/test_landscape.py: the batched evaluation on the 504-parameter 2-21-21-1
network of 001 Section 5.4, the scan's verdicts at an embedded minimum and at the saddle
reached by moving lambda out of (0, 1) (they must match the sign of d^T H d), and the
``python -m lossland.landscape`` entry point.
"""
import subprocess
import sys

import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland import landscape as ls
from lossland.embedding import embed_neuron
from lossland.optimize import newton_polish
from lossland.nonattracting.reference import teacher_student_setup, to_lossland, train_bfgs_fd

EPS = np.finfo(float).eps


@pytest.fixture(scope="module")
def base_001():
    """The polished 2-1-1-1 minimum of 001 Section 5.4 and its data."""
    s = teacher_student_setup(22, (2, 5, 5, 1), 20, (2, 1, 1, 1))
    mats, _ = train_bfgs_fd(s.student, s.inputs, s.labels)
    net, theta = to_lossland(mats)
    X, y = s.inputs, s.labels[:, 0]
    theta, gnorm, _ = newton_polish(SquaredLoss(net, X, y), theta, gtol=1e-10)
    assert gnorm <= 1e-10
    return net, theta, X, y


@pytest.mark.parametrize("normalization", ["sum", "half"])
def test_losses_at_on_the_wide_deep_network(normalization):
    rng = np.random.default_rng(0)
    net = Network((2, 21, 21, 1), "sigmoid", biases=False)
    X, y = rng.random((20, 2)), rng.standard_normal(20)
    obj = SquaredLoss(net, X, y, normalization)
    thetas = net.init_params(1)[None, :] + 0.5 * rng.standard_normal((300, net.n_params))
    out = ls.losses_at(obj, thetas)
    ref = np.array([obj.value(t) for t in thetas])
    assert out.shape == (300,) and np.allclose(out, ref, rtol=1e-13, atol=0)


def test_scan_value_is_the_t0_column(base_001):
    net, theta, X, y = base_001
    obj = SquaredLoss(net, X, y)
    ts = np.array([-0.1, 0.0, 0.1])
    scan = ls.direction_scan(obj, theta, ls.random_directions(net.n_params, 25, 1), ts)
    assert np.all(scan.losses[:, 1] == scan.value)          # theta + 0 * d is theta, bit for bit
    assert scan.value == pytest.approx(obj.value(theta), rel=1e-14)


def _embedded(base_001, lam):
    net, theta, X, y = base_001
    big, th = embed_neuron(net, theta, 2, 0, lam)            # 001: B(2) = 0.0757 > 0
    return SquaredLoss(big, X, y), th


def test_scan_finds_no_descent_at_the_embedded_minimum(base_001):
    obj, th = _embedded(base_001, 0.3)
    ts = 0.1 * np.arange(-10, 11) / 10
    scan = ls.direction_scan(obj, th, ls.random_directions(obj.net.n_params, 3000, 2), ts)
    tol = ts.max() * np.linalg.norm(obj.gradient(th)) + 1e3 * EPS * scan.value
    assert scan.largest_decrease() <= tol and scan.n_decreasing(tol) == 0
    assert np.all(scan.min_over_directions >= scan.value - tol)


def test_scan_at_the_saddle_agrees_with_the_hessian(base_001):
    """lambda = -0.5 turns alpha beta B(2) negative: random directions go down iff d^T H d < 0."""
    obj, th = _embedded(base_001, -0.5)
    V = ls.random_directions(obj.net.n_params, 3000, 3)
    H = obj.hessian(th)
    curv = np.sum((V @ (0.5 * (H + H.T))) * V, axis=1)
    ts = 1e-3 * np.arange(-10, 11) / 10                     # second order decides at this scale
    scan = ls.direction_scan(obj, th, V, ts)
    tol = ts.max() * np.linalg.norm(obj.gradient(th)) + 1e3 * EPS * scan.value
    clear = np.abs(curv) > 1e-6                             # leave out directions of ~zero curvature
    assert (curv < -1e-6).sum() > 0
    assert np.array_equal(scan.decreasing(tol)[clear], curv[clear] < 0)
    assert scan.largest_decrease() > tol


def test_command_line_entry_point(tmp_path, base_001):
    obj, th = _embedded(base_001, 0.3)
    point, out = tmp_path / "point.npz", tmp_path / "scan.npz"
    ls.save_point(point, obj, th)
    cmd = [sys.executable, "-m", "lossland.landscape", str(point), str(out),
           "--directions", "50", "--seed", "4", "--t-max", "0.05", "--n-t", "5"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "50 directions x 5 t-values" in done.stdout
    with np.load(out) as f:
        V = ls.random_directions(obj.net.n_params, 50, np.random.default_rng(4))
        expected = ls.loss_along_many(obj, th, V, np.linspace(-0.05, 0.05, 5))
        assert np.array_equal(f["losses"], expected)
        assert float(f["t_max"]) == 0.05 and int(f["n_t"]) == 5 and str(f["scipy_version"])


@pytest.mark.parametrize("bad,match", [
    (lambda obj, th, V: ls.loss_along_many(obj, th, np.where(V == V[0, 0], np.nan, V), [0.0]), "directions"),
    (lambda obj, th, V: ls.loss_along_many(obj, th, V, []), "ts"),
    (lambda obj, th, V: ls.losses_at(obj, V[:, :, None]), "thetas"),
    (lambda obj, th, V: ls.direction_scan(obj, th, V, [[0.0]]), "ts"),
])
def test_scan_input_validation(base_001, bad, match):
    obj, th = _embedded(base_001, 0.3)
    V = ls.random_directions(obj.net.n_params, 4, 0)
    with pytest.raises(ValueError, match=match):
        bad(obj, th, V)
