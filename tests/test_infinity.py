"""Local minima at infinity, 000 Theorem 1 / 001 Theorem 4 with Lemma 7 / A.2 (chapter P2)."""
import numpy as np
import pytest
from scipy.optimize import brentq

from lossland import Network, SquaredLoss
from lossland.derivatives import fd_gradient
from lossland.nonattracting.infinity import (PointAtInfinity, bias_from_p, lemma7_phi, lemma7_points,
                                             minimum_at_infinity, output_weights, p_from_bias, point_at_infinity,
                                             point_from_theta)


def half(net, X, y):
    """The proof's loss 1/2 sum (f - y)^2 (000 Appendix A)."""
    return SquaredLoss(net, X, y, "half")


def data(n0=1, N=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, n0))
    y = np.sin(2 * X[:, 0]) + 0.3 * rng.standard_normal(N)
    return X, y


ARCHS = [(1, 2, 1), (2, 3, 1), (1, 2, 2, 1), (2, 3, 2, 1), (1, 3, 2, 3, 1)]


@pytest.fixture(scope="module", params=ARCHS, ids=lambda w: "-".join(map(str, w)))
def built(request):
    widths = request.param
    net = Network(widths, "sigmoid", biases=True)
    X, y = data(widths[0])
    pt, lem = minimum_at_infinity(half(net, X, y), rng=1)
    return pt, lem


# ------------------------------------------------------------------ p and u
def test_p_and_bias_are_inverse():
    u = np.array([0.0, 1.5, 30.0])
    assert np.allclose(bias_from_p(p_from_bias(u)), u, rtol=1e-14, atol=1e-15)
    assert np.allclose(p_from_bias(bias_from_p([1e-12, 0.3, 2.0])), [1e-12, 0.3, 2.0], rtol=1e-14)


# ------------------------------------------------------------------ Lemma 7
def test_lemma7_phi_value_and_gradient_at_zero():
    rng = np.random.default_rng(2)
    d = rng.standard_normal(6)
    d -= d.mean()
    A = rng.uniform(0, 1, (6, 3))
    assert abs(lemma7_phi(np.zeros(3), d, A)) <= 1e-15            # phi(0) = sum d = 0
    g = fd_gradient(lambda u: lemma7_phi(u, d, A), np.zeros(3))    # labelled FD cross-check
    assert np.allclose(g, -(A.T @ d), rtol=1e-7, atol=1e-9)       # d phi / d u_r (0) = -sum d a^r
    U = rng.standard_normal((4, 3))
    batch = lemma7_phi(U, d, A)
    assert batch.shape == (4,) and np.allclose(batch, [lemma7_phi(u, d, A) for u in U], rtol=1e-14)
    assert np.isclose(lemma7_phi(U[0], d, A), sum(d[a] * np.exp(-U[0] @ A[a]) for a in range(6)), rtol=1e-13)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_lemma7_points_have_both_signs(m):
    # m = 1 is outside the lemma's hypothesis m >= 2 but inside its proof (chapter P2)
    rng = np.random.default_rng(m)
    d = rng.standard_normal(7)
    d -= d.mean()
    A = rng.uniform(0, 1, (7, m))
    lem = lemma7_points(d, A)
    assert lem.phi_gt > 0 > lem.phi_lt
    assert np.isclose(lemma7_phi(lem.u_gt, d, A), lem.phi_gt) and np.isclose(lemma7_phi(lem.u_lt, d, A), lem.phi_lt)
    assert lem.r == int(np.argmax(np.abs(A.T @ d)))
    # both points lie on the coordinate axis r, on opposite sides of 0
    others = np.delete(np.arange(m), lem.r)
    assert np.all(lem.u_gt[others] == 0) and np.all(lem.u_lt[others] == 0)
    assert lem.u_gt[lem.r] == -lem.u_lt[lem.r] != 0


def test_lemma7_needs_its_hypotheses():
    A = np.random.default_rng(0).uniform(0, 1, (5, 2))
    with pytest.raises(ValueError, match="sum to zero"):
        lemma7_points(np.ones(5), A)
    d = np.array([1.0, -1.0, 2.0, -2.0, 0.0])
    with pytest.raises(ValueError, match="mild condition"):
        lemma7_points(d, np.ones((5, 2)))                   # constant activations: g = 0


