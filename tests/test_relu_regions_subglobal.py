"""Tests of lossland.relu_regions.subglobal (002, Definition 2.6, Lemma 2.4, Section 4.1, eqs. (6)-(7))."""

from fractions import Fraction
from itertools import product

import numpy as np
import pytest
from scipy.optimize import minimize

from lossland.relu_regions.model import (
    design_matrix, from_paper, from_pqc, gradient_g, hessian_g, loss_g, n_pqc, pattern, relu_objective)
from lossland.relu_regions.subglobal import (
    Subglobal, block_system, blocks, canonical_patterns, enumerate_subglobal, normal_equations,
    realized, subglobal_minimum)

X3 = np.array([[-1.0, 1.0], [2.0, 1.0], [1.0, 3.0]])          # 002, Fig. 1 and Fig. 3
Y3 = np.array([1.0, 2.0, 3.0])


def _paper(h):
    return relu_objective(X3, Y3, h, biases=False)


def _random(seed, biases, N=5, n=2, h=2, integer=False):
    rng = np.random.default_rng(seed)
    if integer:
        X, y = rng.integers(-3, 4, size=(N, n)).astype(float), rng.integers(-3, 4, size=N).astype(float)
    else:
        X, y = rng.normal(size=(N, n)), rng.normal(size=N)
    return relu_objective(X, y, h, biases=biases), rng


def _patterns(obj, rng, k):
    N, h = obj.n_samples, obj.net.widths[1]
    return [rng.integers(0, 2, size=(N, h)).astype(bool) for _ in range(k)]


# ----------------------------------------------------------------------------- eqs. (6)-(7)

@pytest.mark.parametrize("biases", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_block_system_is_the_normal_equations(seed, biases):
    obj, rng = _random(seed, biases, h=3, integer=True)
    for A in _patterns(obj, rng, 4):
        M, rhs = normal_equations(obj, A)
        Mb, rb = block_system(obj, A)
        assert np.allclose(M, Mb, atol=1e-12) and np.allclose(rhs, rb, atol=1e-12)
        Me, re = normal_equations(obj, A, exact=True)
        Mbe, rbe = block_system(obj, A, exact=True)
        assert (Me == Mbe).all() and (re == rbe).all()               # exactly equal
        assert isinstance(Me[0, 0], Fraction) and np.array_equal(Me.astype(float), M)
        D = design_matrix(obj, A)
        assert np.allclose(M, D.T @ D) and np.allclose(rhs, D.T @ obj.y)


def test_blocks_as_printed_in_eq_6_and_7():
    obj = _paper(3)
    A = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=bool)
    B = blocks(obj, A, exact=True)
    for j in range(3):
        Phi = sum((int(A[i, j]) * np.outer(X3[i], X3[i]) for i in range(3)), np.zeros((2, 2)))
        assert np.array_equal(B["Phi"][j].astype(float), Phi)
        assert (B["Lam"][j, j] == B["Phi"][j]).all()                  # Lam_jj = Phi_j
        assert np.array_equal(B["Y"][j].astype(float), (A[:, j] * Y3) @ X3)
        for k in range(3):
            Lam = sum((int(A[i, j] * A[i, k]) * np.outer(X3[i], X3[i]) for i in range(3)), np.zeros((2, 2)))
            assert np.array_equal(B["Lam"][j, k].astype(float), Lam)
    sub = subglobal_minimum(obj, A, exact=True)
    p = np.array(sub.z_exact, dtype=object).reshape(3, 2)
    for j in range(3):                                               # eq. (6) = 0 at the minimiser
        row = B["Phi"][j] @ p[j] + sum(B["Lam"][j, k] @ p[k] for k in range(3) if k != j) - B["Y"][j]
        assert all(e == 0 for e in row)
    assert "C" not in B
    Bb = blocks(relu_objective(X3, Y3, 3), A)
    assert Bb["Phi"].shape == (3, 3, 3) and Bb["N"] == 3 and Bb["Yc"] == 6.0
    assert np.allclose(Bb["C"][0], [1.0, 2.0, 2.0])                  # x~_1 + x~_2


# ----------------------------------------------------------------------------- the minimum

