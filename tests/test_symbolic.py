"""lossland.symbolic: sympy networks agree with the numeric ones; generic sigma; errors."""
import numpy as np
import pytest
import sympy as sp

from lossland import Network, get_activation
from lossland.symbolic import SymbolicNetwork, generic_sigma, symbolic_network

CASES = [((1, 2, 1), True), ((2, 2, 1), False), ((2, 1, 2, 1), True), ((1, 2, 1, 2, 1), False)]


def numeric_subs(sn, theta, X):
    vals = dict(zip(sn.params, map(float, theta)))
    for xa, row in zip(sn.inputs, X):
        vals.update(zip(xa, map(float, row)))
    return vals


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "gelu", "mish", "sin"])
@pytest.mark.parametrize("widths,biases", CASES)
def test_symbolic_forward_equals_numeric_forward(widths, biases, activation):
    sn = symbolic_network(widths, activation, biases=biases, n_samples=3)
    net = Network(widths, activation, biases=biases)
    assert isinstance(sn, SymbolicNetwork) and sn.net == net and sn.widths == net.widths
    assert len(sn.params) == net.n_params and len(set(sn.params)) == net.n_params
    rng = np.random.default_rng(len(widths) + biases)
    theta, X = net.init_params(rng), rng.standard_normal((3, widths[0]))
    vals = numeric_subs(sn, theta, X)
    fw = net.forward(theta, X)
    for a in range(3):
        for l in range(1, net.depth + 1):
            pre = [float(e.xreplace(vals)) for e in sn.pre[a][l]]
            act = [float(e.xreplace(vals)) for e in sn.act[a][l]]
            assert np.allclose(pre, fw.pre[l][a], rtol=1e-13, atol=1e-14)
            assert np.allclose(act, fw.act[l][a], rtol=1e-13, atol=1e-14)
        assert np.isclose(float(sn.outputs[a].xreplace(vals)), fw.output[a], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("widths,biases", CASES)
def test_parameter_symbols_follow_the_flat_order(widths, biases):
    sn = symbolic_network(widths, "tanh", biases=biases)
    net = Network(widths, "tanh", biases=biases)
    for l in range(1, net.depth + 1):
        for i in range(widths[l]):
            for j in range(widths[l - 1]):
                assert sn.params[net.weight_index(l, i, j)].name == f"w{l}_{i}{j}"
            if biases:
                assert sn.params[net.bias_index(l, i)].name == f"w{l}_{i}b"


def test_generic_sigma_specialises_to_concrete_activations():
    widths = (2, 2, 1, 1)
    generic = symbolic_network(widths, None, n_samples=2)
    assert generic.net is None
    assert generic.outputs[0].atoms(sp.core.function.AppliedUndef)
    for name in ("tanh", "sigmoid", "softplus"):
        act = get_activation(name)
        concrete = symbolic_network(widths, name, n_samples=2)

        def sigma(z, _e=act.expr, _t=act.symbol):
            return _e.subs(_t, z)

        for a in range(2):
            specialised = generic.outputs[a].replace(generic_sigma, sigma)
            assert sp.simplify(specialised - concrete.outputs[a]) == 0


def test_callable_sigma():
    sn = symbolic_network((1, 1, 1), lambda z: z**2, biases=False)
    w1, w2 = sn.params
    x = sn.inputs[0][0]
    assert sp.expand(sn.outputs[0] - w2 * (w1 * x) ** 2) == 0


def test_loss_normalizations():
    sn = symbolic_network((1, 1, 1), "identity", biases=False, n_samples=2)
    y = sp.symbols("y0 y1")
    r = [f - t for f, t in zip(sn.outputs, y)]
    assert sp.expand(sn.loss(y) - (r[0] ** 2 + r[1] ** 2)) == 0
    assert sp.expand(sn.loss(y, "half") - (r[0] ** 2 + r[1] ** 2) / 2) == 0
    with pytest.raises(ValueError, match="targets"):
        sn.loss(y[:1])
    with pytest.raises(ValueError, match="normalization"):
        sn.loss(y, "mean")


def test_nitta_first_order_relations_hold_symbolically():
    """000, Appendix E.2, with a generic sigma: at gamma_lambda^r, d f/d u_{-1} = lambda d phi/d u_r,
    d f/d u_r = (1 - lambda) d phi/d u_r, d f/d v_{-1} = d f/d v_r = d phi/d v_r (deep 1-1-2-1 -> 1-2-2-1, l = 1)."""
    lam = sp.Symbol("lambda", real=True)
    small = symbolic_network((1, 1, 2, 1), None, biases=True, param_prefix="p")
    big = symbolic_network((1, 2, 2, 1), None, biases=True, param_prefix="q")
    s_net, b_net = Network((1, 1, 2, 1), "tanh"), Network((1, 2, 2, 1), "tanh")
    # gamma_lambda^0 in lossland's flat order: the new neuron is appended last in layer 1
    from lossland.embedding import small_to_big_indices

    to_big = small_to_big_indices(s_net, 1)
    subs = {sym: None for sym in big.params}
    for p_small, p_big in enumerate(to_big):
        subs[big.params[p_big]] = small.params[p_small]
    u_small = s_net.incoming_indices(1, 0)
    v_small = s_net.outgoing_indices(1, 0)
    for k, p in zip(b_net.incoming_indices(1, 1), u_small):
        subs[big.params[k]] = small.params[p]
    for k, p, q in zip(b_net.outgoing_indices(1, 1), v_small, b_net.outgoing_indices(1, 0)):
        subs[big.params[k]] = lam * small.params[p]
        subs[big.params[q]] = (1 - lam) * small.params[p]
    assert all(v is not None for v in subs.values())
    assert big.inputs == small.inputs                  # the same input symbols x0_0
    f = big.outputs[0]
    phi = small.outputs[0]
    at = lambda e: e.xreplace(subs)  # noqa: E731
    assert sp.simplify(at(f) - phi) == 0                                          # same function
    for k_new, k_r, p in zip(b_net.incoming_indices(1, 1), b_net.incoming_indices(1, 0), u_small):
        d_phi = sp.diff(phi, small.params[p])
        assert sp.simplify(at(sp.diff(f, big.params[k_new])) - lam * d_phi) == 0
        assert sp.simplify(at(sp.diff(f, big.params[k_r])) - (1 - lam) * d_phi) == 0
    for k_new, k_r, p in zip(b_net.outgoing_indices(1, 1), b_net.outgoing_indices(1, 0), v_small):
        d_phi = sp.diff(phi, small.params[p])
        assert sp.simplify(at(sp.diff(f, big.params[k_new])) - d_phi) == 0
        assert sp.simplify(at(sp.diff(f, big.params[k_r])) - d_phi) == 0


def test_errors():
    with pytest.raises(TypeError, match="sigma"):
        symbolic_network((1, 1, 1), 3.0)
    with pytest.raises(ValueError, match="widths"):
        symbolic_network((1, 2, 2), None)
    with pytest.raises(ValueError, match="widths"):
        symbolic_network((1,), None)
    with pytest.raises(ValueError, match="n_samples"):
        symbolic_network((1, 1, 1), None, n_samples=0)
    with pytest.raises(ValueError, match="unknown activation"):
        symbolic_network((1, 1, 1), "swoosh")


def test_generic_sigma_rejects_non_positive_widths():
    with pytest.raises(ValueError, match="widths"):
        symbolic_network((1, 0, 1), None)


def test_generic_derivative_becomes_the_activation_derivative():
    from lossland.symbolic import generic_derivative
    z = sp.Symbol("z", real=True)
    e = generic_derivative(2 * z, 1) * generic_derivative(z, 2) + generic_derivative(z, 0)
    for name in ("tanh", "sigmoid"):
        act = get_activation(name)
        s = sp.Lambda(act.symbol, act.expr)
        concrete = e.replace(generic_sigma, s).doit()
        expected = (sp.diff(act.expr, act.symbol).subs(act.symbol, 2 * z)
                    * sp.diff(act.expr, act.symbol, 2).subs(act.symbol, z) + act.expr.subs(act.symbol, z))
        for zv in (-0.7, 0.3, 1.1):
            assert abs(float((concrete - expected).subs(z, zv))) < 1e-12
    with pytest.raises(ValueError, match="order"):
        generic_derivative(z, -1)