# ------------------------------------------------------- output weights
@pytest.mark.parametrize("c", [2.5, -1.7, 0.0, 1e-3])
def test_output_weights_mixed_signs(c):
    S = np.array([0.3, -0.2, 0.1, -1.0, 0.05])
    v = output_weights(S, c)
    assert np.all(v * S < 0)
    assert np.isclose(v.sum(), c, rtol=0, atol=1e-14)


def test_output_weights_one_sign():
    S = np.array([-0.3, -0.2])                              # need v > 0: only c > 0 works
    assert np.all(output_weights(S, 1.0) > 0)
    with pytest.raises(ValueError, match="cannot sum"):
        output_weights(S, -1.0)
    with pytest.raises(ValueError, match="cannot sum"):
        output_weights(S, 0.0)                              # c = 0 is an obstruction too
    with pytest.raises(ValueError, match="cannot sum"):
        output_weights(-S, 0.5)
    with pytest.raises(ValueError, match="non-zero"):
        output_weights([0.3, 0.0, -0.1], 1.0)


# ------------------------------------------------------- the construction
def test_construction_satisfies_the_sign_conditions(built):
    pt, lem = built
    assert pt.sign_conditions_hold
    assert np.all(pt.kappa > 0) and np.all(pt.S != 0)
    assert np.isclose(pt.v.sum(), pt.c, rtol=0, atol=1e-14) and pt.b_out == 0.0
    assert np.isclose(pt.limit_loss, 0.5 * np.sum((pt.y - pt.y.mean()) ** 2), rtol=1e-14)
    # the neurons carry u^> and u^< of Lemma 7 (000: i_1 and i_2)
    assert np.array_equal(pt.U[0], lem.u_gt) and np.array_equal(pt.U[1], lem.u_lt)
    assert np.isclose(pt.S[0], lem.phi_gt) and np.isclose(pt.S[1], lem.phi_lt)


def test_theta_puts_the_biases_at_minus_log_p(built):
    pt, _ = built
    net = pt.net
    p = np.linspace(0.1, 0.3, net.widths[-2])
    th = pt.theta(p)
    W, b = net.unflatten(th)
    L = net.depth
    assert np.allclose(b[L - 1], -np.log(p), rtol=1e-15)
    assert np.array_equal(W[L - 1], pt.U) and np.array_equal(W[L][0], pt.v)
    # the network at tiny p is the constant c
    assert np.allclose(net(pt.theta(1e-13), pt.X), pt.c, rtol=0, atol=1e-11)
    assert pt.theta(np.full((3, net.widths[-2]), 0.2)).shape == (3, net.n_params)


def test_loss_is_above_the_limit_and_tends_to_it(built):
    pt, _ = built
    p0 = pt.p_guaranteed().min()
    ps = p0 * np.logspace(-10, 0, 41)[:-1]
    ex = np.array([pt.excess(p) for p in ps])
    assert np.all(ex > 0)
    assert np.all(np.diff(ex) > 0)                          # decreases to 0 as p -> 0 here
    # (L - L_inf) / p -> sum_i kappa_i, the first-order term of (*) (half normalisation: 1 x (*))
    assert np.isclose(ex[0] / ps[0], pt.kappa.sum(), rtol=1e-6)
    # cross-check with the network's own loss where round-off allows
    for p in ps[ps > 1e-4 * p0]:
        assert np.isclose(pt.loss(p) - pt.limit_loss, pt.excess(p), rtol=1e-6, atol=1e-14)


def test_guaranteed_region_bounds_star_from_below(built):
    pt, _ = built
    pg = pt.p_guaranteed()
    rng = np.random.default_rng(0)
    P = pg * rng.uniform(0, 1, (200, pg.size))
    star = pt.star(P)
    lower = P @ pt.kappa - (P ** 2) @ (pt.kappa / pg)      # sum p_i (kappa_i - C_i p_i)
    assert np.all(star >= lower - 1e-15) and np.all(lower > 0)


