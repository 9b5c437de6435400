"""Exact gradient and Hessian against central differences, symmetry, HVPs."""
import numpy as np
import pytest

from lossland import SMOOTH_ACTIVATIONS, SquaredLoss
from lossland.derivatives import fd_gradient, fd_hessian

from conftest import ARCHS, make_problem


@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
@pytest.mark.parametrize("widths,biases", ARCHS)
@pytest.mark.parametrize("normalization", ["sum", "half"])
def test_gradient_and_hessian_match_central_differences(activation, widths, biases, normalization):
    net, theta, X, y = make_problem(widths, activation, biases, seed=len(widths) + 10 * biases)
    obj = SquaredLoss(net, X, y, normalization)
    g, H = obj.gradient(theta), obj.hessian(theta)
    g_fd = fd_gradient(obj.value, theta, h=1e-6)
    H_fd = fd_hessian(obj.gradient, theta, h=1e-5)
    assert np.abs(g - g_fd).max() <= 1e-6 * max(1.0, np.abs(g).max())
    assert np.abs(H - H_fd).max() <= 1e-6 * max(1.0, np.abs(H).max())
    # the two triangles come from independent computations
    assert np.abs(H - H.T).max() <= 1e-12 * max(1.0, np.abs(H).max())


@pytest.mark.parametrize("widths,biases", ARCHS)
def test_hvp_equals_hessian_times_vector(widths, biases, rng):
    net, theta, X, y = make_problem(widths, "tanh", biases, seed=3)
    obj = SquaredLoss(net, X, y)
    H = obj.hessian(theta)
    V = rng.standard_normal((3, net.n_params))
    assert np.allclose(obj.hvp(theta, V), V @ H, rtol=1e-12, atol=1e-12)
    assert np.allclose(obj.hvp(theta, V[0]), H @ V[0], rtol=1e-12, atol=1e-12)


def test_normalizations_differ_by_two():
    net, theta, X, y = make_problem((2, 3, 1), "sigmoid", True, seed=0)
    s, h = SquaredLoss(net, X, y, "sum"), SquaredLoss(net, X, y, "half")
    assert np.isclose(s.value(theta), 2 * h.value(theta))
    assert np.allclose(s.hessian(theta), 2 * h.hessian(theta))
    r = s.residuals(theta)
    assert np.isclose(s.value(theta), np.sum(r**2))


def test_jacobian_gives_gauss_newton_part():
    """H = 2 J^T J + sum_alpha 2 r_alpha Hess f_alpha: at zero residual H = 2 J^T J."""
    net, theta, X, _ = make_problem((2, 3, 2, 1), "softplus", True, seed=5)
    y = net(theta, X)                                # zero residual
    obj = SquaredLoss(net, X, y)
    J = obj.jacobian(theta)
    assert np.allclose(obj.hessian(theta), 2 * J.T @ J, atol=1e-12)
    assert np.allclose(J, np.array([fd_gradient(lambda t, a=a: net(t, X)[a], theta) for a in range(len(y))]),
                       atol=1e-7)
