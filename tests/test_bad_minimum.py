"""The constructions of paper 004 (lossland.bad_minima): Propositions 1, 2, 4, Lemma 2, Theorems 3 and 4."""
import numpy as np
import pytest
import sympy as sp

from lossland import Network, SquaredLoss, get_activation
from lossland.bad_minima.function_sets import function_set
from lossland.bad_minima.independence import reduction_set
from lossland.bad_minima.partially_linear import partially_linear_activation
from lossland.bad_minima.perturbation import (fold_radius, follow_minimum, perturbation_directions,
                                              residual_direction_crossing, residual_scaling_interval)
from lossland.bad_minima.proposition1 import effective_linear_map, proposition1_point
from lossland.bad_minima.proposition2 import (B2_NAMES, b2_matrix, better_point, high_precision_gradient,
                                              profile_loss, proposition2_construction, sign_constrained_vectors)
from lossland.bad_minima.proposition4 import b3_matrix, proposition4_construction
from lossland.bad_minima.splitting import (activation_derivative, high_precision_loss_change, monotone_descent,
                                           split_expansion)
from lossland.embedding import B_matrix, embed_neuron
from lossland.derivatives import fd_gradient

G3 = [("tanh", {}), ("sigmoid", {}), ("silu", {}), ("softplus", {}), ("gelu", {}),
      ("swish", {"beta": 0.5}), ("swish", {"beta": 2.0}), ("mish", {})]


def xs(N, seed=1, spread=3.0):
    return np.sort(np.random.default_rng(seed).uniform(-spread, spread, N))


# ------------------------------------------------------------- activation
@pytest.mark.parametrize("params", [{}, {"alpha": 0.5, "beta": 2.5, "c": -2.0, "d": 0.3, "width": 0.7}])
def test_partially_linear_derivatives_match_sympy(params):
    act = partially_linear_activation(**params)
    t = act.symbol
    e0, e1, e2 = act.derivative_exprs()
    grid = np.linspace(-5, 6, 201)
    for expr, fn in ((e0, act.f), (e1, act.d1), (e2, act.d2)):
        ref = np.array([float(expr.subs(t, sp.Float(v, 30))) for v in grid])
        assert np.allclose(fn(grid), ref, rtol=1e-12, atol=1e-12)


def test_partially_linear_is_linear_on_the_interval_and_C3():
    a, b, c, d, w = 0.5, 2.5, 1.5, -0.25, 1.0
    act = partially_linear_activation(a, b, c, d, w)
    inside = np.linspace(a, b, 50)
    assert np.allclose(act(inside), c * inside + d, rtol=0, atol=1e-15)
    assert np.all(act.d2(inside) == 0)
    # sigma, sigma', sigma'', sigma''' continuous at the four knots, sigma'''' not:
    # piece i of the Piecewise meets piece i + 1 at knot i
    t = act.symbol
    pieces = [arg.expr for arg in act.expr.args]
    knots = [a - w, a, b, b + w]
    assert len(pieces) == 5
    for i, k in enumerate(knots):
        jump = [sp.nsimplify(sp.diff(pieces[i + 1] - pieces[i], t, n).subs(t, sp.nsimplify(k)))
                for n in range(5)]
        assert jump[:4] == [0, 0, 0, 0] and jump[4] != 0, (k, jump)
    lo, hi = act.image
    assert lo == pytest.approx(c * (1.5 - 1 - 0.5) + d) and hi == pytest.approx(c * (1.5 + 1 + 0.5) + d)
    assert np.all(act(np.array([-50.0, 50.0])) == [lo, hi])


@pytest.mark.parametrize("kw, err", [({"alpha": 1.0, "beta": 1.0}, ValueError), ({"c": 0.0}, ValueError),
                                     ({"width": -1.0}, ValueError), ({"alpha": "a"}, TypeError),
                                     ({"d": np.inf}, ValueError)])
def test_partially_linear_rejects_bad_input(kw, err):
    with pytest.raises(err):
        partially_linear_activation(**kw)


# ---------------------------------------------------------- Proposition 1
@pytest.fixture(scope="module")
def prop1_data():
    x = np.linspace(-3, 3, 13)
    y = np.tanh(2 * x) + 0.1 * np.cos(3 * x)
    return x, y


