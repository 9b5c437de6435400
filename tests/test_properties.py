"""Property-based tests (hypothesis): random architectures, activations, biases and seeds.

Derandomized and without an example database, so every run checks the same
examples and nothing is written into the repository.
"""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossland import SMOOTH_ACTIVATIONS, Network, SquaredLoss
from lossland.derivatives import fd_gradient, fd_hessian
from lossland.embedding import D_matrix, embed_neuron, lemma1_hessian, small_to_big_indices

from conftest import reference_forward_sample

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw, max_hidden=4, max_width=3):
    n_hidden = draw(st.integers(1, max_hidden))
    widths = (draw(st.integers(1, 3)),) + tuple(draw(st.integers(1, max_width)) for _ in range(n_hidden)) + (1,)
    activation = draw(st.sampled_from(SMOOTH_ACTIVATIONS))
    biases = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    net = Network(widths, activation, biases=biases)
    scale = 0.3 if activation == "exp" else 0.8
    theta = net.init_params(rng, scale)
    X = rng.standard_normal((draw(st.integers(1, 5)), widths[0]))
    y = rng.standard_normal(X.shape[0])
    return net, theta, X, y


@SETTINGS
@given(problems(), st.data())
def test_gamma_invariance(problem, data):
    net, theta, X, y = problem
    layer = data.draw(st.integers(1, net.depth - 1), label="layer")
    r = data.draw(st.integers(0, net.widths[layer] - 1), label="r")
    lam = data.draw(st.floats(-3.0, 3.0, allow_nan=False), label="lambda")
    big, tb = embed_neuron(net, theta, layer, r, lam)
    fw, fb = net.forward(theta, X), big.forward(tb, X)
    assert np.allclose(fb.output, fw.output, rtol=1e-11, atol=1e-11)
    for l in range(1, net.depth + 1):
        n = net.widths[l]
        assert np.allclose(fb.pre[l][:, :n], fw.pre[l], rtol=1e-11, atol=1e-11)
        assert np.allclose(fb.act[l][:, :n], fw.act[l], rtol=1e-11, atol=1e-11)
    assert np.allclose(fb.act[layer][:, -1], fw.act[layer][:, r], rtol=1e-13, atol=1e-14)
    # first-order relations of 000, Appendix E.2
    g, G = SquaredLoss(net, X, y).gradient(theta), SquaredLoss(big, X, y).gradient(tb)
    u = net.incoming_indices(layer, r)
    m = net.widths[layer]
    tol = dict(rtol=1e-9, atol=1e-11)
    assert np.allclose(G[big.incoming_indices(layer, m)], lam * g[u], **tol)
    assert np.allclose(G[big.incoming_indices(layer, r)], (1 - lam) * g[u], **tol)
    v = net.outgoing_indices(layer, r)
    assert np.allclose(G[big.outgoing_indices(layer, m)], g[v], **tol)
    rest = np.setdiff1d(np.arange(net.n_params), u)
    assert np.allclose(G[small_to_big_indices(net, layer)[rest]], g[rest], **tol)


@SETTINGS
@given(problems(max_hidden=3))
def test_gradient_and_hessian_vs_finite_differences(problem):
    net, theta, X, y = problem
    obj = SquaredLoss(net, X, y)
    g, H = obj.gradient(theta), obj.hessian(theta)
    assert np.abs(g - fd_gradient(obj.value, theta)).max() <= 1e-6 * max(1.0, np.abs(g).max())
    assert np.abs(H - fd_hessian(obj.gradient, theta)).max() <= 1e-6 * max(1.0, np.abs(H).max())
    assert np.abs(H - H.T).max() <= 1e-12 * max(1.0, np.abs(H).max())
    V = np.random.default_rng(0).standard_normal((2, net.n_params))
    assert np.allclose(obj.hvp(theta, V), V @ H, rtol=1e-10, atol=1e-10 * max(1.0, np.abs(H).max()))


@SETTINGS
@given(problems())
def test_forward_and_layout(problem):
    net, theta, X, _ = problem
    W, b = net.unflatten(theta)
    assert np.array_equal(net.flatten(W, b if net.biases else None), theta)
    fw = net.forward(theta, X)
    pre, act = reference_forward_sample(net.widths, net.activation.f, net.biases, theta, X[0])
    assert np.isclose(fw.output[0], act[-1][0], rtol=1e-12, atol=1e-12)
    for l in range(1, net.depth + 1):
        assert np.allclose(fw.pre[l][0], pre[l], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(problems(max_hidden=3), st.data())
def test_lemma1_formula_and_the_D_identity(problem, data):
    net, theta, X, y = problem
    layer = data.draw(st.integers(1, net.depth - 1), label="layer")
    r = data.draw(st.integers(0, net.widths[layer] - 1), label="r")
    beta = data.draw(st.floats(-2.0, 2.0, allow_nan=False), label="beta")
    alpha = data.draw(st.floats(-2.0, 2.0, allow_nan=False).filter(lambda a: abs(a + beta) > 0.1), label="alpha")
    norm = data.draw(st.sampled_from(["sum", "half"]), label="normalization")
    lam = beta / (alpha + beta)
    big, tb = embed_neuron(net, theta, layer, r, lam)
    M, basis = lemma1_hessian(SquaredLoss(net, X, y, norm), theta, layer, r, lam, alpha, beta)
    direct = basis.matrix.T @ SquaredLoss(big, X, y, norm).hessian(tb) @ basis.matrix
    assert np.abs(direct - M).max() <= 1e-9 * max(1.0, np.abs(direct).max())
    D = D_matrix(SquaredLoss(net, X, y), theta, layer, r)
    g = SquaredLoss(net, X, y).gradient(theta)
    assert np.allclose(D @ theta[net.outgoing_indices(layer, r)], 0.5 * g[net.incoming_indices(layer, r)],
                       rtol=1e-10, atol=1e-12)
