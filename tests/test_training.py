"""Full-batch GD and mini-batch SGD with exact gradients (lossland.training; chapter P13)."""
import itertools

import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.training import Trajectory, batch_value_and_gradient, gd, minibatch_step_bound, sgd


def problem(widths=(2, 3, 1), activation="sigmoid", biases=True, n=7, seed=0, normalization="sum"):
    rng = np.random.default_rng(seed)
    net = Network(widths, activation, biases=biases)
    X = rng.standard_normal((n, widths[0]))
    y = rng.standard_normal(n)
    return SquaredLoss(net, X, y, normalization), net.init_params(rng, 0.7)


@pytest.mark.parametrize("widths,activation,biases,normalization", [
    ((2, 3, 1), "sigmoid", True, "sum"),
    ((1, 2, 1), "sigmoid", False, "sum"),
    ((3, 4, 2, 1), "tanh", True, "half"),
    ((2, 3, 3, 2, 1), "softplus", False, "sum"),
    ((2, 1), "sigmoid", True, "half"),
])
def test_batched_gradient_equals_squaredloss(widths, activation, biases, normalization):
    obj, _ = problem(widths, activation, biases, normalization=normalization)
    T = obj.net.init_params(np.random.default_rng(3), 0.8) + np.random.default_rng(4).standard_normal(
        (5, obj.net.n_params))
    values, grads, full = batch_value_and_gradient(obj, T)
    for k in range(T.shape[0]):
        v, g = obj.value_and_gradient(T[k])
        assert np.isclose(values[k], v, rtol=1e-13, atol=0) and values[k] == full[k]
        assert np.allclose(grads[k], g, rtol=1e-12, atol=1e-13 * np.abs(g).max())


def test_weighted_gradient_is_the_scaled_minibatch_gradient():
    obj, theta = problem((2, 3, 2, 1), "sigmoid", True, n=9)
    N, B = 9, 4
    idx = np.array([1, 4, 5, 8])
    w = np.zeros(N)
    w[idx] = N / B
    values, grads, full = batch_value_and_gradient(obj, theta[None], w)
    sub = SquaredLoss(obj.net, obj.X[idx], obj.y[idx], obj.normalization)
    v, g = sub.value_and_gradient(theta)
    assert np.isclose(values[0], N / B * v, rtol=1e-13)
    assert np.allclose(grads[0], N / B * g, rtol=1e-12, atol=1e-14)
    assert np.isclose(full[0], obj.value(theta), rtol=1e-13)


def test_minibatch_gradient_is_unbiased():
    # averaging (N/B) grad L_S over all C(N, B) subsets S gives grad L exactly
    obj, theta = problem((1, 2, 1), "tanh", True, n=6)
    N, B = 6, 2
    subsets = list(itertools.combinations(range(N), B))
    W = np.zeros((len(subsets), N))
    for j, s in enumerate(subsets):
        W[j, list(s)] = N / B
    _, grads, _ = batch_value_and_gradient(obj, np.tile(theta, (len(subsets), 1)), W)
    assert np.allclose(grads.mean(axis=0), obj.gradient(theta), rtol=1e-12, atol=1e-14)


def test_gd_is_the_plain_loop_with_squaredloss_gradient():
    obj, theta = problem((2, 3, 1), "sigmoid", True)
    tr = gd(obj, theta, 0.05, 40)
    th = theta.copy()
    for t in range(40):
        assert np.isclose(tr.losses[t], obj.value(th), rtol=1e-12)
        th = th - 0.05 * obj.gradient(th)
    assert np.allclose(tr.final_theta, th, rtol=1e-11, atol=1e-13)
    assert tr.losses.shape == (41,) and tr.thetas.shape == (41, obj.net.n_params)
    assert tr.batch_size is None and tr.steps == 40