B3_NAMES = function_set("B3_nested").names
B3_POSITIVE = function_set("B3_positive").names
B3_GRADIENT = function_set("B3_gradient").names
B3_ORTHOGONAL_16 = function_set("B3_expansion_orthogonal").names


@pytest.mark.parametrize("hidden", [1, 3])
def test_proposition1_point_is_a_local_minimum(prop1_data, hidden):
    x, y = prop1_data
    act = partially_linear_activation()
    pt = proposition1_point(act, x, y, hidden=hidden)
    obj = pt.objective
    # reproduces the linear fit, so R(W-hat) = R_lin(W_bar), and the gradient vanishes
    assert np.allclose(pt.net(pt.theta, x), pt.y_bar, rtol=0, atol=1e-13)
    assert obj.value(pt.theta) == pytest.approx(pt.linear_loss, rel=1e-13)
    assert np.linalg.norm(obj.gradient(pt.theta)) < 1e-12
    # Hessian: positive semidefinite with a kernel of dimension P - 2
    ev = np.linalg.eigvalsh(obj.hessian(pt.theta))
    tol = 1e-10 * ev[-1]
    assert ev[0] > -tol and np.sum(np.abs(ev) <= tol) == pt.net.n_params - 2
    # in the ball of radius `radius`, F is affine and the loss never drops
    assert pt.margin > 0 and pt.radius > 0
    rng = np.random.default_rng(0)
    for _ in range(200):
        d = rng.standard_normal(pt.net.n_params)
        th = pt.theta + 0.999 * pt.radius * rng.uniform() * d / np.linalg.norm(d)
        eff = effective_linear_map(pt.net, th, (-1.0, 1.0, 1.0, 0.0))
        assert np.allclose(pt.net(th, x), eff[0] * x + eff[1], rtol=0, atol=1e-12)
        assert obj.value(th) >= pt.linear_loss * (1 - 1e-12)


def test_proposition1_paper_zero_rows_fail_when_zero_is_outside_the_interval(prop1_data):
    x, y = prop1_data
    act = partially_linear_activation(alpha=0.5, beta=2.5)
    paper = proposition1_point(act, x, y, hidden=2)
    fixed = proposition1_point(act, x, y, hidden=2, extra_bias=1.5)
    assert paper.margin < 0 < fixed.margin
    obj = paper.objective
    L0 = obj.value(paper.theta)
    assert np.linalg.norm(obj.gradient(paper.theta)) < 1e-12
    # third-order descent of the paper's point: u = t on the dead neuron, v = -k t^2
    r = paper.y_bar - y
    K = act.d2(np.array([0.0]))[0] * (r @ x**2)
    assert K != 0
    net = paper.net
    iu, iv = net.weight_index(1, 1, 0), net.weight_index(2, 0, 1)
    drops = []
    for t in (0.1, 0.05, 0.02):
        th = paper.theta.copy()
        th[iu], th[iv] = t, -np.sign(K) * 1e-2 * t**2
        drops.append(obj.value(th) - L0)
    assert all(dv < 0 for dv in drops)
    # the corrected point is a minimum in its ball
    objf = fixed.objective
    rng = np.random.default_rng(1)
    for _ in range(100):
        d = rng.standard_normal(net.n_params)
        th = fixed.theta + 0.99 * fixed.radius * d / np.linalg.norm(d)
        assert objf.value(th) >= fixed.linear_loss * (1 - 1e-12)


def test_proposition1_rejects_bad_input(prop1_data):
    x, y = prop1_data
    act = partially_linear_activation()
    with pytest.raises(ValueError):
        proposition1_point("tanh", x, y)            # no recorded linear piece
    with pytest.raises(ValueError):
        proposition1_point(act, x, y, shrink=1.5)
    with pytest.raises(ValueError):
        proposition1_point(act, x, y[:-1])
    with pytest.raises(TypeError):
        proposition1_point(act, x, y, hidden=1.5)
    with pytest.raises(ValueError):
        proposition1_point(act, x, y, extra_bias="zero")
    with pytest.raises(ValueError):
        proposition1_point("tanh", x, y, linear_piece=(0, 1, 0, 0))


