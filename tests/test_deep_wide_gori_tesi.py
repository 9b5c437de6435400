"""lossland.deep_wide.gori_tesi: Theorem 3.1 of 003 (the limits, condition 2), constant critical points,
the induction of Theorem 3.4 / Lemma 3.5 with norms, and tanh(t^3)."""
import numpy as np
import pytest
import sympy as sp

from lossland import Network
from lossland.derivatives import fd_gradient
from lossland.losses import get_loss
from lossland.objective import Objective
from lossland.optimize import find_critical_point
from lossland.deep_wide.gori_tesi import (
    LIMIT_NAMES,
    activation_from_expr,
    constant_point,
    gori_tesi_limits,
    induction_chain,
    layer_one_report,
    tanh_cubed,
)

a = sp.Symbol("a", real=True)
X4 = np.array([[-1.5], [-0.5], [0.5], [1.5]])
Y4 = np.array([0.75, 0.25, 0.25, 0.75])


# ------------------------------------------------------------------ the four limits
def test_limits_of_sigmoid_and_tanh():
    sig, th = gori_tesi_limits("sigmoid"), gori_tesi_limits("tanh")
    assert sig.values() == (1, 1, 1, 1) and th.values() == (2, 4, 2, 4)
    assert sig.holds and th.holds and (th.lower, th.upper) == (-1, 1)
    assert set(sig.limits) == set(LIMIT_NAMES) == set(sig.expressions)


def test_limits_with_another_bound_vanish():
    assert gori_tesi_limits("sigmoid", upper=2).values()[:2] == (0, 0)
    assert gori_tesi_limits("tanh", lower=-3).values()[2:] == (0, 0)


