"""lossland.deep_wide.implicit_path: the implicit-function path of 003's proof of Theorem 3.8."""
from __future__ import annotations

import numpy as np
import pytest

from lossland import Network
from lossland.deep_wide.implicit_path import (STOP_REASONS, Correction, ImplicitPath, ParameterSplit,
                                              correct, follow_implicit_path, implicit_derivative, psi,
                                              psi_jacobians, split_parameters)
from lossland.deep_wide.rank_conditions import feature_matrix
from lossland.derivatives import fd_hessian
from lossland.objective import Objective

ANGLES = 2 * np.pi * np.arange(5) / 5
X5 = 1.5 * np.c_[np.cos(ANGLES), np.sin(ANGLES)]
Y5 = np.random.default_rng(1).uniform(-0.6, 0.6, (5, 1))


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.fixture(scope="module")
def example():
    """2-4-1 tanh network (output tanh) on 5 points at a zero-loss critical point, and du."""
    net = Network((2, 4, 1), "tanh", output_activation="tanh")
    obj = Objective(net, X5, Y5)
    split = split_parameters(net, 1)
    theta = net.init_params(np.random.default_rng(22), scale=2.0)
    corr = correct(obj, split.join(theta, v=np.zeros(split.t)), split)
    assert corr.converged
    i0, i1 = net.incoming_indices(1, 0), net.incoming_indices(1, 1)
    du = np.zeros(net.n_params)
    du[i0] = corr.theta[i1] - corr.theta[i0]            # neuron 0 -> neuron 1 at t = 1
    return obj, split, corr.theta, du[split.u_index]


@pytest.fixture(scope="module")
def breakdown_path(example):
    obj, split, theta, du = example
    return follow_implicit_path(obj, theta, split, du, t_end=1.5)


# ------------------------------------------------------------------ the split
def test_split_positions_cover_the_layers():
    net = Network((2, 4, 2, 2), "tanh")
    full = split_parameters(net, 1)
    assert full.layers == (2, 3) and full.fixed_index.size == 0
    assert full.s == 12 and full.t == 10 + 6
    assert np.array_equal(np.sort(np.r_[full.u_index, full.v_index]), np.arange(net.n_params))
    part = split_parameters(net, 1, layers=[2])
    assert part.t == 10 and part.fixed_index.size == 6
    assert np.array_equal(np.sort(np.r_[part.u_index, part.v_index, part.fixed_index]),
                          np.arange(net.n_params))
    w, b = net.weight_slice(3), net.bias_slice(3)
    assert np.array_equal(part.fixed_index, np.r_[np.arange(w.start, w.stop), np.arange(b.start, b.stop)])
    assert "fixed: 3" in str(part) and "fixed: none" in str(full)
    deep = split_parameters(net, 2)
    assert deep.s == 12 + 10 and deep.layers == (3,)


def test_split_u_v_join_roundtrip():
    net = Network((2, 3, 1), "sigmoid")
    split = split_parameters(net, 1)
    theta = np.arange(net.n_params, dtype=float)
    assert np.array_equal(split.join(theta, u=split.u(theta), v=split.v(theta)), theta)
    other = split.join(theta, v=np.zeros(split.t))
    assert np.all(other[split.v_index] == 0) and np.array_equal(other[split.u_index], theta[split.u_index])
    assert np.array_equal(theta, np.arange(net.n_params))          # join copies


@pytest.mark.parametrize("k, layers, exc, match", [
    (0, None, ValueError, "k must be"),
    (3, None, ValueError, "k must be"),
    (1.0, None, TypeError, "k must be an integer"),
    (1, [3], ValueError, "must contain layer k\\+1 = 2"),
    (1, [2, 4], ValueError, "subset of the upper layers"),
    (1, [2, 2], ValueError, "must not repeat"),
    (1, [1, 2], ValueError, "subset of the upper layers"),
    (1, 2, TypeError, "collection of layer indices"),
    (1, "23", TypeError, "collection of layer indices"),
    (1, [2.0], TypeError, "layers entry must be an integer"),
])
def test_split_rejects_bad_input(k, layers, exc, match):
    with pytest.raises(exc, match=match):
        split_parameters(Network((2, 4, 2, 2), "tanh"), k, layers)


def test_split_rejects_a_non_network():
    with pytest.raises(TypeError, match="net must be a lossland.Network"):
        split_parameters("2-4-1", 1)


# ------------------------------------------------------- Psi and its Jacobians
def test_psi_and_jacobians_are_blocks_of_the_exact_derivatives(example):
    obj, split, theta, _ = example
    point = theta + 0.1 * np.random.default_rng(0).standard_normal(theta.size)   # not critical
    g, H = obj.gradient(point), obj.hessian(point)
    assert np.array_equal(psi(obj, point, split), g[split.v_index])
    Hvv, Hvu = psi_jacobians(obj, point, split)
    assert np.array_equal(Hvv, H[np.ix_(split.v_index, split.v_index)])
    assert np.array_equal(Hvu, H[np.ix_(split.v_index, split.u_index)])
    # cross-check: J_v Psi by finite differences of Psi
    fd = fd_hessian(lambda th: obj.gradient(th), point)
    assert _rel(fd[np.ix_(split.v_index, split.v_index)], Hvv) < 1e-6


