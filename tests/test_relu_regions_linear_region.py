"""The linear region of 002, Section 3.1 (lossland.relu_regions.linear_region)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.relu_regions.linear_region import (eq5_biases, interior_radius, linear_fit,
                                                 linear_region_point, one_node_global_minimum)
from lossland.relu_regions.model import (from_paper, g_A, gradient_g, paper_parameters, pattern,
                                         pre_activations, relu_objective)


def data(N=12, n=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, n))
    y = np.abs(X).sum(axis=1) + 0.1 * rng.standard_normal(N)
    return X, y


# ------------------------------------------------------------- linear fit
@pytest.mark.parametrize("n", [1, 3])
def test_linear_fit_solves_the_normal_equations(n):
    X, y = data(n=n)
    fit = linear_fit(relu_objective(X, y, 2))
    r = fit.predict(X) - y
    assert np.allclose(X.T @ r, 0, atol=1e-12) and abs(r.sum()) < 1e-12
    assert np.isclose(fit.loss, 0.5 * r @ r, rtol=1e-14) and fit.rank == n + 1


def test_linear_fit_without_biases_has_no_intercept():
    X, y = data(n=2)
    fit = linear_fit(relu_objective(X, y, 2, biases=False))
    assert fit.d is None and np.allclose(X.T @ (X @ fit.u - y), 0, atol=1e-12)


def test_linear_fit_is_exact_on_affine_data():
    X, _ = data(n=2)
    y = X @ np.array([1.5, -2.0]) + 0.25
    fit = linear_fit(relu_objective(X, y, 1))
    assert fit.loss < 1e-25 and np.allclose(fit.u, [1.5, -2.0]) and np.isclose(fit.d, 0.25)


# ---------------------------------------------------------------- eq. (5)
@pytest.mark.parametrize("margin", [1.0, 0.25])
def test_eq5_biases_make_every_node_active_with_the_margin(margin):
    X, y = data(n=2)
    obj = relu_objective(X, y, 3)
    W = np.random.default_rng(1).standard_normal((3, 2))
    b = eq5_biases(obj, W, margin=margin)
    Z = X @ W.T + b
    assert np.allclose(Z.min(axis=0), margin, rtol=0, atol=1e-13) and np.all(Z > 0)


def test_eq5_biases_checks():
    X, y = data(n=2)
    obj = relu_objective(X, y, 3)
    with pytest.raises(ValueError, match="W"):
        eq5_biases(obj, np.ones((2, 2)))
    with pytest.raises(ValueError, match="margin"):
        eq5_biases(obj, np.ones((3, 2)), margin=0.0)
    with pytest.raises(TypeError, match="margin"):
        eq5_biases(obj, np.ones((3, 2)), margin="1")
    with pytest.raises(ValueError, match="no[ne]"):
        eq5_biases(relu_objective(X, y, 3, biases=False), np.ones((3, 2)))
    with pytest.raises(TypeError, match="objective"):
        eq5_biases("obj", np.ones((3, 2)))
    with pytest.raises(ValueError, match="objective"):
        eq5_biases(SquaredLoss(Network((2, 3, 1), "tanh"), X, y), np.ones((3, 2)))


# ------------------------------------------------------ the construction
@pytest.mark.parametrize("n,h,kw", [(1, 2, {}), (1, 1, {}), (3, 1, {}), (2, 4, {"rng": 3}),
                                    (3, 2, {"v": [2.0, -0.5]}), (2, 3, {"margin": 0.1})])
def test_linear_region_point_is_a_local_minimum_with_the_linear_loss(n, h, kw):
    X, y = data(n=n)
    obj = relu_objective(X, y, h)
    pt = linear_region_point(obj, **kw)
    A = pattern(obj, pt.theta)
    P = paper_parameters(obj.net, pt.theta)
    assert A.all() and np.isclose(pt.margin, kw.get("margin", 1.0), rtol=1e-12)
    assert np.allclose(P.v @ P.W, pt.fit.u, atol=1e-12) and np.isclose(P.c, pt.fit.d - P.v @ P.b)
    assert np.allclose(obj.net(pt.theta, X), pt.fit.predict(X), atol=1e-12)
    assert np.isclose(obj.value(pt.theta), pt.loss, rtol=1e-12)
    assert np.linalg.norm(obj.gradient(pt.theta)) < 1e-11
    assert np.linalg.norm(gradient_g(obj, pt.theta, A)) < 1e-11
    ev = np.linalg.eigvalsh(obj.hessian(pt.theta))
    tol = 1e-10 * ev[-1]
    # PSD with rank n + 1: only u and d matter
    assert ev[0] > -tol and np.sum(ev > tol) == n + 1


def test_linear_region_point_has_no_lower_loss_in_its_ball():
    X, y = data()
    obj = relu_objective(X, y, 2)
    pt = linear_region_point(obj, rng=0)
    r = interior_radius(obj, pt.theta)
    rng = np.random.default_rng(5)
    for _ in range(300):
        u = rng.standard_normal(obj.net.n_params)
        th = pt.theta + 0.999 * r * rng.uniform() * u / np.linalg.norm(u)
        assert pattern(obj, th).all()
        assert obj.value(th) >= pt.loss * (1 - 1e-12)


def test_linear_region_point_with_a_given_W():
    X, y = data(n=2)
    obj = relu_objective(X, y, 3)
    W = np.random.default_rng(2).standard_normal((3, 2))          # rank 2 = n: always solvable
    pt = linear_region_point(obj, W=W)
    assert np.allclose(pt.W, W) and np.allclose(pt.v @ W, pt.fit.u, atol=1e-12)
    with pytest.raises(ValueError, match="row space"):                 # h = 1 < n: u not along w
        linear_region_point(relu_objective(X, y, 1), W=[[1.0, 0.0]])


def test_linear_region_point_checks():
    X, y = data(n=2)
    obj = relu_objective(X, y, 2)
    with pytest.raises(ValueError, match="v"):
        linear_region_point(obj, v=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="v"):
        linear_region_point(obj, v=[0.0, 0.0])
    with pytest.raises(ValueError, match="W, v"):
        linear_region_point(obj, v=[1.0, 0.0], W=np.ones((2, 2)))
    with pytest.raises(ValueError, match="no biases"):
        linear_region_point(relu_objective(X, y, 2, biases=False))
    with pytest.raises(TypeError, match="rng"):
        linear_region_point(obj, rng="seed")
    with pytest.raises(TypeError, match="v"):
        linear_region_point(obj, v="ab")


def test_zero_slope_and_zero_v():
    X = np.array([[-1.0], [0.0], [1.0]])
    y = np.array([1.0, 0.0, 1.0])                                      # u = 0
    obj = relu_objective(X, y, 2)
    pt = linear_region_point(obj, v=[0.0, 0.0])
    assert np.allclose(pt.fit.u, 0, atol=1e-15) and pattern(obj, pt.theta).all()
    assert np.isclose(obj.value(pt.theta), 1.0 / 3.0)


def test_subglobal_minima_need_not_stay_in_the_region():
    """Every θ with Wᵀv = u, vᵀb + c = d minimises L_gA (A = all ones); not all are in the region."""
    X, y = data()
    obj = relu_objective(X, y, 2)
    pt = linear_region_point(obj)
    ones = np.ones((12, 2), bool)
    moved = from_paper(obj.net, pt.W, pt.v, pt.b - 5.0, pt.c + 5.0 * pt.v.sum())
    assert np.allclose(g_A(obj, moved, ones), g_A(obj, pt.theta, ones))
    assert not pattern(obj, moved).all() and obj.value(moved) > pt.loss + 1.0


# ---------------------------------------------------------- interior_radius
def test_interior_radius_keeps_the_pattern_and_is_zero_on_a_boundary():
    X, y = data(n=2)
    obj = relu_objective(X, y, 3)
    theta = obj.net.init_params(4)
    r = interior_radius(obj, theta)
    Z = pre_activations(obj, theta)
    norms = np.sqrt((X ** 2).sum(1) + 1)
    assert np.isclose(r, np.abs(Z).min() / norms.max())
    rng = np.random.default_rng(6)
    for _ in range(200):
        u = rng.standard_normal(obj.net.n_params)
        th = theta + 0.999 * r * u / np.linalg.norm(u)
        assert (pattern(obj, th) == pattern(obj, theta)).all()
    P = paper_parameters(obj.net, theta)
    b = P.b.copy()
    b[0] = -X[0] @ P.W[0]                                               # x_0 on node 0's kink
    assert interior_radius(obj, from_paper(obj.net, P.W, P.v, b, P.c)) == 0.0


def test_interior_radius_without_biases():
    X, y = data(n=2)
    obj = relu_objective(X, y, 2, biases=False)
    theta = obj.net.init_params(1)
    Z = pre_activations(obj, theta)
    assert np.isclose(interior_radius(obj, theta), np.abs(Z).min() / np.linalg.norm(X, axis=1).max())


# --------------------------------------------------- one node, one input
def brute_force(x, y):
    best = np.inf
    for s in (1, -1):
        for t in np.linspace(x.min() - 1, x.max() + 1, 8001):
            D = np.stack([np.maximum(s * (x - t), 0), np.ones_like(x)], axis=1)
            r = y - D @ np.linalg.lstsq(D, y, rcond=None)[0]
            best = min(best, 0.5 * r @ r)
    return best


@pytest.mark.parametrize("fn", [lambda x: x ** 3, lambda x: np.sin(2 * x), lambda x: x ** 2,
                                lambda x: np.abs(x - 0.3), lambda x: np.tanh(3 * x)])
def test_one_node_global_minimum_beats_a_scan_and_is_attained(fn):
    x = np.sort(np.random.default_rng(7).uniform(-1, 1, 9))
    y = fn(x)
    obj = relu_objective(x[:, None], y, 1)
    best = one_node_global_minimum(obj)
    assert np.isclose(obj.value(best.theta), best.loss, rtol=1e-12, atol=1e-15)
    assert best.loss <= brute_force(x, y) + 1e-12
    assert best.loss <= linear_fit(obj).loss + 1e-12
    # no seeded descent goes below it
    from lossland.optimize import find_critical_point
    for seed in range(5):
        cp = find_critical_point(obj, obj.net.init_params(seed), method="BFGS", polish=False)
        assert cp.loss >= best.loss - 1e-9


def test_one_node_x_cubed_linear_fit_is_global():
    x = np.linspace(-1, 1, 9)
    obj = relu_objective(x[:, None], x ** 3, 1)
    assert abs(one_node_global_minimum(obj).loss - linear_fit(obj).loss) < 1e-12


def test_one_node_global_minimum_checks():
    X, y = data(n=2)
    with pytest.raises(ValueError, match="1-1-1"):
        one_node_global_minimum(relu_objective(X, y, 1))
    x = np.linspace(-1, 1, 5)[:, None]
    with pytest.raises(ValueError, match="1-1-1"):
        one_node_global_minimum(relu_objective(x, x[:, 0], 2))
    with pytest.raises(ValueError, match="1-1-1"):
        one_node_global_minimum(relu_objective(x, x[:, 0], 1, biases=False))
