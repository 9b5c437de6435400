"""lossland.deep_wide.nondegenerate: Definitions 3.6 and 3.7 of 003."""
import numpy as np
import pytest
import sympy as sp

from lossland import Network, SquaredLoss
from lossland.deep_wide.nondegenerate import (ExactNondegeneracy, Nondegeneracy, block_hessian,
                                              block_nondegeneracy, exact_nondegeneracy,
                                              layer_indices, nondegeneracy, paper_examples)


# ------------------------------------------------------- the paper's examples
def test_paper_example_x_singular_but_block_x1_x2_not():
    ex = paper_examples()["x"]
    assert ex.matrix == sp.diag(1, 1, 0, 0) and ex.subset == (0, 1)
    full, block = exact_nondegeneracy(ex.matrix), exact_nondegeneracy(ex.matrix, ex.subset)
    assert full.det == 0 and full.rank == 2 and not full.nondegenerate
    assert block.det == 1 and block.nondegenerate


def test_paper_example_y_nonsingular_but_block_y3_y4_singular():
    ex = paper_examples()["y"]
    assert ex.matrix == sp.Matrix([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]])
    full, block = exact_nondegeneracy(ex.matrix), exact_nondegeneracy(ex.matrix, ex.subset)
    assert full.det == 1 and full.nondegenerate
    assert block.det == 0 and block.rank == 0 and not block.nondegenerate


@pytest.mark.parametrize("name", ["x", "y"])
def test_paper_examples_are_hessians_at_a_critical_point(name):
    ex = paper_examples()[name]
    grad = [sp.diff(ex.f, v).subs(ex.point) for v in ex.variables]
    assert grad == [0, 0, 0, 0]
    assert sp.hessian(ex.f, ex.variables).subs(ex.point) == ex.matrix


def test_exact_symbolic_entries_and_errors():
    a = sp.Symbol("a", positive=True)
    v = exact_nondegeneracy(sp.Matrix([[a, 1], [1, 1 / a]]))
    assert isinstance(v, ExactNondegeneracy) and v.det == 0 and v.rank == 1
    assert "singular" in str(v)
    with pytest.raises(ValueError, match="square"):
        exact_nondegeneracy(sp.Matrix([[1, 2]]))
    with pytest.raises(ValueError, match="out of range"):
        exact_nondegeneracy(sp.eye(2), [2])
    with pytest.raises(ValueError, match="repeats"):
        exact_nondegeneracy(sp.eye(2), [0, 0])
    with pytest.raises(TypeError, match="integer positions"):
        exact_nondegeneracy(sp.eye(2), [0.5])
    with pytest.raises(TypeError, match="subset"):
        exact_nondegeneracy(sp.eye(2), "01")


# ------------------------------------------------------------ the numeric verdict
def test_nondegeneracy_on_the_paper_matrices():
    ex = paper_examples()
    Hx, Hy = (np.array(ex[k].matrix, dtype=float) for k in "xy")
    assert not nondegeneracy(Hx).nondegenerate
    assert nondegeneracy(Hx[:2, :2]).nondegenerate
    vy = nondegeneracy(Hy)
    assert vy.nondegenerate
    # singular values of [[I, I], [I, 0]]: the golden ratio and its inverse, twice
    phi = (1 + 5 ** 0.5) / 2
    assert np.allclose(vy.singular_values, [phi, phi, 1 / phi, 1 / phi], rtol=1e-14)
    assert vy.smin == pytest.approx(1 / phi) and vy.margin == pytest.approx(vy.smin / vy.tol)
    assert not nondegeneracy(Hy[2:, 2:]).nondegenerate


def test_nondegeneracy_tolerances_and_errors():
    M = np.diag([1.0, 1e-9])
    assert nondegeneracy(M).nondegenerate
    assert not nondegeneracy(M, atol=1e-8).nondegenerate
    assert not nondegeneracy(M, rtol=1e-8).nondegenerate
    v = nondegeneracy(M, atol=1e-12)
    assert isinstance(v, Nondegeneracy) and v.margin == pytest.approx(1e3)
    assert "non-singular" in str(v) and "margin" in str(v)
    with pytest.raises(ValueError, match="square"):
        nondegeneracy(np.ones((2, 3)))
    with pytest.raises(TypeError, match="M must be"):
        nondegeneracy("M")
    with pytest.raises(ValueError, match="atol"):
        nondegeneracy(M, atol=-1.0)