def test_gd_on_a_convex_quadratic_decreases_monotonically_to_least_squares():
    # no hidden layer: f(x) = w.x + b, L = sum (f - y)^2 is a convex quadratic
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(20)
    net = Network((3, 1), "sigmoid", biases=True)
    obj = SquaredLoss(net, X, y)
    Xb = np.hstack([X, np.ones((20, 1))])
    lam_max = 2 * np.linalg.eigvalsh(Xb.T @ Xb).max()          # the Hessian is 2 Xb^T Xb
    tr = gd(obj, np.zeros(net.n_params), 1.0 / lam_max, 3000)
    # monotone up to round-off once converged (about 1e-16 of L), strictly at first
    assert np.all(np.diff(tr.losses) <= 1e-14 * tr.losses[-1])
    assert np.all(np.diff(tr.losses)[:50] < 0)
    w_ls = np.linalg.lstsq(Xb, y, rcond=None)[0]
    assert np.allclose(tr.final_theta, w_ls, rtol=0, atol=1e-8)
    # above 2 / lambda_max the same problem diverges (the bound is sharp)
    tr_big = gd(obj, np.zeros(net.n_params), 2.2 / lam_max, 200)
    assert tr_big.losses[-1] > tr_big.losses[0]


def test_sgd_with_full_batch_is_gd_exactly():
    obj, theta = problem((2, 3, 1), "sigmoid", True)
    starts = theta + 0.1 * np.random.default_rng(1).standard_normal((3, obj.net.n_params))
    a = gd(obj, starts, 0.05, 60, record_every=7)
    b = sgd(obj, starts, 0.05, 60, obj.n_samples, rng=11, record_every=7)
    assert np.array_equal(a.losses, b.losses) and np.array_equal(a.thetas, b.thetas)
    assert b.batch_size == obj.n_samples


def test_sgd_is_reproducible_and_depends_on_the_seed():
    obj, theta = problem((2, 3, 1), "sigmoid", True)
    a = sgd(obj, theta, 0.05, 50, 2, rng=3)
    b = sgd(obj, theta, 0.05, 50, 2, rng=np.random.default_rng(3))
    c = sgd(obj, theta, 0.05, 50, 2, rng=4)
    assert np.array_equal(a.losses, b.losses) and np.array_equal(a.thetas, b.thetas)
    assert not np.allclose(a.final_theta, c.final_theta)


def test_sgd_steps_use_exactly_batch_size_samples():
    # one step from theta equals theta - lr (N/B) grad L_S for some subset S of size B
    obj, theta = problem((1, 2, 1), "sigmoid", True, n=5)
    tr = sgd(obj, theta, 0.1, 1, 2, rng=0)
    N, B = 5, 2
    hits = []
    for s in itertools.combinations(range(N), B):
        sub = SquaredLoss(obj.net, obj.X[list(s)], obj.y[list(s)])
        hits.append(np.allclose(tr.final_theta, theta - 0.1 * N / B * sub.gradient(theta), rtol=1e-12))
    assert sum(hits) == 1


def test_many_runs_with_one_lr_each_equal_separate_runs():
    obj, theta = problem((2, 3, 1), "tanh", True)
    starts = theta + 0.2 * np.random.default_rng(2).standard_normal((3, obj.net.n_params))
    lrs = np.array([0.01, 0.03, 0.05])
    tr = gd(obj, starts, lrs, 30, record_every=10)
    assert tr.losses.shape == (31, 3) and tr.thetas.shape == (4, 3, obj.net.n_params)
    for k in range(3):
        one = gd(obj, starts[k], float(lrs[k]), 30, record_every=10)
        assert np.allclose(one.losses, tr.losses[:, k], rtol=1e-12)
        assert np.allclose(one.thetas, tr.thetas[:, k], rtol=1e-12, atol=1e-14)


def test_recorded_steps_and_final_values():
    obj, theta = problem()
    tr = gd(obj, theta, 0.01, 10, record_every=3)
    assert isinstance(tr, Trajectory)
    assert tr.recorded.tolist() == [0, 3, 6, 9, 10]
    assert tr.thetas.shape == (5, obj.net.n_params)
    assert np.array_equal(tr.thetas[0], theta)
    assert tr.final_loss == tr.losses[-1] and isinstance(tr.final_loss, float)
    tr0 = gd(obj, theta, 0.01, 0)
    assert tr0.losses.shape == (1,) and np.array_equal(tr0.final_theta, theta)


def test_divergence_raises():
    obj, theta = problem((1, 2, 1), "softplus", True)
    with pytest.raises(ValueError, match="diverged"):
        gd(obj, theta * 10, 1e3, 500)