@pytest.mark.parametrize("h", [1, 2, 3])
def test_exact_and_lstsq_agree_on_the_paper_data(h):
    obj = _paper(h)
    for A, _ in canonical_patterns(3, h):
        ex, fl = subglobal_minimum(obj, A, exact=True), subglobal_minimum(obj, A)
        assert isinstance(ex, Subglobal) and isinstance(ex.loss_exact, Fraction)
        assert fl.loss_exact is None and fl.z_exact is None
        assert abs(fl.loss - float(ex.loss_exact)) <= 1e-13 * (1 + ex.loss)
        assert ex.rank == fl.rank and ex.n_vars == fl.n_vars == 2 * h
        assert np.allclose(ex.fitted, fl.fitted, atol=1e-13)
        M, rhs = normal_equations(obj, A, exact=True)
        assert all(e == 0 for e in M @ np.array(ex.z_exact, dtype=object) - rhs)
        assert ex.singular == (ex.rank < 2 * h)


@pytest.mark.parametrize("biases", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_lemma_24_gradient_zero_at_the_minimiser(seed, biases):
    obj, rng = _random(seed, biases, N=6, h=3)
    for A in _patterns(obj, rng, 3):
        sub = subglobal_minimum(obj, A)
        D = design_matrix(obj, A)
        gz = D.T @ (D @ sub.z - obj.y)                                # ∇_(p,q,c) L_gA
        assert np.abs(gz).max() < 1e-12 * (1 + np.abs(D).sum() * (1 + np.abs(obj.y).sum()))
        theta = from_pqc(obj, sub.z)
        assert np.abs(gradient_g(obj, theta, A)).max() < 1e-11 * (1 + np.abs(theta).sum()) ** 2
        assert loss_g(obj, theta, A) == pytest.approx(sub.loss, rel=1e-12, abs=1e-14)
        z2 = sub.z + rng.normal(size=sub.z.shape) * 1e-3               # any other z is not lower
        assert 0.5 * np.sum((D @ z2 - obj.y) ** 2) >= sub.loss - 1e-14


@pytest.mark.parametrize("biases", [False, True])
def test_subglobal_is_the_minimum_of_L_gA_over_theta(biases):
    """Theorem 2.5: descent on L_gA in θ from random starts ends at the subglobal minimum."""
    obj, rng = _random(7, biases, N=5, h=2)
    for A in _patterns(obj, rng, 3):
        sub = subglobal_minimum(obj, A, exact=True)
        for _ in range(3):
            res = minimize(lambda t: loss_g(obj, t, A), rng.normal(size=obj.net.n_params),
                           jac=lambda t: gradient_g(obj, t, A), hess=lambda t: hessian_g(obj, t, A),
                           method="trust-exact", options={"gtol": 1e-10})
            assert res.fun == pytest.approx(sub.loss, rel=1e-7, abs=1e-9)


def test_singular_particular_solution():
    obj = _paper(2)
    A = np.array([[1, 1], [1, 1], [0, 0]], dtype=bool)                 # duplicated node
    ex, fl = subglobal_minimum(obj, A, exact=True), subglobal_minimum(obj, A)
    assert ex.singular and ex.rank == 2 and ex.n_vars == 4
    assert ex.loss_exact == Fraction(9, 2)                            # y_3 unfitted: ½ 3²
    assert ex.z_exact[2:] == (0, 0)                                    # free variables 0
    assert np.allclose(fl.z[:2], fl.z[2:])                             # minimum norm splits evenly


# ----------------------------------------------------------------------------- realized

def _check_witness(obj, r):
    assert r.realized and r.theta is not None and r.margin > 1e-9
    assert np.array_equal(pattern(obj, r.theta), r.subglobal.A)
    Z = obj.forward(r.theta).pre[1]
    assert np.abs(Z).min() > 0                                        # open region
    assert np.linalg.norm(obj.gradient(r.theta)) < 1e-10
    assert obj.value(r.theta) == pytest.approx(r.subglobal.loss, rel=1e-12, abs=1e-13)
    ev = np.linalg.eigvalsh(obj.hessian(r.theta))
    assert ev[0] > -1e-10 * max(1.0, ev[-1])                          # a local minimum: PSD
    assert r.checks["pattern"] and r.checks["gradient_norm"] < 1e-10


def test_realized_on_one_node_of_the_paper():
    obj = _paper(1)
    expect = {(0, 0, 0): (7, True), (1, 0, 0): (Fraction(13, 2), True), (0, 1, 0): (5, True),
              (1, 1, 0): (Fraction(9, 2), None), (0, 0, 1): (Fraction(5, 2), None),
              (1, 0, 1): (2, False), (0, 1, 1): (Fraction(1, 2), False),
              (1, 1, 1): (Fraction(4, 25), True)}                       # None: empty region
    for a, (loss, real) in expect.items():
        A = np.array(a, dtype=bool)[:, None]
        r = realized(obj, A)
        assert subglobal_minimum(obj, A, exact=True).loss_exact == loss
        assert r.nonempty == (real is not None) and r.realized == bool(real)
        if r.realized:
            _check_witness(obj, r)
        elif r.nonempty:
            assert r.margin < -0.1                                    # away from the region


@pytest.mark.parametrize("biases", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_realized_witnesses_and_direct_minimisation(seed, biases):
    """Realized: the witness checks out. Unrealized: no θ in the closed region reaches the loss.

    For every sign vector σ of v, the closure of the region in (p, q, c) is a
    product of closed cones; min ½|Dz - y|² over it (SLSQP) must exceed the
    subglobal loss unless the LP margin is 0 (attained on the boundary only).
    """
    obj, rng = _random(seed, biases, N=4, h=2)
    n_real = n_unreal = 0
    for A, _ in canonical_patterns(4, 2):
        r = realized(obj, A)
        if not r.nonempty:
            continue
        if r.realized:
            _check_witness(obj, r)
            n_real += 1
            continue
        n_unreal += 1
        assert r.margin <= 1e-9 and r.theta is None
        inf = _closure_minimum(obj, A)
        if r.margin < -1e-6:
            assert inf > r.subglobal.loss + 1e-8
        else:
            assert inf == pytest.approx(r.subglobal.loss, abs=1e-6)
    assert n_real > 0 and n_unreal > 0


def _closure_minimum(obj, A):
    D = design_matrix(obj, A)
    Xt = np.concatenate([obj.X, np.ones((obj.n_samples, 1))], 1) if obj.net.biases else obj.X
    n, h = obj.net.widths[0], obj.net.widths[1]
    S = np.where(A, 1.0, -1.0)
    best = np.inf
    for sig in product((1, -1), repeat=h):
        rows = []
        for j, sg in enumerate(sig):
            idx = list(range(j * n, (j + 1) * n)) + ([h * n + j] if obj.net.biases else [])
            G = np.zeros((obj.n_samples, D.shape[1]))
            G[:, idx] = (sg * S[:, j])[:, None] * Xt
            rows.append(G)
        G = np.concatenate(rows)
        res = minimize(lambda z: 0.5 * np.sum((D @ z - obj.y) ** 2), np.zeros(D.shape[1]),
                       jac=lambda z: D.T @ (D @ z - obj.y), method="SLSQP",
                       constraints=[{"type": "ineq", "fun": lambda z: G @ z, "jac": lambda z: G}],
                       options={"ftol": 1e-14, "maxiter": 500})
        assert np.all(G @ res.x > -1e-7)
        best = min(best, res.fun)
    return best


def test_descent_inside_a_realized_region_reaches_the_subglobal_loss():
    obj = _paper(2)
    rng = np.random.default_rng(3)
    hits = 0
    for A, _ in canonical_patterns(3, 2):
        r = realized(obj, A)
        if not r.realized:
            continue
        for _ in range(3):                    # start near the witness, in the same region
            t0 = r.theta + 0.05 * rng.normal(size=r.theta.size)
            if not np.array_equal(pattern(obj, t0), A) or np.any(obj.forward(t0).pre[1] == 0):
                continue
            res = minimize(obj.value, t0, jac=obj.gradient, method="BFGS", options={"gtol": 1e-11})
            if np.array_equal(pattern(obj, res.x), A):
                assert res.fun == pytest.approx(r.subglobal.loss, rel=1e-8, abs=1e-10)
                hits += 1
    assert hits > 20


def test_descent_end_points_are_realized_subglobal_minima():
    """Corollary 2.7: a differentiable local minimum of L_f found by descent is a realized subglobal minimum."""
    obj = _paper(2)
    rng = np.random.default_rng(11)
    found = 0
    for _ in range(40):
        res = minimize(obj.value, rng.normal(size=obj.net.n_params), jac=obj.gradient, method="BFGS",
                       options={"gtol": 1e-10})
        Z = obj.forward(res.x).pre[1]
        if np.abs(Z).min() < 1e-6 or np.linalg.norm(res.jac) > 1e-8:
            continue                                                  # kink or not converged
        A = pattern(obj, res.x)
        sub = subglobal_minimum(obj, A, exact=True)
        assert res.fun == pytest.approx(sub.loss, rel=1e-8, abs=1e-10)
        assert realized(obj, A).realized
        found += 1
    assert found > 10


def test_zero_node_case_v_equal_zero():
    """A node whose contribution must vanish (p_j = 0) is realized with v_j = 0 and w_j in its region."""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    obj = relu_objective(X, [1.0, 1.0, 2.0], 2, biases=False)
    A = np.array([[1, 1], [1, 0], [1, 1]], dtype=bool)               # node 2 duplicates node 1 on x1, x3
    r = realized(obj, A, find_best=True)
    _check_witness(obj, r)
    assert r.subglobal.loss == pytest.approx(0.0, abs=1e-14)


# ----------------------------------------------------------------------------- enumeration

def test_canonical_patterns_cover_every_pattern_once():
    for N, h in ((3, 1), (3, 2), (2, 3), (3, 4)):
        pats = list(canonical_patterns(N, h))
        assert sum(w for _, w in pats) == 2 ** (N * h)
        keys = {tuple(sorted(map(tuple, A.T.astype(int).tolist()))) for A, _ in pats}
        assert len(keys) == len(pats)


def test_enumeration_canonical_matches_all_patterns():
    obj = _paper(2)
    can = enumerate_subglobal(obj, exact=True)
    full = enumerate_subglobal(obj, canonical=False)
    assert can.counts() == full.counts() == {"patterns": 64, "nonempty": 36, "realized": 28}
    for which in ("all", "nonempty", "realized"):
        assert np.allclose(np.sort(can.losses(which)), np.sort(full.losses(which)), atol=1e-13)
    assert all(isinstance(f, Fraction) for f in can.loss_exact) and full.loss_exact is None
    lite = enumerate_subglobal(obj, realize=False)
    assert not lite.nonempty.any() and np.isnan(lite.margin).all()


def test_paper_counts_h1_to_h3():
    got = {h: enumerate_subglobal(_paper(h)).counts() for h in (1, 2, 3)}
    assert [got[h]["nonempty"] for h in (1, 2, 3)] == [6, 36, 216]      # 6^h
    assert [got[h]["realized"] for h in (1, 2, 3)] == [4, 28, 192]


def test_bad_input():
    obj = _paper(2)
    with pytest.raises(ValueError, match="A must have shape"):
        subglobal_minimum(obj, np.ones((3, 3)))
    with pytest.raises(TypeError, match="exact"):
        normal_equations(obj, np.ones((3, 2)), exact=1)
    with pytest.raises(ValueError, match="tol"):
        realized(obj, np.ones((3, 2)), tol=0.0)
    with pytest.raises(ValueError, match="subglobal"):
        realized(obj, np.ones((3, 2)), subglobal=subglobal_minimum(obj, np.zeros((3, 2))))
    with pytest.raises(TypeError, match="objective"):
        blocks("obj", np.ones((3, 2)))
    with pytest.raises(ValueError, match="h"):
        list(canonical_patterns(3, 0))
    assert n_pqc(obj) == 4 and from_paper(obj.net, np.ones((2, 2)), np.ones(2)).size == 6


def test_histogram_exact_and_float():
    ex = enumerate_subglobal(_paper(1), exact=True)
    assert ex.histogram("realized") == {Fraction(4, 25): 1, 5: 1, Fraction(13, 2): 1, 7: 1}
    fl = enumerate_subglobal(_paper(2))
    assert sum(fl.histogram("nonempty").values()) == 36
    hist_ex = enumerate_subglobal(_paper(2), exact=True).histogram()
    assert list(hist_ex.values()) == list(fl.histogram().values())
    assert np.allclose([float(k) for k in hist_ex], list(fl.histogram()), atol=1e-12)
    with pytest.raises(ValueError, match="which"):
        fl.histogram("some")


def test_differentiable_minimum_verdicts():
    from lossland.relu_regions.model import from_paper, relu_objective
    from lossland.relu_regions.subglobal import differentiable_minimum
    obj = relu_objective([[-2.0], [2.0]], [-3.0, -1.0], 1, biases=False)    # 002, Fig. 2
    m = differentiable_minimum(obj, from_paper(obj.net, [[-1.0]], [-1.5]))  # w1 w2 = 3/2, w1 < 0
    assert m.minimum and m.gradient_norm < 1e-12 and m.kink_distance > 0.5
    on_kink = differentiable_minimum(obj, from_paper(obj.net, [[0.0]], [1.0]))
    assert not on_kink.minimum and on_kink.kink_distance == 0.0
    assert not differentiable_minimum(obj, from_paper(obj.net, [[-1.0]], [-1.0])).minimum
    with pytest.raises(ValueError, match="gtol"):
        differentiable_minimum(obj, from_paper(obj.net, [[-1.0]], [-1.5]), gtol=0)