# ------------------------------------------------------------ layers of a network
def test_layer_indices_partition_the_parameters():
    net = Network((2, 3, 2, 1), "tanh")
    parts = [layer_indices(net, l) for l in (1, 2, 3)]
    assert np.array_equal(np.concatenate(parts), np.arange(net.n_params))
    s, b = net.weight_slice(2), net.bias_slice(2)
    assert list(parts[1]) == list(range(s.start, s.stop)) + list(range(b.start, b.stop))
    assert np.array_equal(layer_indices(net, [3, 1]), np.concatenate([parts[0], parts[2]]))
    no_bias = Network((2, 3, 1), "tanh", biases=False)
    assert np.array_equal(layer_indices(no_bias, 2), np.arange(6, 9))


@pytest.mark.parametrize("layers,exc", [((), ValueError), ((1, 1), ValueError), (4, ValueError),
                                        (0, ValueError), (True, TypeError), ("1", TypeError),
                                        ((1.0,), TypeError)])
def test_layer_indices_errors(layers, exc):
    with pytest.raises(exc):
        layer_indices(Network((2, 3, 2, 1), "tanh"), layers)


def test_layer_indices_needs_a_network():
    with pytest.raises(TypeError, match="net must be"):
        layer_indices("net", 1)


def _small_objective(seed=0):
    rng = np.random.default_rng(seed)
    net = Network((2, 3, 1), "tanh")
    X, y = rng.standard_normal((5, 2)), rng.standard_normal(5)
    return SquaredLoss(net, X, y), net.init_params(rng)


def test_block_hessian_is_the_principal_submatrix():
    obj, theta = _small_objective()
    H = obj.hessian(theta)
    for layers in (1, 2, (1, 2)):
        idx = layer_indices(obj.net, layers)
        B = block_hessian(obj, theta, layers)
        assert B.shape == (idx.size, idx.size)
        assert np.allclose(B, H[np.ix_(idx, idx)], rtol=1e-14, atol=1e-14)
        assert np.array_equal(B, B.T)


def test_block_nondegeneracy_covers_every_subset():
    obj, theta = _small_objective()
    rep = block_nondegeneracy(obj, theta)
    assert list(rep) == [(1,), (2,), (1, 2)]
    for key, v in rep.items():
        ref = np.linalg.svd(block_hessian(obj, theta, key), compute_uv=False)
        assert v.smin == pytest.approx(ref[-1], rel=1e-10, abs=1e-14)
    assert list(block_nondegeneracy(obj, theta, [[2]])) == [(2,)]


def test_positive_definite_full_hessian_gives_nonsingular_blocks():
    # 003, proof of Corollary 3.9: principal submatrices of a PD matrix are PD
    obj, theta = _small_objective(3)
    H = obj.hessian(theta)
    rng = np.random.default_rng(1)
    A = rng.standard_normal(H.shape)
    M = A @ A.T + 1e-2 * np.eye(H.shape[0])
    for l in (1, 2):
        idx = layer_indices(obj.net, l)
        assert nondegeneracy(M[np.ix_(idx, idx)]).nondegenerate


def test_block_functions_validate_the_objective():
    obj, theta = _small_objective()
    with pytest.raises(TypeError, match="objective must be"):
        block_hessian("obj", theta, 1)
    with pytest.raises(ValueError, match="theta"):
        block_hessian(obj, theta[:-1], 1)
    with pytest.raises(TypeError, match="subsets"):
        block_nondegeneracy(obj, theta, subsets=3)
    with pytest.raises(ValueError, match="subsets must not be empty"):
        block_nondegeneracy(obj, theta, subsets=[])
