"""Exact gradient and Hessian against central differences, symmetry, HVPs; against sympy."""
import functools

import numpy as np
import pytest
import sympy as sp

from lossland import SMOOTH_ACTIVATIONS, Network, SquaredLoss, get_activation
from lossland.derivatives import fd_gradient, fd_hessian
from lossland.symbolic import symbolic_network

from conftest import ARCHS, make_problem, reference_dh_dn


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


# ---------------------------------------------------------------------------
# More architectures: four hidden layers, wider layers, activation parameters
# ---------------------------------------------------------------------------
MORE_ARCHS = [
    ((2, 3, 1, 4, 2, 1), True),         # four hidden layers
    ((2, 3, 1, 4, 2, 1), False),
    ((1, 2, 2, 2, 2, 1), True),
    ((3, 6, 1), True),                  # wider
    ((1, 5, 5, 1), False),
    ((4, 1, 1), True),                  # bottleneck
    ((3, 1), True),                     # no hidden layer
]
MORE_ACTIVATIONS = [("sigmoid", {}), ("tanh", {}), ("gelu", {}), ("mish", {}), ("softplus", {"alpha": 2.5}),
                    ("swish", {"beta": 1.7}), ("sin", {})]


def _problem(widths, activation, params, biases, seed, n_samples=6, scale=0.6):
    rng = np.random.default_rng(seed)
    net = Network(widths, activation, biases=biases, **params)
    X = rng.standard_normal((n_samples, widths[0]))
    y = rng.standard_normal(n_samples)
    return net, net.init_params(rng, scale), X, y


@pytest.mark.parametrize("activation,params", MORE_ACTIVATIONS)
@pytest.mark.parametrize("widths,biases", MORE_ARCHS)
def test_more_architectures_against_central_differences(widths, biases, activation, params):
    net, theta, X, y = _problem(widths, activation, params, biases, seed=sum(widths) + biases)
    obj = SquaredLoss(net, X, y)
    g, H = obj.gradient(theta), obj.hessian(theta)
    scale_g, scale_H = max(1.0, np.abs(g).max()), max(1.0, np.abs(H).max())
    assert np.abs(g - fd_gradient(obj.value, theta, h=1e-6)).max() <= 1e-6 * scale_g
    assert np.abs(H - fd_hessian(obj.gradient, theta, h=1e-5)).max() <= 1e-6 * scale_H
    assert np.abs(H - H.T).max() <= 1e-12 * scale_H
    value, g2 = obj.value_and_gradient(theta)
    assert value == obj.value(theta) and np.array_equal(g2, g)


@pytest.mark.parametrize("widths,biases", ARCHS + MORE_ARCHS)
def test_output_deltas_and_jacobian(widths, biases):
    act = get_activation("gelu")
    net, theta, X, y = _problem(widths, "gelu", {}, biases, seed=len(widths))
    g = SquaredLoss(net, X, y).output_deltas(theta)
    assert g[0] is None and np.array_equal(g[net.depth], np.ones((len(X), 1)))
    for layer in range(1, net.depth + 1):
        assert g[layer].shape == (len(X), widths[layer])
        for a, x in enumerate(X):
            ref = reference_dh_dn(widths, act, biases, theta, x, layer)
            assert np.allclose(g[layer][a], ref, rtol=1e-12, atol=1e-14)
    J = SquaredLoss(net, X, y).jacobian(theta)
    J_fd = np.array([fd_gradient(lambda t, a=a: net(t, X)[a], theta) for a in range(len(X))])
    assert J.shape == (len(X), net.n_params)
    assert np.abs(J - J_fd).max() <= 1e-7 * max(1.0, np.abs(J).max())
    # gradient of c sum r^2 is 2c J^T r; with biases, df/db^l_k is dh/dn(l, k)
    for norm, c in (("sum", 1.0), ("half", 0.5)):
        obj = SquaredLoss(net, X, y, norm)
        assert np.allclose(obj.gradient(theta), 2 * c * J.T @ obj.residuals(theta), rtol=1e-12, atol=1e-12)
    if biases:
        for layer in range(1, net.depth + 1):
            assert np.allclose(J[:, net.bias_slice(layer)], g[layer], rtol=0, atol=1e-15)


