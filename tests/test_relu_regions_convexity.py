"""lossland.relu_regions.convexity: 002, Lemmas 2.2-2.4, Theorem 2.5, eqs. (9)-(12)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from lossland.relu_regions import convexity as cv
from lossland.relu_regions.model import (design_matrix, from_paper, g_A, gradient_g, hessian_g, loss_g,
                                         pattern, relu_objective, to_pqc)
from lossland.symbolic import symbolic_network

X3 = np.array([[-1.0, 1.0], [2.0, 1.0], [1.0, 3.0]])       # 002, Figs. 1 and 3
Y3 = np.array([1.0, 2.0, 3.0])


@pytest.fixture(scope="module")
def generic():
    return cv.symbolic_region(2, 2, 3)        # symbolic data and activation values


# ----------------------------------------------------------------------------- symbolic

def test_printed_eq9_only_the_21_entry_is_wrong(generic):
    m = generic
    for j in range(2):
        true = m.hessian(wrt=[m.v[j], m.b[j]])
        assert m.equal(true, cv.printed_eq9(m, j, as_printed=False))
        printed = cv.printed_eq9(m, j)
        assert m.equal(true[0, 0], printed[0, 0]) and m.equal(true[0, 1], printed[0, 1])
        assert m.equal(true[1, 1], printed[1, 1]) and not m.equal(true[1, 0], printed[1, 0])


def test_printed_eq11_and_eq12(generic):
    m = generic
    for j in range(2):
        e11, e12 = cv.printed_eq11(m, j), cv.printed_eq12(m, j)
        nd = m.node(j)
        assert m.equal(m.gradient(wrt=nd["w"]), e11["w"])
        assert m.equal(m.gradient(wrt=[nd["v"]])[0], e11["v"])
        assert m.equal(m.gradient(wrt=[nd["b"]])[0], e11["b"])
        gp = sp.Matrix([sp.diff(m.loss_pqc, s) for s in nd["p"]]).xreplace(m.pqc_map)
        assert m.equal(gp, e11["p"])
        assert m.equal(sp.diff(m.loss_pqc, nd["q"]).xreplace(m.pqc_map), e11["q"])
        H = m.hessian(wrt=[nd["v"]] + nd["w"])
        assert m.equal(H[1:, 0], e12["vw"]) and m.equal(H[0, 0], e12["vv"])
        assert m.equal(H[1:, 1:].xreplace({nd["v"]: 0}), e12["ww"])
        assert not m.equal(H[1:, 1:], e12["ww"])            # only at v_j = 0


def test_eq10_eigenvalues_solve_the_characteristic_polynomial():
    a, b = sp.symbols("alpha beta", real=True)
    M = sp.Matrix([[a, b], [b, 0]])
    for ev in cv.eq10_eigenvalues(a, b):
        assert sp.simplify((M - ev * sp.eye(2)).det()) == 0


def test_no_bias_model_has_no_b_q_c():
    m = cv.symbolic_region(2, 3, 4, biases=False)
    assert m.b is None and m.c is None and m.q is None
    assert len(m.params) == 2 * 3 + 3 and len(m.pqc) == 6
    assert set(cv.printed_eq11(m, 0)) == {"w", "v", "p"}
    with pytest.raises(ValueError, match="biases"):
        cv.printed_eq9(m, 0)


def test_g_is_linear_in_pqc_and_loss_hessian_is_gram(generic):
    m = generic
    for gi, gz in zip(m.g, m.g_pqc):
        assert m.equal(gi, gz.xreplace(m.pqc_map))
    obj = relu_objective(X3, Y3, 2)
    A = np.array([[1, 0], [1, 1], [0, 1]])
    ms = cv.symbolic_objective(obj, A)
    D = design_matrix(obj, A)
    H = sp.hessian(ms.loss_pqc, ms.pqc)
    assert H == sp.Matrix(D.T @ D).applyfunc(sp.nsimplify)


def test_freeze_turns_network_derivatives_into_g_A():
    m = cv.symbolic_region(1, 2, 3, A=[[1, 0], [0, 1], [1, 1]])
    grad_f = sp.Matrix([sp.diff(m.loss_f, s) for s in m.params])
    assert m.equal(cv.freeze(grad_f, m), m.gradient())
    hess_f = sp.hessian(m.loss_f, m.params)
    assert m.equal(cv.freeze(hess_f, m), m.hessian())
    assert m.equal(cv.freeze(m.loss_f, m), m.loss_g)


def test_model_network_is_the_core_symbolic_network():
    m = cv.symbolic_region(2, 2, 3)
    core = symbolic_network((2, 2, 1), "relu", biases=True, n_samples=3)
    rep = dict(zip(core.params, m.params))
    for a in range(3):
        rep.update({s: m.X[a, k] for k, s in enumerate(core.inputs[a])})
    for a in range(3):
        assert sp.simplify(core.outputs[a].xreplace(rep) - m.f[a]) == 0


def test_symbolic_objective_matches_numeric():
    obj = relu_objective(X3, Y3, 2)
    rng = np.random.default_rng(0)
    theta = rng.normal(size=obj.net.n_params)
    A = pattern(obj, theta)
    m = cv.symbolic_objective(obj, A)
    assert abs(float(m.at(m.loss_g, theta)) - loss_g(obj, theta, A)) < 1e-12
    assert abs(float(m.at(m.loss_f, theta)) - obj.value(theta)) < 1e-12
    G = np.array(m.at(m.gradient(), theta), dtype=float).ravel()
    assert np.allclose(G, gradient_g(obj, theta, A), atol=1e-12)
    H = np.array(m.at(m.hessian(), theta), dtype=float)
    assert np.allclose(H, hessian_g(obj, theta, A), atol=1e-12)
    z = np.array([float(e.xreplace(m.theta_subs(theta))) for e in
                  [m.pqc_map.get(s, s) for s in m.pqc]])
    assert np.allclose(z, to_pqc(obj, theta))


def test_symbolic_validation():
    with pytest.raises(ValueError, match="A must"):
        cv.symbolic_region(1, 1, 2, A=[[1], [2]])
    with pytest.raises(ValueError, match="A must have shape"):
        cv.symbolic_region(1, 1, 2, A=[[1, 0]])
    with pytest.raises(ValueError, match="X must have shape"):
        cv.symbolic_region(1, 1, 2, X=[1, 2, 3])
    with pytest.raises(TypeError, match="n must be an integer"):
        cv.symbolic_region(1.5, 1, 2)
    m = cv.symbolic_region(1, 1, 2)
    with pytest.raises(ValueError, match="theta"):
        m.theta_subs([1, 2])
    with pytest.raises(TypeError, match="theta"):
        m.theta_subs(["a", 1, 2, 3])
    with pytest.raises(ValueError, match="i must"):
        m.residual(2)


# ----------------------------------------------------------------------------- numeric blocks

@pytest.mark.parametrize("biases", [True, False])
def test_hessian_block_matches_hessian_g(biases):
    obj = relu_objective(X3, Y3, 2, biases=biases)
    rng = np.random.default_rng(1)
    for _ in range(5):
        theta = rng.normal(size=obj.net.n_params)
        A = rng.integers(0, 2, size=(3, 2))
        others = [("w", 0), ("w", 1)] + ([("b", 0)] if biases else [])
        for j in range(2):
            for other, k in others:
                blk = cv.hessian_block(obj, theta, A, j, other, k)
                ex = np.array([[float(e) for e in row] for row in blk.exact])
                assert np.allclose(ex, blk.block, atol=1e-12 * (1 + np.abs(ex).max()))


def test_param_index_and_label_round_trip():
    obj = relu_objective(X3, Y3, 2)
    labels = [cv.param_label(obj, p) for p in range(obj.net.n_params)]
    assert labels == ["w_11", "w_12", "w_21", "w_22", "b_1", "b_2", "v_1", "v_2", "c"]
    assert cv.param_index(obj, "w", 1, 0) == 2 and cv.param_index(obj, "c") == 8
    assert cv.param_index(obj, "v", 1) == 7 and cv.param_index(obj, "b", 0) == 4
    nb = relu_objective(X3, Y3, 2, biases=False)
    with pytest.raises(ValueError, match="no biases"):
        cv.param_index(nb, "b", 0)
    with pytest.raises(ValueError, match="name must be one of"):
        cv.param_index(obj, "u", 0)


@pytest.mark.parametrize("biases,method", [(True, "paper"), (True, "slice"), (False, "slice")])
def test_nonconvexity_witness_is_indefinite(biases, method):
    obj = relu_objective(X3, Y3, 2, biases=biases)
    A = np.array([[1, 0], [1, 1], [0, 1]])
    for j in range(2):
        w = cv.nonconvexity_witness(obj, A, j, method=method)
        ex = np.array([[float(e) for e in row] for row in w.exact])
        assert w.indefinite and w.eigenvalues[0] < 0 < w.eigenvalues[1]
        assert np.allclose(ex, w.block, atol=1e-12 * np.abs(ex).max())
        if method == "paper":          # every residual >= 1, as in App. A.3 (1)
            th = w.theta
            assert th[cv.param_index(obj, "v", j)] == 0 and th[cv.param_index(obj, "b", j)] == 0
            assert np.all(g_A(obj, th, A) - Y3 >= 1 - 1e-12)


def test_nonconvexity_witness_refuses():
    obj = relu_objective(X3, Y3, 2, biases=False)
    A = np.array([[1, 0], [1, 0], [1, 0]])
    with pytest.raises(ValueError, match="no active sample"):
        cv.nonconvexity_witness(obj, A, 1)
    with pytest.raises(ValueError, match="needs the biases"):
        cv.nonconvexity_witness(obj, A, 0, method="paper")
    with pytest.raises(ValueError, match="method must be one of"):
        cv.nonconvexity_witness(obj, A, 0, method="other")


# ----------------------------------------------------------------------------- saddles

@pytest.fixture(scope="module")
def saddle1d():
    obj = relu_objective(np.array([[-1.0], [0.0], [1.0], [2.0]]), np.array([1.0, 1.0, -3.0, 1.0]), 1)
    A = np.array([[0], [0], [1], [1]])
    return obj, A, cv.dead_node_critical_point(obj, A, 0, [1.0, -0.5])


def test_dead_node_critical_point_exact(saddle1d):
    obj, A, dn = saddle1d
    assert dn.theta_exact == (1, Fraction(-1, 2), 0, 0)
    assert all(g == 0 for g in dn.gradient) and dn.loss == 6
    assert dn.grad_j == (1, 2) and dn.in_region and dn.margin == 0.5
    assert np.abs(obj.gradient(dn.theta)).max() == 0.0


def test_saddle_block_and_descent(saddle1d):
    obj, A, dn = saddle1d
    sb = cv.saddle_block(obj, dn.theta, A, 0)
    assert sb.labels == ("b_1", "v_1") and sb.exact == ((0, 2), (2, Fraction(5, 2)))
    assert sb.det == -4 and sb.indefinite
    de = cv.descent_direction(obj, dn.theta, A, 0)
    assert de.coefficients == (0, -5, -30, 50) and de.s == 2 and de.u == (-1, -2)
    m = cv.symbolic_objective(obj, A)
    t = sp.Symbol("t")
    line = {s: sp.Rational(a) + t * sp.Rational(d) for s, a, d in
            zip(m.params, dn.theta_exact, de.direction_exact)}
    poly = sp.Poly(sp.expand(m.loss_g.xreplace(line) - 6), t)
    assert [Fraction(int(sp.fraction(c)[0]), int(sp.fraction(c)[1])) for c in poly.all_coeffs()[::-1][1:]] \
        == list(de.coefficients)
    for tt in (Fraction(1, 10), Fraction(1, 100)):
        assert de.change(tt) < 0
        got = loss_g(obj, dn.theta + float(tt) * de.direction, A) - 6
        assert abs(got - float(de.change(tt))) < 1e-12
    assert 0.7 < de.decreasing_below < 0.8


@pytest.mark.parametrize("biases", [True, False])
def test_dead_node_two_nodes(biases):
    obj = relu_objective(X3, Y3, 2, biases=biases)
    A = np.array([[1, 1], [1, 0], [1, 1]])
    u = [1.0, -1.0, 0.5] if biases else [1.0, -1.0]
    dn = cv.dead_node_critical_point(obj, A, 1, u)
    assert all(g == 0 for g in dn.gradient)
    assert np.abs(gradient_g(obj, dn.theta, A)).max() < 1e-12
    if any(e != 0 for e in dn.grad_j):
        sb = cv.saddle_block(obj, dn.theta_exact, A, 1)
        assert sb.indefinite
        de = cv.descent_direction(obj, dn.theta_exact, A, 1)
        assert de.coefficients[0] == 0 and de.coefficients[1] < 0


def test_saddle_refusals(saddle1d):
    obj, A, dn = saddle1d
    theta = dn.theta.copy()
    theta[cv.param_index(obj, "v", 0)] = 1.0
    with pytest.raises(ValueError, match="need v_j = 0"):
        cv.descent_direction(obj, theta, A, 0)
    zero = relu_objective(np.array([[1.0], [2.0]]), np.array([0.0, 0.0]), 1)
    th0 = from_paper(zero.net, [[1.0]], [0.0], [0.0], 0.0)
    with pytest.raises(ValueError, match="gradient in"):
        cv.saddle_block(zero, th0, [[1], [1]], 0)
    with pytest.raises(ValueError, match="gradient in"):
        cv.descent_direction(zero, th0, [[1], [1]], 0)
    with pytest.raises(ValueError, match="u must have length 2"):
        cv.dead_node_critical_point(obj, A, 0, [1.0])
    with pytest.raises(ValueError, match="j must be"):
        cv.saddle_block(obj, dn.theta, A, 3)
    with pytest.raises(ValueError, match="A must have shape"):
        cv.saddle_block(obj, dn.theta, [[1]], 0)


def test_exact_helper():
    e = cv.exact([0.5, 2, Fraction(1, 3)])
    assert list(e) == [Fraction(1, 2), Fraction(2), Fraction(1, 3)]
