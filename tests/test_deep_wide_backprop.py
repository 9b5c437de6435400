"""lossland.deep_wide.backprop: Lemma 2.1 of 003, symbolically and numerically."""
import numpy as np
import pytest
import sympy as sp

from lossland import Network, SquaredLoss, get_activation
from lossland.deep_wide.backprop import (Lemma21Symbolic, generic_loss, lemma21_differences,
                                         lemma21_numeric, lemma21_symbolic)
from lossland.derivatives import fd_gradient
from lossland.losses import get_loss
from lossland.objective import Objective


def _all_zero(diffs):
    # expand() reaching 0 proves that an entry vanishes identically (fast);
    # with concrete exponentials it may stop short, then simplify() decides
    return all(sp.expand(e) == 0 or sp.simplify(e) == 0
               for M in diffs.values() for e in M)


def test_lemma21_generic_sigma_and_loss_deep_several_outputs():
    lem = lemma21_symbolic((2, 2, 2, 2), n_samples=2)
    diffs = lemma21_differences(lem)
    assert sorted(diffs) == [(i, k) for i in (1, 2, 3) for k in (1, 2, 3)]
    assert _all_zero(diffs)
    assert lem.Phi.atoms(sp.core.function.AppliedUndef)       # generic sigma and l
    assert {f.func for f in lem.Phi.atoms(sp.core.function.AppliedUndef)} == {
        sp.Function("sigma"), generic_loss}


@pytest.mark.parametrize("widths,N,sigma,loss", [
    ((1, 2, 3), 3, "tanh", lambda a: a ** 2),
    ((2, 3, 2), 2, None, lambda a: sp.log(1 + a ** 2)),
    ((1, 1, 1, 1), 1, "sigmoid", None),
])
def test_lemma21_other_networks(widths, N, sigma, loss):
    assert _all_zero(lemma21_differences(lemma21_symbolic(widths, N, sigma, loss)))


def test_shapes_follow_003():
    lem = lemma21_symbolic((3, 2, 4, 2), n_samples=5)
    assert isinstance(lem, Lemma21Symbolic) and lem.depth == 3
    assert lem.X.shape == (5, 3) and lem.Y.shape == (5, 2) and lem.F[0] == lem.X
    for k, (a, b) in enumerate(zip((3, 2, 4), (2, 4, 2)), start=1):
        assert lem.W[k].shape == (a, b) and lem.b[k].shape == (b, 1)
        assert lem.G[k].shape == lem.F[k].shape == lem.Delta[k].shape == (5, b)
        assert lem.grad_W[k].shape == (a, b) and lem.grad_b[k].shape == (b, 1)
    assert len(lem.params) == len(set(lem.params)) == 3 * 2 + 2 + 2 * 4 + 4 + 4 * 2 + 2
    # lossland's flat order: W[1] = W_1^T row by row, then b_1, ...
    assert lem.params[:8] == [lem.W[1][r, s] for s in range(2) for r in range(3)] + list(lem.b[1])


def test_a_wrong_formula_is_caught():
    lem = lemma21_symbolic((1, 2, 2), n_samples=1)
    L = lem.depth
    lem.Delta[L] = (lem.F[L] - lem.Y).applyfunc(
        lambda a: sp.Derivative(generic_loss(sp.Symbol("t")), sp.Symbol("t")).subs(
            sp.Symbol("t"), a))                                   # sigma'(G_L) dropped
    diffs = lemma21_differences(lem)
    assert any(sp.expand(e) != 0 for e in diffs[(1, L)])


def test_concrete_phi_matches_a_numeric_evaluation():
    lem = lemma21_symbolic((2, 3, 2), n_samples=3, sigma="tanh", loss=lambda a: a ** 2)
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(len(lem.params))
    X, Y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    vals = dict(zip(lem.params, theta))
    vals.update(zip(lem.X, X.ravel()))
    vals.update(zip(lem.Y, Y.ravel()))
    # numeric forward with 003's W_k = (lossland W[k])^T
    W1 = theta[:6].reshape(3, 2).T
    b1, W2, b2 = theta[6:9], theta[9:15].reshape(2, 3).T, theta[15:17]
    F2 = np.tanh(np.tanh(X @ W1 + b1) @ W2 + b2)
    assert float(lem.Phi.xreplace(vals)) == pytest.approx(((F2 - Y) ** 2).sum(), rel=1e-13)


def test_activation_objects_and_loss_objects_with_expr():
    class SquaredExpr:                       # duck type of lossland.losses.Loss
        def expr(self, a):
            return a ** 2
    lem = lemma21_symbolic((1, 1, 1), 1, get_activation("softplus", alpha=2.0), SquaredExpr())
    assert _all_zero(lemma21_differences(lem))