def test_first_order_expansion_error_is_order_p_squared(built):
    pt, _ = built
    ps = np.logspace(-6, -2, 9)
    err = [np.abs(pt.epsilon(p) - pt.first_order_epsilon(p)).max() for p in ps]
    bound = [np.max(np.abs(pt.v) @ np.exp(2 * pt.exponents)) * p ** 2 for p in ps]
    assert np.all(np.array(err) <= np.array(bound))
    slope = np.polyfit(np.log(ps), np.log(err), 1)[0]
    assert abs(slope - 2) < 0.02


def test_neighbourhood_stays_above_the_limit():
    net = Network((1, 2, 2, 1), "sigmoid", biases=True)
    X, y = data(1)
    pt, _ = minimum_at_infinity(half(net, X, y), rng=1)
    obj = pt.objective
    rng = np.random.default_rng(7)
    bias = np.zeros(net.n_params, bool)
    bias[net.bias_slice(net.depth - 1)] = True
    pmax = min(1e-3, pt.p_guaranteed().min())
    for _ in range(200):
        p = np.exp(rng.uniform(np.log(1e-6 * pmax), np.log(pmax), net.widths[-2]))
        th = pt.theta(p) + 0.01 * rng.standard_normal(net.n_params) * ~bias
        assert obj.value(th) > pt.limit_loss


def test_normalisation_sum_doubles_the_excess():
    net = Network((1, 2, 2, 1), "sigmoid", biases=True)
    X, y = data(1)
    hf, _ = minimum_at_infinity(half(net, X, y), rng=1)
    full, _ = minimum_at_infinity(SquaredLoss(net, X, y, "sum"), rng=1)
    assert np.isclose(full.excess(1e-3), 2 * hf.excess(1e-3), rtol=1e-14)
    assert np.isclose(full.limit_loss, 2 * hf.limit_loss, rtol=1e-14)


def test_the_constant_is_suboptimal_for_generic_data():
    from lossland.optimize import find_critical_point

    net = Network((1, 2, 2, 1), "sigmoid", biases=True)
    X, y = data(1)
    pt, _ = minimum_at_infinity(half(net, X, y), rng=1)
    cp = find_critical_point(pt.objective, net.init_params(0), method="BFGS", maxiter=500, polish=False)
    assert cp.loss < 0.5 * pt.limit_loss


def test_a_neuron_with_S_zero_breaks_the_minimum():
    # the printed sign conditions say nothing about a neuron with S_i = 0; such a point need not
    # be a local minimum (chapter P2, erratum): along the Lemma 7 axis phi has a second zero
    X = np.arange(-1.75, 2, 0.5)[:, None]
    y = np.array([0.5, 1.0, 0.25, -0.5, -0.75, 0.0, 0.75, 1.25])
    lower2 = Network((1, 2, 2, 1), "sigmoid").flatten([[[1.5], [-0.75]], np.zeros((2, 2)), np.zeros((1, 2))],
                                                      [[0.25, 0.5], np.zeros(2), np.zeros(1)])
    pt, lem = minimum_at_infinity(half(Network((1, 2, 2, 1), "sigmoid"), X, y), lower2)
    e = np.zeros(2)
    e[lem.r] = 1.0
    s0 = brentq(lambda s: lemma7_phi(s * e, pt.d, pt.A), -3.0, -2.5, xtol=1e-15)
    u3 = s0 * e
    a = -(pt.A @ u3)
    Q, E = pt.d @ np.exp(2 * a), np.sum(np.exp(2 * a))
    v3 = -Q / E
    net3 = Network((1, 2, 3, 1), "sigmoid")
    lower3 = net3.flatten([[[1.5], [-0.75]], np.zeros((3, 2)), np.zeros((1, 3))],
                          [[0.25, 0.5], np.zeros(3), np.zeros(1)])
    U = np.array([lem.u_gt, lem.u_lt, u3])
    v12 = output_weights(pt.S, pt.c - v3)
    bad = point_at_infinity(half(net3, X, y), U, np.append(v12, v3), lower3)
    assert abs(bad.S[2]) <= 1e-14 and bad.S[0] > 0 > bad.S[1] and bad.v[0] < 0 < bad.v[1]
    assert np.isclose(bad.v.sum(), bad.c, atol=1e-14)
    for p in np.logspace(-6, -2, 9):
        pp = np.array([p ** 3, p ** 3, p])
        assert bad.excess(pp) < 0
        if p <= 1e-4:                                       # the p^2 coefficient of the proof's expansion
            assert np.isclose(bad.excess(pp) / p ** 2, -Q ** 2 / (2 * E), rtol=0.05)
    assert bad.loss(np.array([1e-9, 1e-9, 1e-3])) < bad.limit_loss


