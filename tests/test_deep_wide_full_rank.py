"""Lemmas 4.1-4.4 of 003: the alpha -> infinity construction and the measure-zero low-rank set."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import sympy as sp

from lossland import Network
from lossland.deep_wide import full_rank as fr
from lossland.deep_wide.rank_conditions import feature_matrix, numerical_rank
from lossland.objective import Objective

N = 6


@pytest.fixture(scope="module")
def setup():
    X = np.random.default_rng(8).uniform(-2, 2, (N, 2))
    net = Network((2, 3, 5, 1), "sigmoid")
    obj = Objective(net, X, np.zeros(N))
    theta = net.init_params(np.random.default_rng(1))
    Z = feature_matrix(obj, theta, 1)[:, :-1]
    return obj, theta, Z


# ------------------------------------------------------------- direction a
def test_projection_direction_sorts_distinct_projections(setup):
    _, _, Z = setup
    d = fr.projection_direction(Z, rng=0)
    assert np.isclose(np.linalg.norm(d.a), 1.0)
    assert np.all(np.diff(d.sorted) > 0) and d.min_gap == pytest.approx(np.diff(d.sorted).min())
    assert np.allclose(d.projections, Z @ d.a)
    same = fr.projection_direction(Z, d.a)
    assert np.array_equal(same.order, d.order)


def test_projection_direction_refuses_ties_and_repeated_rows():
    Z = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="coincide"):
        fr.projection_direction(Z, a=[1.0, 1.0])          # <a, z_2> = <a, z_3>
    with pytest.raises(ValueError, match="identical rows 0 and 2"):
        fr.projection_direction(np.array([[1.0, 2.0], [0.0, 0.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="length 2"):
        fr.projection_direction(Z, a=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2-d"):
        fr.projection_direction(np.zeros(3))
    with pytest.raises(TypeError):
        fr.projection_direction("Z")


# ---------------------------------------------------------------- weights
def test_weights_reproduce_A_matrix(setup):
    obj, theta, Z = setup
    alpha, beta = 7.0, 0.3
    W, b = fr.lemma43_weights(Z, alpha, beta)
    d = fr.projection_direction(Z)
    assert W.shape == (N - 1, Z.shape[1]) and b.shape == (N - 1,)
    assert np.allclose(W, -alpha * d.a) and np.allclose(b, alpha * d.sorted[:-1] + beta)
    A = fr.A_matrix(Z, alpha, beta, "sigmoid")
    F = 1 / (1 + np.exp(-(Z @ W.T + b)))                  # sample order
    assert np.allclose(F[d.order], A, atol=1e-14)
    th = fr.lemma43_parameters(obj, theta, 2, alpha, beta)
    E = feature_matrix(obj, th, 2)
    assert np.allclose(E[d.order], fr.E_matrix(Z, alpha, beta, "sigmoid", layout="ones_last"))
    # the other layers are untouched
    net = obj.net
    for sl in (net.weight_slice(1), net.bias_slice(1), net.weight_slice(3)):
        assert np.array_equal(th[sl], theta[sl])


def test_lemma43_parameters_validates(setup):
    obj, theta, _ = setup
    with pytest.raises(ValueError, match="out of range"):
        fr.lemma43_parameters(obj, theta, 3, 1.0, 0.0)     # the output layer
    narrow = Network((2, 3, 4, 1), "sigmoid")
    o2 = Objective(narrow, obj.X, np.zeros(N))
    with pytest.raises(ValueError, match="n_k >= N - 1"):
        fr.lemma43_parameters(o2, narrow.init_params(0), 2, 1.0, 0.0)
    nob = Network((2, 3, 5, 1), "sigmoid", biases=False)
    o3 = Objective(nob, obj.X, np.zeros(N))
    with pytest.raises(ValueError, match="no biases"):
        fr.lemma43_parameters(o3, nob.init_params(0), 2, 1.0, 0.0)
    with pytest.raises(TypeError):
        fr.lemma43_parameters(obj, theta, 2, "big", 0.0)
    with pytest.raises(TypeError):
        fr.lemma43_parameters("objective", theta, 2, 1.0, 0.0)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus"])
def test_rank_is_N_for_large_alpha(act):
    X = np.random.default_rng(8).uniform(-2, 2, (N, 2))
    net = Network((2, 3, 5, 1), act)
    obj = Objective(net, X, np.zeros(N))
    theta = net.init_params(np.random.default_rng(1))
    th = fr.lemma43_parameters(obj, theta, 2, 200.0, 0.0)
    r = numerical_rank(feature_matrix(obj, th, 2))
    assert r.rank == N and r.margin > 1e3
    # softplus: det E(alpha) stays bounded while the entries grow like alpha, so
    # float64 loses the rank for huge alpha; 60 digits still see det -> limit
    Z = feature_matrix(obj, theta, 1)[:, :-1]
    c = fr.det_curve(Z, [2000.0], 0.0, act, dps=60)
    assert c.error[0] < 1e-30 * abs(c.limit)
    th0 = fr.lemma43_parameters(obj, theta, 2, 0.0, 0.0)   # alpha = 0: constant columns
    E0 = feature_matrix(obj, th0, 2)
    assert np.all(E0[:, :-1] == E0[0, 0])


# -------------------------------------------------------------- symbolic
def test_limit_tables_match_the_printed_ones():
    for n in range(2, 8):
        printed = fr.printed_limits(n)
        A, E = fr.limit_A(n), fr.limit_E(n)
        Eh = fr.row_differenced(E)
        assert all(A[i - 1, j - 1] == v for (i, j), v in printed["A"].items())
        assert all(E[i - 1, j - 1] == v for (i, j), v in printed["E"].items())
        assert all(sp.expand(Eh[i - 1, j - 1] - v) == 0 for (i, j), v in printed["E_hat"].items())
        assert all(Eh[i, j] == 0 for i in range(n) for j in range(i))           # upper triangular
        assert sp.expand(fr.det_limit_symbolic(n) - (fr.MU - fr.S_BETA) ** (n - 1)) == 0
        last = fr.det_limit_symbolic(n, "ones_last")
        assert sp.expand(last - (fr.S_BETA - fr.MU) ** (n - 1)) == 0


def test_entry_limits():
    beta = sp.Symbol("beta", real=True)
    sig = fr.entry_limits("sigmoid")
    assert sig["j>i"] == 1 and sig["j<i"] == 0 and sp.simplify(sig["j=i"] - 1 / (1 + sp.exp(-beta))) == 0
    th = fr.entry_limits("tanh")
    assert (th["j>i"], th["j<i"]) == (1, -1)
    spl = fr.entry_limits("softplus")
    assert spl["j>i"] == sp.oo and spl["j<i"] == 0


def test_leibniz_split_agrees_with_the_determinant():
    ls = fr.leibniz_split(4)
    assert ls.n_terms == 24 and ls.limit == fr.S_BETA ** 3
    assert sp.expand(ls.matrix.det() - ls.identity - ls.rest) == 0
    assert sp.expand(ls.rest).subs(ls.eps, 0) == 0
    assert ls.min_eps_degree == 1 and ls.max_u_degree == 2                   # S = N - 2
    us = sorted((v for v in ls.matrix.free_symbols if v.name.startswith("u")), key=str)
    poly = sp.Poly(sp.expand(ls.rest), ls.eps, *us)
    assert min(m[0] for m in poly.monoms()) == 1 and max(sum(m[1:]) for m in poly.monoms()) == 2


def test_row_differenced_keeps_the_determinant():
    M = np.random.default_rng(3).standard_normal((5, 5))
    assert np.isclose(np.linalg.det(fr.row_differenced(M)), np.linalg.det(M))
    with pytest.raises(ValueError, match="square"):
        fr.row_differenced(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="square"):
        fr.row_differenced(sp.zeros(2, 3))


# ---------------------------------------------------------------- numerics
@pytest.mark.parametrize("act,rate_factor", [("sigmoid", 1.0), ("tanh", 2.0), ("softplus", 1.0)])
def test_det_tends_to_the_limit(setup, act, rate_factor):
    _, _, Z = setup
    d = fr.projection_direction(Z)
    alphas = np.array([100.0, 200.0, 400.0, 800.0])
    c = fr.det_curve(Z, alphas, 0.0, act, dps=60)
    s0 = {"sigmoid": 0.5, "tanh": 0.0, "softplus": math.log(2)}[act]
    mu = {"sigmoid": 0.0, "tanh": -1.0, "softplus": 0.0}[act]
    sign = 1 if c.layout == "ones_first" else (-1) ** (N - 1)
    assert c.limit == pytest.approx(sign * (mu - s0) ** (N - 1))
    assert np.all(np.diff(np.log(c.error)) < 0)
    # the error decays at least like exp(-alpha * rate_factor * g) up to a power of alpha
    rate = -np.diff(np.log(c.error)) / np.diff(alphas)
    assert rate[-1] == pytest.approx(rate_factor * d.min_gap, rel=0.05)
    flt = fr.det_curve(Z, alphas[:2], 0.0, act, dps=None)
    assert np.allclose(flt.det, c.det[:2], rtol=1e-8)


def test_proof_bound_holds_for_softplus(setup):
    _, _, Z = setup
    d = fr.projection_direction(Z)
    beta = 0.5
    pc = fr.proof_constants(d.sorted, beta, math.log1p(math.exp(beta)), fr.softplus_rhos(1.0))
    assert pc.S == N - 2 and pc.T == pytest.approx(d.min_gap) and pc.n_terms == 719
    alphas = pc.alpha_min + np.array([1.0, 10.0, 50.0, 200.0])
    c = fr.det_curve(Z, alphas, beta, "softplus")
    assert np.all(c.error <= pc.bound(alphas))
    with pytest.raises(ValueError, match="distinct"):
        fr.proof_constants([0.0, 0.0, 1.0], 0.0, 1.0, (1, 1, 1, 1))
    with pytest.raises(ValueError, match="rho"):
        fr.proof_constants([0.0, 1.0], 0.0, 1.0, (1, 1, 1))
    with pytest.raises(ValueError, match="nonzero"):
        fr.proof_constants([0.0, 1.0], 0.0, 0.0, (1, 1, 1, 1))


def test_det_limit_refuses_activations_outside_the_lemma():
    with pytest.raises(ValueError, match="not covered"):
        fr.det_limit("identity", 0.0, 4)
    with pytest.raises(ValueError, match="not covered"):
        fr.det_limit("relu", 0.0, 4)
    with pytest.raises(ValueError, match="layout"):
        fr.det_limit("sigmoid", 0.0, 4, layout="middle")
    assert fr.det_limit("softplus", 0.0, 3) == pytest.approx(math.log(2) ** 2)
    assert fr.default_layout("tanh") == "ones_first" and fr.default_layout("softplus") == "ones_last"


def test_E_matrix_mpmath_matches_float(setup):
    _, _, Z = setup
    Ef = fr.E_matrix(Z, 3.0, 0.2, "tanh")
    Em = fr.E_matrix(Z, 3.0, 0.2, "tanh", dps=30)
    assert np.allclose(np.array(Em.tolist(), dtype=float), Ef, atol=1e-14)
    assert np.all(Ef[:, 0] == 1)
    with pytest.raises(TypeError):
        fr.E_matrix(Z, 3.0, 0.2, 3)


# ----------------------------------------------------- network, Lemma 4.4
def test_feature_det_slice_matches_pointwise(setup):
    obj, theta, _ = setup
    net = obj.net
    idx = (net.weight_index(2, 0, 0), net.weight_index(1, 1, 0))
    s, t = np.linspace(-3, 3, 5), np.linspace(-2, 2, 4)
    D = fr.feature_det_slice(obj, theta, 2, idx, s, t)
    th = theta.copy()
    th[idx[0]] += s[3]
    th[idx[1]] += t[1]
    assert D.shape == (4, 5) and np.isclose(D[1, 3], fr.feature_det(obj, th, 2), rtol=1e-10)
    with pytest.raises(ValueError, match="different"):
        fr.feature_det_slice(obj, theta, 2, (idx[0], idx[0]), s, t)
    with pytest.raises(ValueError, match="two parameter"):
        fr.feature_det_slice(obj, theta, 2, (1, 2, 3), s, t)
    with pytest.raises(ValueError, match="n_k = N - 1"):
        fr.feature_det(obj, theta, 1)


def test_sampled_ranks_are_full(setup):
    obj, _, _ = setup
    ranks = fr.sampled_feature_ranks(obj, 2, 50, 0)
    assert all(r.rank == N for r in ranks)


def test_linear_rank_bound():
    X = np.random.default_rng(8).uniform(-2, 2, (N, 2))
    for widths in [(2, 5, 5, 1), (2, 1, 5, 1)]:
        net = Network(widths, "identity")
        obj = Objective(net, X, np.zeros(N))
        rep = fr.linear_rank_report(obj, net.init_params(3), 2)
        assert all(rep["F"].rank <= b for b in rep["bound"].values())
        assert rep["E"].rank <= min(r.rank for r in rep["W"].values()) + 1 < N
    with pytest.raises(ValueError, match="identity"):
        fr.linear_rank_report(Objective(Network((2, 5, 5, 1)), X, np.zeros(N)), np.zeros(51), 2)


def test_lemma41_structure():
    from lossland.symbolic import symbolic_network
    for act, ok in (("sigmoid", True), ("softplus", True), ("relu", False)):
        sn = symbolic_network((2, 2, 1), act)
        assert all(fr.lemma41_structure(e)[0] == ok for e in sn.act[0][1])
    x = sp.Symbol("x", real=True)
    assert not fr.lemma41_structure(1 / x)[0] and not fr.lemma41_structure(sp.log(x))[0]
    with pytest.raises(TypeError):
        fr.lemma41_structure("x")


def test_draw_lemma43(setup):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, _, Z = setup
    alphas = np.logspace(-1, 3, 9)
    for act in ("sigmoid", "softplus"):
        fig = plt.figure()
        fr.draw_lemma43(fig, Z, 10.0, 0.0, act, alphas)
        assert len(fig.axes) == 4                         # 3 panels + a colour bar
        plt.close(fig)
