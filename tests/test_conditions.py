"""Tests for lossland.nonattracting.conditions: the sufficient conditions for D = 0 (000, Proposition 1)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.nonattracting.conditions import (
    ConditionCheck,
    D_bound,
    D_from_gradient,
    add_dead_neuron,
    check_D_zero,
    check_outgoing_sum,
    check_proposition1,
    condition_equal_output_derivatives,
    condition_last_hidden,
    condition_zero_loss_derivative,
    outgoing_sum,
)
from lossland.datasets import teacher_student
from lossland.embedding import D_matrix, embed_neuron
from lossland.optimize import find_critical_point

from conftest import make_problem


def deep_problem(seed=0, widths=(2, 3, 2, 1), biases=True, n=9):
    return make_problem(widths, "sigmoid", biases, seed, n_samples=n)


@pytest.fixture(scope="module")
def critical_211():
    """A polished critical point of a 2-2-1-1 sigmoid network without biases (layer 2 has one neuron)."""
    rng = np.random.default_rng(5)
    net = Network((2, 2, 1, 1), biases=False)
    X, y, _ = teacher_student(Network((2, 3, 3, 1)), 12, rng, weight_scale=2, low=-2, high=2)
    cp = find_critical_point(SquaredLoss(net, X, y), net.init_params(rng), maxiter=300)
    assert cp.converged
    return SquaredLoss(net, X, y), cp.theta


# ------------------------------------------------------------ ConditionCheck
def test_condition_check_margin_and_unpacking():
    c = ConditionCheck("x", True, 1e-12, 1e-8)
    holds, margin = c
    assert holds and bool(c) and margin == pytest.approx(1e4)
    f = ConditionCheck("x", False, 1e-2, 1e-8)
    assert not f and f.margin == pytest.approx(1e6)
    assert ConditionCheck("x", True, 0.0, 1e-8).margin == np.inf
    assert ConditionCheck("x", True, 0.0, 0.0).margin == np.inf
    assert "holds" in str(c) and "fails" in str(f)


# ------------------------------------------------------------- condition (i)
def test_last_hidden_layer():
    net = Network((2, 3, 2, 1))
    assert condition_last_hidden(net, 2).holds
    c = condition_last_hidden(net, 1)
    assert not c.holds and c.measured == 1.0 and c.margin == np.inf


@pytest.mark.parametrize("layer, exc", [(0, ValueError), (3, ValueError), (1.0, TypeError), (True, TypeError)])
def test_last_hidden_layer_errors(layer, exc):
    with pytest.raises(exc, match="layer"):
        condition_last_hidden(Network((2, 3, 2, 1)), layer)


def test_non_network_rejected():
    with pytest.raises(TypeError, match="net"):
        condition_last_hidden("2-3-1", 1)


@pytest.mark.parametrize("call", [
    lambda net, th: condition_equal_output_derivatives(net, th, 1),
    lambda net, th: condition_zero_loss_derivative(net, th, 1),
    lambda net, th: check_D_zero(net, th, 1, 0),
    lambda net, th: D_from_gradient(net, th, 1, 0),
    lambda net, th: check_proposition1(net, th, 1, 0),
    lambda net, th: add_dead_neuron(net, th, 1, [1.0, 1.0, 0.0]),
])
def test_data_functions_take_the_objective(call):
    """The (net, theta, X, y) form is gone: a Network where the objective belongs is a TypeError."""
    net, theta, X, y = deep_problem()
    with pytest.raises(TypeError, match="objective"):
        call(net, theta)


# ------------------------------------------------------------ condition (ii)
def test_equal_derivatives_trivial_in_last_hidden_layer():
    net, theta, X, y = deep_problem()
    c = condition_equal_output_derivatives(SquaredLoss(net, X, y), theta, 2)
    assert c.holds and c.measured == 0.0


def test_equal_derivatives_fail_generically_and_hold_after_duplication():
    net, theta, X, y = deep_problem(widths=(2, 3, 1, 1))
    big, tb = embed_neuron(net, theta, 2, 0, 0.5)   # layer 2: two identical neurons
    c = condition_equal_output_derivatives(SquaredLoss(big, X, y), tb, 1)
    assert c.holds and c.margin > 1e3
    big3, tb3 = embed_neuron(net, theta, 2, 0, 0.3)  # unequal outgoing weights
    c3 = condition_equal_output_derivatives(SquaredLoss(big3, X, y), tb3, 1)
    assert not c3.holds and c3.margin > 1e6
    gen, tg, Xg, yg = deep_problem(seed=1)
    assert not condition_equal_output_derivatives(SquaredLoss(gen, Xg, yg), tg, 1).holds


def test_equal_derivatives_errors():
    net, theta, X, y = deep_problem()
    obj = SquaredLoss(net, X, y)
    with pytest.raises(ValueError, match="rtol"):
        condition_equal_output_derivatives(obj, theta, 1, rtol=-1.0)
    with pytest.raises(TypeError, match="rtol"):
        condition_equal_output_derivatives(obj, theta, 1, rtol="small")
    with pytest.raises(ValueError, match="layer"):
        condition_equal_output_derivatives(obj, theta, 3)
    with pytest.raises(ValueError, match="theta"):
        condition_equal_output_derivatives(obj, theta[:-1], 1)


# ----------------------------------------------------------- condition (iii)
def test_zero_loss_derivative_at_zero_residual():
    net, theta, X, y = deep_problem()
    c = condition_zero_loss_derivative(SquaredLoss(net, X, net(theta, X)), theta, 1)
    assert c.holds and c.measured == 0.0
    assert not condition_zero_loss_derivative(SquaredLoss(net, X, y), theta, 1).holds


def test_zero_loss_derivative_errors():
    net, theta, X, y = deep_problem()
    with pytest.raises(ValueError, match="atol"):
        condition_zero_loss_derivative(SquaredLoss(net, X, y), theta, 1, atol=np.nan)
    with pytest.raises(ValueError, match="layer"):
        condition_zero_loss_derivative(SquaredLoss(net, X, y), theta, 0)


# ------------------------------------------------------------- hypothesis
def test_outgoing_sum_is_a_column_sum():
    net, theta, X, y = deep_problem()
    W, _ = net.unflatten(theta)
    assert outgoing_sum(net, theta, 1, 2) == pytest.approx(W[2][:, 2].sum(), rel=1e-15)
    assert check_outgoing_sum(net, theta, 1, 2).holds
    theta0 = theta.copy()
    theta0[net.outgoing_indices(1, 2)] = 0.0
    c = check_outgoing_sum(net, theta0, 1, 2)
    assert not c.holds and c.measured == 0.0
    theta1 = theta.copy()
    theta1[net.outgoing_indices(1, 2)] = [0.7, -0.7]
    assert not check_outgoing_sum(net, theta1, 1, 2).holds
    with pytest.raises(ValueError, match="r="):
        outgoing_sum(net, theta, 1, 3)
    with pytest.raises(TypeError, match="r must"):
        check_outgoing_sum(net, theta, 1, 0.0)


# --------------------------------------------------------- D and the proof
@pytest.mark.parametrize("seed", range(3))
def test_identity_behind_the_proof(seed):
    """dL/du_{r,i} = 2 sum_s v_{s,r} D^{r,s}_i at any parameter point (000, Appendix C)."""
    net, theta, X, y = deep_problem(seed=seed)
    grad = SquaredLoss(net, X, y).gradient(theta)
    for layer in (1, 2):
        W, _ = net.unflatten(theta)
        for r in range(net.widths[layer]):
            D = D_matrix(SquaredLoss(net, X, y), theta, layer, r)
            lhs = grad[net.incoming_indices(layer, r)]
            assert np.allclose(lhs, 2 * D @ W[layer + 1][:, r], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("normalization", ["sum", "half"])
def test_D_from_gradient_in_cases_i_and_ii(normalization):
    """D does not depend on the normalisation c; D_from_gradient divides by 2c."""
    net, theta, X, y = deep_problem(widths=(2, 3, 1, 1))
    obj = SquaredLoss(net, X, y, normalization)
    D = D_matrix(obj, theta, 2, 0)                                   # (i): one column
    assert np.allclose(D[:, 0], D_from_gradient(obj, theta, 2, 0), rtol=1e-12, atol=1e-15)
    big, tb = embed_neuron(net, theta, 2, 0, 0.5)                    # (ii) at layer 1
    obj_big = SquaredLoss(big, X, y, normalization)
    D2 = D_matrix(obj_big, tb, 1, 1)
    ref = D_from_gradient(obj_big, tb, 1, 1)
    assert np.allclose(D2, ref[:, None], rtol=1e-12, atol=1e-15)
    gen, tg, Xg, yg = deep_problem(seed=4)                          # generic: columns differ
    obj_g = SquaredLoss(gen, Xg, yg, normalization)
    Dg = D_matrix(obj_g, tg, 1, 0)
    assert np.abs(Dg - D_from_gradient(obj_g, tg, 1, 0)[:, None]).max() > 1e-3 * np.abs(Dg).max()
    t0 = tb.copy()
    t0[big.outgoing_indices(1, 1)] = 0.0
    with pytest.raises(ValueError, match="divides"):
        D_from_gradient(obj_big, t0, 1, 1)


def test_proposition1_i_and_ii_at_a_critical_point(critical_211):
    obj, theta = critical_211
    for r in range(2):                       # layer 1, n_2 = 1: (ii) holds trivially
        assert condition_equal_output_derivatives(obj, theta, 1).holds
        assert check_D_zero(obj, theta, 1, r).holds
    assert condition_last_hidden(obj.net, 2).holds
    assert check_D_zero(obj, theta, 2, 0).holds


def test_check_D_zero_fails_generically_and_validates():
    net, theta, X, y = deep_problem(seed=2)
    obj = SquaredLoss(net, X, y)
    c = check_D_zero(obj, theta, 1, 0)
    assert not c.holds and c.margin > 1e3 and c.scale > 0
    assert check_D_zero(SquaredLoss(net, X, net(theta, X)), theta, 1, 0).holds   # (iii): zero residual
    assert check_D_zero(obj, theta, 1, 0, atol=1e6).holds
    with pytest.raises(ValueError, match="rtol"):
        check_D_zero(obj, theta, 1, 0, rtol=-1e-8)
    with pytest.raises(ValueError, match="layer"):
        check_D_zero(obj, theta, 3, 0)


# ------------------------------------------------------------- dead neuron
def test_add_dead_neuron_keeps_a_critical_point(critical_211):
    obj, theta = critical_211
    net, X, y = obj.net, obj.X, obj.y
    for layer, incoming in ((2, [1.5, -2.0]), (1, [0.8, 0.5])):
        obj_big, tb = add_dead_neuron(obj, theta, layer, incoming)
        big = obj_big.net
        assert obj_big.normalization == obj.normalization and obj_big.X is obj.X and obj_big.y is obj.y
        assert big.widths[layer] == net.widths[layer] + 1
        assert np.allclose(big(tb, X), net(theta, X), rtol=0, atol=1e-14)
        assert np.linalg.norm(SquaredLoss(big, X, y).gradient(tb)) < 1e-9
        new = big.widths[layer] - 1
        assert not check_outgoing_sum(big, tb, layer, new).holds
        assert np.all(tb[big.outgoing_indices(layer, new)] == 0.0)
        u = tb[big.incoming_indices(layer, new)]
        assert abs(u[0] * incoming[1] - u[1] * incoming[0]) < 1e-12     # u = (1 + t) incoming


def test_add_dead_neuron_with_biases_solves_for_the_bias():
    net, theta, X, y = deep_problem(widths=(2, 2, 1, 1), seed=6)   # not a critical point: only dL/dv_new = 0
    obj_big, tb = add_dead_neuron(SquaredLoss(net, X, y), theta, 2, [2.0, 2.0, 0.0])
    big = obj_big.net
    g = SquaredLoss(big, X, y).gradient(tb)
    assert abs(g[big.outgoing_indices(2, 1)][0]) < 1e-12 * np.abs(g).max()
    assert np.all(tb[big.incoming_indices(2, 1)][:2] == [2.0, 2.0])
    assert tb[big.incoming_indices(2, 1)][2] != 0.0


def test_add_dead_neuron_errors(critical_211):
    obj, theta = critical_211
    X, y = obj.X, obj.y
    n2 = Network((2, 2, 2, 1), biases=False)
    with pytest.raises(ValueError, match="one neuron"):
        add_dead_neuron(SquaredLoss(n2, X, y), np.zeros(n2.n_params), 1, [1.0, 1.0])
    with pytest.raises(ValueError, match="incoming"):
        add_dead_neuron(obj, theta, 2, [1.0])
    with pytest.raises(TypeError, match="incoming"):
        add_dead_neuron(obj, theta, 2, ["a", None])
    with pytest.raises(ValueError, match="direction"):
        add_dead_neuron(obj, theta, 2, [1.0, 1.0], direction=[0.0, 0.0])
    with pytest.raises(ValueError, match="bracket"):
        add_dead_neuron(obj, theta, 2, [1.0, 1.0], bracket=(1.0, -1.0))
    with pytest.raises(TypeError, match="bracket"):
        add_dead_neuron(obj, theta, 2, [1.0, 1.0], bracket=5.0)
    with pytest.raises(ValueError, match="n_grid"):
        add_dead_neuron(obj, theta, 2, [1.0, 1.0], n_grid=2)
    with pytest.raises(ValueError, match="no t in"):   # residuals of one sign: dL/dv never vanishes
        add_dead_neuron(SquaredLoss(obj.net, X, y - 100.0), theta, 2, [1.0, 1.0])


def test_add_dead_neuron_at_zero_residual_keeps_the_weights(critical_211):
    obj, theta = critical_211
    y0 = obj.net(theta, obj.X)                          # zero residuals: (iii) holds
    obj_big, tb = add_dead_neuron(SquaredLoss(obj.net, obj.X, y0), theta, 2, [0.4, -0.9])
    assert np.all(tb[obj_big.net.incoming_indices(2, 1)] == [0.4, -0.9])
    assert check_D_zero(obj_big, tb, 2, 1, atol=1e-14).holds        # round-off of the wider sum only


def test_check_proposition1_collects_the_checks(critical_211):
    obj, theta = critical_211
    res = check_proposition1(obj, theta, 2, 0)
    assert list(res) == ["(i)", "(ii)", "(iii)", "sum v != 0", "D = 0"]
    assert all(isinstance(c, ConditionCheck) for c in res.values())
    assert res["(i)"].holds and res["(ii)"].holds and not res["(iii)"].holds
    assert res["sum v != 0"].holds and res["D = 0"].holds
    gen, tg, Xg, yg = deep_problem(seed=3)
    res_g = check_proposition1(SquaredLoss(gen, Xg, yg), tg, 1, 1, rtol_D=1e-3)
    assert not any(res_g[k].holds for k in ("(i)", "(ii)", "(iii)", "D = 0"))
    with pytest.raises(ValueError, match="r="):
        check_proposition1(obj, theta, 2, 5)
    with pytest.raises(ValueError, match="rtol"):
        check_proposition1(obj, theta, 2, 0, rtol_D=-1.0)


# ------------------------------------------------------------- D bound
@pytest.mark.parametrize("normalization", ["sum", "half"])
def test_D_bound_holds_at_any_point_with_one_column(normalization):
    """n_{l+1} = 1: D = dL/du / (2 c v), so max|D| <= ||grad L|| / (2 c |v|) anywhere (000, Appendix C)."""
    for seed in range(3):
        net, theta, X, y = deep_problem(widths=(2, 3, 1, 1), seed=seed)
        obj = SquaredLoss(net, X, y, normalization)
        for layer in (1, 2):
            d = D_bound(obj, theta, layer, 0)
            D, S = D_matrix(obj, theta, layer, 0, return_scale=True)
            v = abs(outgoing_sum(net, theta, layer, 0))
            c = 1.0 if normalization == "sum" else 0.5
            g = np.linalg.norm(SquaredLoss(net, X, y).gradient(theta)) * c
            assert d.measured == np.abs(D).max() and d.scale == S.max()
            assert d.bound == pytest.approx(g / (2 * c * v) + 1e3 * np.finfo(float).eps * S.max(), rel=1e-12)
            assert d.measured <= d.bound


def test_D_bound_is_tiny_at_a_critical_point_and_validates(critical_211):
    obj, theta = critical_211
    d = D_bound(obj, theta, 2, 0)
    assert d.measured <= d.bound <= 1e-9 * d.scale
    t0 = theta.copy()
    t0[obj.net.outgoing_indices(2, 0)] = 0.0
    with pytest.raises(ValueError, match="divides"):
        D_bound(obj, t0, 2, 0)
    with pytest.raises(TypeError, match="objective"):
        D_bound(obj.net, theta, 2, 0)