# ------------------------------------------------------------ validation
NET = Network((1, 2, 2, 1), "sigmoid")
XD, YD = data(1)
OBJ = half(NET, XD, YD)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: bias_from_p([0.1, 0.0]), ValueError, "p must be positive"),
    (lambda: p_from_bias([np.inf]), ValueError, "u0"),
    (lambda: lemma7_phi(np.zeros(3), np.zeros(4), np.zeros((4, 2))), ValueError, "u"),
    (lambda: lemma7_phi(np.zeros(2), np.zeros(4), np.zeros((5, 2))), ValueError, "A"),
    (lambda: lemma7_points(np.zeros(4), np.zeros((4, 2)), t0=-1.0), ValueError, "t0"),
    (lambda: output_weights([0.1, -0.1], "c"), TypeError, "c"),
    (lambda: output_weights([[0.1]], 1.0), ValueError, "S"),
    (lambda: minimum_at_infinity(half(Network((1, 2, 2, 1), "tanh"), XD, YD)), ValueError, "sigmoid"),
    (lambda: minimum_at_infinity(half(Network((1, 2, 2, 1), "sigmoid", biases=False), XD, YD)), ValueError, "biases"),
    (lambda: minimum_at_infinity(half(Network((1, 2, 1, 1), "sigmoid"), XD, YD)), ValueError, "two neurons"),
    (lambda: minimum_at_infinity(half(Network((1, 1), "sigmoid"), XD, YD)), ValueError, "hidden layer"),
    (lambda: minimum_at_infinity(OBJ, rng=None), TypeError, "rng"),
    (lambda: minimum_at_infinity("net"), TypeError, "objective"),
    (lambda: point_at_infinity(NET, np.zeros((2, 2)), np.zeros(2)), TypeError, "objective"),
    (lambda: point_at_infinity(OBJ, np.zeros((2, 3)), np.zeros(2), np.zeros(NET.n_params)),
     ValueError, "U"),
    (lambda: point_at_infinity(OBJ, np.zeros((2, 2)), np.zeros(3), np.zeros(NET.n_params)),
     ValueError, "v"),
    (lambda: point_at_infinity(OBJ, np.zeros((2, 2)), np.zeros(2)), ValueError, "lower"),
    (lambda: point_from_theta(OBJ, np.zeros(3)), ValueError, "theta"),
])
def test_bad_input_names_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_point_methods_validate_p():
    pt, _ = minimum_at_infinity(OBJ, rng=0)
    assert isinstance(pt, PointAtInfinity)
    with pytest.raises(ValueError, match="p must be positive"):
        pt.loss(0.0)
    with pytest.raises(ValueError, match="p must"):
        pt.excess(np.ones(3))
    bad = point_at_infinity(OBJ, pt.U, -pt.v, np.zeros(NET.n_params))
    assert not bad.sign_conditions_hold
    with pytest.raises(ValueError, match="sign conditions"):
        bad.p_guaranteed()


def test_point_from_theta_reads_the_layers():
    pt, _ = minimum_at_infinity(OBJ, rng=0)
    th = pt.theta(np.array([1e-3, 2e-3]))
    again = point_from_theta(OBJ, th)
    assert np.array_equal(again.U, pt.U) and np.array_equal(again.v, pt.v) and again.b_out == pt.b_out
    assert np.array_equal(again.theta_finite, pt.theta_finite)
    assert np.allclose(again.kappa, -pt.v * pt.S, rtol=1e-14)
    assert again.objective is OBJ and again.normalization == "half"
