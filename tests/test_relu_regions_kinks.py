"""lossland.relu_regions.kinks: one-sided derivatives, differentiability and minima on region boundaries."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from lossland import Network, SquaredLoss
from lossland.relu_regions import kinks as K
from lossland.relu_regions.model import from_paper, gradient_g, pattern, relu_objective


def fig2(y=(-3.0, -1.0)):
    """002, Fig. 2: x = (-2, 2), f(x) = w2 σ(w1 x), no biases; θ = (w1, w2)."""
    return relu_objective(np.array([[-2.0], [2.0]]), list(y), 1, biases=False)


def small(h=2, biases=True):
    X = np.array([[1.0, 0.0], [-2.0, 1.0], [3.0, -1.0], [0.0, 2.0]])
    return relu_objective(X, [1.0, -1.0, 2.0, 0.5], h, biases=biases)


def on_boundary(obj, rng, pairs, den=4):
    """An exact θ (Fractions, small denominators) with w_jᵀx_i + b_j = 0 for the given (i, j)."""
    net = obj.net
    n, h = net.widths[0], net.widths[1]
    theta = [F(int(a), den) for a in rng.integers(-8, 9, net.n_params)]
    theta = np.array(theta, dtype=object)
    for i, j in pairs:
        idx = [net.weight_index(1, j, k) for k in range(n)]
        z = sum(theta[p] * F(float(obj.X[i, k])) for k, p in enumerate(idx))
        if net.biases:
            theta[net.bias_index(1, j)] = -z
        else:                                       # move w_j so that w_j.x_i = 0
            k = int(np.argmax(np.abs(obj.X[i])))
            theta[idx[k]] -= z / F(float(obj.X[i, k]))
    for j in range(h):                              # v_j != 0
        vj = net.weight_slice(2).start + j
        if theta[vj] == 0:
            theta[vj] = F(1, 2)
    return theta


def exact_loss(obj, theta):
    """L_f(θ) in Fractions, from the definition (002, eqs. (1), (3))."""
    net = obj.net
    n, h = net.widths[0], net.widths[1]
    W = np.array(theta[net.weight_slice(1)], dtype=object).reshape(h, n)
    v = theta[net.weight_slice(2)]
    b = theta[net.bias_slice(1)] if net.biases else [F(0)] * h
    c = theta[net.bias_slice(2)][0] if net.biases else F(0)
    total = F(0)
    for x, y in zip(obj.X, obj.y):
        x = [F(float(t)) for t in x]
        f = sum(v[j] * max(sum(W[j, k] * x[k] for k in range(n)) + b[j], F(0)) for j in range(h)) + c
        total += (f - F(float(y))) ** 2
    return total / 2


# ------------------------------------------------------------------ Fig. 2
def test_fig2_one_sided_slopes_are_exact():
    obj = fig2()
    for w2 in (F(1), F(-3, 2), F(5, 7)):
        right = K.directional_derivative(obj, [F(0), w2], [1, 0])
        left = K.directional_derivative(obj, [F(0), w2], [-1, 0])
        assert isinstance(right, F) and right == 2 * w2 and left == 6 * w2
        assert K.directional_derivative(obj, [F(0), w2], [0, 1]) == 0


def test_fig2_kinds_gradient_and_minimum_test():
    obj = fig2()
    assert K.kinks(obj, [F(0), F(1)]) == [(0, 0), (1, 0)]
    assert K.point_kind(obj, [F(0), F(1)]) == "non-differentiable"
    assert K.point_kind(obj, [F(0), F(0)]) == "boundary-differentiable"
    assert K.point_kind(obj, [F(1, 2), F(-1)]) == "interior"
    assert list(K.gradient(obj, [F(0), F(0)])) == [0, 0]
    with pytest.raises(ValueError, match=r"sample i=0, node j=0"):
        K.gradient(obj, [F(0), F(1)])
    assert K.minimum_test(obj, [F(0), F(1)]).verdict == "necessary conditions hold"
    t = K.minimum_test(obj, [F(0), F(-1)])
    assert t.verdict == "not a local minimum" and not t.first_order
    assert t.descent_ray.coefficients[1] < 0
    t0 = K.minimum_test(obj, [F(0), F(0)])            # saddle: descent of second order
    assert t0.verdict == "not a local minimum" and t0.first_order
    k, ck = t0.descent_ray.leading
    assert k == 2 and ck < 0
    assert exact_loss(obj, np.array([F(0), F(0)], dtype=object) + t0.descent * F(1, 10)) < 5


def test_x_and_minus_x_on_one_line_cancel():
    """y1 = -y2: the residuals at w1 = 0 cancel with weights |λ| = 2: L_f is smooth there."""
    obj = fig2(y=(1.0, -1.0))
    pk = K.classify(obj, [F(0), F(3)])
    assert pk.kind == "boundary-differentiable" and pk.lines == [(0, (0, 1), 0)]
    g = K.gradient(obj, [F(0), F(3)])
    assert list(g) == [6, 0]                       # L = ½(2 w1 w2 + 1)² + ½ on both sides
    assert K.directional_derivative(obj, [F(0), F(3)], [-1, 0]) == -6
    # the linear part of the hinges: gradient_g of the strict pattern misses it
    assert np.allclose(gradient_g(obj, [0.0, 3.0], pattern(obj, [0.0, 3.0])), [0.0, 0.0])


# ------------------------------------------------------- exactness and cross-checks
@pytest.mark.parametrize("biases", [True, False])
def test_ray_polynomial_is_exact_on_its_piece(biases):
    rng = np.random.default_rng(1)
    obj = small(biases=biases)
    for _ in range(5):
        theta = on_boundary(obj, rng, [(0, 0), (2, 1)])
        assert (0, 0) in K.kinks(obj, theta) and (2, 1) in K.kinks(obj, theta)
        d = np.array([F(int(a), 3) for a in rng.integers(-3, 4, obj.net.n_params)], dtype=object)
        ray = K.ray_polynomial(obj, theta, d)
        assert ray.coefficients[0] == exact_loss(obj, theta)
        assert ray.coefficients[1] == K.directional_derivative(obj, theta, d)
        tmax = min(ray.t_max, F(1))
        for frac in (F(1, 7), F(1, 2), F(1)):
            t = tmax * frac
            assert ray(t) == exact_loss(obj, theta + t * d)


def test_against_sympy_difference_quotients():
    """Exact difference quotients at four tiny t (sympy Max network), interpolated to t = 0."""
    rng = np.random.default_rng(2)
    obj = small(h=2, biases=True)
    net = obj.net
    ps = sp.symbols(f"p0:{net.n_params}")
    W = sp.Matrix(2, 2, ps[:4])
    b, v, c = ps[4:6], ps[6:8], ps[8]
    L = 0
    for x, yy in zip(obj.X, obj.y):
        x = [sp.Rational(float(t)) for t in x]
        f = sum(v[j] * sp.Max(W[j, 0] * x[0] + W[j, 1] * x[1] + b[j], 0) for j in range(2)) + c
        L += sp.Rational(1, 2) * (f - sp.Rational(float(yy))) ** 2
    tt = sp.Symbol("t")
    for _ in range(4):
        theta = on_boundary(obj, rng, [(1, 0), (3, 1)])
        d = np.array([F(int(a)) for a in rng.integers(-2, 3, net.n_params)], dtype=object)
        at = lambda t: {p: sp.Rational(th + t * dd) for p, th, dd in zip(ps, theta, d)}
        L0 = L.subs(at(0))
        pts = [(F(k, 10**6), (L.subs(at(F(k, 10**6))) - L0) / sp.Rational(F(k, 10**6))) for k in (1, 2, 3, 4)]
        poly = sp.interpolating_poly(4, tt, [sp.Rational(p[0]) for p in pts], [p[1] for p in pts])
        assert poly.subs(tt, 0) == sp.Rational(K.directional_derivative(obj, theta, d))


@pytest.mark.parametrize("biases", [True, False])
def test_against_finite_differences_from_each_side(biases):
    """Dyadic θ and integer data: the boundary point is exact in float too."""
    rng = np.random.default_rng(3)
    obj = small(biases=biases)
    h = 2.0 ** -20
    for _ in range(10):
        theta = on_boundary(obj, rng, [(0, 0), (1, 1)], den=4)
        tf = np.array([float(t) for t in theta])
        assert K.kinks(obj, tf) == K.kinks(obj, theta)
        d = rng.standard_normal(obj.net.n_params)
        for s in (1.0, -1.0):
            D = K.directional_derivative(obj, tf, s * d)
            fd = (obj.value(tf + h * s * d) - obj.value(tf)) / h
            assert abs(D - fd) < 1e-4 * (1 + abs(D))
            De = K.directional_derivative(obj, theta, [F(x) for x in s * d])
            assert abs(float(De) - D) < 1e-12 * (1 + abs(D))


def test_interior_gradient_matches_the_core():
    rng = np.random.default_rng(4)
    obj = small(h=3)
    for _ in range(5):
        theta = rng.standard_normal(obj.net.n_params)
        assert K.point_kind(obj, theta) == "interior"
        assert np.allclose(K.gradient(obj, theta), obj.gradient(theta), rtol=1e-12, atol=1e-12)
        d = rng.standard_normal(obj.net.n_params)
        assert np.isclose(K.directional_derivative(obj, theta, d), obj.gradient(theta) @ d, rtol=1e-12)


def test_dead_output_weight_makes_the_boundary_differentiable():
    rng = np.random.default_rng(5)
    obj = small(h=2)
    net = obj.net
    theta = on_boundary(obj, rng, [(0, 0)])
    theta[net.weight_slice(2).start] = F(0)              # v_0 = 0
    assert K.point_kind(obj, theta) == "boundary-differentiable"
    g = K.gradient(obj, theta)
    for _ in range(5):                                   # D_d L is linear: D_d = g.d, D_{-d} = -D_d
        d = np.array([F(int(a)) for a in rng.integers(-3, 4, net.n_params)], dtype=object)
        assert K.directional_derivative(obj, theta, d) == g @ d == -K.directional_derivative(obj, theta, -d)
    theta[net.weight_slice(2).start] = F(1)
    with pytest.raises(ValueError, match=r"sample i=0, node j=0"):
        K.gradient(obj, theta)


def test_duplicate_samples_with_opposite_residuals_cancel():
    X = np.array([[1.0], [1.0], [-1.0]])
    obj = relu_objective(X, [1.0, -1.0, 0.0], 1, biases=True)
    theta = from_paper(obj.net, [[1.0]], [2.0], [-1.0], 0.0)     # z = x - 1: kinks at samples 0, 1
    pk = K.classify(obj, theta)
    assert pk.kinks == [(0, 0), (1, 0)] and pk.kind == "boundary-differentiable"
    obj2 = relu_objective(X, [1.0, -0.5, 0.0], 1, biases=True)
    assert K.classify(obj2, theta).blocking == (0, 0)


def test_random_boundary_points_are_non_differentiable_and_linear_only_if_smooth():
    rng = np.random.default_rng(6)
    obj = small(h=2)
    for _ in range(5):
        theta = on_boundary(obj, rng, [(2, 0)])
        assert K.point_kind(obj, theta) == "non-differentiable"
        e = np.zeros(obj.net.n_params, dtype=object) + F(0)
        e[obj.net.bias_index(1, 0)] = F(1)
        assert K.directional_derivative(obj, theta, e) != -K.directional_derivative(obj, theta, -e)


# ------------------------------------------------------------ minima on boundaries
def dead_node_objective():
    """A 1-1-1 local minimum in the linear region (002, eq. (5)) plus a node on a boundary (Section 3.2)."""
    X = np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0]])
    return relu_objective(X, [4.0, 2.0, 0.0, 1.0, 2.0], 2, biases=True)


def dead_node_theta(obj, v_new, b_new):
    u, d = F(-1, 2), F(9, 5)                             # least squares: u x + d
    theta = np.zeros(obj.net.n_params, dtype=object) + F(0)
    net = obj.net
    theta[net.weight_index(1, 0, 0)], theta[net.bias_index(1, 0)] = F(1), F(3)
    theta[net.weight_index(1, 1, 0)], theta[net.bias_index(1, 1)] = F(1), F(b_new)
    theta[net.weight_slice(2).start], theta[net.weight_slice(2).start + 1] = u, F(v_new)
    theta[net.bias_slice(2).start] = d - u * 3
    return theta


@pytest.mark.parametrize("v_new,verdict", [(-1, "necessary conditions hold"), (1, "not a local minimum"),
                                           (0, "not a local minimum")])
def test_dead_node_on_the_boundary(v_new, verdict):
    obj = dead_node_objective()
    theta = dead_node_theta(obj, v_new, -2)              # b = -max_i w x_i: kink at x = 2
    assert K.kinks(obj, theta) == [(4, 1)]
    t = K.minimum_test(obj, theta)
    assert t.verdict == verdict
    if verdict != "necessary conditions hold":
        assert t.descent_ray.leading[1] < 0
        assert t.first_order == (v_new == 0)


@pytest.mark.parametrize("v_new", [-1, 0, 1])
def test_dead_node_strictly_below(v_new):
    obj = dead_node_objective()
    theta = dead_node_theta(obj, v_new, -3)
    assert K.point_kind(obj, theta) == "interior"
    assert all(g == 0 for g in K.gradient(obj, theta))
    assert K.minimum_test(obj, theta).verdict == "necessary conditions hold"


def test_one_sample_kink_is_never_strict():
    """x = 1, y = -1, no biases, (w, v) = (0, 1): slope max(dw, 0) in w, 0 along v (never strict)."""
    obj = relu_objective(np.array([[1.0]]), [-1.0], 1, biases=False)
    t = K.minimum_test(obj, [F(0), F(1)])
    assert t.verdict == "necessary conditions hold" and t.min_curvature is not None


def test_interior_saddle_found_by_second_order():
    obj = fig2()
    t = K.minimum_test(obj, [F(1, 2), F(0)])             # interior, f(x2) = 0: ∂L/∂w2 = 2 w1 = 1
    assert t.verdict == "not a local minimum" and not t.first_order


# ------------------------------------------------------------------ validation
def test_validation():
    obj = fig2()
    with pytest.raises(ValueError, match="theta"):
        K.directional_derivative(obj, [0.0, 1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="d must have length 2"):
        K.directional_derivative(obj, [0.0, 1.0], [1.0])
    with pytest.raises(TypeError, match="theta"):
        K.classify(obj, ["a", 1.0])
    with pytest.raises(TypeError, match="objective"):
        K.gradient("obj", [0.0, 1.0])
    sig = SquaredLoss(Network((1, 1, 1), "tanh", biases=False), [[1.0]], [0.0], "half")
    with pytest.raises(ValueError, match="objective"):
        K.kinks(sig, [0.0, 1.0])
    with pytest.raises(ValueError, match="tol"):
        K.minimum_test(obj, [0.0, 1.0], tol=-1.0)
    with pytest.raises(ValueError, match="theta"):
        K.classify(obj, [np.nan, 1.0])
