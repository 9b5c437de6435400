"""Tests of lossland.relu_regions.model (002, eqs. (1)-(4), Definition 2.1) and the core kink guard."""

import numpy as np
import pytest
import sympy as sp

from lossland import Network, SquaredLoss
from lossland.derivatives import fd_gradient, fd_hessian
from lossland.objective import Objective
from lossland.relu_regions.model import (
    check_pattern, design_matrix, from_paper, from_pqc, g_A, gradient_g, hessian_g, loss_g,
    n_pqc, paper_parameters, pattern, pre_activations, relu_network, relu_objective, to_pqc)


def _problem(seed, biases, N=7, n=3, h=4, normalization="half"):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, n)), rng.normal(size=N)
    obj = SquaredLoss(relu_network(n, h, biases), X, y, normalization)
    return obj, rng.normal(size=obj.net.n_params), rng


@pytest.mark.parametrize("biases", [True, False])
@pytest.mark.parametrize("normalization", ["half", "sum"])
@pytest.mark.parametrize("seed", range(4))
def test_g_agrees_with_the_network_in_its_own_region(seed, biases, normalization):
    obj, theta, _ = _problem(seed, biases, normalization=normalization)
    A = pattern(obj, theta)
    assert np.allclose(g_A(obj, theta, A), obj.forward(theta).output, atol=1e-13)
    assert loss_g(obj, theta, A) == pytest.approx(obj.value(theta), rel=1e-13)
    assert np.allclose(gradient_g(obj, theta, A), obj.gradient(theta), atol=1e-12)
    assert np.allclose(hessian_g(obj, theta, A), obj.hessian(theta), atol=1e-11)


