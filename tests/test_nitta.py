"""lossland.nonattracting.nitta: the gradient of gamma_lambda^r (000 Theorem 4, 001 Theorem 7; chapter P3)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.derivatives import fd_gradient
from lossland.embedding import embed_neuron
from lossland.nonattracting.nitta import (along_embedding_line, c_lambda, embedded_outgoing,
                                          gradient_roundoff_scale, lift_error, lifted_gradient,
                                          lifted_gradient_norm, neuron_deviation)

LAMBDAS = [-1.0, 0.0, 0.3, 1.0, 2.5]


def problem(act="sigmoid", biases=True, widths=(2, 2, 3, 1), seed=0):
    rng = np.random.default_rng(seed)
    net = Network(widths, act, biases=biases)
    X = rng.uniform(-2, 2, (7, widths[0]))
    y = rng.standard_normal(7)
    return SquaredLoss(net, X, y), net.init_params(rng)


@pytest.mark.parametrize("act,biases", [("sigmoid", True), ("tanh", False), ("softplus", True)])
def test_lifted_gradient_is_the_gradient_of_the_embedding(act, biases):
    obj, th = problem(act, biases)
    g = obj.gradient(th)
    for layer in obj.net.hidden_layers:
        for r in range(obj.net.widths[layer]):
            for lam in LAMBDAS:
                big, W = embed_neuron(obj.net, th, layer, r, lam)
                G = SquaredLoss(big, obj.X, obj.y).gradient(W)
                G_pred = lifted_gradient(obj.net, g, layer, r, lam)
                assert np.abs(G - G_pred).max() <= 1e-12 * np.linalg.norm(g)
                assert lift_error(obj, th, layer, r, lam) <= 1e-12
                assert np.isclose(lifted_gradient_norm(obj.net, g, layer, r, lam), np.linalg.norm(G_pred),
                                  rtol=1e-13)
                assert np.linalg.norm(g) / np.sqrt(2) - 1e-12 <= np.linalg.norm(G_pred) \
                    <= c_lambda(lam) * np.linalg.norm(g) + 1e-12


def test_lifted_gradient_against_finite_differences():
    obj, th = problem(widths=(1, 2, 1))
    big, W = embed_neuron(obj.net, th, 1, 1, 0.3)
    fd = fd_gradient(SquaredLoss(big, obj.X, obj.y).value, W)
    assert np.allclose(lifted_gradient(obj.net, obj.gradient(th), 1, 1, 0.3), fd, atol=1e-6)


def test_lift_error_detects_a_wrong_lambda():
    obj, th = problem()
    g = obj.gradient(th)
    big, W = embed_neuron(obj.net, th, 1, 0, 0.3)
    G = SquaredLoss(big, obj.X, obj.y).gradient(W)
    assert np.abs(G - lifted_gradient(obj.net, g, 1, 0, 0.7)).max() > 1e-3 * np.linalg.norm(g)


def test_neuron_deviation():
    obj, th = problem()
    fw = obj.net.forward(th, obj.X)
    big, W = embed_neuron(obj.net, th, 2, 1, 0.4)
    assert neuron_deviation(fw, big.forward(W, obj.X), 2, 1) <= 1e-14
    W2 = W.copy()
    W2[big.incoming_indices(2, 3)] += 0.1                  # move the new neuron's incoming weights
    assert neuron_deviation(fw, big.forward(W2, obj.X), 2, 1) > 1e-3
    with pytest.raises(TypeError, match="fw_small"):
        neuron_deviation(None, fw, 1, 0)


def test_gradient_roundoff_scale_bounds_the_gradient():
    obj, th = problem()
    S = gradient_roundoff_scale(obj, th)
    assert np.linalg.norm(obj.gradient(th)) <= S * (1 + 1e-12)
    half = SquaredLoss(obj.net, obj.X, obj.y, "half")
    assert np.isclose(gradient_roundoff_scale(half, th), S / 2, rtol=1e-14)
    # one sample: |J|^T |r| is |grad| entry by entry
    one = SquaredLoss(obj.net, obj.X[:1], obj.y[:1])
    assert np.isclose(gradient_roundoff_scale(one, th), np.linalg.norm(one.gradient(th)), rtol=1e-13)


def test_along_embedding_line():
    obj, th = problem()
    lam = np.linspace(-1, 2, 7)
    rows = along_embedding_line(obj, th, 1, 0, lam)
    assert rows.shape == (7, 4)
    assert np.allclose(rows[:, 0], obj.value(th), rtol=1e-12)
    assert np.all(np.abs(rows[:, 1] - rows[:, 2]) <= rows[:, 3])
    with pytest.raises(ValueError, match="lambdas"):
        along_embedding_line(obj, th, 1, 0, [])


def test_embedded_outgoing_sums_to_v_star():
    obj, th = problem()
    v_star = th[obj.net.outgoing_indices(1, 1)]
    new, old = embedded_outgoing(obj.net, th, 1, 1, 0.3)
    assert np.allclose(new, 0.3 * v_star, rtol=1e-15) and np.allclose(old, 0.7 * v_star, rtol=1e-15)


def test_bad_input():
    obj, th = problem()
    with pytest.raises(TypeError, match="objective"):
        lift_error("obj", th, 1, 0, 0.3)
    with pytest.raises(ValueError, match="g"):
        lifted_gradient(obj.net, np.zeros(3), 1, 0, 0.3)
    with pytest.raises(TypeError, match="lam"):
        c_lambda("x")
    with pytest.raises(ValueError):
        lifted_gradient(obj.net, th, 3, 0, 0.3)