# ---------------------------------------------------------- sign helper
def test_sign_constrained_vectors():
    rng = np.random.default_rng(3)
    O, P = rng.standard_normal((12, 4)), rng.standard_normal((12, 3))
    V, m = sign_constrained_vectors(O, P)
    assert V.shape == (8, 12) and 0 < m <= 1
    assert np.abs(V @ O).max() < 1e-12
    proj = P - O @ np.linalg.lstsq(O, P, rcond=None)[0]      # the parts of P outside span(O)
    assert np.all(V @ (P / np.linalg.norm(proj, axis=0)) >= 0.5 * m - 1e-12)
    assert np.linalg.matrix_rank(V) == 8
    V0, m0 = sign_constrained_vectors(O, np.zeros((12, 0)))
    assert m0 == np.inf and np.allclose(V0 @ V0.T, np.eye(8))
    with pytest.raises(ValueError):
        sign_constrained_vectors(O, O[:, :1])       # positive vector inside the orthogonal span
    with pytest.raises(ValueError):
        sign_constrained_vectors(O, P[:5])


# ---------------------------------------------------------- Proposition 2
def test_b2_matrix_columns():
    act = get_activation("gelu")
    x = xs(9)
    A = b2_matrix(act, x)
    assert A.shape == (9, 7) and len(B2_NAMES) == 7
    assert np.allclose(A[:, 6], x * x * act.d2(x))


@pytest.mark.parametrize("name, params", G3)
@pytest.mark.parametrize("N", [7, 10])
def test_proposition2_every_property(name, params, N):
    act = get_activation(name, **params)
    cons = proposition2_construction(act, xs(N), c=np.linspace(1, 2, N - 5), w2=1.5)
    V, A = cons.V, cons.A
    # eq. (50)-(56) for every v_k, scaled by the size of the vectors
    scale = np.linalg.norm(V, axis=1)[:, None] * np.linalg.norm(A, axis=0)[None, :]
    IP = V @ A / scale
    for j in (0, 1, 2, 3, 5):
        assert np.abs(IP[:, j]).max() < 1e-13
    assert np.all(IP[:, 4] > 0) and np.all(IP[:, 6] > 0)
    assert np.linalg.matrix_rank(V) == N - 5
    # loss, gradient (eq. (61)-(64) with the factor w2), exact Hessian formula
    obj = cons.objective
    assert obj.value(cons.theta) == pytest.approx(cons.loss, rel=1e-12) and cons.loss > 0
    g = obj.gradient(cons.theta)
    gscale = 2 * np.abs(cons.delta_y) @ np.abs(cons.jacobian())
    assert np.all(np.abs(g) <= 1e-13 * gscale.max())
    assert np.allclose(g, cons.gradient_formula(), rtol=0, atol=1e-13 * gscale.max())
    H = obj.hessian(cons.theta)
    assert np.allclose(H, cons.hessian_formula(), rtol=0, atol=1e-12 * np.abs(H).max())
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    assert ev[0] > 1e6 * 4 * np.finfo(float).eps * ev[-1]
    # K is positive semidefinite: every c works (tau_hi = inf)
    lo, hi = residual_scaling_interval(cons)
    assert hi == np.inf and lo < 0


def test_proposition2_fd_crosscheck_and_high_precision():
    cons = proposition2_construction("sigmoid", xs(8), c=2.0)
    obj = cons.objective
    fd = fd_gradient(obj.value, cons.theta)
    assert np.abs(fd).max() < 1e-7           # finite differences: a labelled cross-check only
    hp = high_precision_gradient(cons, dps=40)
    assert hp["gradient"] < 1e-35 and hp["moved"] < 1e-13
    assert all(v > 0 for v in hp["positive"].values())


def test_high_precision_uses_the_sympy_expression():
    # the projected residual at 40 digits agrees with float64 sigma to round-off
    cons = proposition2_construction("mish", xs(7), c=1.0)
    hp = high_precision_gradient(cons, dps=30)
    assert hp["dps"] == 30 and hp["moved"] < 1e-13


def test_printed_conditions_58_60_give_a_saddle_for_large_c():
    # eq. (58)-(60) as printed: <dY, sigma''> = 0 and <dY, x sigma''> > 0
    kw = dict(orthogonal=("1", "sigma", "sigma'", "x sigma'", "sigma''"), positive=("x sigma''", "x^2 sigma''"))
    x = xs(10)
    small = proposition2_construction("gelu", x, c=1.0, **kw)
    lo, hi = residual_scaling_interval(small)
    assert np.isfinite(hi) and hi > 0
    for tau, pd in ((0.5 * hi, True), (2.0 * hi, False)):
        cons = proposition2_construction("gelu", x, c=tau, **kw)
        assert np.linalg.norm(cons.objective.gradient(cons.theta)) < 1e-12
        ev = np.linalg.eigvalsh(cons.objective.hessian(cons.theta))
        assert (ev[0] > 0) == pd


