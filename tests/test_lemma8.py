"""lossland.nonattracting.lemma8: 000 Lemma 8 / 001 Lemma A.1 (chapter P6)."""
import numpy as np
import pytest
import sympy as sp

from lossland import Network, SquaredLoss
from lossland.embedding import B_matrix, D_matrix, alpha_beta, definiteness
from lossland.nonattracting.lemma8 import (inertia, lemma8a_matrices, lemma8b_certificate, lemma8b_form,
                                           lemma8b_matrix, random_symmetric, three_block, x_block)
from lossland.symbolic import symbol_matrix


def test_symbol_matrix():
    g = symbol_matrix("g", 3, 3, symmetric=True)
    assert g.is_symmetric() and len(g.free_symbols) == 6
    h = symbol_matrix("h", 2, 3)
    assert h.shape == (2, 3) and len(h.free_symbols) == 6
    with pytest.raises(ValueError, match="square"):
        symbol_matrix("g", 2, 3, symmetric=True)


def test_lemma8a_congruence():
    M, S = lemma8a_matrices((1, 2, 1, 1), 2)
    Mp, _ = lemma8a_matrices((1, 2, 1, 1), 1)
    assert (M - S * Mp * S).expand() == sp.zeros(*M.shape)
    assert M.is_symmetric() and M.shape == (5, 5)
    with pytest.raises(ValueError, match="sizes"):
        lemma8a_matrices((1, 1, 1), 2)


def test_inertia_and_random_symmetric():
    rng = np.random.default_rng(0)
    for psd in (True, False):
        for _ in range(20):
            A = random_symmetric(4, rng, psd)
            assert np.allclose(A, A.T)
            mu = np.linalg.eigvalsh(A)
            assert (mu.min() >= -1e-12) == psd
            p, n, z = inertia(A)
            assert p + n + z == 4 and (n == 0) == psd
    assert inertia(np.diag([2.0, -1.0, 0.0, 3.0])) == (2, 1, 1)
    S = np.diag([1.0, 2.0, 1.0])
    A = random_symmetric(3, 1, False)
    assert inertia(S @ A @ S) == inertia(A)                      # Sylvester


def test_three_block():
    M = three_block(1, 0.5, 1, 0.25, 0.5, 1, kb=2, kd=4, ke=2)
    assert np.array_equal(M, [[1, 1, 1], [1, 1, 1], [1, 1, 1]])


def test_lemma8b_form_and_certificate():
    rng = np.random.default_rng(3)
    g = random_symmetric(3, rng, True) + np.eye(3)
    h, z = rng.standard_normal((3, 2)), rng.standard_normal(2)
    hz = h @ z
    for t in (0.0, 0.7, 5.0):
        assert np.isclose(lemma8b_form(g, h, z, t), hz @ g @ hz - 2 * t * hz @ hz, rtol=1e-12)
    w, value = lemma8b_certificate(g, h)
    x = lemma8b_matrix(g, h)
    assert x.shape == (5, 5) and np.isclose(w @ x @ w, value, rtol=1e-10) and value < 0
    assert lemma8b_certificate(g, np.zeros((3, 2))) == (None, None)
    w, value = lemma8b_certificate(-g, np.zeros((3, 2)))
    assert value < 0 and np.isclose(w @ lemma8b_matrix(-g, np.zeros((3, 2))) @ w, value)
    with pytest.raises(ValueError, match="g must be square"):
        lemma8b_matrix(np.zeros((2, 3)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="z"):
        lemma8b_form(g, h, np.zeros(3), 1.0)


def test_x_block_is_the_lemma8b_form_of_B_and_D():
    rng = np.random.default_rng(1)
    net = Network((2, 2, 2, 1), "tanh", biases=False)
    obj = SquaredLoss(net, rng.uniform(-2, 2, (8, 2)), rng.standard_normal(8))
    th = net.init_params(rng)
    xb, floor = x_block(obj, th, 1, 0, 0.3)
    a, b = alpha_beta(0.3)
    expected = lemma8b_matrix(2 * a * b * B_matrix(obj, th, 1, 0), 2 * (a + b) * D_matrix(obj, th, 1, 0))
    assert np.abs(xb - expected).max() <= 1e-9 * np.abs(expected).max()
    assert 0 < floor < 1e-10
    assert not definiteness(xb).positive_semidefinite                  # D != 0 at a random point