def test_implicit_derivative_is_the_ift_formula_and_matches_the_closed_form(example):
    obj, split, theta, du = example
    D = implicit_derivative(obj, theta, split)
    assert D.shape == (split.t, split.s)
    tangent = implicit_derivative(obj, theta, split, du)
    assert np.allclose(D @ du, tangent, rtol=1e-12, atol=1e-12)
    Hvv, Hvu = psi_jacobians(obj, theta, split)
    assert np.allclose(Hvv @ D, -Hvu, atol=1e-10)
    # closed form of 2-4-1 at zero loss: alpha(u) = E(u)^{-1} artanh(Y)
    net = obj.net
    full = np.zeros(net.n_params)
    full[split.u_index] = du
    fw, fw1 = net.forward(theta, X5), net.forward(theta + full, X5)
    E = feature_matrix(obj, theta, 1)
    dE = np.c_[net.activation.d1(fw.pre[1]) * (fw1.pre[1] - fw.pre[1]), np.zeros(5)]
    v = np.linalg.solve(E, np.arctanh(Y5[:, 0]))
    assert _rel(split.v(theta), v) < 1e-12
    assert _rel(tangent, -np.linalg.solve(E, dE @ v)) < 1e-10


def test_implicit_derivative_matches_finite_differences_of_corrected_points(example):
    obj, split, theta, du = example
    h = 1e-4
    ends = [correct(obj, split.join(theta, u=split.u(theta) + s * h * du), split) for s in (1, -1)]
    assert all(c.converged for c in ends)
    fd = (split.v(ends[0].theta) - split.v(ends[1].theta)) / (2 * h)
    assert _rel(fd, implicit_derivative(obj, theta, split, du)) < 1e-6


def test_implicit_derivative_refuses_a_singular_hessian():
    net = Network((2, 5, 1), "tanh", output_activation="tanh")          # n_1 = N: H_vv singular
    obj = Objective(net, X5, Y5)
    split = split_parameters(net, 1)
    theta = net.init_params(np.random.default_rng(3))
    with pytest.raises(ValueError, match="numerically singular"):
        implicit_derivative(obj, theta, split)


# ---------------------------------------------------------------- corrector
def test_correct_converges_quadratically_to_psi_zero(example):
    obj, split, theta, _ = example
    start = split.join(theta, v=split.v(theta) + 0.05)
    corr = correct(obj, start, split)
    assert isinstance(corr, Correction) and corr.converged and corr.iterations >= 1
    assert corr.residuals[-1] <= 1e-10 and np.all(np.diff(corr.residuals) < 0)
    assert np.array_equal(corr.theta[split.u_index], theta[split.u_index])     # u untouched
    assert _rel(split.v(corr.theta), split.v(theta)) < 1e-10


def test_correct_reports_failure_with_a_reason(example):
    obj, split, theta, _ = example
    corr = correct(obj, split.join(theta, v=split.v(theta) + 0.05), split, tol=1e-300, max_iter=2)
    assert not corr.converged and "after 2 Newton steps" in corr.reason
    net = Network((2, 5, 1), "tanh", output_activation="tanh")
    obj5 = Objective(net, X5, Y5)
    bad = correct(obj5, net.init_params(np.random.default_rng(3)), split_parameters(net, 1))
    assert not bad.converged and "numerically singular" in bad.reason


# ----------------------------------------------------------------- follower
def test_follower_stays_on_psi_zero_and_on_the_global_minimum(example):
    obj, split, theta, du = example
    path = follow_implicit_path(obj, theta, split, du, t_end=0.5)
    assert isinstance(path, ImplicitPath) and path.stop == "end" and path.t_stop == 0.5
    assert path.t[0] == 0 and np.all(np.diff(path.t) > 0)
    n = len(path)
    assert path.theta.shape == (n, obj.net.n_params) and path.v.shape == (n, split.t)
    for th in path.theta:
        assert np.linalg.norm(psi(obj, th, split)) <= 1e-10
        assert np.abs(obj.residuals(th)).max() <= 1e-10          # Lemma 3.5: zero loss
    u_path = path.theta[:, split.u_index]
    assert np.allclose(u_path, split.u(theta) + path.t[:, None] * du, atol=1e-14)
    for i in range(n):                                  # the recorded tangent is the IFT's
        assert _rel(path.tangent[i], implicit_derivative(obj, path.theta[i], split, du)) < 1e-12
    assert np.all(path.feature_smin > 0.1) and np.all(path.hvv_ratio > 1e-3)


