"""lossland.nonattracting.lemma1_numeric: Lemma 1 on random deep networks (chapter P5)."""
import numpy as np
import pytest

from lossland import Network, SquaredLoss
from lossland.embedding import B_matrix, D_matrix, embed_neuron, lemma1_basis
from lossland.nonattracting.lemma1_numeric import (lemma1_error, lemma1_errors, noisy_teacher_critical_point,
                                                   relative_D)


def problem(seed=0):
    rng = np.random.default_rng(seed)
    net = Network((2, 2, 3, 1), "tanh")
    return SquaredLoss(net, rng.uniform(-2, 2, (9, 2)), rng.standard_normal(9)), net.init_params(rng)


def test_lemma1_error_is_round_off_for_both_normalisations():
    obj, th = problem()
    for nm in ("sum", "half"):
        o = SquaredLoss(obj.net, obj.X, obj.y, nm)
        errs = lemma1_errors(o, th, [(0.3, None, None), (-1 / 3, 2.0, -0.5)])
        assert len(errs) == 2 * sum(obj.net.widths[1:-1]) and max(errs) <= 1e-10


def test_lemma1_error_sees_a_wrong_u_diff_block():
    # independent check of what the error measures: the (u_diff, u_diff) block of P^T H P is 2c alpha beta B
    obj, th = problem(1)
    big, W = embed_neuron(obj.net, th, 1, 0, 0.3)
    P = lemma1_basis(obj.net, 1, 0, 0.7, 0.3)
    M = P.matrix.T @ SquaredLoss(big, obj.X, obj.y).hessian(W) @ P.matrix
    ud = P.blocks["u_diff"]
    assert np.allclose(M[ud, ud], 2 * 0.7 * 0.3 * B_matrix(obj, th, 1, 0), rtol=1e-9, atol=1e-12)
    assert lemma1_error(obj, th, 1, 0, 0.3) <= 1e-10


def test_relative_D():
    obj, th = problem(2)
    D, scale = D_matrix(obj, th, 1, 1, return_scale=True)
    assert relative_D(obj, th, 1, 1) == pytest.approx(np.abs(D).max() / scale.max(), rel=1e-15)
    assert 0 < relative_D(obj, th, 1, 1) <= 1


def test_noisy_teacher_critical_point_in_last_layer_D_vanishes():
    obj, cp = noisy_teacher_critical_point("sigmoid", (2, 3, 2, 1), seed=1)
    assert not obj.net.biases and obj.X.shape == (100, 2)
    assert cp.grad_norm <= 1e-10 and cp.loss > 1e-6
    assert max(relative_D(obj, cp.theta, 2, r) for r in range(2)) <= 1e-8   # Proposition 1(i)
    assert min(relative_D(obj, cp.theta, 1, r) for r in range(3)) > 1e-6    # not in the other layer


def test_bad_input():
    obj, th = problem()
    with pytest.raises(TypeError, match="objective"):
        lemma1_error(obj.net, th, 1, 0, 0.3)
    with pytest.raises(ValueError, match="choices"):
        lemma1_errors(obj, th, [])
    with pytest.raises(ValueError, match="seed"):
        noisy_teacher_critical_point("tanh", (1, 2, 1), seed=-1)
