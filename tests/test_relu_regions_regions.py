"""lossland.relu_regions.regions: Definition 2.1 and Fig. 1 of paper 002."""
from fractions import Fraction
from itertools import combinations, product

import numpy as np
import pytest
import sympy as sp

from lossland.relu_regions.model import pattern, relu_objective
from lossland.relu_regions.regions import (BRUTE_MAX_POINTS, TOL, count_regions, cover_count,
                                           draw_node_point, lifted, network_patterns,
                                           node_margin, node_pattern, node_patterns,
                                           plot_node_slice, region_margin, sample_patterns)

FIG1 = np.array([[-1.0, 1.0], [2.0, 1.0], [1.0, 3.0]])

DEGENERATE = {
    "repeated": [[1, 2], [1, 2], [-1, 0.5], [0.3, -2]],
    "parallel": [[1, 2], [2, 4], [-1, -2], [1, 0], [0, 1]],
    "zero": [[0, 0], [1, 1], [-1, 2], [2, -1]],
    "spanning": [[1, 0], [0, 1], [-1, -1]],
    "on_a_line": [[1, 0], [2, 0], [3, 0], [-1, 0]],
    "collinear": [[0, 0], [1, 1], [3, 3], [1, -1], [2, 0]],
}


def _random(seed, N, n):
    return np.random.default_rng(seed).normal(size=(N, n))


def _naive_count(X, biases):
    """Σ_S (-1)^(|S| - rank S) over all subsets, sympy ranks (no pruning)."""
    rows = [[sp.Rational(Fraction(float(v))) for v in r] + ([1] if biases else []) for r in X]
    total = 0
    for k in range(len(rows) + 1):
        for S in combinations(rows, k):
            rank = sp.Matrix(list(S)).rank() if S else 0
            total += (-1) ** (k - rank)
    return total


def _rows(P):
    return {tuple(r) for r in P}


# ------------------------------------------------------------------ Fig. 1 of 002
def test_fig1_counts_with_and_without_bias():
    for biases, expected in ((True, 8), (False, 6)):
        for method in ("brute", "incremental"):
            for closed in (False, True):
                P = node_patterns(FIG1, biases=biases, method=method, closed=closed)
                assert P.shape == (expected, 3) and P.dtype == bool
        assert count_regions(FIG1, biases=biases) == expected
        assert cover_count(3, 2 + biases) == expected
    # without bias x3 = (5 x1 + 4 x2) / 3 lies in the cone of x1, x2:
    # 110 and 001 are missing
    assert np.allclose((5 * FIG1[0] + 4 * FIG1[1]) / 3, FIG1[2])
    P = node_patterns(FIG1, biases=False)
    missing = set(product((False, True), repeat=3)) - _rows(P)
    assert missing == {(True, True, False), (False, False, True)}


def test_patterns_are_sorted_and_unique():
    P = node_patterns(_random(3, 7, 2))
    assert len(_rows(P)) == len(P)
    assert [tuple(r) for r in P] == sorted(tuple(r) for r in P)


# ------------------------------------------------------------------ three counts agree
@pytest.mark.parametrize("seed,N,n", [(0, 6, 1), (1, 7, 2), (2, 8, 2), (3, 6, 3), (4, 9, 3)])
@pytest.mark.parametrize("biases", [True, False])
def test_brute_incremental_formula_agree_random(seed, N, n, biases):
    X = _random(seed, N, n)
    B = node_patterns(X, biases=biases, method="brute")
    I = node_patterns(X, biases=biases, method="incremental")
    assert np.array_equal(B, I)
    assert len(B) == count_regions(X, biases=biases) == cover_count(N, n + biases)
    Bc = node_patterns(X, biases=biases, method="brute", closed=True)
    assert np.array_equal(Bc, node_patterns(X, biases=biases, closed=True))
    if biases:                                          # lower b: the zeros become strict
        assert np.array_equal(Bc, B)


@pytest.mark.parametrize("name", sorted(DEGENERATE))
@pytest.mark.parametrize("biases", [True, False])
def test_brute_incremental_formula_agree_degenerate(name, biases):
    X = np.array(DEGENERATE[name], float)
    B = node_patterns(X, biases=biases, method="brute")
    assert np.array_equal(B, node_patterns(X, biases=biases))
    assert len(B) == count_regions(X, biases=biases) == _naive_count(X, biases)
    Bc = node_patterns(X, biases=biases, method="brute", closed=True)
    assert np.array_equal(Bc, node_patterns(X, biases=biases, closed=True))
    assert _rows(B) <= _rows(Bc)                        # open patterns satisfy Def. 2.1
    if biases:
        assert np.array_equal(Bc, B)
    # sampled parameters: a.s. in an open region unless some x~_i = 0
    S = sample_patterns(X, 0, biases=biases, n_samples=40000)
    assert _rows(S) <= _rows(Bc)
    if np.all(np.abs(lifted(X, biases=biases)).sum(axis=1) > 0):
        assert np.array_equal(S, B)