def test_output_deltas_reference_is_a_true_derivative():
    """The test's own dh/dn (a product of Jacobians) against finite differences of the tail map."""
    widths, biases = (2, 3, 2, 2, 1), True
    act = get_activation("tanh")
    net, theta, X, _ = _problem(widths, "tanh", {}, biases, seed=3)
    W, b = net.unflatten(theta)
    x = X[0]
    z1 = W[1] @ x + b[1]

    def tail(z, start):               # n(start) -> f, plain numpy
        a = act.f(z)
        for m in range(start + 1, net.depth + 1):
            z = W[m] @ a + b[m]
            a = act.f(z) if m < net.depth else z
        return z[0]

    z = z1
    for layer in range(1, net.depth):
        ref = reference_dh_dn(widths, act, biases, theta, x, layer)
        fd = fd_gradient(lambda zz: tail(zz, layer), z, h=1e-6)
        assert np.allclose(ref, fd, rtol=1e-8, atol=1e-9)
        z = W[layer + 1] @ act.f(z) + b[layer + 1]


def test_linear_regression_hessian_is_twice_the_gram_matrix(rng):
    net = Network((3, 1), "tanh")
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    theta = rng.standard_normal(net.n_params)
    Xt = np.hstack([X, np.ones((8, 1))])
    H = SquaredLoss(net, X, y).hessian(theta)
    assert np.allclose(H, 2 * Xt.T @ Xt, rtol=1e-13, atol=1e-13)
    assert np.allclose(SquaredLoss(net, X, y).gradient(theta), 2 * Xt.T @ (Xt @ theta - y), atol=1e-12)


# ---------------------------------------------------------------------------
# Against sympy (lossland.symbolic.symbolic_network) on tiny networks
# ---------------------------------------------------------------------------
ONE_HIDDEN = [((1, 2, 1), True), ((2, 2, 1), False)]
TWO_HIDDEN = [((1, 2, 2, 1), False), ((1, 1, 2, 1), True)]
# gelu and mish nest into large expressions: smaller two-hidden-layer networks keep sympy fast
TWO_HIDDEN_SMALL = [((1, 1, 2, 1), False), ((1, 1, 1, 1), True)]
SYMPY_PARAMS = ([(act, w, b) for act in ("sigmoid", "tanh", "softplus") for w, b in ONE_HIDDEN + TWO_HIDDEN]
                + [(act, w, b) for act in ("gelu", "mish") for w, b in ONE_HIDDEN + TWO_HIDDEN_SMALL])


@functools.lru_cache(maxsize=None)
def sympy_derivatives(widths, activation, biases):
    """lambdified (L, grad L, upper triangle of Hess L, [f(x_a)], [grad f(x_a)]) for 2 symbolic samples."""
    sn = symbolic_network(widths, activation, biases=biases, n_samples=2)
    ys = sp.symbols("y0 y1", real=True)
    L = sn.loss(ys)
    p = sn.params
    P = len(p)
    grad = [sp.diff(L, q) for q in p]
    hess_upper = [sp.diff(grad[i], p[j]) for i in range(P) for j in range(i, P)]
    jac = [[sp.diff(f, q) for q in p] for f in sn.outputs]
    args = list(p) + [s for xa in sn.inputs for s in xa] + list(ys)
    fn = sp.lambdify(args, [L, grad, hess_upper, sn.outputs, jac], modules="numpy", cse=True)
    return fn, P


