"""lossland.objective: paper 003's loss with m outputs, an output activation and any loss l."""
import numpy as np
import pytest
import sympy as sp

from lossland import Network, SquaredLoss
from lossland.derivatives import fd_gradient, fd_hessian
from lossland.losses import LOSSES, get_loss
from lossland.objective import Objective, paper_matrices
from lossland.optimize import find_critical_point, newton_polish

OUTPUTS = [None, "sigmoid", "tanh", "softplus"]
PLAIN = [name for name in LOSSES if name != "squared_hinge"]


def _data(widths, N=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, widths[0]))
    Y = rng.uniform(-0.8, 0.8, (N, widths[-1]))
    return X, Y, rng


def _objective(loss, output, widths=(2, 3, 2, 2), activation="tanh", seed=0):
    X, Y, rng = _data(widths, seed=seed)
    net = Network(widths, activation, output_activation=output)
    obj = Objective(net, X, Y if widths[-1] > 1 else Y[:, 0], loss=loss)
    return obj, 0.7 * rng.standard_normal(net.n_params)


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("loss", PLAIN)
def test_gradient_and_hessian_against_finite_differences(loss, output):
    obj, theta = _objective(loss, output)
    g = obj.gradient(theta)
    g_fd = fd_gradient(obj.value, theta)
    assert np.abs(g - g_fd).max() <= 1e-6 * max(1.0, np.abs(g).max())
    H = obj.hessian(theta)
    H_fd = fd_hessian(obj.gradient, theta)
    assert np.abs(H - H_fd).max() <= 1e-5 * max(1.0, np.abs(H).max())
    assert np.array_equal(H, H.T)
    v = np.random.default_rng(1).standard_normal(theta.size)
    assert np.allclose(obj.hvp(theta, v), H @ v, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("output", [None, "sigmoid"])
def test_class_loss_derivatives(output):
    X, Y, rng = _data((2, 4, 3), N=6, seed=3)
    classes = np.zeros((6, 3), dtype=bool)
    classes[np.arange(6), rng.integers(0, 3, 6)] = True
    net = Network((2, 4, 3), "sigmoid", output_activation=output)
    Yc = np.where(classes, 1.0, -1.0) if output is None else np.where(classes, 0.9, 0.1)
    obj = Objective(net, X, Yc, loss=get_loss("squared_hinge"), classes=classes)
    theta = rng.standard_normal(net.n_params)
    R = obj.residuals(theta)
    assert np.abs(R).min() > 1e-3          # away from the kink of l'' at 0
    assert np.abs(obj.gradient(theta) - fd_gradient(obj.value, theta)).max() < 1e-7
    H = obj.hessian(theta)
    assert np.abs(H - fd_hessian(obj.gradient, theta)).max() < 1e-6 * max(1, np.abs(H).max())


def _sympy_phi(net, X, Y, loss, thetas):
    """Phi of 003 eq. (1) written directly in sympy (no backpropagation)."""
    W, b = net.unflatten(np.arange(net.n_params, dtype=float))
    x = net.activation.symbol
    sig = sp.Lambda(x, net.activation.expr)
    out = sp.Lambda(x, net.output_activation.expr) if net.output_activation else sp.Lambda(x, x)
    a = sp.Symbol("a", real=True)
    ell = sp.Lambda(a, loss.expr(a))
    phi = 0
    for i in range(X.shape[0]):
        f = sp.Matrix([sp.nsimplify(v) for v in X[i]])
        for l in range(1, net.depth + 1):
            Wl = sp.Matrix(W[l].shape[0], W[l].shape[1], lambda r, c: thetas[int(W[l][r, c])])
            bl = sp.Matrix([thetas[int(j)] for j in b[l]])
            g = Wl * f + bl
            f = g.applyfunc(sig if l < net.depth else out)
        phi += sum(ell(f[j] - sp.nsimplify(Y[i, j])) for j in range(net.widths[-1]))
    return phi


@pytest.mark.parametrize("loss,output", [("cauchy", "sigmoid"), ("pseudo_huber", None),
                                         ("corrupted_gaussian", "tanh"), ("blake_zisserman", "softplus")])
def test_against_sympy(loss, output):
    net = Network((1, 2, 2), "tanh", output_activation=output)
    X = np.array([[-1.25]])                   # one sample keeps sympy's Hessian small
    Y = np.array([[0.75, 0.125]])
    obj = Objective(net, X, Y, loss=loss)
    thetas = sp.symbols(f"t0:{net.n_params}", real=True)
    phi = _sympy_phi(net, X, Y, obj.loss, thetas)
    grad = sp.lambdify(thetas, [sp.diff(phi, t) for t in thetas], cse=True)
    hess = sp.lambdify(thetas, sp.hessian(phi, thetas), cse=True)
    theta = np.random.default_rng(4).uniform(-1, 1, net.n_params)
    g = np.array([float(v) for v in grad(*theta)])
    H = np.array(hess(*theta).tolist(), dtype=float)
    assert np.abs(obj.gradient(theta) - g).max() < 1e-12
    assert np.abs(obj.hessian(theta) - H).max() < 1e-12


def test_lemma21_in_paper_notation():
    obj, theta = _objective("cauchy", "sigmoid", widths=(3, 4, 3, 2))
    pm = paper_matrices(obj, theta)
    net = obj.net
    g = obj.gradient(theta)
    L = net.depth
    sig = net.activation
    lp = obj.loss.d1(pm.F[L] - obj.Y)
    assert np.allclose(pm.Delta[L], lp * net.output_activation.d1(pm.G[L]))
    for k in range(1, L):
        assert np.allclose(pm.Delta[k], (pm.Delta[k + 1] @ pm.W[k + 1].T) * sig.d1(pm.G[k]))
    for k in range(1, L + 1):
        gW = g[net.weight_slice(k)].reshape(net.widths[k], net.widths[k - 1]).T
        assert np.allclose(gW, pm.F[k - 1].T @ pm.Delta[k])
        assert np.allclose(g[net.bias_slice(k)], pm.Delta[k].T @ np.ones(obj.n_samples))
        assert pm.W[k].shape == (net.widths[k - 1], net.widths[k])
    assert pm.E(1).shape == (obj.n_samples, net.widths[1] + 1)
    with pytest.raises(ValueError, match="k must be"):
        pm.E(7)


def test_squared_single_output_matches_squared_loss():
    """The fast path, and the generic R-operator path, agree with SquaredLoss(sum)."""
    for widths in [(2, 3, 1), (2, 3, 2, 1)]:
        obj, theta = _objective("squared", None, widths=widths)
        ref = SquaredLoss(obj.net, obj.X, obj.Y[:, 0], "sum")
        assert obj._fast is not None
        assert obj.value(theta) == pytest.approx(ref.value(theta), rel=1e-14)
        H_fast = obj.hessian(theta)
        obj._fast = None                        # force the generic path
        assert np.allclose(obj.gradient(theta), ref.gradient(theta), rtol=1e-12, atol=1e-12)
        assert np.allclose(obj.hessian(theta), 0.5 * (H_fast + H_fast.T), rtol=1e-10, atol=1e-10)


def test_multi_output_network():
    net = Network((2, 3, 2), "sigmoid", output_activation="sigmoid")
    X, _, rng = _data((2, 3, 2))
    theta = rng.standard_normal(net.n_params)
    out = net(theta, X)
    assert out.shape == (4, 2) and np.all((out > 0) & (out < 1))
    assert net.n_outputs == 2
    assert net.with_widths((2, 5, 2)).output_activation == net.output_activation
    assert net != Network((2, 3, 2), "sigmoid")
    assert "output sigmoid" in repr(net)
    assert hash(net) == hash(Network((2, 3, 2), "sigmoid", output_activation="sigmoid"))
    with pytest.raises(ValueError, match="SquaredLoss needs one linear output"):
        SquaredLoss(net, X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="SquaredLoss needs one linear output"):
        SquaredLoss(Network((2, 3, 1), output_activation="tanh"), X, np.zeros(4))


def test_critical_point_of_an_objective():
    """optimize accepts an Objective: a wide layer (n_1 = N - 1) fits the data."""
    X, Y, rng = _data((2, 5, 2), N=6, seed=7)
    net = Network((2, 5, 2), "tanh")
    obj = Objective(net, X, Y, loss="pseudo_huber")
    cp = find_critical_point(obj, 0.5 * rng.standard_normal(net.n_params), gtol=1e-9)
    assert cp.converged and cp.grad_norm <= 1e-9
    assert obj.value(cp.theta) < 1e-12
    theta, _ = newton_polish(obj, cp.theta)[:2]
    assert np.linalg.norm(obj.gradient(theta)) <= 1e-9


def test_bad_input():
    net = Network((2, 3, 2), "tanh")
    X, Y, _ = _data((2, 3, 2))
    with pytest.raises(ValueError, match="Y must have shape"):
        Objective(net, X, Y[:, 0])
    with pytest.raises(TypeError, match="loss must be"):
        Objective(net, X, Y, loss=3)
    with pytest.raises(ValueError, match="unknown loss|loss"):
        Objective(net, X, Y, loss="nope")
    with pytest.raises(ValueError, match="classes is required"):
        Objective(net, X, Y, loss="squared_hinge")
    with pytest.raises(ValueError, match="classes must be a boolean"):
        Objective(net, X, Y, loss="squared_hinge", classes=np.ones((4, 2)))
    with pytest.raises(ValueError, match="classes is only used"):
        Objective(net, X, Y, classes=np.ones((4, 2), dtype=bool))
    obj = Objective(net, X, Y)
    with pytest.raises(ValueError, match="theta must have length"):
        obj.gradient(np.zeros(3))
    with pytest.raises(ValueError, match="v must have shape"):
        obj.hvp(np.zeros(net.n_params), np.zeros(2))
    with pytest.raises(TypeError, match="Objective"):
        paper_matrices(SquaredLoss(Network((2, 3, 1)), X, Y[:, 0]), np.zeros(13))
    with pytest.raises(ValueError, match="overflow"):
        Objective(Network((2, 3, 2), "softplus"), 1e300 * X, Y).value(np.ones(net.n_params))