@pytest.mark.parametrize("kwargs,exc", [
    (dict(widths=(2,)), ValueError), (dict(widths=(2, 0)), ValueError),
    (dict(widths="22"), TypeError), (dict(widths=(2, 1.5)), TypeError),
    (dict(n_samples=0), ValueError), (dict(n_samples=True), TypeError),
    (dict(sigma=3), TypeError), (dict(loss=3), TypeError),
])
def test_errors(kwargs, exc):
    args = dict(widths=(1, 1), n_samples=1) | kwargs
    with pytest.raises(exc):
        lemma21_symbolic(**args)


def test_layer_and_type_errors():
    lem = lemma21_symbolic((1, 1, 1), 1)
    with pytest.raises(ValueError, match="k must be in"):
        lem.direct_delta(3)
    with pytest.raises(TypeError, match="k must be an integer"):
        lem.direct_grad_W(1.0)
    with pytest.raises(TypeError, match="lemma must be"):
        lemma21_differences("lemma")


# ----------------------------------------------------------------- numeric side
NUMERIC = [((2, 3, 2), "tanh", "tanh", get_loss("squared")),
           ((3, 4, 3, 2), "sigmoid", None, get_loss("pseudo_huber", delta=1.0)),
           ((2, 3, 3, 3), "softplus", "sigmoid", get_loss("cauchy", delta=0.5)),
           ((2, 2, 1), "tanh", None, get_loss("squared"))]


@pytest.mark.parametrize("widths,act,out,loss", NUMERIC)
def test_lemma21_numeric_matches_objective(widths, act, out, loss):
    rng = np.random.default_rng(sum(widths))
    net = Network(widths, act, output_activation=out)
    X, Y = rng.standard_normal((5, widths[0])), rng.standard_normal((5, widths[-1]))
    obj = Objective(net, X, Y, loss=loss)
    theta = net.init_params(rng)
    num = lemma21_numeric(obj, theta)
    deltas = obj.deltas(theta)
    scale = max(np.abs(d).max() for d in deltas[1:])
    for k in range(1, net.depth + 1):
        assert np.allclose(num.Delta[k], deltas[k], rtol=0, atol=1e-13 * scale)
        assert num.grad_W[k].shape == (widths[k - 1], widths[k])
    g = obj.gradient(theta)
    assert np.allclose(num.gradient, g, rtol=0, atol=1e-13 * np.abs(g).max())
    fd = fd_gradient(obj.value, theta)
    assert np.abs(fd - g).max() < 1e-7 * max(1.0, np.abs(g).max())


def test_lemma21_numeric_class_loss():
    rng = np.random.default_rng(7)
    net = Network((2, 3, 2), "tanh", output_activation="tanh")
    X = rng.standard_normal((6, 2))
    C = np.zeros((6, 2), bool)
    C[np.arange(6), rng.integers(0, 2, 6)] = True
    Y = np.where(C, 1.0, -1.0)
    obj = Objective(net, X, Y, loss=get_loss("squared_hinge"), classes=C)
    theta = net.init_params(rng)
    g = obj.gradient(theta)
    assert np.allclose(lemma21_numeric(obj, theta).gradient, g, rtol=0,
                       atol=1e-13 * max(1.0, np.abs(g).max()))


def test_symbolic_and_numeric_agree_on_a_concrete_network():
    loss = get_loss("cauchy", delta=1.0)
    lem = lemma21_symbolic((2, 2, 2), 2, "tanh", loss)
    net = Network((2, 2, 2), "tanh", output_activation="tanh")
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    theta = net.init_params(rng)
    obj = Objective(net, X, Y, loss=loss)
    vals = dict(zip(lem.params, theta))
    vals.update(zip(lem.X, X.ravel()))
    vals.update(zip(lem.Y, Y.ravel()))
    assert float(lem.Phi.xreplace(vals)) == pytest.approx(obj.value(theta), rel=1e-13)
    g_sym = np.array([float(sp.diff(lem.Phi, p).xreplace(vals)) for p in lem.params])
    assert np.allclose(g_sym, obj.gradient(theta), rtol=1e-12, atol=1e-14)
    for k in (1, 2):
        D = np.array(lem.Delta[k].xreplace(vals).evalf(), dtype=float)
        assert np.allclose(D, obj.deltas(theta)[k], rtol=1e-12, atol=1e-14)


def test_lemma21_numeric_needs_an_objective():
    net = Network((1, 2, 1), "tanh")
    sq = SquaredLoss(net, np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(TypeError, match="Objective"):
        lemma21_numeric(sq, np.zeros(net.n_params))
