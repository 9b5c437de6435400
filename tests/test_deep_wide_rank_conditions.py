"""lossland.deep_wide.rank_conditions: the rank hypotheses of 003 with their margins."""
import numpy as np
import pytest

from lossland import Network
from lossland.deep_wide.rank_conditions import feature_matrix, lemma35_report, numerical_rank
from lossland.objective import Objective
from lossland.optimize import find_critical_point


def test_numerical_rank_of_a_product():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 3)) @ rng.standard_normal((3, 5))     # rank 3
    r = numerical_rank(M)
    assert r.rank == 3 and r.shape == (6, 5)
    assert r.margin > 1e10 and r.gap > 1e10
    assert not r.full_row_rank and not r.full_column_rank
    assert np.allclose(r.singular_values, np.linalg.svd(M, compute_uv=False))
    assert "rank 3 of 6x5" in str(r)
    full = numerical_rank(rng.standard_normal((4, 4)))
    assert full.rank == 4 and full.full_row_rank and full.gap == np.inf
    zero = numerical_rank(np.zeros((2, 3)))
    assert zero.rank == 0 and zero.margin == np.inf
    # a looser threshold drops a small singular value
    D = np.diag([1.0, 1e-6, 1e-12])
    assert numerical_rank(D).rank == 3
    assert numerical_rank(D, rtol=1e-9).rank == 2


def test_feature_matrix_and_lemma35_at_zero_loss():
    """n_1 = N - 1: a critical point of zero loss meets Lemma 3.5's conditions."""
    rng = np.random.default_rng(2)
    N = 5
    X = rng.standard_normal((N, 2))
    Y = rng.uniform(-0.5, 0.5, (N, 2))
    net = Network((2, N - 1, 2, 2), "tanh")
    obj = Objective(net, X, Y)
    cp = find_critical_point(obj, 0.5 * rng.standard_normal(net.n_params), gtol=1e-10)
    E = feature_matrix(obj, cp.theta, 1)
    assert E.shape == (N, N) and np.all(E[:, -1] == 1)
    assert np.array_equal(feature_matrix(obj, cp.theta, 0)[:, :2], X)
    rep = lemma35_report(obj, cp.theta, 1)
    assert rep.feature.full_row_rank and rep.feature.margin > 1e6
    assert set(rep.upper) == {3} and rep.upper[3].full_column_rank
    assert rep.grad_norm_layer <= 1e-10 and rep.holds
    assert obj.value(cp.theta) < 1e-16 and max(rep.delta_norms.values()) < 1e-8


def test_bad_input():
    net = Network((2, 3, 1), "tanh")
    obj = Objective(net, np.eye(2), np.zeros(2))
    theta = np.zeros(net.n_params)
    with pytest.raises(ValueError, match="M must be"):
        numerical_rank(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        numerical_rank(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="rtol"):
        numerical_rank(np.eye(2), rtol=-1.0)
    with pytest.raises(ValueError, match="k must be"):
        feature_matrix(obj, theta, 2)
    with pytest.raises(TypeError, match="k must be an integer"):
        lemma35_report(obj, theta, 1.0)
    with pytest.raises(ValueError, match="k must be"):
        lemma35_report(obj, theta, 0)
    with pytest.raises(TypeError, match="Objective"):
        feature_matrix("obj", theta, 1)