def test_gradient_conditions_alone_suffice_for_small_residuals():
    # N = 5: only <dY, {1, sigma, sigma', x sigma'}> = 0; J has full column rank
    cons = proposition2_construction("tanh", xs(5), c=0.05, orthogonal=("1", "sigma", "sigma'", "x sigma'"),
                                     positive=())
    assert cons.V.shape == (1, 5)
    obj = cons.objective
    assert np.linalg.norm(obj.gradient(cons.theta)) < 1e-13 and cons.loss > 0
    lo, hi = residual_scaling_interval(cons)
    assert lo < 1 < hi
    assert np.linalg.eigvalsh(obj.hessian(cons.theta))[0] > 0


def test_proposition2_rejects_bad_input():
    with pytest.raises(ValueError):
        proposition2_construction("tanh", xs(6))
    with pytest.raises(ValueError):
        proposition2_construction("tanh", xs(8), c=-1.0)
    with pytest.raises(ValueError):
        proposition2_construction("tanh", xs(8), c=[1.0, 2.0])
    with pytest.raises(ValueError):
        proposition2_construction("tanh", xs(8), w2=-1.0)
    with pytest.raises(ValueError):
        proposition2_construction("tanh", np.zeros(8))          # not generic: rank 1
    with pytest.raises(ValueError):
        proposition2_construction("exp", xs(8))                 # Remark 1: fails Assumption 1
    with pytest.raises(ValueError):
        proposition2_construction("tanh", xs(8), positive=("x^3",))
    with pytest.raises(TypeError):
        proposition2_construction(3, xs(8))


def test_profile_loss_matches_the_loss():
    cons = proposition2_construction("swish", xs(10), c=3.0)
    w1, b1 = np.array([0.3, -2.0, 1.0]), np.array([1.0, 0.5, 0.0])
    P, w2, b2 = profile_loss(cons.objective, w1, b1)
    obj = cons.objective
    for k in range(3):
        th = np.array([w1[k], b1[k], w2[k], b2[k]])
        assert obj.value(th) == pytest.approx(P[k], rel=1e-10)
        assert np.linalg.norm(obj.gradient(th)[2:]) < 1e-9 * max(1, P[k])   # optimal in (w2, b2)
    assert P[2] == pytest.approx(cons.loss, rel=1e-12)                       # W-hat is on the grid line
    th, L = better_point(cons)
    assert L < cons.loss                                                     # a bad minimum


# ------------------------------------------ Lemma 2, Lemma 5, Proposition 3
@pytest.fixture(scope="module")
def cons10():
    return proposition2_construction("tanh", xs(10), c=1.0)


def test_follow_minimum_stays_strict(cons10):
    d = perturbation_directions(10, 1, 0)[0]
    res = follow_minimum(cons10, d, np.linspace(0, 0.05, 6))
    assert res.stopped_at is None and len(res.radii) == 6
    assert np.all(res.grad_norm <= 1e-10) and np.all(res.min_eig > 0)
    assert np.allclose(res.thetas[0], cons10.theta)


def test_fold_radius_along_the_residual_matches_the_pencil(cons10):
    s_star = residual_direction_crossing(cons10)
    d = np.concatenate([np.zeros(10), cons10.delta_y / np.linalg.norm(cons10.delta_y)])
    r, res = fold_radius(cons10, d, r_max=1.5 * s_star, n_scan=15, rtol=1e-6)
    assert abs(r - s_star) < 1e-4 * s_star
    # W-hat stays the critical point all along
    assert np.abs(res.thetas - cons10.theta).max() < 1e-9
    # growing the residual instead never breaks the minimum
    r_inf, _ = fold_radius(cons10, -d, r_max=3 * s_star, n_scan=6)
    assert r_inf == np.inf