@pytest.mark.parametrize("activation,widths,biases", SYMPY_PARAMS)
def test_exact_derivatives_match_sympy(widths, biases, activation):
    fn, P = sympy_derivatives(widths, activation, biases)
    net = Network(widths, activation, biases=biases)
    assert net.n_params == P
    for seed in range(3):
        rng = np.random.default_rng(seed)
        theta = net.init_params(rng, 1.0)
        X, y = rng.standard_normal((2, widths[0])), rng.standard_normal(2)
        L, g, h_up, f, J = fn(*theta, *X.ravel(), *y)
        H = np.zeros((P, P))
        H[np.triu_indices(P)] = h_up
        H = H + np.triu(H, 1).T
        obj = SquaredLoss(net, X, y)
        assert np.isclose(obj.value(theta), L, rtol=1e-13, atol=1e-14)
        assert np.allclose(net(theta, X), f, rtol=1e-13, atol=1e-14)
        assert np.allclose(obj.gradient(theta), g, rtol=1e-11, atol=1e-13)
        H_exact = obj.hessian(theta)
        assert np.abs(H_exact - H).max() <= 1e-12 * max(1.0, np.abs(H).max())   # both triangles
        assert np.allclose(obj.jacobian(theta), np.array(J, dtype=float), rtol=1e-11, atol=1e-13)
        half = SquaredLoss(net, X, y, "half")
        assert np.allclose(half.hessian(theta), H / 2, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("activation,params", [("softplus", {"alpha": 2.5}), ("swish", {"beta": 0.6}),
                                               ("silu", {}), ("sin", {})])
def test_parametrised_activations_match_sympy(activation, params):
    widths, biases = (1, 2, 1), True
    act = get_activation(activation, **params)
    sn = symbolic_network(widths, act, biases=biases, n_samples=2)
    ys = sp.symbols("y0 y1", real=True)
    L = sn.loss(ys)
    grad = [sp.diff(L, q) for q in sn.params]
    hess = [[sp.diff(gi, q) for q in sn.params] for gi in grad]
    args = list(sn.params) + [s for xa in sn.inputs for s in xa] + list(ys)
    fn = sp.lambdify(args, [grad, hess], modules="numpy", cse=True)
    net = Network(widths, act, biases=biases)
    rng = np.random.default_rng(11)
    theta, X, y = net.init_params(rng), rng.standard_normal((2, 1)), rng.standard_normal(2)
    g, H = fn(*theta, *X.ravel(), *y)
    obj = SquaredLoss(net, X, y)
    assert np.allclose(obj.gradient(theta), g, rtol=1e-11, atol=1e-13)
    assert np.allclose(obj.hessian(theta), np.array(H, dtype=float), rtol=1e-11, atol=1e-13)


# ---------------------------------------------------------------------------
# The two exact Hessians against each other; theta checks; the forward-pass cache
# ---------------------------------------------------------------------------
ONE_HIDDEN = [((1, 2, 1), True), ((1, 2, 1), False), ((3, 4, 1), True), ((2, 5, 1), False), ((4, 1, 1), True)]


@pytest.mark.parametrize("activation,params", MORE_ACTIVATIONS + [("exp", {}), ("identity", {})])
@pytest.mark.parametrize("widths,biases", ONE_HIDDEN)
@pytest.mark.parametrize("normalization", ["sum", "half"])
def test_one_hidden_closed_form_equals_second_order_backprop(widths, biases, activation, params, normalization):
    """_hessian_one_hidden (J^T J + residual terms) and _hessian_layers (R-operator) are independent."""
    net, theta, X, y = _problem(widths, activation, params, biases, seed=sum(widths) + biases, n_samples=9)
    obj = SquaredLoss(net, X, y, normalization)
    H_layers = obj._hessian_layers(theta)
    H = obj.hessian(theta)
    assert np.array_equal(H, obj._hessian_one_hidden(theta, obj._one_hidden_plan()))
    assert np.abs(H - H_layers).max() <= 1e-13 * max(1.0, np.abs(H_layers).max())
    assert np.array_equal(H, H.T)                               # symmetric by construction


@pytest.mark.parametrize("biases", [True, False])
def test_one_hidden_with_saturated_neurons(biases):
    """|n_k| > 40 (the branch under np.errstate) and huge parameters: still exact, no warning."""
    net = Network((2, 3, 1), "sigmoid", biases=biases)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    obj = SquaredLoss(net, X, y)
    for scale in (60.0, 1e25):
        theta = scale * rng.standard_normal(net.n_params)
        H, H_layers = obj.hessian(theta), obj._hessian_layers(theta)
        assert np.isfinite(H).all()
        assert np.abs(H - H_layers).max() <= 1e-12 * max(1.0, np.abs(H_layers).max())


def test_one_hidden_overflow_raises_without_warning():
    obj = SquaredLoss(Network((1, 2, 1), "exp"), np.ones((3, 1)), np.zeros(3))
    for theta in ([0.0, 0.0, 800.0, 0.0, 1.0, 1.0, 0.0], [1e30, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0]):
        with pytest.raises(ValueError, match="overflow"):
            obj.hessian(np.array(theta))


def test_hessian_of_many_inputs_takes_second_order_backprop(monkeypatch):
    net, theta, X, y = make_problem((3, 4, 1), "tanh", True, seed=2)
    H = SquaredLoss(net, X, y).hessian(theta)
    monkeypatch.setattr(SquaredLoss, "_ONE_HIDDEN_MAX", 0)
    obj = SquaredLoss(net, X, y)
    calls = []
    monkeypatch.setattr(SquaredLoss, "_hessian_layers",
                        lambda self, t, f=SquaredLoss._hessian_layers: calls.append(1) or f(self, t))
    H_layers = obj.hessian(theta)
    assert calls == [1]
    assert np.abs(H - H_layers).max() <= 1e-13 * max(1.0, np.abs(H).max())


@pytest.mark.parametrize("widths", [(1, 2, 1), (2, 3, 2, 1)])
def test_theta_in_other_forms_and_bad_theta(widths):
    net, theta, X, y = make_problem(widths, "sigmoid", True, seed=4)
    obj = SquaredLoss(net, X, y)
    H, g = obj.hessian(theta), obj.gradient(theta)
    for other in (list(theta), theta.astype(np.longdouble), theta[::-1].copy()[::-1], theta.reshape(1, -1)[0]):
        assert np.array_equal(obj.hessian(other), H)
        assert np.array_equal(obj.gradient(other), g)
    assert np.array_equal(obj.hessian(np.zeros(net.n_params, dtype=int)), obj.hessian(np.zeros(net.n_params)))
    for bad, kind in (([np.nan] + list(theta[1:]), ValueError), ([np.inf] + list(theta[1:]), ValueError),
                      (theta[:-1], ValueError), (theta[None, :], ValueError), (["a"] * net.n_params, TypeError)):
        for method in (obj.hessian, obj.gradient, obj.value, obj.jacobian):
            with pytest.raises(kind, match="theta"):
                method(bad)


def test_forward_pass_is_shared_and_never_stale(monkeypatch):
    """value, gradient, output_deltas, jacobian, hvp at one theta share a forward pass; a new theta: a new one."""
    net, theta, X, y = make_problem((2, 3, 2, 1), "tanh", True, seed=6)
    fresh = lambda t: SquaredLoss(net, X, y).value_and_gradient(t)  # noqa: E731
    obj = SquaredLoss(net, X, y)
    passes = []
    forward = Network.forward
    monkeypatch.setattr(Network, "forward", lambda self, *a: passes.append(1) or forward(self, *a))
    v = np.ones(net.n_params)
    obj.gradient(theta), obj.value(theta), obj.output_deltas(theta), obj.jacobian(theta), obj.hvp(theta, v)
    obj.forward(theta), obj.residuals(list(theta))
    assert len(passes) == 1
    obj.value(theta + 1.0)                             # the loss alone at a new point is not kept
    obj.output_deltas(theta)
    assert len(passes) == 2
    theta2 = theta.copy()
    value, grad = obj.value_and_gradient(theta2)
    theta2[0] += 0.5                                   # the caller changes its array in place
    assert obj.value_and_gradient(theta2)[0] != value
    assert len(passes) == 3
    ref = fresh(theta2)
    got = obj.value_and_gradient(theta2)
    assert got[0] == ref[0] and np.array_equal(got[1], ref[1])
    # returned arrays do not alias the cache
    g = obj.output_deltas(theta2)
    g[1][...] = 0.0
    assert np.array_equal(obj.output_deltas(theta2)[1], SquaredLoss(net, X, y).output_deltas(theta2)[1])
    fw = obj.forward(theta2)
    with pytest.raises(ValueError):
        fw.pre[1][0, 0] = 1.0
    # new data: nothing cached is used
    X2 = X + 1.0
    obj.X = X2
    assert obj.value(theta2) == SquaredLoss(net, X2, y).value(theta2)
    assert np.array_equal(obj.hessian(theta2), SquaredLoss(net, X2, y).hessian(theta2))


def test_one_hidden_plan_follows_new_data():
    net, theta, X, y = make_problem((2, 3, 1), "gelu", True, seed=7)
    obj = SquaredLoss(net, X, y)
    obj.hessian(theta)
    X2 = 2.0 * X
    obj.X = X2
    assert np.array_equal(obj.hessian(theta), SquaredLoss(net, X2, y).hessian(theta))


def test_activation_with_large_derivatives_is_not_moderate():
    """softplus with alpha = 1e20 has sigma'' = alpha/4 at 0: the Hessian is computed under np.errstate."""
    net, theta, X, y = _problem((2, 3, 1), "softplus", {"alpha": 1e20}, True, seed=3)
    obj = SquaredLoss(net, X, y)
    assert obj._one_hidden_plan()[-2] is False
    assert SquaredLoss(Network((2, 3, 1), "exp"), X, y)._one_hidden_plan()[-2] is True
    H = obj.hessian(theta)
    assert np.abs(H - obj._hessian_layers(theta)).max() <= 1e-13 * max(1.0, np.abs(H).max())


def test_one_hidden_plan_follows_new_targets():
    """Huge targets make the one-hidden-layer Hessian take the guarded branch: still exact, no warning."""
    net, theta, X, y = make_problem((2, 3, 1), "sigmoid", True, seed=8)
    obj = SquaredLoss(net, X, y)
    obj.hessian(theta)
    obj.y = y * 1e25
    H = obj.hessian(theta)
    assert obj._one_hidden_plan()[-2] is False
    assert np.abs(H - obj._hessian_layers(theta)).max() <= 1e-13 * np.abs(H).max()