def test_open_and_closed_differ_without_bias_as_documented():
    X = np.array(DEGENERATE["zero"], float)                 # x_1 = 0
    assert len(node_patterns(X, biases=False)) == 0
    Pc = node_patterns(X, biases=False, closed=True)
    assert len(Pc) == count_regions(X[1:], biases=False) and not Pc[:, 0].any()
    X = np.array([[1.0, 2.0], [-2.0, -4.0]])               # antiparallel
    assert _rows(node_patterns(X, biases=False)) == {(False, True), (True, False)}
    assert _rows(node_patterns(X, biases=False, closed=True)) == {
        (False, False), (False, True), (True, False)}
    X = np.array(DEGENERATE["spanning"], float)             # w = 0: all zeros
    zeros = (False, False, False)
    assert zeros not in _rows(node_patterns(X, biases=False))
    assert zeros in _rows(node_patterns(X, biases=False, closed=True))
    assert node_margin(X, [0, 0, 0], biases=False, closed=True).margin == np.inf


def test_incremental_scales_to_thirty_points_in_the_plane():
    X = _random(7, 30, 2)
    assert BRUTE_MAX_POINTS < 30
    P = node_patterns(X)
    assert len(P) == count_regions(X) == cover_count(30, 3) == 872
    assert _rows(sample_patterns(X, 1, n_samples=20000)) <= _rows(P)
    W = np.array([node_margin(X, s).w for s in P[::97]])
    assert np.array_equal(node_pattern(X, W), P[::97])


# ------------------------------------------------------------------ LP verdicts
@pytest.mark.parametrize("X,biases,closed", [
    (FIG1, True, False), (FIG1, False, False), (_random(5, 6, 2), True, False),
    (np.array(DEGENERATE["parallel"], float), False, False),
    (np.array(DEGENERATE["parallel"], float), False, True),
    (np.array(DEGENERATE["collinear"], float), True, True)])
def test_every_lp_verdict_is_cross_checked(X, biases, closed):
    rng = np.random.default_rng(11)
    Xt = lifted(X, biases=biases)
    N, d = Xt.shape
    samples = _rows(node_pattern(X, rng.standard_normal((40000, d)), biases=biases))
    nonempty = set()
    for s in product((0, 1), repeat=N):
        r = node_margin(X, s, biases=biases, closed=closed)
        sig = np.where(r.pattern, 1.0, -1.0)
        if r.nonempty:
            nonempty.add(s)
            assert r.margin > TOL and r.witness_margin > 0
            assert np.max(np.abs(r.w)) <= 1.0
            strict = r.pattern | (not closed)
            if np.isfinite(r.margin):
                assert np.all((sig * (Xt @ r.w))[strict] >= r.margin - 1e-9)
            if not closed:                          # a box of points around the witness
                assert np.array_equal(node_pattern(X, r.w, biases=biases), r.pattern)
                rad = 0.99 * r.margin / np.abs(Xt).sum(axis=1).max()
                pts = r.w + rad * rng.uniform(-1, 1, (200, d))
                assert np.all(node_pattern(X, pts, biases=biases) == r.pattern)
            else:
                assert np.all((Xt @ r.w)[~r.pattern] <= 1e-9)
        else:
            assert r.margin <= TOL and r.certificate is not None
            y = r.certificate
            strict = r.pattern | (not closed)
            assert np.all(y >= 0) and abs(y[strict].sum() - 1) < 1e-9
            assert r.certificate_residual < 1e-9
            assert np.max(np.abs((sig * y) @ Xt)) < 1e-9
            if not closed:
                assert tuple(map(bool, s)) not in samples   # no sample hits it
    if not closed:                                  # exact: witnesses + exact count
        assert len(nonempty) == count_regions(X, biases=biases)
    assert samples <= {tuple(map(bool, s)) for s in nonempty} or closed


def test_sampled_patterns_are_lp_nonempty():
    X = _random(9, 8, 2)
    for s in sample_patterns(X, 4, n_samples=5000):
        assert node_margin(X, s).nonempty


def test_count_regions_exact_inputs():
    Xq = [[Fraction(1, 3), Fraction(1, 7)], [Fraction(2, 3), Fraction(2, 7)], [1, 0]]
    assert count_regions(Xq, biases=False) == 4            # two distinct lines
    assert count_regions(Xq, biases=True) == cover_count(3, 3)
    assert count_regions([[0.1, 0.2], [0.2, 0.4]], biases=False) == 2
    for seed in range(3):
        X = _random(seed, 6, 2)
        for biases in (True, False):
            assert count_regions(X, biases=biases) == _naive_count(X, biases)