def test_fold_radius_random_direction_is_a_fold(cons10):
    d = perturbation_directions(10, 2, 0)[1]
    r, res = fold_radius(cons10, d, r_max=2.0, n_scan=20, rtol=1e-6)
    assert np.isfinite(r) and res.stopped_at is not None
    # at a fold lambda_min -> 0 like sqrt(r* - r)
    assert res.min_eig[-1] < 0.05 * res.min_eig[0]


def test_follow_minimum_rejects_bad_input(cons10):
    with pytest.raises(ValueError):
        follow_minimum(cons10, np.ones(19), [0.1])
    with pytest.raises(ValueError):
        follow_minimum(cons10, np.ones(20) / np.sqrt(20), [0.2, 0.1])
    with pytest.raises(TypeError):
        follow_minimum("cons", np.ones(20), [0.1])


def test_lemma5_perturbation_bound():
    rng = np.random.default_rng(5)
    M = rng.standard_normal((4, 4))
    A = M @ M.T + 0.1 * np.eye(4)
    lam = np.linalg.eigvalsh(A)[0]
    for _ in range(100):
        E = rng.standard_normal((4, 4))
        E = E + E.T
        E *= 0.999 * lam / np.abs(np.linalg.eigvalsh(E)).max()
        assert np.linalg.eigvalsh(A + E)[0] > 0
    v = np.linalg.eigh(A)[1][:, 0]
    assert abs(np.linalg.eigvalsh(A - lam * np.outer(v, v))[0]) < 1e-12   # sharp


# ---------------------------------------------------------- Proposition 4
def test_b3_set():
    assert len(B3_NAMES) == 34 and len(set(B3_NAMES)) == 34
    assert set(B3_POSITIVE) <= set(B3_NAMES) and set(B3_ORTHOGONAL_16) <= set(B3_NAMES)
    assert set(B3_GRADIENT) <= set(B3_ORTHOGONAL_16) and not set(B3_ORTHOGONAL_16) & set(B3_POSITIVE)
    x = xs(6)
    act = get_activation("sigmoid")
    M = b3_matrix(act, x, ("s''(s) s' s'' x^3", "s'(s) s''"))
    assert np.allclose(M[:, 0], act.d2(act(x)) * act.d1(x) * act.d2(x) * x**3)
    assert np.allclose(M[:, 1], act.d1(act(x)) * act.d2(x))
    with pytest.raises(ValueError, match="token"):
        b3_matrix(act, x, ("s(t) x",))


def test_tanh_breaks_lemma3():
    # sigma' = 1 - sigma^2: sigma''(sigma) = sigma''(sigma) sigma' + sigma''(sigma) sigma^2, exactly
    act = get_activation("tanh")
    t = act.symbol
    s = act.expr
    d2 = sp.diff(s, t, 2)
    outer = d2.subs(t, s)
    assert sp.simplify(outer - outer * sp.diff(s, t) - outer * s**2) == 0
    M = b3_matrix(act, xs(40), ("s''(s)", "s''(s) s'", "s''(s) s^2"))
    assert np.allclose(M[:, 0], M[:, 1] + M[:, 2], rtol=0, atol=1e-14)


@pytest.mark.parametrize("name, params", [("gelu", {}), ("silu", {}), ("mish", {}), ("swish", {"beta": 2.0})])
def test_proposition4_with_the_hessian_set(name, params):
    act = get_activation(name, **params)
    cons = proposition4_construction(act, xs(24), c=1.0, w3=1.2, orthogonal=B3_ORTHOGONAL_16)
    obj = cons.objective
    g = obj.gradient(cons.theta)
    assert np.linalg.norm(g) < 1e-12 * np.linalg.norm(cons.delta_y) * 10
    H = obj.hessian(cons.theta)
    assert np.allclose(H, cons.hessian_formula(), rtol=0, atol=1e-12 * np.abs(H).max())
    assert np.linalg.eigvalsh(0.5 * (H + H.T))[0] > 0
    ip = cons.inner_products(B3_POSITIVE)
    assert all(v > 0 for v in ip.values())
    K = cons.second_order_matrix()      # positive semidefinite up to the round-off of the orthogonality
    roundoff = 1e-13 * np.linalg.norm(cons.delta_y) * np.linalg.norm(b3_matrix(act, cons.X), axis=0).max()
    assert np.linalg.eigvalsh(K)[0] >= -roundoff
    # the gradient functions of eq. (126)-(131): w3 sigma'(sigma) ... and not sigma'(x) in (129)
    J = cons.jacobian()
    assert np.allclose(J[:, 3], cons.w3 * act.d1(act(cons.X)))


