"""Tests for lossland.nonattracting.embedded_points: the Hessian at embedded points (000 Theorem 6, 001 Theorems 2, 13)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.embedding import B_matrix, degenerate_direction, embed_neuron, embed_repeatedly
from lossland.nonattracting.constructions import fukumizu_amari_example
from lossland.nonattracting.embedded_points import (GrowthStep, check_grown_point, embedded_definiteness,
                                                    embedding_kernel, grow, separation,
                                                    smallest_eigenvalue_outside, zero_tolerance)


@pytest.fixture(scope="module")
def base():
    """The 1-1-1 strict minimum with B > 0 of chapter P4 (D = 0: last hidden layer)."""
    return fukumizu_amari_example()


@pytest.mark.parametrize("normalization", ["sum", "half"])
def test_embedded_definiteness_follows_theorem_6(base, normalization):
    obj = SquaredLoss(base.net, base.X, base.y, normalization)
    for lam, psd in ((0.5, True), (0.2, True), (-0.5, False), (1.5, False)):
        big_obj, tb, d = embedded_definiteness(obj, base.theta, 1, 0, lam)
        assert big_obj.normalization == normalization and big_obj.net.widths == (1, 2, 1)
        assert np.allclose(big_obj.net(tb, base.X), base.net(base.theta, base.X), rtol=0, atol=1e-13)
        assert d.positive_semidefinite == psd
        assert np.sum(np.abs(d.eigenvalues) <= d.tol) == 1           # the degenerate direction
    with pytest.raises(TypeError, match="objective"):
        embedded_definiteness(base.net, base.theta, 1, 0, 0.5)
    with pytest.raises(ValueError, match="rtol"):
        embedded_definiteness(base.objective, base.theta, 1, 0, 0.5, rtol=-1.0)


def test_zero_tolerance_is_hessian_error_plus_gradient():
    rng = np.random.default_rng(0)
    net = Network((2, 3, 1))
    obj = SquaredLoss(net, rng.standard_normal((6, 2)), rng.standard_normal(6))
    th = net.init_params(rng)
    H, g = obj.hessian(th), obj.gradient(th)
    expected = 100 * (net.n_params * np.finfo(float).eps * np.linalg.norm(H, 2) + np.linalg.norm(g))
    assert zero_tolerance(obj, th) == pytest.approx(expected, rel=1e-12)


def test_embedding_kernel_is_flat_and_in_the_hessian_kernel(base):
    net, th = embed_repeatedly(base.net, base.theta, 1, 0, [0.3, 0.6, 0.3])
    obj = SquaredLoss(net, base.X, base.y)
    K = embedding_kernel(net, base.net.widths)
    assert K.shape == (3, net.n_params) and np.allclose(np.linalg.norm(K, axis=1), 1.0)
    assert np.abs(obj.hessian(th) @ K.T).max() <= 1e-9                 # exact kernel at a critical point
    for d in K:
        assert abs(obj.value(th + 0.7 * d) - obj.value(th)) <= 1e-12 * obj.value(th)
    assert embedding_kernel(net, net.widths).shape == (0, net.n_params)
    with pytest.raises(ValueError, match="base_widths"):
        embedding_kernel(net, (1, 5, 1))
    with pytest.raises(TypeError, match="net"):
        embedding_kernel("1-4-1", (1, 1, 1))


def test_check_grown_point_and_separation(base):
    net, th = embed_repeatedly(base.net, base.theta, 1, 0, [0.3, 0.3])
    obj = SquaredLoss(net, base.X, base.y)
    c = check_grown_point(obj, th, embedding_kernel(net, base.net.widths))
    ev = np.sort(np.linalg.eigvalsh(obj.hessian(th)))
    assert c.kernel.tol == pytest.approx(zero_tolerance(obj, th), rel=0)
    assert c.positive_semidefinite and c.kernel.dim == c.predicted_dim == 2
    assert c.angle <= 1 / (100 * c.kernel.gap)                          # Davis-Kahan
    inside = np.abs(ev) <= c.kernel.tol
    assert separation(c) == pytest.approx(np.abs(ev[~inside]).min() / np.abs(ev[inside]).max(), rel=1e-6)
    with pytest.raises(TypeError, match="check"):
        separation(0.5)


def test_grow_records_the_hypotheses_and_conclusions(base):
    lam, T = 0.3, 4
    steps = grow(base.objective, base.theta, 1, T, lam)
    assert len(steps) == T and all(isinstance(s, GrowthStep) for s in steps)
    assert steps[-1].net.widths == (1, T + 1, 1)
    B0 = B_matrix(base.objective, base.theta, 1, 0)[0, 0]
    for t, s in enumerate(steps, start=1):
        assert s.B[0, 0] == pytest.approx((1 - lam) ** (t - 1) * B0, rel=1e-10)   # 001, proof of Theorem 13
        assert s.D.measured <= s.D.bound
        assert s.check.grad_norm <= 1e-10 and s.check.positive_semidefinite and s.check.kernel.dim == t
        assert np.array_equal(s.theta, embed_neuron(s.before.net, s.theta_before, 1, 0, lam)[1])
    with pytest.raises(ValueError, match="steps"):
        grow(base.objective, base.theta, 1, 0, lam)


def test_smallest_eigenvalue_outside_changes_sign_with_lambda(base):
    net, th = embed_neuron(base.net, base.theta, 1, 0, 0.5)
    obj = SquaredLoss(net, base.X, base.y)
    K = embedding_kernel(net, base.net.widths)
    d = degenerate_direction(base.net, base.theta, 1, 0)
    mu = {lam: smallest_eigenvalue_outside(obj, th + (lam - 0.5) * d, K) for lam in (0.8, 0.5, 0.2, -0.3, 1.4)}
    assert mu[0.8] > 0 and mu[0.5] > 0 and mu[0.2] > 0 and mu[-0.3] < 0 and mu[1.4] < 0
    empty = np.zeros((0, net.n_params))
    assert smallest_eigenvalue_outside(obj, th, empty) == pytest.approx(np.linalg.eigvalsh(obj.hessian(th))[0],
                                                                        abs=1e-12)
    with pytest.raises(ValueError, match="kernel"):
        smallest_eigenvalue_outside(obj, th, K[:, :-1])