@pytest.mark.parametrize("biases", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_g_derivatives_for_any_pattern_match_finite_differences(seed, biases):
    obj, theta, rng = _problem(seed, biases)
    A = rng.integers(0, 2, size=(obj.n_samples, 4))
    grad = gradient_g(obj, theta, A)
    assert np.allclose(grad, fd_gradient(lambda t: loss_g(obj, t, A), theta), atol=1e-6)
    H = hessian_g(obj, theta, A)
    assert np.allclose(H, H.T)
    assert np.allclose(H, fd_hessian(lambda t: gradient_g(obj, t, A), theta), atol=1e-6)


def test_g_against_sympy():
    X = np.array([[-1.0, 1.0], [2.0, 1.0], [1.0, 3.0]])
    y = np.array([1.0, 2.0, 3.0])
    obj = relu_objective(X, y, 2)
    A = np.array([[1, 0], [1, 1], [0, 1]])
    w = sp.Matrix(2, 2, sp.symbols("w11 w12 w21 w22"))
    v, b, c = sp.Matrix(sp.symbols("v1 v2")), sp.Matrix(sp.symbols("b1 b2")), sp.Symbol("c")
    L = sum((sum(A[i, j] * v[j] * ((w[j, :] * sp.Matrix(X[i]))[0] + b[j]) for j in range(2))
             + c - y[i]) ** 2 for i in range(3)) / 2
    syms = list(w) + list(b) + list(v) + [c]        # the flat layout: W, b, v, c
    theta = np.array([0.3, -1.1, 0.7, 0.2, -0.4, 0.9, 1.3, -0.6, 0.25])
    at = dict(zip(syms, theta))
    assert float(L.subs(at)) == pytest.approx(loss_g(obj, theta, A), rel=1e-14)
    grad = np.array([float(sp.diff(L, s).subs(at)) for s in syms])
    assert np.allclose(grad, gradient_g(obj, theta, A), atol=1e-13)
    H = np.array([[float(sp.diff(L, s, t).subs(at)) for t in syms] for s in syms])
    assert np.allclose(H, hessian_g(obj, theta, A), atol=1e-13)


@pytest.mark.parametrize("biases", [True, False])
def test_pqc_change_of_variables(biases):
    obj, theta, rng = _problem(5, biases)
    A = rng.integers(0, 2, size=(obj.n_samples, 4))
    z = to_pqc(obj, theta)
    assert z.shape == (n_pqc(obj),) == (12 + (5 if biases else 0),)
    assert np.allclose(design_matrix(obj, A) @ z, g_A(obj, theta, A), atol=1e-13)
    P = paper_parameters(obj.net, theta)
    assert np.allclose(z[:12].reshape(4, 3), P.v[:, None] * P.W)
    theta2 = from_pqc(obj, z)
    assert np.allclose(to_pqc(obj, theta2), z)
    assert np.allclose(paper_parameters(obj.net, theta2).v, 1.0)
    assert loss_g(obj, theta2, A) == pytest.approx(loss_g(obj, theta, A), rel=1e-12)


def test_paper_parameters_round_trip_and_layout():
    net = relu_network(2, 3)
    W, v, b, c = np.arange(6.0).reshape(3, 2), np.array([7.0, 8, 9]), np.array([-1.0, -2, -3]), 4.5
    theta = from_paper(net, W, v, b, c)
    assert np.array_equal(theta, [0, 1, 2, 3, 4, 5, -1, -2, -3, 7, 8, 9, 4.5])
    P = paper_parameters(net, theta)
    assert np.array_equal(P.W, W) and np.array_equal(P.v, v) and np.array_equal(P.b, b) and P.c == c
    nb = relu_network(2, 3, biases=False)
    P = paper_parameters(nb, from_paper(nb, W, v))
    assert P.b is None and P.c is None


def test_pattern_is_definition_21_with_zero_inactive():
    X = np.array([[-1.0, 1.0], [2.0, 1.0], [1.0, 3.0]])
    obj = relu_objective(X, [1, 2, 3], 1, biases=False)
    theta = from_paper(obj.net, [[1.0, 1.0]], [1.0])          # w.x1 = 0: on a boundary
    assert np.array_equal(pre_activations(obj, theta)[:, 0], [0.0, 3.0, 4.0])
    assert np.array_equal(pattern(obj, theta)[:, 0], [False, True, True])


def test_bad_input():
    obj, theta, _ = _problem(0, True)
    with pytest.raises(ValueError, match="A must have shape"):
        g_A(obj, theta, np.ones((3, 4)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        design_matrix(obj, np.full((7, 4), 2))
    with pytest.raises(TypeError, match="A must be"):
        loss_g(obj, theta, "all")
    with pytest.raises(ValueError, match="theta"):
        pattern(obj, theta[:-1])
    with pytest.raises(ValueError, match="z must have"):
        from_pqc(obj, np.ones(3))
    with pytest.raises(ValueError, match="W must have shape"):
        from_paper(obj.net, np.ones((2, 2)), np.ones(4))
    with pytest.raises(ValueError, match="no biases"):
        from_paper(relu_network(3, 4, False), np.ones((4, 3)), np.ones(4), b=np.ones(4))
    sig = SquaredLoss(Network((3, 4, 1), "sigmoid"), np.ones((2, 3)), [1, 2])
    with pytest.raises(ValueError, match="ReLU network of 002"):
        pattern(sig, np.zeros(sig.net.n_params))
    with pytest.raises(TypeError, match="objective"):
        pattern("obj", theta)
    with pytest.raises(ValueError, match="h"):
        relu_network(2, 0)


def test_core_derivatives_refuse_kinks():
    X = np.array([[-2.0], [2.0]])
    obj = relu_objective(X, [-3.0, -1.0], 1, biases=False)      # 002, Fig. 2
    theta = from_paper(obj.net, [[0.0]], [1.0])
    assert obj.value(theta) == 5.0                               # the value exists
    for method in (obj.gradient, obj.hessian, obj.jacobian, obj.output_deltas,
                   lambda t: obj.hvp(t, np.ones(2))):
        with pytest.raises(ValueError, match=r"n\(1, 1; x_1\) = 0 is a kink of relu"):
            method(theta)
    gen = Objective(obj.net, X, np.array([-3.0, -1.0]), loss="cauchy")
    for method in (gen.gradient, gen.hessian, gen.deltas):
        with pytest.raises(ValueError, match="kink of relu"):
            method(theta)
    inside = from_paper(obj.net, [[0.5]], [1.0])
    assert np.isfinite(obj.gradient(inside)).all() and np.isfinite(gen.hessian(inside)).all()


@pytest.mark.parametrize("biases", [True, False])
def test_exact_design_matrix_is_the_float_one_in_fractions(biases):
    from fractions import Fraction

    from lossland.relu_regions.model import to_fractions
    obj, _, rng = _problem(2, biases)
    A = rng.integers(0, 2, size=(obj.n_samples, 4))
    D, Dx = design_matrix(obj, A), design_matrix(obj, A, exact=True)
    assert Dx.dtype == object and all(isinstance(e, Fraction) for e in Dx.ravel())
    assert np.array_equal(Dx.astype(float), D)
    assert to_fractions([0.5, 2, Fraction(1, 3)]).tolist() == [Fraction(1, 2), 2, Fraction(1, 3)]
    assert to_fractions(0.1)[()] == Fraction(3602879701896397, 2 ** 55)