def test_proposition4_hessian_formula_off_the_construction():
    # the formula 2 J^T J + 2 K holds for any data at W-hat (not only for the constructed Y)
    act = get_activation("sigmoid")
    x = xs(12)
    cons = proposition4_construction("gelu", x, orthogonal=B3_GRADIENT, positive=())
    rng = np.random.default_rng(2)
    cons.delta_y = rng.standard_normal(12)
    cons.activation = act
    cons.net = Network((1, 1, 1, 1), act)
    cons.y = cons.net(cons.theta, x) - cons.delta_y
    H = SquaredLoss(cons.net, x, cons.y).hessian(cons.theta)
    assert np.allclose(H, cons.hessian_formula(), rtol=0, atol=1e-12 * np.abs(H).max())


def test_proposition4_paper_set_is_numerically_degenerate_for_sigmoid():
    with pytest.raises(ValueError):
        proposition4_construction("sigmoid", xs(40))



# ------------------------------------- Proposition 4 in high precision (G8)
B3_EMBEDDING_ORTHOGONAL = function_set("B3_embedding_orthogonal").names
B3_EMBEDDING_POSITIVE = function_set("B3_embedding_positive").names


@pytest.fixture(scope="module")
def gelu40():
    return proposition4_construction("gelu", xs(40), c=1.0, w3=1.0, dps=50)


def test_b3_matrix_accepts_sets_and_names():
    act = get_activation("mish")
    x = xs(7)
    M = b3_matrix(act, x)
    assert M.shape == (7, 34)
    assert np.array_equal(b3_matrix(act, x, "B3_positive"), b3_matrix(act, x, B3_POSITIVE))
    assert np.array_equal(b3_matrix(act, x, B3_POSITIVE), M[:, [B3_NAMES.index(n) for n in B3_POSITIVE]])


def test_reduction_set_finds_exact_relations():
    # tanh: s''(s) = s''(s) s' + s''(s) s^2; softplus: s'(s) s' = 2 s'(s) - 1 (a column of J)
    r = reduction_set("tanh", xs(12), ("s''(s) s'", "s''(s) s^2", "s''(s)"), dps=40, rtol=1e-25)
    assert r["rank"] == 2 and r["dropped"] == ["s''(s)"]
    assert r["log10_dropped_max"] < -35 and r["log10_kept_min"] > -5
    r = reduction_set("softplus", xs(12), B3_GRADIENT, dps=40, rtol=1e-25)
    assert r["rank"] == 5 and r["dropped"] == ["s'(s) s'"]
    assert reduction_set("gelu", xs(12), B3_GRADIENT, dps=40, rtol=1e-25)["rank"] == 6


def test_proposition4_high_precision_paper_set(gelu40):
    cons = gelu40
    N = 40
    N0 = reduction_set("gelu", cons.X, B3_NAMES, dps=50, rtol=1e-33)["rank"]
    # N - N0 + 3 vectors (the proof says N - N0), exactly orthogonal at 50 digits, signs positive
    assert cons.rank == N0 - 3 and cons.V.shape[0] == N - N0 + 3
    assert np.linalg.matrix_rank(cons.V) == cons.V.shape[0]
    hp = cons.high_precision
    assert hp["dps"] == 50 and hp["orthogonality"] < 1e-45 and all(v > 0 for v in hp["positive"].values())
    assert hp["log10_dropped_max"] < -45 < -20 < hp["log10_kept_min"]
    obj = cons.objective
    g = obj.gradient(cons.theta)
    gs = 2 * np.abs(cons.delta_y) @ np.abs(cons.jacobian())
    assert np.abs(g).max() <= 1e-13 * gs.max()
    assert np.allclose(g, cons.gradient_formula(), rtol=0, atol=1e-13 * gs.max())
    H = obj.hessian(cons.theta)
    assert np.allclose(H, cons.hessian_formula(), rtol=0, atol=1e-12 * np.abs(H).max())
    assert np.linalg.eigvalsh(H)[0] > 1e-8 * np.linalg.eigvalsh(H)[-1]