def test_limits_of_expressions():
    at = gori_tesi_limits(sp.atan(a), symbol=a)
    assert at.values() == (0, 0, 0, 0) and not at.holds and at.upper == sp.pi / 2
    er = gori_tesi_limits(sp.erf(a), symbol=a)
    assert er.values() == (sp.oo,) * 4 and er.holds
    own = gori_tesi_limits(1 / (1 + sp.exp(-a)), symbol=a)     # the sigmoid, by hand
    assert own.values() == (1, 1, 1, 1)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(sigma="softplus"), ValueError, "bounded"),
    (dict(sigma=3.0), TypeError, "activation name"),
    (dict(sigma=sp.atan(a)), TypeError, "symbol"),
    (dict(sigma=sp.atan(a) + sp.Symbol("b"), symbol=a), ValueError, "depend"),
    (dict(sigma="sigmoid", lower=1, upper=0), ValueError, "below"),
    (dict(sigma="sigmoid", upper="1"), TypeError, "real number"),
    (dict(sigma="sigmoid", upper=sp.oo), ValueError, "finite"),
])
def test_limits_validate(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        gori_tesi_limits(**kwargs)


# ------------------------------------------------------------------ condition 2 at a point
def _n2():
    net = Network((1, 1, 1), activation="sigmoid", output_activation="sigmoid")
    return Objective(net, X4, Y4)


@pytest.mark.parametrize("b1,w2", [(2.0, 2.0), (-2.0, 2.0), (0.7, -1.3)])
def test_constant_points_of_uncorrelated_data_are_critical_with_delta1_in_the_kernel(b1, w2):
    obj = _n2()
    th = constant_point(obj, np.array([0.0, b1, w2, 0.0]))
    assert np.all(obj.gradient(th) == 0) and obj.value(th) == 0.25
    rep = layer_one_report(obj, th)
    assert rep.condition1 and rep.feature.rank == 2 and rep.kernel_dim == 2
    assert rep.grad_norm == 0 and rep.delta_norm > 0 and rep.delta_in_kernel(rtol=1e-14)
    assert abs(rep.kernel_part - rep.delta_norm) < 1e-15


def test_layer_one_report_elsewhere():
    obj = _n2()
    rng = np.random.default_rng(0)
    rep = layer_one_report(obj, rng.standard_normal(4))
    assert rep.grad_norm > 0 and not rep.delta_in_kernel()
    rep0 = layer_one_report(obj, np.array([0.3, 0.1, 0.0, 0.2]))   # W_2 = 0
    assert not rep0.condition1 and rep0.delta_norm == 0 and not rep0.delta_in_kernel()


# ------------------------------------------------------------------ constant points
@pytest.mark.parametrize("loss,params,out", [("squared", {}, None), ("squared", {}, "sigmoid"),
                                             ("pseudo_huber", {"delta": 1.0}, None),
                                             ("cauchy", {"delta": 0.5}, "tanh"),
                                             ("blake_zisserman", {"delta": 0.5}, None)])
def test_constant_point_outputs_the_best_constant_and_is_critical_with_w2_zero(loss, params, out):
    rng = np.random.default_rng(3)
    net = Network((3, 4, 2), activation="tanh", output_activation=out)
    Y = rng.uniform(0.2, 0.8, (6, 2))
    obj = Objective(net, rng.standard_normal((6, 3)), Y, loss=get_loss(loss, **params))
    th = np.zeros(net.n_params)
    th[net.bias_slice(1)] = rng.standard_normal(4)
    th = constant_point(obj, th)
    F = net(th, obj.X)
    assert np.allclose(F, F[0], rtol=0, atol=1e-15)                       # constant in x
    assert np.abs(obj.loss.d1(F[0] - Y).sum(axis=0)).max() < 1e-12        # best constant
    assert np.abs(obj.gradient(th)).max() < 1e-12                         # W_2 = 0: critical
    if loss == "squared" and out is None:
        assert np.allclose(F[0], Y.mean(axis=0), rtol=0, atol=1e-15)


def test_constant_point_validates():
    obj = _n2()
    with pytest.raises(ValueError, match="W_1 = 0"):
        constant_point(obj, np.array([0.1, 0.0, 1.0, 0.0]))
    net = Network((1, 1, 1), activation="sigmoid", biases=False)
    with pytest.raises(ValueError, match="biases"):
        constant_point(Objective(net, X4, Y4), np.zeros(2))
    hinge = Objective(Network((1, 1, 1), "sigmoid"), X4, Y4, loss=get_loss("squared_hinge"),
                      classes=np.array([[True], [False], [False], [True]]))
    with pytest.raises(ValueError, match="class loss"):
        constant_point(hinge, np.zeros(4))
    with pytest.raises(TypeError, match="Objective"):
        constant_point("obj", np.zeros(4))
    out = Objective(Network((1, 1, 1), "sigmoid", output_activation="sigmoid"), X4, Y4 + 1.0)
    with pytest.raises(ValueError, match="image"):
        constant_point(out, np.zeros(4))


# ------------------------------------------------------------------ the induction
NETS = [((3, 3, 1), "sigmoid", None, "squared", {}, 4),
        ((4, 3, 2), "tanh", "sigmoid", "cauchy", {"delta": 1.0}, 5),
        ((3, 3, 2, 2), "softplus", None, "pseudo_huber", {"delta": 0.5}, 4),
        ((2, 5, 3, 1), "tanh", "tanh", "corrupted_gaussian", {"alpha": 0.5, "w": 2.0}, 3)]


@pytest.mark.parametrize("widths,act,out,loss,params,N", NETS)
def test_induction_bounds_hold_everywhere(widths, act, out, loss, params, N):
    rng = np.random.default_rng(7)
    net = Network(widths, activation=act, output_activation=out)
    Y = rng.uniform(0.2, 0.8, (N, widths[-1]))
    obj = Objective(net, rng.standard_normal((N, widths[0])), Y, loss=get_loss(loss, **params))
    for _ in range(3):
        ch = induction_chain(obj, net.init_params(rng, 1.5))
        assert ch.hypotheses and ch.bounds_hold
        assert list(ch.delta_norms) == list(range(1, net.depth + 1))
        assert np.isfinite(ch.lprime_bound)


def test_induction_at_a_critical_point_gives_a_global_minimum():
    rng = np.random.default_rng(11)
    net = Network((4, 3, 2), activation="tanh")
    obj = Objective(net, rng.standard_normal((5, 4)), rng.standard_normal((5, 2)),
                    loss=get_loss("pseudo_huber", delta=1.0))
    cp = find_critical_point(obj, net.init_params(rng, 1.0))
    ch = induction_chain(obj, cp.theta)
    assert cp.converged and ch.hypotheses and ch.bounds_hold
    assert ch.lprime_norm < 1e-9 and cp.loss < 1e-18


def test_induction_from_a_hidden_layer_and_failing_hypotheses():
    rng = np.random.default_rng(2)
    net = Network((2, 7, 3, 1), activation="tanh")
    obj = Objective(net, rng.standard_normal((8, 2)), rng.standard_normal((8, 1)))
    th = net.init_params(rng, 1.0)
    assert not induction_chain(obj, th, k=0).hypotheses          # rank [X, 1] = 3 < 8
    assert np.isinf(induction_chain(obj, th, k=0).lprime_bound)
    ch1 = induction_chain(obj, th, k=1)
    assert ch1.hypotheses and ch1.bounds_hold and ch1.feature.rank == 8
    th0 = th.copy()
    th0[net.weight_slice(3)] = 0.0                                 # W_3 = 0: no column rank
    ch0 = induction_chain(obj, th0, k=1)
    assert not ch0.hypotheses and np.isinf(ch0.lprime_bound) and ch0.bounds_hold
    with pytest.raises(ValueError, match="k"):
        induction_chain(obj, th, k=3)


def test_induction_with_the_class_loss():
    rng = np.random.default_rng(4)
    net = Network((3, 3, 2), activation="sigmoid")
    C = np.array([[True, False], [False, True], [True, False]])
    obj = Objective(net, rng.standard_normal((3, 3)), np.where(C, 1.0, -1.0),
                    loss=get_loss("squared_hinge"), classes=C)
    ch = induction_chain(obj, net.init_params(rng, 1.0))
    assert ch.hypotheses and ch.bounds_hold


# ------------------------------------------------------------------ tanh(t^3)
def test_tanh_cubed_is_flat_at_zero_and_exact():
    act = tanh_cubed()
    t = np.linspace(-2, 2, 41)
    assert np.allclose(act.f(t), np.tanh(t**3), rtol=0, atol=1e-15)
    assert act.d1(0.0) == 0 and np.all(act.d1(t[t != 0]) > 0) and act.bounded
    h = 1e-6
    assert np.allclose(act.d1(t), (act.f(t + h) - act.f(t - h)) / (2 * h), atol=1e-7)
    assert np.allclose(act.d2(t), (act.d1(t + h) - act.d1(t - h)) / (2 * h), atol=1e-6)


def test_tanh_cubed_breaks_theorem_34_as_printed():
    act = tanh_cubed()
    net = Network((1, 1, 1), activation=act, output_activation=act)
    obj = Objective(net, np.array([[-1.0], [1.0]]), np.array([-0.5, 0.5]))
    for w2 in (1.0, -2.5):
        th = np.array([0.0, 0.0, w2, 0.0])
        ch = induction_chain(obj, th)
        assert np.all(obj.gradient(th) == 0) and ch.hypotheses and obj.value(th) == 0.5
        assert np.isinf(ch.bounds[2])                  # min sigma'(G_1) = 0 breaks the chain
    g = fd_gradient(obj.value, np.array([0.3, -0.2, 0.7, 0.1]))
    assert np.allclose(g, obj.gradient(np.array([0.3, -0.2, 0.7, 0.1])), atol=1e-7)
    w2_fit = float(np.cbrt(np.arctanh(0.5)) / np.tanh(1.0))
    assert obj.value(np.array([1.0, 0.0, w2_fit, 0.0])) < 1e-20


def test_activation_from_expr_validates():
    with pytest.raises(TypeError, match="sympy expression"):
        activation_from_expr("tanh(t)", a, "x", (-1, 1))
    with pytest.raises(TypeError, match="Symbol"):
        activation_from_expr(sp.tanh(a), "a", "x", (-1, 1))
    with pytest.raises(ValueError, match="depend"):
        activation_from_expr(sp.tanh(a) + sp.Symbol("b"), a, "x", (-1, 1))
    with pytest.raises(ValueError, match="interval"):
        activation_from_expr(sp.tanh(a), a, "x", (1, -1))
    with pytest.raises(TypeError, match="name"):
        activation_from_expr(sp.tanh(a), a, "", (-1, 1))
    unb = activation_from_expr(a + sp.exp(a), a, "lin_exp", (-np.inf, np.inf))
    assert not unb.bounded and unb.d1(0.0) == 2.0