def test_follower_stops_where_the_features_become_dependent(breakdown_path):
    path = breakdown_path
    assert path.stop == "singular" and "singular" in path.message
    assert 0.99 < path.t_stop < 1.0                          # neurons 0 and 1 coincide at t = 1
    assert path.hvv_ratio[-1] <= 1e-8 < path.hvv_ratio[-2]
    assert path.feature_smin[-1] < 1e-3 * path.feature_smin[0]
    lo, hi = 2 * (1 - Y5**2).min() ** 2, 2 * (1 - Y5**2).max() ** 2
    ratio = path.hvv_smin / path.feature_smin**2              # H_vv = 2 E^T D^2 E on the path
    assert np.all((ratio >= lo * (1 - 1e-6)) & (ratio <= hi * (1 + 1e-6)))
    assert np.all(path.psi <= 1e-10)
    assert np.all(np.isnan(path.tangent[-1])) and not np.isnan(path.tangent[:-1]).any()
    assert "singular" in STOP_REASONS[path.stop] and str(path).startswith("ImplicitPath:")


def test_follower_stops_at_once_on_a_singular_start():
    net = Network((2, 5, 1), "tanh", output_activation="tanh")
    obj = Objective(net, X5, Y5)
    split = split_parameters(net, 1)
    theta = net.init_params(np.random.default_rng(22), scale=2.0)
    theta = split.join(theta, v=np.linalg.pinv(feature_matrix(obj, theta, 1)) @ np.arctanh(Y5[:, 0]))
    du = np.zeros(split.s)
    du[0] = 1.0
    path = follow_implicit_path(obj, theta, split, du)
    assert path.stop == "singular" and len(path) == 1 and "at the start" in path.message
    assert np.all(np.isnan(path.tangent[0]))


def test_follower_other_stop_reasons(example):
    obj, split, theta, du = example
    tiny = follow_implicit_path(obj, theta, split, du, tol=1e-300, max_iter=1)
    assert tiny.stop == "step" and len(tiny) == 1 and "h_min" in tiny.message
    short = follow_implicit_path(obj, theta, split, du, max_steps=2)
    assert short.stop == "max_steps" and len(short) == 3
    assert set(STOP_REASONS) == {"end", "singular", "step", "max_steps"}


def test_follower_general_case_keeps_the_fixed_layers():
    net = Network((2, 4, 2, 2), "tanh", output_activation="tanh")
    Y = np.random.default_rng(2).uniform(-0.6, 0.6, (5, 2))
    obj = Objective(net, X5, Y)
    split = split_parameters(net, 1, layers=[2])
    theta = np.zeros(net.n_params)
    theta[split.u_index] = Network((2, 4, 1), "tanh").init_params(np.random.default_rng(22), 2.0)[:12]
    theta[net.weight_slice(3)] = [2.0, 1.0, -1.0, 2.0]
    corr = correct(obj, theta, split)
    assert corr.converged and obj.value(corr.theta) <= 1e-20
    du = np.zeros(split.s)
    du[:3] = 0.1
    path = follow_implicit_path(obj, corr.theta, split, du, t_end=0.2)
    assert path.stop == "end"
    assert np.all(path.theta[:, split.fixed_index] == corr.theta[split.fixed_index])
    assert max(np.linalg.norm(psi(obj, th, split)) for th in path.theta) <= 1e-10


# --------------------------------------------------------------- bad input
def test_follower_and_friends_reject_bad_input(example):
    obj, split, theta, du = example
    with pytest.raises(TypeError, match="objective must be"):
        psi("loss", theta, split)
    with pytest.raises(TypeError, match="split must be a ParameterSplit"):
        psi(obj, theta, (np.arange(3), np.arange(3)))
    other = split_parameters(Network((2, 4, 1), "sigmoid"), 1)
    with pytest.raises(ValueError, match="split was made for"):
        psi(obj, theta, other)
    with pytest.raises(ValueError, match="theta must have length"):
        psi(obj, theta[:-1], split)
    with pytest.raises(ValueError, match="du must have length 12"):
        follow_implicit_path(obj, theta, split, du[:-1])
    with pytest.raises(ValueError, match="du must be a nonzero direction"):
        follow_implicit_path(obj, theta, split, np.zeros(split.s))
    with pytest.raises(ValueError, match="not on Psi = 0"):
        follow_implicit_path(obj, split.join(theta, v=split.v(theta) + 0.1), split, du)
    with pytest.raises(ValueError, match="h0 must lie in"):
        follow_implicit_path(obj, theta, split, du, h0=0.5, h_max=0.1)
    with pytest.raises(ValueError, match="t_end must be positive"):
        follow_implicit_path(obj, theta, split, du, t_end=-1.0)
    with pytest.raises(ValueError, match="singular_rtol must be"):
        follow_implicit_path(obj, theta, split, du, singular_rtol=2.0)
    with pytest.raises(TypeError, match="max_steps must be an integer"):
        follow_implicit_path(obj, theta, split, du, max_steps=2.5)
    with pytest.raises(ValueError, match="tol must be positive"):
        correct(obj, theta, split, tol=0.0)
    with pytest.raises(ValueError, match="max_iter must be"):
        correct(obj, theta, split, max_iter=0)
    with pytest.raises(ValueError, match="contains non-finite"):
        implicit_derivative(obj, theta, split, np.full(split.s, np.nan))
    with pytest.raises(ValueError, match="u must have length"):
        split.join(theta, u=np.zeros(3))
    assert isinstance(split, ParameterSplit)
