"""Network layout, flat vector <-> matrices, index helpers, forward pass vs a plain loop."""
import numpy as np
import pytest

from lossland import Network, get_activation

from conftest import reference_forward_sample, reference_layers

DEEP = [
    ((3, 1), True),                    # no hidden layer: linear regression
    ((2, 3, 1), True),
    ((2, 3, 1), False),
    ((1, 4, 2, 1), True),
    ((3, 2, 3, 2, 1), False),
    ((2, 3, 1, 4, 2, 1), True),        # four hidden layers
    ((2, 3, 1, 4, 2, 1), False),
]


def expected_n_params(widths, biases):
    return sum(widths[l] * widths[l - 1] + (widths[l] if biases else 0) for l in range(1, len(widths)))


@pytest.mark.parametrize("widths,biases", DEEP)
def test_layout_and_round_trip(widths, biases, rng):
    net = Network(widths, "tanh", biases=biases)
    assert net.depth == len(widths) - 1
    assert list(net.hidden_layers) == list(range(1, len(widths) - 1))
    assert net.n_params == expected_n_params(widths, biases)
    theta = rng.standard_normal(net.n_params)
    W, b = net.unflatten(theta)
    assert sorted(W) == sorted(b) == list(range(1, net.depth + 1))
    ref = reference_layers(widths, biases, theta)
    for l in range(1, net.depth + 1):
        assert W[l].shape == (widths[l], widths[l - 1]) and b[l].shape == (widths[l],)
        assert np.array_equal(W[l], np.array(ref[l - 1][0]))
        assert np.array_equal(b[l], np.array(ref[l - 1][1]))
    back = net.flatten(W, b if biases else None)
    assert np.array_equal(back, theta)
    # also from a list of matrices
    assert np.array_equal(net.flatten([W[l] for l in W], [b[l] for l in b] if biases else None), theta)
    if not biases:
        assert all(not b[l].any() for l in b)


def test_unflatten_returns_views_and_flatten_copies(rng):
    net = Network((2, 3, 1), "tanh")
    theta = rng.standard_normal(net.n_params)
    W, b = net.unflatten(theta)
    W[1][0, 1] = 123.0
    assert theta[net.weight_index(1, 0, 1)] == 123.0
    flat = net.flatten(W, b)
    flat[0] = -7.0
    assert W[1][0, 0] != -7.0


@pytest.mark.parametrize("widths,biases", DEEP)
def test_index_helpers_agree_with_unflatten(widths, biases):
    net = Network(widths, "sigmoid", biases=biases)
    theta = np.arange(net.n_params, dtype=float)      # theta[p] = p
    W, b = net.unflatten(theta)
    seen = []
    for l in range(1, net.depth + 1):
        ws = net.weight_slice(l)
        assert np.array_equal(theta[ws], W[l].ravel())
        for i in range(widths[l]):
            for j in range(widths[l - 1]):
                p = net.weight_index(l, i, j)
                assert isinstance(p, (int, np.integer)) and W[l][i, j] == p
                seen.append(p)
            if biases:
                p = net.bias_index(l, i)
                assert b[l][i] == p
                assert theta[net.bias_slice(l)][i] == p
                seen.append(p)
            inc = net.incoming_indices(l, i)
            expect = list(W[l][i, :]) + ([b[l][i]] if biases else [])
            assert inc.dtype.kind == "i" and list(inc) == expect
        if l < net.depth:
            for r in range(widths[l]):
                assert list(net.outgoing_indices(l, r)) == list(W[l + 1][:, r])
    assert sorted(seen) == list(range(net.n_params))   # every parameter exactly once


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus", "gelu", "mish", "silu", "sin", "exp",
                                        "relu", "identity"])
@pytest.mark.parametrize("widths,biases", DEEP)
def test_forward_equals_a_per_sample_loop(widths, biases, activation):
    rng = np.random.default_rng(sum(widths) + 7 * biases)
    net = Network(widths, activation, biases=biases)
    theta = net.init_params(rng, 0.1 if activation == "exp" else 0.7)   # exp(exp(...)) stays finite
    X = rng.standard_normal((5, widths[0]))
    fw = net.forward(theta, X)
    sigma = get_activation(activation).f
    assert fw.pre[0] is None and np.array_equal(fw.act[0], X)
    assert fw.output.shape == (5,)
    for a, x in enumerate(X):
        pre, act = reference_forward_sample(widths, sigma, biases, theta, x)
        for l in range(1, net.depth + 1):
            assert fw.pre[l].shape == fw.act[l].shape == (5, widths[l])
            assert np.allclose(fw.pre[l][a], pre[l], rtol=1e-13, atol=1e-13)
            assert np.allclose(fw.act[l][a], act[l], rtol=1e-13, atol=1e-13)
        assert np.isclose(fw.output[a], act[-1][0], rtol=1e-13, atol=1e-13)
    assert np.array_equal(net(theta, X), fw.output)
    assert np.array_equal(fw.act[net.depth], fw.pre[net.depth])      # linear output


def test_forward_depends_on_every_parameter(rng):
    """No parameter is silently ignored (e.g. a bias slice that is never read)."""
    for biases in (True, False):
        net = Network((2, 3, 2, 1), "tanh", biases=biases)
        theta = net.init_params(rng, 0.8)
        X = rng.standard_normal((6, 2))
        f0 = net(theta, X)
        for p in range(net.n_params):
            t = theta.copy()
            t[p] += 0.1
            assert np.abs(net(t, X) - f0).max() > 1e-8, f"parameter {p} has no effect"


def test_one_dimensional_inputs_and_column_targets():
    net = Network((1, 2, 1), "tanh")
    theta = np.linspace(-1, 1, net.n_params)
    x = np.array([0.1, -0.4, 2.0])
    assert np.array_equal(net(theta, x), net(theta, x[:, None]))
    y = net.check_targets(np.ones((3, 1)), 3)
    assert y.shape == (3,)


def test_init_params_is_seeded_and_scaled():
    net = Network((2, 5, 3, 1), "tanh")
    a, b = net.init_params(42, 0.3), net.init_params(np.random.default_rng(42), 0.3)
    assert np.array_equal(a, b) and a.shape == (net.n_params,)
    big = net.init_params(0, 1.0)
    assert np.allclose(net.init_params(0, 2.5), 2.5 * big)
    assert not np.array_equal(net.init_params(1), big)


def test_with_widths_equality_and_repr():
    net = Network((2, 3, 1), "softplus", biases=False, alpha=2.0)
    other = net.with_widths((2, 4, 1))
    assert other.activation is net.activation and other.biases is False and other.widths == (2, 4, 1)
    assert net == Network((2, 3, 1), net.activation, biases=False)
    assert net != Network((2, 3, 1), "softplus", biases=True, alpha=2.0)
    assert net != other and hash(net) == hash(Network((2, 3, 1), net.activation, biases=False))
    assert "2-3-1" in repr(net) and "softplus" in repr(net)
    assert Network(np.array([2, 3, 1]), "tanh").widths == (2, 3, 1)


def test_forward_overflow_raises_instead_of_returning_inf():
    net = Network((1, 1, 1), "exp")
    theta = np.array([800.0, 0.0, 1.0, 0.0])            # exp(800) overflows
    with pytest.raises(ValueError, match="overflow"):
        net(theta, np.ones((1, 1)))
    # inf - inf = NaN in the output layer is caught as well
    net2 = Network((1, 2, 1), "exp", biases=False)
    with pytest.raises(ValueError, match="theta"):
        net2(np.array([800.0, 800.0, 1.0, -1.0]), np.ones((1, 1)))