# ------------------------------------------------------------------ network regions
def test_region_margin_and_network_patterns():
    X = FIG1
    obj = relu_objective(X, [1.0, 2.0, 3.0], 2, biases=True)
    A = np.array([[1, 0], [0, 1], [1, 1]])
    r = region_margin(obj, A)
    assert r.nonempty and r.margin > 0.1
    assert np.array_equal(pattern(obj, r.theta), A.astype(bool))
    assert r.margin == min(nd.margin for nd in r.nodes)
    obj0 = relu_objective(X, [1.0, 2.0, 3.0], 2, biases=False)
    bad = np.array([[1, 0], [1, 0], [0, 0]])                # column 110: empty
    r0 = region_margin(obj0, bad)
    assert not r0.nonempty and r0.theta is None and not r0.nodes[0].nonempty
    pats = list(network_patterns(obj0))
    assert len(pats) == 6 ** 2 and len({p.tobytes() for p in pats}) == 36
    for A in pats[::5]:
        rr = region_margin(obj0, A)
        assert rr.nonempty and np.array_equal(pattern(obj0, rr.theta), A)
    closed = list(network_patterns(obj0, closed=True))
    assert len(closed) == 36


# ------------------------------------------------------------------ figures
def test_figures_show_the_lp_patterns():
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 3)
    assert np.array_equal(plot_node_slice(axs[0], FIG1), node_patterns(FIG1, biases=False))
    X0 = np.vstack([FIG1, [0.0, 0.0]])                      # a_0 = 1(b > 0)
    Q = node_patterns(X0)
    assert np.array_equal(plot_node_slice(axs[1], FIG1, b=1.0, lim=2.0), Q[Q[:, 3], :3])
    assert np.array_equal(plot_node_slice(axs[2], FIG1, b=-1.0, lim=2.0), Q[~Q[:, 3], :3])
    plt.close(fig)
    fig = plt.figure()
    s = draw_node_point(fig, FIG1, [0.3, -1.0], b=0.5)
    assert np.array_equal(s, node_pattern(FIG1, [0.3, -1.0, 0.5]))
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="X"):
        plot_node_slice(fig.axes[0], np.ones((3, 3)))
    with pytest.raises(ValueError, match="w"):
        draw_node_point(fig, FIG1, [1.0, 2.0, 3.0])
    plt.close(fig)


# ------------------------------------------------------------------ validation
def test_input_validation():
    with pytest.raises(ValueError, match="X"):
        node_patterns(np.ones(3))
    with pytest.raises(ValueError, match="X"):
        node_patterns([[np.nan, 1.0]])
    with pytest.raises(TypeError, match="X"):
        count_regions("abc")
    with pytest.raises(ValueError, match="s"):
        node_margin(FIG1, [1, 0])
    with pytest.raises(ValueError, match="s"):
        node_margin(FIG1, [1, 0, 2])
    with pytest.raises(TypeError, match="s"):
        node_margin(FIG1, "101")
    with pytest.raises(TypeError, match="biases"):
        node_margin(FIG1, [1, 0, 1], biases=1)
    with pytest.raises(TypeError, match="closed"):
        node_margin(FIG1, [1, 0, 1], closed="no")
    with pytest.raises(ValueError, match="tol"):
        node_margin(FIG1, [1, 0, 1], tol=-1.0)
    with pytest.raises(ValueError, match="method"):
        node_patterns(FIG1, method="fast")
    with pytest.raises(ValueError, match="X.*brute"):
        node_patterns(_random(0, BRUTE_MAX_POINTS + 1, 2), method="brute")
    with pytest.raises(ValueError, match="X.*max_subsets"):
        count_regions(_random(0, 40, 5), max_subsets=1000)
    with pytest.raises(ValueError, match="N"):
        cover_count(0, 2)
    with pytest.raises(TypeError, match="d"):
        cover_count(3, 2.0)
    with pytest.raises(ValueError, match="w"):
        node_pattern(FIG1, [1.0, 2.0])
    obj = relu_objective(FIG1, [1.0, 2.0, 3.0], 2)
    with pytest.raises(ValueError, match="A"):
        region_margin(obj, np.ones((3, 3)))
    with pytest.raises(TypeError, match="objective"):
        region_margin(FIG1, np.ones((3, 2)))
    with pytest.raises(TypeError, match="objective"):
        next(network_patterns(FIG1))
