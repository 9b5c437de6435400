"""lossland.nonattracting.lemma1_symbolic: 000 Lemma 1 / 001 Lemma 12 with a generic sigma (chapter P5)."""
import numpy as np
import pytest
import sympy as sp

from lossland.embedding import lemma1_basis
from lossland.nonattracting.lemma1_symbolic import (B_and_D, Lemma1Case, alpha, basis_matrix, beta, c,
                                                    compare_blocks, format_block_table, head_derivatives,
                                                    hessian_in_basis, lam, lemma1_case, lemma1_matrix,
                                                    paper_names, y)
from lossland.network import Network
from lossland.symbolic import generic_sigma


@pytest.fixture(scope="module")
def A():
    return lemma1_case((1, 1, 1), 1, 0)


def test_names_and_gamma(A):
    assert [str(s) for s in A.small] == ["u_{r,1}", "u_{r,0}", "v_{1,r}", "w^{(2)}_{1,0}"]
    assert len(A.large) == A.big.n_params == 7 and len(set(A.large)) == 7
    # gamma_lambda^r maps the larger network's function onto the smaller one's
    assert sp.simplify(A.f_big.xreplace(A.gamma) - A.f) == 0
    names, ii = paper_names(Network((2, 3, 1)), 1, 2)
    assert ii == ["1", "2", "0"] and len(set(names)) == len(names)


def test_basis_matrix_is_lemma1_basis_at_numbers(A):
    P = basis_matrix(A)
    for a, b in ((0.7, 0.3), (2.0, -0.5), (-1.5, 4.0)):
        Pn = np.array(P.subs({alpha: a, beta: b}), dtype=float)
        assert np.array_equal(Pn, lemma1_basis(A.net, 1, 0, a, b).matrix)


def test_lemma1_holds_and_a_wrong_factor_is_detected(A):
    M = hessian_in_basis(A)
    B, D = B_and_D(A, [(A.f - y) * dh for dh in head_derivatives(A)])
    assert all(compare_blocks(A, M, lemma1_matrix(A, B, D, 2 * c)).values())
    wrong = compare_blocks(A, M, lemma1_matrix(A, B, D, c))          # the factor 2 dropped
    assert not wrong["u_diff", "u_diff"] and wrong["u_sum", "u_sum"]
    table = format_block_table(wrong)
    assert table.splitlines()[0].startswith("difference = 0") and "False" in table


def test_B_against_the_second_derivative(A):
    # B^r for one sample: (f - y) v sigma''(n) a a^T; compare with d^2 f / du^2 times (f - y)
    B, _ = B_and_D(A, [(A.f - y) * dh for dh in head_derivatives(A)])
    d2f = sp.hessian(A.f, A.u)
    assert all(sp.expand(e) == 0 for e in (B - (A.f - y) * d2f))


def test_001_loss_derivatives_are_twice_000s():
    Bc = lemma1_case((1, 1, 2, 1), 1, 0)
    B0, D0 = B_and_D(Bc, [(Bc.f - y) * dh for dh in head_derivatives(Bc)])
    B1, D1 = B_and_D(Bc, head_derivatives(Bc, loss=True))
    assert all(sp.expand(e) == 0 for e in B1 - 2 * B0)
    assert all(sp.expand(e) == 0 for e in D1 - 2 * D0)


def test_bad_input(A):
    with pytest.raises(TypeError, match="case"):
        basis_matrix("A")
    with pytest.raises(ValueError, match="g"):
        B_and_D(A, [1, 2])
    with pytest.raises(ValueError):
        lemma1_case((1, 1, 1), 2, 0)
    with pytest.raises(ValueError):
        lemma1_case((1, 1, 1), 1, 3)