def test_minibatch_step_bound():
    # linear regression: Hess L_S = 2 c Xb_S^T Xb_S, so the bound is explicit
    rng = np.random.default_rng(8)
    X = rng.standard_normal((6, 2))
    obj = SquaredLoss(Network((2, 1), "sigmoid", biases=True), X, rng.standard_normal(6))
    Xb = np.hstack([X, np.ones((6, 1))])
    lam = max(6 / 3 * 2 * np.linalg.eigvalsh(Xb[list(s)].T @ Xb[list(s)]).max()
              for s in itertools.combinations(range(6), 3))
    theta = np.zeros(3)
    assert np.isclose(minibatch_step_bound(obj, theta, 3), 2 / lam, rtol=1e-12)
    full = 2 / (2 * np.linalg.eigvalsh(Xb.T @ Xb).max())
    assert np.isclose(minibatch_step_bound(obj, theta, 6), full, rtol=1e-12)   # B = N: the GD bound
    assert minibatch_step_bound(obj, theta, 1) <= minibatch_step_bound(obj, theta, 3) <= full
    with pytest.raises(ValueError, match="max_batches"):
        minibatch_step_bound(obj, theta, 3, max_batches=5)


OBJ, THETA = problem()
P = OBJ.net.n_params


@pytest.mark.parametrize("call,exc,match", [
    (lambda: gd("obj", THETA, 0.1, 5), TypeError, "objective"),
    (lambda: gd(OBJ, THETA, 0.0, 5), ValueError, "lr"),
    (lambda: gd(OBJ, THETA, -1.0, 5), ValueError, "lr"),
    (lambda: gd(OBJ, THETA, float("nan"), 5), ValueError, "lr"),
    (lambda: gd(OBJ, THETA, "0.1", 5), TypeError, "lr"),
    (lambda: gd(OBJ, np.tile(THETA, (2, 1)), [0.1, 0.2, 0.3], 5), ValueError, "lr"),
    (lambda: gd(OBJ, np.tile(THETA, (2, 1)), [0.1, -0.2], 5), ValueError, "lr"),
    (lambda: gd(OBJ, THETA, [0.1], 5), ValueError, "lr"),
    (lambda: gd(OBJ, THETA, 0.1, -1), ValueError, "steps"),
    (lambda: gd(OBJ, THETA, 0.1, 2.5), TypeError, "steps"),
    (lambda: gd(OBJ, THETA, 0.1, True), TypeError, "steps"),
    (lambda: gd(OBJ, THETA, 0.1, 5, record_every=0), ValueError, "record_every"),
    (lambda: gd(OBJ, THETA[:-1], 0.1, 5), ValueError, "theta0"),
    (lambda: gd(OBJ, np.zeros((2, 2, P)), 0.1, 5), ValueError, "theta0"),
    (lambda: gd(OBJ, np.full(P, np.nan), 0.1, 5), ValueError, "theta0"),
    (lambda: gd(OBJ, ["a"] * P, 0.1, 5), TypeError, "theta0"),
    (lambda: sgd(OBJ, THETA, 0.1, 5, 0, 1), ValueError, "batch_size"),
    (lambda: sgd(OBJ, THETA, 0.1, 5, OBJ.n_samples + 1, 1), ValueError, "batch_size"),
    (lambda: sgd(OBJ, THETA, 0.1, 5, 2.0, 1), TypeError, "batch_size"),
    (lambda: sgd(OBJ, THETA, 0.1, 5, 2, None), TypeError, "rng"),
    (lambda: sgd(OBJ, THETA, 0.1, 5, 2, "seed"), TypeError, "rng"),
    (lambda: sgd(OBJ, THETA, 0.1, 5, 2, -3), ValueError, "rng"),
    (lambda: batch_value_and_gradient(OBJ, THETA[None], np.ones(3)), ValueError, "weights"),
    (lambda: batch_value_and_gradient(OBJ, THETA[None], -np.ones(OBJ.n_samples)), ValueError, "weights"),
    (lambda: batch_value_and_gradient(None, THETA), TypeError, "objective"),
])
def test_bad_input_names_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