@pytest.mark.parametrize("name", ["tanh", "softplus"])
def test_proposition4_impossible_for_tanh_and_softplus(name):
    with pytest.raises(ValueError, match="span of the orthogonal"):
        proposition4_construction(name, xs(40), dps=40)


def test_proposition4_dependent_positive_projections_tanh():
    # for tanh s''(s) and s''(s) s^2 have equal projections once s''(s) s' is orthogonal: still feasible
    o = tuple(n for n in B3_ORTHOGONAL_16 if n != "s''(s) s^2")
    cons = proposition4_construction("tanh", xs(40), orthogonal=o, positive=B3_POSITIVE + ("s''(s) s^2",), dps=40)
    assert all(v > 0 for v in cons.high_precision["positive"].values())
    assert np.linalg.eigvalsh(cons.objective.hessian(cons.theta))[0] > 0


def test_proposition4_rejects_bad_input():
    with pytest.raises(ValueError):
        proposition4_construction("gelu", xs(40), dps=5)
    with pytest.raises(TypeError):
        proposition4_construction("gelu", xs(40), dps=40.5)
    with pytest.raises(ValueError):
        proposition4_construction("gelu", xs(40), orthogonal=("1", "s''(s)"), positive=("s''(s)",))
    with pytest.raises(ValueError):
        proposition4_construction("gelu", xs(40), c=-1.0, dps=30)


def test_embedding_sets_give_two_definite_B_matrices():
    x = xs(40)
    c0 = proposition4_construction("gelu", x, orthogonal=B3_EMBEDDING_ORTHOGONAL, positive=B3_EMBEDDING_POSITIVE,
                                   dps=40)
    lo, hi = residual_scaling_interval(c0)
    assert lo < 0 < hi < np.inf
    cons = proposition4_construction("gelu", x, c=0.5 * hi, orthogonal=B3_EMBEDDING_ORTHOGONAL,
                                     positive=B3_EMBEDDING_POSITIVE, dps=40)
    assert np.linalg.eigvalsh(cons.objective.hessian(cons.theta))[0] > 0
    for layer in (1, 2):
        B = B_matrix(SquaredLoss(cons.net, x, cons.y), cons.theta, layer, 0)
        assert abs(B[0, 1]) < 1e-12 * np.abs(B).max() and B[0, 0] > 0 and B[1, 1] > 0


# ------------------------------------------------- the split expansion (G9)
@pytest.mark.parametrize("name", ["tanh", "gelu", "mish"])
def test_activation_derivative(name):
    act = get_activation(name)
    t = np.linspace(-2, 2, 9)
    assert activation_derivative(act, 2) is act.d2
    h = 1e-4
    d3 = activation_derivative(act, 3)(t)
    d4 = activation_derivative(act, 4)(t)
    assert np.allclose(d3, (act.d2(t + h) - act.d2(t - h)) / (2 * h), rtol=1e-6, atol=1e-7)   # FD cross-check
    assert np.allclose(d4, (activation_derivative(act, 3)(t + h) - activation_derivative(act, 3)(t - h)) / (2 * h),
                       rtol=1e-6, atol=1e-7)


def test_split_expansion_is_the_taylor_series():
    rng = np.random.default_rng(4)
    net = Network((1, 2, 1, 1), "gelu")
    x = rng.uniform(-2, 2, 6)
    y = rng.standard_normal(6)
    theta = net.init_params(rng)
    lam, u = 0.3, np.array([0.7, -0.4, 0.2])
    se = split_expansion(SquaredLoss(net, x, y), theta, 0, lam, u)
    big, tb = embed_neuron(net, theta, 2, 0, lam)
    assert se.coefficients[1] == 0.0 and se.m[1] == 0.0
    # c2 = m2 u^T B u with B of 000 (residual f - y)
    assert np.isclose(se.coefficients[2], se.m[2] * u @ B_matrix(SquaredLoss(net, x, y), theta, 2, 0) @ u, rtol=1e-12)
    ts = np.array([0.02, 0.01])
    exact = high_precision_loss_change(SquaredLoss(big, x, y), tb, tb[None, :] + ts[:, None] * se.direction[None, :],
                                       dps=30)
    err = np.abs(exact - np.polyval(se.coefficients[::-1], ts))
    assert 20 < err[0] / err[1] < 45                       # O(t^5): ratio 2^5
    assert np.all(err < 1e-2 * np.abs(exact))


