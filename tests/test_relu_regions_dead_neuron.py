"""lossland.relu_regions.dead_neuron: 002, Section 3.2, the dead node and its boundary."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from lossland.relu_regions import kinks as K
from lossland.relu_regions.dead_neuron import add_dead_node, dead_radius, remove_node
from lossland.relu_regions.model import paper_parameters, pre_activations, relu_objective

X = np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0]])
Y = np.array([4.0, 2.0, 0.0, 1.0, 2.0])


def small():
    g = relu_objective(X, Y, 1)
    u, d = F(-1, 2), F(9, 5)                   # least squares u x + d, in the linear region (eq. (5))
    return g, np.array([F(1), F(3), u, d - 3 * u], dtype=object)


def test_paper_bias_puts_the_node_on_the_boundary():
    g, th = small()
    dn = add_dead_node(g, th, [F(1)], F(-1), margin=0)
    assert dn.b_new == -2 and dn.argmax == (4,) and dn.margin == 0 and dn.node == 1
    assert K.kinks(dn.objective, dn.theta) == [(4, 1)]
    assert dn.objective.net.widths == (1, 2, 1)
    assert all(isinstance(t, F) for t in dn.theta)
    P = paper_parameters(dn.objective.net, np.array(dn.theta, dtype=float))
    assert np.array_equal(P.W.ravel(), [1.0, 1.0]) and np.array_equal(P.b, [3.0, -2.0])
    assert np.array_equal(P.v, [-0.5, -1.0]) and P.c == 3.3
    assert dn.objective.value(np.array(dn.theta, dtype=float)) == pytest.approx(63 / 20, abs=1e-14)


@pytest.mark.parametrize("v_new,verdict", [(-1, "necessary conditions hold"), (0, "not a local minimum"),
                                           (1, "not a local minimum")])
def test_paper_construction_depends_on_the_sign_of_v(v_new, verdict):
    g, th = small()
    dn = add_dead_node(g, th, [F(1)], F(v_new), margin=0)
    e = np.zeros(dn.objective.net.n_params, dtype=object) + F(0)
    e[dn.objective.net.bias_index(1, 1)] = F(1)
    assert K.directional_derivative(dn.objective, dn.theta, e) == F(-6, 5) * v_new   # r_{i*} v_new
    assert K.minimum_test(dn.objective, dn.theta).verdict == verdict


@pytest.mark.parametrize("v_new", [F(-1), F(0), F(1)])
def test_corrected_construction_is_the_smaller_network_locally(v_new):
    g, th = small()
    dn = add_dead_node(g, th, [F(1)], v_new)
    obj, tf = dn.objective, np.array(dn.theta, dtype=float)
    assert dn.b_new == -3 and dn.margin == 1 and K.point_kind(obj, dn.theta) == "interior"
    assert all(x == 0 for x in K.gradient(obj, dn.theta))
    assert np.linalg.eigvalsh(obj.hessian(tf))[0] > -1e-12
    r = dead_radius(obj, dn.theta, 1)
    assert r == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    for _ in range(200):
        delta = rng.uniform(-0.99 * r, 0.99 * r, tf.shape)
        assert np.all(pre_activations(obj, tf + delta)[:, 1] < 0)
        sm, ts = remove_node(obj, tf + delta, 1)
        assert abs(obj.value(tf + delta) - sm.value(ts)) < 1e-12


def test_float_inputs_and_several_maximisers():
    g = relu_objective(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), [1.0, 2.0, 0.0], 1)
    th = np.array([0.5, -0.5, 0.25, 1.0, 0.0])
    dn = add_dead_node(g, th, [1.0, 1.0], 2.0, margin=0.0)
    assert dn.b_new == -1.0 and dn.argmax == (0, 1) and dn.theta.dtype == float
    assert K.kinks(dn.objective, dn.theta) == [(0, 1), (1, 1)]
    assert dead_radius(dn.objective, dn.theta, 1) == 0.0


def test_remove_node_keeps_exact_values():
    g, th = small()
    dn = add_dead_node(g, th, [F(-1)], F(2), margin=F(1, 2))
    sm, ts = remove_node(dn.objective, dn.theta, 1)
    assert list(ts) == list(th) and sm.net.widths == (1, 1, 1)
    sm0, ts0 = remove_node(dn.objective, dn.theta, 0)           # the old node goes, the dead one stays
    assert list(ts0) == [F(-1), dn.b_new, F(2), th[3]]


def test_validation():
    g, th = small()
    with pytest.raises(ValueError, match="margin"):
        add_dead_node(g, th, [1.0], 1.0, margin=-1.0)
    with pytest.raises(ValueError, match="w_new"):
        add_dead_node(g, th, [1.0, 2.0], 1.0)
    with pytest.raises(TypeError, match="v_new"):
        add_dead_node(g, th, [1.0], "a")
    nob = relu_objective(X, Y, 1, biases=False)
    with pytest.raises(ValueError, match="no biases"):
        add_dead_node(nob, [1.0, 1.0], [1.0], 1.0)
    with pytest.raises(ValueError, match="one hidden node"):
        remove_node(g, th, 0)
    with pytest.raises(ValueError, match="j"):
        dead_radius(g, th, 3)
