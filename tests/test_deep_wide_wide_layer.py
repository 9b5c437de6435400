"""lossland.deep_wide.wide_layer: the kernel a wide layer forces on the block Hessian (003, Thm 3.8)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.deep_wide.rank_conditions import feature_matrix
from lossland.deep_wide.wide_layer import (check_block_kernel, fit_zero_loss, flat_direction,
                                           theorem38_scope, wide_layer_kernel)
from lossland.losses import get_loss
from lossland.objective import Objective


def _deep(seed=0, N=6, widths=(2, 8, 3, 2), loss="squared", out=None):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (N, widths[0]))
    Y = rng.uniform(-0.5, 0.5, (N, widths[-1]))
    net = Network(widths, "tanh", output_activation=out)
    return Objective(net, X, Y, loss=loss), net.init_params(rng)


def test_flat_direction_orientation():
    """003's V = [W_{k+1}; b_{k+1}^T] moves by z c^T: lossland's W[k+1] by c z[:n_k]^T."""
    net = Network((2, 3, 2, 1), "tanh")
    d = flat_direction(net, 1, [1.0, 2.0, 3.0, 4.0], [5.0, 6.0])
    W, b = net.unflatten(d)
    assert np.array_equal(W[2], np.outer([5.0, 6.0], [1.0, 2.0, 3.0]))
    assert np.array_equal(b[2], [20.0, 24.0])
    assert not (W[1].any() or W[3].any() or b[1].any() or b[3].any())


def test_kernel_directions_leave_G_unchanged():
    obj, theta = _deep()
    K = wide_layer_kernel(obj, theta, 1)
    assert K.feature.rank == 6 and K.feature.margin > 1e6
    assert K.z.shape == (9, 3) and K.nullity == 9 and K.directions.shape == (9, obj.net.n_params)
    assert np.abs(feature_matrix(obj, theta, 1) @ K.z).max() < 1e-13
    assert np.allclose(K.directions @ K.directions.T, np.eye(9), atol=1e-13)
    fw0 = obj.forward(theta)
    for d in K.directions:
        fw = obj.forward(theta + 5.0 * d)
        assert np.allclose(fw.pre[2], fw0.pre[2], rtol=0, atol=1e-12)
        assert abs(obj.value(theta + 5.0 * d) - obj.value(theta)) < 1e-13 * obj.value(theta)


@pytest.mark.parametrize("loss,out", [("squared", None), ("pseudo_huber", None),
                                      ("squared", "sigmoid"), ("cauchy", "tanh")])
def test_predicted_kernel_is_in_the_block_hessian_kernel(loss, out):
    obj, theta = _deep(loss=get_loss(loss), out=out)
    for layers in [(2,), (2, 3)]:
        c = check_block_kernel(obj, theta, 1, layers)
        assert c.layers == layers and c.predicted == 9
        assert c.residual < 1e-13 and c.nullity >= c.predicted and c.angle < 1e-8
        assert not c.nondegenerate
    # at a generic point the (2) block has exactly the predicted kernel
    c = check_block_kernel(obj, theta, 1)
    assert c.nullity == 9 and c.size == 27 and c.gap > 10


def test_full_hessian_contains_the_directions_only_where_delta_vanishes():
    """The v-block kernel holds everywhere; the mixed block (dE z)^T Delta_{k+1} c only vanishes with Delta."""
    obj, theta = _deep()
    D = wide_layer_kernel(obj, theta, 1).directions
    H = obj.hessian(theta)
    assert np.abs(D @ H).max() > 1e-3 * np.abs(H).max()
    zero = Objective(obj.net, obj.X, obj.net(theta, obj.X))      # residuals 0: Delta = 0
    H0 = zero.hessian(theta)
    assert np.abs(D @ H0).max() < 1e-13 * np.abs(H0).max()


def test_nullity_formula_for_the_output_layer():
    """Squared loss, linear output: the block is 2 (E^T E) (x) I_m, nullity (n_1 + 1 - N)_+ m."""
    rng = np.random.default_rng(3)
    N, m = 6, 2
    X = rng.uniform(-1, 1, (N, 2))
    Y = rng.standard_normal((N, m))
    for n1 in range(3, 10):
        net = Network((2, n1, m), "sigmoid")
        obj = Objective(net, X, Y)
        theta = net.init_params(rng)
        c = check_block_kernel(obj, theta, 1)
        assert c.nullity == c.predicted == max(0, n1 + 1 - N) * m
        assert c.nondegenerate == (n1 <= N - 1)
        # quadratic form of the block: d^T H d = 2 ||E dV||_F^2 (dV in 003's orientation)
        dW, db = rng.standard_normal((m, n1)), rng.standard_normal(m)
        d = np.zeros(net.n_params)
        d[net.weight_slice(2)], d[net.bias_slice(2)] = dW.ravel(), db
        E = feature_matrix(obj, theta, 1)
        dV = np.vstack([dW.T, db])
        assert np.isclose(d @ obj.hessian(theta) @ d, 2 * np.sum((E @ dV) ** 2), rtol=1e-12)


def test_input_layer_k0():
    """k = 0: [X, 1] with N > d + 1 samples has a kernel only if d + 1 > N."""
    rng = np.random.default_rng(4)
    net = Network((5, 3, 1), "tanh")
    obj = Objective(net, rng.standard_normal((4, 5)), rng.standard_normal(4))
    theta = net.init_params(rng)
    c = check_block_kernel(obj, theta, 0)
    assert c.predicted == (6 - 4) * 3 and c.nullity == c.predicted and c.residual < 1e-13


def test_theorem38_scope():
    rng = np.random.default_rng(5)
    X, N = rng.standard_normal((8, 2)), 8

    def scope(widths, layers):
        net = Network(widths, "tanh")
        obj = Objective(net, X, np.zeros((N, widths[-1])))
        return theorem38_scope(obj, 1, layers)

    s = scope((2, 7, 2), (2,))
    assert s.wide and s.kernel_dim == 0 and s.block_size == 16 == s.rank_bound
    assert s.hypothesis_possible and not s.corollary_possible
    s = scope((2, 8, 2), None)
    assert s.layers == (2,) and s.kernel_dim == 2 and not s.hypothesis_possible
    assert not scope((2, 7, 4, 2), (2,)).hypothesis_possible          # 32 > N m = 16
    assert scope((2, 7, 2, 2), (2,)).hypothesis_possible
    assert not scope((2, 7, 2, 2), (3, 2)).hypothesis_possible
    assert not scope((2, 6, 2), (2,)).wide


def test_fit_zero_loss():
    """A wide network (n_1 = N - 1) fits N points; unreachable targets raise."""
    rng = np.random.default_rng(8)
    X, Y = rng.uniform(-1, 1, (5, 2)), rng.uniform(-0.5, 0.5, (5, 1))
    net = Network((2, 4, 1), "tanh", output_activation="tanh")
    obj = Objective(net, X, Y)
    seed, cp = fit_zero_loss(obj, [0, 1, 2])
    assert seed in (0, 1, 2) and cp.grad_norm <= 1e-12
    assert np.abs(obj.residuals(cp.theta)).max() <= 1e-10
    far = Objective(net, X, np.full((5, 1), 2.0))          # tanh output < 1
    with pytest.raises(RuntimeError, match="no start reached"):
        fit_zero_loss(far, [0], maxiter=50)
    with pytest.raises(ValueError, match="at least one seed"):
        fit_zero_loss(obj, [])
    with pytest.raises(TypeError, match="seeds must be a sequence"):
        fit_zero_loss(obj, 3)
    with pytest.raises(ValueError, match="tol"):
        fit_zero_loss(obj, [0], tol=0.0)


def test_bad_input():
    obj, theta = _deep()
    net = obj.net
    with pytest.raises(TypeError, match="objective must be"):
        wide_layer_kernel(SquaredLoss(Network((2, 3, 1)), np.eye(2), np.zeros(2)), np.zeros(13), 1)
    nob = Network((2, 3, 1), biases=False)
    with pytest.raises(ValueError, match="biases"):
        check_block_kernel(Objective(nob, np.eye(2), np.zeros(2)), np.zeros(nob.n_params), 1)
    with pytest.raises(ValueError, match="biases"):
        flat_direction(nob, 1, np.zeros(3), np.zeros(1))
    with pytest.raises(ValueError, match="k must be"):
        wide_layer_kernel(obj, theta, 3)
    with pytest.raises(TypeError, match="k must be"):
        wide_layer_kernel(obj, theta, 1.0)
    with pytest.raises(ValueError, match="theta must have length"):
        wide_layer_kernel(obj, theta[:-1], 1)
    with pytest.raises(ValueError, match="contain k"):
        check_block_kernel(obj, theta, 1, (3,))
    with pytest.raises(ValueError, match="layers must lie"):
        check_block_kernel(obj, theta, 1, (1, 2))
    with pytest.raises(ValueError, match="distinct"):
        theorem38_scope(obj, 1, (2, 2))
    with pytest.raises(TypeError, match="layers must be a sequence"):
        theorem38_scope(obj, 1, "2")
    with pytest.raises(TypeError, match="layers must contain integers"):
        theorem38_scope(obj, 1, (2.0,))
    with pytest.raises(ValueError, match="rtol"):
        check_block_kernel(obj, theta, 1, rtol=-1.0)
    with pytest.raises(ValueError, match="z must have length n_k \\+ 1 = 9"):
        flat_direction(net, 1, np.zeros(8), np.zeros(3))
    with pytest.raises(ValueError, match=r"c must have length n_\(k\+1\) = 3"):
        flat_direction(net, 1, np.zeros(9), np.zeros(2))
    with pytest.raises(TypeError, match="net must be"):
        flat_direction(obj, 1, np.zeros(9), np.zeros(3))