def test_split_expansion_cubic_drop_and_bad_input():
    net = Network((1, 1, 1), "tanh")
    x, y = xs(5), np.linspace(-1, 1, 5)
    obj = SquaredLoss(net, x, y)
    se = split_expansion(obj, np.array([1.0, 0.0, 1.0, 0.0]), 0, 0.3, [1.0, 0.0])
    se.coefficients = np.array([0, 0, 0, -1e-3, 1.0])
    t, d = se.cubic_drop()
    assert t > 0 and d < 0 and np.isclose(d, -27 * 1e-12 / 256)
    se.coefficients = np.array([0, 0, 0, -1e-3, -1.0])
    with pytest.raises(ValueError):
        se.cubic_drop()
    with pytest.raises(ValueError, match="r=3"):
        split_expansion(obj, np.zeros(4), 3, 0.3, [1.0, 0.0])
    with pytest.raises(ValueError, match="u must have 2 entries"):
        split_expansion(obj, np.zeros(4), 0, 0.3, [1.0])
    with pytest.raises(TypeError, match="objective must be a lossland.SquaredLoss"):
        split_expansion(net, np.zeros(4), 0, 0.3, [1.0, 0.0])


def test_high_precision_loss_change_matches_float():
    rng = np.random.default_rng(6)
    net = Network((1, 3, 1), "sigmoid")
    x, y = rng.uniform(-2, 2, 5), rng.standard_normal(5)
    th = net.init_params(rng)
    T = th + 0.1 * rng.standard_normal((3, net.n_params))
    obj = SquaredLoss(net, x, y)
    ref = np.array([obj.value(t) - obj.value(th) for t in T])
    assert np.allclose(high_precision_loss_change(obj, th, T, dps=30), ref, rtol=1e-10, atol=1e-14)
    half = SquaredLoss(net, x, y, "half")                      # the objective's normalisation is used
    assert np.allclose(high_precision_loss_change(half, th, T, dps=30), 0.5 * ref, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="thetas"):
        high_precision_loss_change(obj, th, T[:, :-1])
    with pytest.raises(TypeError, match="objective"):
        high_precision_loss_change(net, th, T)


# ------------------------------------------------- monotone descent (G6)
def test_monotone_descent_is_non_increasing_and_reaches_zero():
    rng = np.random.default_rng(2)
    net = Network((1, 8, 1), "tanh")
    x, y = np.linspace(-2, 2, 5), rng.standard_normal(5)
    obj = SquaredLoss(net, x, y)
    path = monotone_descent(obj, net.init_params(rng), max_steps=400, loss_target=1e-10)
    assert path.converged and path.losses[-1] <= 1e-10
    assert np.all(np.diff(path.losses) <= 0)
    assert all(np.all(np.diff(s) <= 0) for s in path.samples)
    for a, b in zip(path.thetas[:-1], path.thetas[1:]):      # no rise between samples either (finer grid)
        v = np.array([obj.value(a + s * (b - a)) for s in np.linspace(0, 1, 129)])
        assert np.max(v - np.minimum.accumulate(v)) <= 1e-12 * max(1.0, v[0])
    with pytest.raises(TypeError):
        monotone_descent("obj", net.init_params(0))
    with pytest.raises(ValueError):
        monotone_descent(obj, net.init_params(0), step_max=-1.0)


def test_draw_proposition2_on_a_given_figure_and_the_widget_callback(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lossland.bad_minima.proposition2 import draw_proposition2, proposition2_figure, show_proposition2

    fig = plt.figure(figsize=(7.0, 3.4))
    try:
        cn, e, Lb = draw_proposition2(fig, "gelu", 10, 3.0)
        assert len(fig.axes) == 3                          # profile loss, its colorbar, the eigenvector cuts
    finally:
        plt.close(fig)
    ref, e_ref, Lb_ref = proposition2_figure("gelu", 10, 3.0, draw=False)
    assert np.allclose(cn.y, ref.y) and np.allclose(e, e_ref) and Lb == Lb_ref and Lb < cn.loss
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(len(plt.gcf().axes)))
    assert show_proposition2("tanh", 7, 1.0) is None and shown == [3]  # nothing to print under the figure
    plt.close("all")
    with pytest.raises(ValueError, match="N must be >= 7"):
        draw_proposition2(plt.figure(), "gelu", 5)
    plt.close("all")
