"""Activation regions of one hidden layer (002, Definition 2.1, Fig. 1).

Node j of 002's network (eq. (1)) sees the data through its pre-activations
w_jᵀx_i + b_j = x~_iᵀ w~_j, with x~_i = (x_i, 1) and w~_j = (w_j, b_j) when
the network has biases (x~_i = x_i, w~_j = w_j without). Its activation
values a_ij = 1(x~_iᵀ w~_j > 0) (Definition 2.1) depend only on which side
of the N hyperplanes {w~ : x~_iᵀ w~ = 0} the point w~_j lies: the hyperplane
arrangement of the lifted data, central (every hyperplane passes through 0).
A network region R_A is a product over the h nodes of such one-node regions,
so the nonempty network patterns are the products of the nonempty node
patterns (K^h of them against 2^(N h) candidates).

Two readings of "the region of a pattern s ∈ {0, 1}^N" of one node:

* the **open** region (``closed=False``, the default): σ_i x~_iᵀ w~ > 0 for
  all i, σ_i = +1 if s_i = 1 and −1 if s_i = 0. A region of the arrangement
  (full-dimensional, an open polyhedral cone); f is differentiable on it;
* **Definition 2.1's set** (``closed=True``): x~_iᵀ w~ > 0 where s_i = 1 and
  x~_iᵀ w~ <= 0 where s_i = 0. These sets partition parameter space.

With biases both readings give the same patterns (lower b a little: the
zeros become strict). Without biases they can differ when the points whose
constraint is tight have a vanishing nonnegative combination: a point
x_i = 0 (no open region at all; Def. 2.1 forces a_i = 0), antiparallel
points x_k = −λ x_i (Def. 2.1 adds "both 0" on the line w ⊥ x_i), or points
whose cone is not pointed (w = 0 gives the all-zero pattern).

Nonemptiness is a linear program (scipy.optimize.linprog, HiGHS): maximise
t subject to σ_i x~_iᵀ w~ >= t over the strict constraints (and
x~_iᵀ w~ <= 0 for the zeros when ``closed``), with the box |w~|_inf <= 1
that bounds it. w~ = 0 gives t = 0, so t* >= 0 and the region is nonempty
iff t* > 0; it is reported nonempty when t* > ``tol`` (default
:data:`TOL` = 1e-8, absolute, with HiGHS's feasibility tolerances set to
1e-10). The optimal w~ is returned as a witness; for an empty region a
Gordan/Motzkin certificate y >= 0 with Σ_i y_i σ_i x~_i = 0 is returned.

:func:`node_patterns` enumerates the nonempty patterns by brute force
(2^N LPs) or incrementally over the arrangement (add the hyperplanes one at
a time and split each current cell: one LP per cell and step, the parent's
witness decides one side). :func:`count_regions` counts the regions without
enumerating (Whitney/Zaslavsky: r = Σ_S (−1)^(|S| − rank S), exact ranks
over the rationals) and :func:`cover_count` is Cover's count for general
position. :func:`plot_node_slice` and :func:`draw_node_point` draw the
regions of one node on 2-d data (Fig. 1 of 002, chapter R1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from numbers import Integral, Rational

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from .._validation import (as_float_array, check_bool, check_choice, check_int, check_objective,
                           check_real, check_rng, check_vector)
from .model import check_pattern, from_paper, pattern

__all__ = ["TOL", "BRUTE_MAX_POINTS", "lifted", "node_pattern", "NodeRegion", "node_margin",
           "RegionLP", "region_margin", "node_patterns", "network_patterns", "count_regions",
           "cover_count", "sample_patterns", "plot_node_slice", "draw_node_point"]

TOL = 1e-8
"""Default decision threshold on the LP margin t (|w~|_inf <= 1)."""

BRUTE_MAX_POINTS = 16
"""Largest N that ``node_patterns(..., method="brute")`` accepts (2^N LPs)."""

_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def _check_X(X, name: str = "X") -> np.ndarray:
    X = as_float_array(X, name, ndim=2)
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, n) with N, n >= 1, got {X.shape}")
    return X


def lifted(X, *, biases: bool = True) -> np.ndarray:
    """The lifted data x~_i = (x_i, 1) with biases, x_i without; shape (N, n + biases).

    A node's pre-activation is w_jᵀx_i + b_j = x~_iᵀ w~_j (002, eq. (1)).
    """
    X = _check_X(X)
    biases = check_bool(biases, "biases")
    return np.hstack([X, np.ones((X.shape[0], 1))]) if biases else X.copy()


def node_pattern(X, w, *, biases: bool = True) -> np.ndarray:
    """The activation values 1(x~_iᵀ w~ > 0) of one node (002, Definition 2.1).

    ``w`` is w~ = (w, b) with biases (length n + 1), w without (length n),
    or an (M, ·) array of such points; returns (N,) or (M, N) bool.
    """
    Xt = lifted(X, biases=biases)
    w = as_float_array(w, "w")
    if w.ndim not in (1, 2) or w.shape[-1] != Xt.shape[1]:
        raise ValueError(f"w must have shape ({Xt.shape[1]},) or (M, {Xt.shape[1]}) "
                         f"(w{', b' if biases else ''}), got {w.shape}")
    return (w @ Xt.T) > 0.0


def _check_s(s, N: int) -> np.ndarray:
    if isinstance(s, (str, bytes)):
        raise TypeError(f"s must be a 0/1 array of length {N}, got {s!r}")
    arr = np.asarray(s)
    if arr.dtype == object or not (arr.dtype == bool or np.issubdtype(arr.dtype, np.number)):
        raise TypeError(f"s must be a 0/1 array of length {N}, got dtype {arr.dtype}")
    if arr.shape != (N,):
        raise ValueError(f"s must have shape ({N},) (one value per data point), got {arr.shape}")
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise ValueError("s must contain only 0 and 1 (activation values)")
    return arr.astype(bool)


@dataclass(frozen=True)
class NodeRegion:
    """LP verdict on one node's region of pattern ``s`` (002, Definition 2.1).

    ``margin`` is the LP optimum t* (``inf`` when there is no strict
    constraint: ``closed`` and s = 0, where w~ = 0 is a witness);
    ``nonempty`` is t* > ``tol``. ``w`` is the optimal w~ (|w~|_inf <= 1),
    a witness when nonempty; ``witness_margin`` is min_i σ_i x~_iᵀ w~ over
    the strict constraints, evaluated in floats. For an empty region,
    ``certificate`` is y >= 0 (N,) with Σ_strict y_i = 1 and
    Σ_i y_i σ_i x~_i = 0 up to ``certificate_residual`` (Gordan's, or with
    ``closed`` Motzkin's, theorem of the alternative), else None.
    """

    pattern: np.ndarray
    nonempty: bool
    margin: float
    w: np.ndarray
    witness_margin: float
    tol: float
    closed: bool
    biases: bool
    certificate: np.ndarray | None = None
    certificate_residual: float | None = None

    def __str__(self) -> str:
        s = "".join("1" if a else "0" for a in self.pattern)
        return (f"pattern {s}: nonempty {self.nonempty}, margin {self.margin:.4g} "
                f"(tol {self.tol:g}, closed {self.closed})")


def _signs(s):
    return np.where(s, 1.0, -1.0)


def _lp(Xt, s, closed):
    """max t s.t. σ_i x~_iᵀw >= t (strict), x~_iᵀw <= 0 (zeros if closed), |w|_inf <= 1."""
    N, d = Xt.shape
    sig = _signs(s)
    strict = s | (not closed)
    rows = -(sig[:, None] * Xt)                    # -σ_i x~_i w + [strict] t <= 0
    A = np.hstack([rows, strict[:, None].astype(float)])
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=A, b_ub=np.zeros(N),
                  bounds=[(-1.0, 1.0)] * d + [(None, None)], method="highs", options=_HIGHS)
    if res.status != 0:                            # bounded and feasible (w = 0, t = 0)
        raise RuntimeError(f"linprog failed on a bounded feasible LP: {res.message}")
    return float(-res.fun), np.clip(res.x[:d], -1.0, 1.0), strict


def _certificate(Xt, s, strict):
    """y >= 0 with Σ y_i σ_i x~_i = 0 and Σ_strict y_i = 1, or None."""
    N, d = Xt.shape
    M = (_signs(s)[:, None] * Xt).T                # (d, N)
    A_eq = np.vstack([M, strict.astype(float)[None, :]])
    res = linprog(np.zeros(N), A_eq=A_eq, b_eq=np.r_[np.zeros(d), 1.0],
                  bounds=[(0, None)] * N, method="highs", options=_HIGHS)
    if res.status != 0:
        return None, None
    y = np.maximum(res.x, 0.0)
    return y, float(np.max(np.abs(M @ y))) if d else 0.0


def _node(Xt, s, closed, tol, biases, certify=True):
    if closed and not s.any():                     # w~ = 0 satisfies every x~w <= 0
        d = Xt.shape[1]
        return NodeRegion(s, True, math.inf, np.zeros(d), math.inf, tol, closed, biases)
    t, w, strict = _lp(Xt, s, closed)
    vals = _signs(s) * (Xt @ w)
    wm = float(vals[strict].min())
    nonempty = t > tol
    cert = res = None
    if not nonempty and certify:
        cert, res = _certificate(Xt, s, strict)
    return NodeRegion(s, bool(nonempty), t, w, wm, tol, closed, biases, cert, res)


def node_margin(X, s, *, biases: bool = True, closed: bool = False, tol: float = TOL) -> NodeRegion:
    """Is one node's activation region of pattern ``s`` nonempty? (002, Def. 2.1, Fig. 1).

    LP: maximise t s.t. x~_iᵀw~ >= t (s_i = 1), x~_iᵀw~ <= −t (s_i = 0; <= 0
    with ``closed=True``, Definition 2.1's set), |w~|_inf <= 1. Nonempty iff
    t* > ``tol``. ``X`` (N, n); ``s`` (N,) 0/1. See the module docstring for
    open vs closed. Returns a :class:`NodeRegion`.
    """
    Xt = lifted(X, biases=biases)
    s = _check_s(s, Xt.shape[0])
    closed = check_bool(closed, "closed")
    tol = check_real(tol, "tol", positive=True)
    return _node(Xt, s, closed, tol, bool(biases))


@dataclass(frozen=True)
class RegionLP:
    """LP verdict on the network region R_A (002, Definition 2.1): one LP per node.

    ``margin`` is the smallest node margin, ``nonempty`` that all nodes are
    nonempty, ``theta`` a witness θ (w~_j from the node LPs, v = 1, c = 0)
    when nonempty, else None; ``nodes`` the :class:`NodeRegion` of each node.
    """

    pattern: np.ndarray
    nonempty: bool
    margin: float
    theta: np.ndarray | None
    nodes: tuple
    tol: float
    closed: bool


def region_margin(objective, A, *, closed: bool = False, tol: float = TOL) -> RegionLP:
    """Is the activation region R_A of the network nonempty? (002, Definition 2.1).

    ``objective`` from :func:`lossland.relu_regions.model.relu_objective`,
    ``A`` (N, h) 0/1. R_A is the product of the node regions of the columns
    of A, so it is nonempty iff every :func:`node_margin` is. With
    ``closed=False`` the witness θ lies in the open region and
    ``pattern(objective, theta) == A``.
    """
    A = check_pattern(objective, A)
    closed = check_bool(closed, "closed")
    tol = check_real(tol, "tol", positive=True)
    net = objective.net
    Xt = lifted(objective.X, biases=net.biases)
    nodes = tuple(_node(Xt, A[:, j], closed, tol, net.biases) for j in range(A.shape[1]))
    nonempty = all(nd.nonempty for nd in nodes)
    margin = min(nd.margin for nd in nodes)
    theta = None
    if nonempty:
        Wt = np.array([nd.w for nd in nodes])
        n = objective.X.shape[1]
        b = Wt[:, n] if net.biases else None
        theta = from_paper(net, Wt[:, :n], np.ones(A.shape[1]), b, 0.0 if net.biases else None)
        if not closed and not np.array_equal(pattern(objective, theta), A):
            raise RuntimeError("the LP witness does not have the pattern A: raise tol")
    return RegionLP(A, bool(nonempty), float(margin), theta, nodes, tol, closed)


def _sorted_rows(rows, N) -> np.ndarray:
    if not rows:
        return np.zeros((0, N), dtype=bool)
    return np.array(sorted(tuple(map(bool, r)) for r in rows), dtype=bool).reshape(-1, N)


def _batch(Xt, S, closed, tol):
    """(nonempty, margins, witnesses) of the K patterns S (K, m) on Xt[:m], in ONE LP.

    The K node LPs share no variable, so the block-diagonal LP maximising
    Σ_c t_c is solved by solving each block: every block of an optimal
    solution is optimal for its own LP (else raise its t_c).
    """
    K, m = S.shape
    d = Xt.shape[1]
    sig = np.where(S, 1.0, -1.0)                              # (K, m)
    strict = S | (not closed)
    blocks = np.concatenate([-(sig[:, :, None] * Xt[None, :m, :]),
                             strict[:, :, None].astype(float)], axis=2)   # (K, m, d+1)
    rows = np.broadcast_to(np.arange(K * m).reshape(K, m, 1), blocks.shape)
    cols = np.broadcast_to((np.arange(K) * (d + 1))[:, None, None] + np.arange(d + 1), blocks.shape)
    A = coo_matrix((blocks.ravel(), (rows.ravel(), cols.ravel())), shape=(K * m, K * (d + 1)))
    c = np.tile(np.r_[np.zeros(d), -1.0], K)
    free = ~strict.any(axis=1)                                # closed, s = 0: t unbounded
    ub = np.where(free, 1.0, np.inf)                          # cap it (w = 0 is a witness)
    bounds = [(-1.0, 1.0)] * d
    bnds = [b for u in ub for b in bounds + [(None, None if np.isinf(u) else u)]]
    res = linprog(c, A_ub=A.tocsr(), b_ub=np.zeros(K * m), bounds=bnds, method="highs",
                  options=_HIGHS)
    if res.status != 0:
        raise RuntimeError(f"linprog failed on a bounded feasible LP: {res.message}")
    x = res.x.reshape(K, d + 1)
    t = np.where(free, math.inf, x[:, d])
    return t > tol, t, np.clip(x[:, :d], -1.0, 1.0)


def node_patterns(X, *, biases: bool = True, method: str = "incremental", closed: bool = False,
                  tol: float = TOL) -> np.ndarray:
    """The nonempty activation patterns of one node, (K, N) bool, sorted (002, Def. 2.1, Fig. 1).

    ``method="brute"``: the LP of :func:`node_margin` for every
    s ∈ {0, 1}^N (N <= :data:`BRUTE_MAX_POINTS`). ``method="incremental"``:
    add the hyperplanes x~_i one at a time; a cell s of the first i
    hyperplanes splits into s + [1] and s + [0]; the parent's witness
    decides the side it lies on (when |x~_iᵀw~| > tol) and an LP decides
    the other. A pattern is realisable only if its prefixes are, so nothing
    is missed. The LPs of one step (or of 1024 brute-force patterns) are
    solved as one block-diagonal LP, whose blocks are the separate LPs.
    Both methods give K = :func:`count_regions` (X) for the open regions.
    """
    Xt = lifted(X, biases=biases)
    method = check_choice(method, "method", ["incremental", "brute"])
    closed = check_bool(closed, "closed")
    tol = check_real(tol, "tol", positive=True)
    N, d = Xt.shape
    if method == "brute":
        if N > BRUTE_MAX_POINTS:
            raise ValueError(f"X has N = {N} points: method='brute' solves 2^N LPs and accepts "
                             f"N <= {BRUTE_MAX_POINTS}; use method='incremental'")
        allS = np.array(list(product((False, True), repeat=N)), dtype=bool)
        keep = np.concatenate([_batch(Xt, allS[k:k + 1024], closed, tol)[0]
                               for k in range(0, len(allS), 1024)])
        return _sorted_rows(list(allS[keep]), N)
    S = np.zeros((1, 0), dtype=bool)                          # no hyperplane yet: one cell
    Wit = np.zeros((1, d))
    for i in range(N):
        val = Wit @ Xt[i]
        known = np.where(val > tol, 1, np.where(val < -tol, 0, -1))   # side of the witness
        kids = [np.c_[S, np.ones(len(S), bool)], np.c_[S, np.zeros(len(S), bool)]]
        todo = np.r_[np.flatnonzero(known != 1), len(S) + np.flatnonzero(known != 0)]
        allk, allw = np.vstack(kids), np.vstack([Wit, Wit])
        ok = np.r_[known == 1, known == 0]
        if todo.size:
            ne, _, w = _batch(Xt, allk[todo], closed, tol)
            ok[todo], allw[todo] = ne, w
        S, Wit = allk[ok], allw[ok]
    return _sorted_rows(list(S), N)


def network_patterns(objective, *, closed: bool = False, tol: float = TOL):
    """Iterator over the nonempty network patterns A (N, h) of ``objective`` (002, Def. 2.1).

    R_A is a product of node regions, so the nonempty A are the h-fold
    products of :func:`node_patterns` (same data for every node): K^h of
    the 2^(N h) candidates.
    """
    objective = check_objective(objective)
    check_pattern(objective, np.zeros((objective.n_samples, objective.net.widths[1]), bool))
    K = node_patterns(objective.X, biases=objective.net.biases, closed=closed, tol=tol)
    h = objective.net.widths[1]
    for cols in product(range(K.shape[0]), repeat=h):
        yield K[list(cols)].T.copy()


def _exact_rows(X, biases):
    """The lifted data as tuples of Fractions: exact for ints, Fractions and floats."""
    _check_X(X)
    raw = np.asarray(X, dtype=object)
    rows = []
    for r in raw:
        row = [Fraction(int(v)) if isinstance(v, (Integral, np.integer)) else
               Fraction(v) if isinstance(v, Rational) else Fraction(float(v)) for v in r]
        rows.append(row + [Fraction(1)] if biases else row)
    return rows


def _reduce(v, basis):
    """v minus its components along an echelon basis [(pivot, row with row[pivot] = 1)]."""
    for p, r in basis:
        if v[p]:
            c = v[p]
            v = [a - c * b for a, b in zip(v, r)]
    return v


def count_regions(X, *, biases: bool = True, max_subsets: int = 10**6) -> int:
    """The number of regions of the central arrangement {x~_iᵀw~ = 0} (Whitney, Zaslavsky).

    r = Σ_{S ⊆ {1..N}} (−1)^(|S| − rank S), ranks exact over the rationals
    (floats are read as the binary fractions they are). The sum is done
    depth-first over S in increasing index order; a branch whose remaining
    vectors include one in span(S) sums to 0 (pair T with T ∪ {j}) and is
    cut, so only the independent sets of size <= d are visited (broken-
    circuit form). Counts the open regions = nonempty open node patterns
    (002, Fig. 1); a point x~_i = 0 makes it 0. ValueError when the bound
    Σ_{k<=d} C(N, k) on the visited sets exceeds ``max_subsets``.
    """
    biases = check_bool(biases, "biases")
    max_subsets = check_int(max_subsets, "max_subsets", 1)
    rows = _exact_rows(X, biases)
    N, d = len(rows), len(rows[0])
    bound = sum(math.comb(N, k) for k in range(d + 1))
    if bound > max_subsets:
        raise ValueError(f"X: N = {N} points in dimension d = {d} may need {bound} exact rank "
                         f"updates, more than max_subsets = {max_subsets}")

    def go(basis, rest):
        # rest: [(index, reduced vector)] of the candidates after max(S)
        if any(not any(v) for _, v in rest):
            return 0                                   # some candidate lies in span(S)
        total = 1                                      # S itself: |S| = rank S
        for k, (j, v) in enumerate(rest):
            p = next(c for c, a in enumerate(v) if a)
            row = [a / v[p] for a in v]
            nb = basis + [(p, row)]
            total += go(nb, [(m, _reduce(u, [(p, row)])) for m, u in rest[k + 1:]])
        return total

    return go([], [(j, list(r)) for j, r in enumerate(rows)])


def cover_count(N: int, d: int) -> int:
    """Cover's count 2 Σ_{k<d} C(N−1, k): N central hyperplanes in general position in R^d.

    General position: every min(N, d) of the normals x~_i are linearly
    independent (with biases, d = n + 1: points in general position, e.g.
    no three collinear in the plane). Equals :func:`count_regions` then.
    """
    N = check_int(N, "N", 1)
    d = check_int(d, "d", 1)
    return 2 * sum(math.comb(N - 1, k) for k in range(d))


def sample_patterns(X, rng, *, biases: bool = True, n_samples: int = 20000) -> np.ndarray:
    """The distinct node patterns 1(x~_iᵀw~ > 0) of Gaussian samples w~, (K, N) bool, sorted.

    An independent check of :func:`node_patterns`: every sampled pattern is
    realised (the sample is a witness), and a sample lies on a hyperplane
    with probability 0 unless x~_i = 0. ``rng`` a Generator or a seed.
    """
    rng = check_rng(rng)
    n_samples = check_int(n_samples, "n_samples", 1)
    Xt = lifted(X, biases=biases)
    P = rng.standard_normal((n_samples, Xt.shape[1])) @ Xt.T > 0.0
    return _sorted_rows(list({tuple(r) for r in P}), Xt.shape[0])


# ------------------------------------------------------------------ figures
def _code(P) -> np.ndarray:
    """An integer per pattern (binary, x_1 the leading bit): the same colour everywhere."""
    P = np.asarray(P, dtype=int)
    return P @ (1 << np.arange(P.shape[-1])[::-1])


def _label(s) -> str:
    return "".join("1" if a else "0" for a in s)


def plot_node_slice(ax, X, *, b=None, lim: float = 2.5, resolution: int = 241,
                    labels: bool = True, fontsize: float = 9) -> np.ndarray:
    """Draw one node's activation regions in its (w_1, w_2) plane (002, Fig. 1).

    ``X`` (N, 2). ``b=None``: the node has no bias, the lines x_iᵀw = 0
    pass through 0; a number b: the slice b = const of the (w_1, w_2, b)
    space, lines x_iᵀw + b = 0. Each region is coloured by its pattern
    (the same colour for the same pattern in every panel) and labelled
    a_1...a_N at its grid centroid. Returns the patterns seen on the grid
    (K, N) bool, sorted.
    """
    import matplotlib.pyplot as plt

    X = _check_X(X)
    if X.shape[1] != 2:
        raise ValueError(f"X must have n = 2 columns to draw the w-plane, got {X.shape}")
    lim = check_real(lim, "lim", positive=True)
    resolution = check_int(resolution, "resolution", 11)
    bias = None if b is None else check_real(b, "b")
    g = np.linspace(-lim, lim, resolution)
    W1, W2 = np.meshgrid(g, g)
    pts = np.c_[W1.ravel(), W2.ravel()]
    if bias is not None:
        pts = np.c_[pts, np.full(len(pts), bias)]
    P = node_pattern(X, pts, biases=bias is not None)
    code = _code(P).reshape(W1.shape)
    cmap = plt.get_cmap("tab20")
    colours = np.array([cmap(k % 20) for k in range(int(code.max()) + 1)])
    ax.imshow(colours[code], origin="lower", extent=(-lim, lim, -lim, lim), alpha=0.55,
              interpolation="nearest", aspect="equal")
    off = 0.0 if bias is None else bias
    for i, x in enumerate(X):                      # x_1 w_1 + x_2 w_2 + b = 0
        if abs(x[1]) >= abs(x[0]):
            ax.plot(g, (-off - x[0] * g) / x[1], color="k", lw=1.0)
        elif x[0] != 0:
            ax.plot((-off - x[1] * g) / x[0], g, color="k", lw=1.0)
    seen = _sorted_rows(list({tuple(r) for r in P}), X.shape[0])
    if labels:
        for s in seen:
            m = np.all(P == s, axis=1)
            cx, cy = pts[m, 0].mean(), pts[m, 1].mean()
            ax.text(cx, cy, _label(s), ha="center", va="center", fontsize=fontsize,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.grid(False)
    return seen


def draw_node_point(fig, X, w, *, b=None, lim: float = 2.5) -> np.ndarray:
    """Two panels for one node at w = (w_1, w_2) (and bias b): its pattern (002, Def. 2.1).

    Left: the node's regions (:func:`plot_node_slice`) and the point w.
    Right: the data x_i, filled where the node is active (a_i = 1), and the
    line wᵀx + b = 0 with the active side shaded. Returns the pattern (N,).
    """
    X = _check_X(X)
    w = _check_w2(w)
    bias = None if b is None else check_real(b, "b")
    wt = w if bias is None else np.r_[w, bias]
    s = node_pattern(X, wt, biases=bias is not None)
    ax1, ax2 = fig.subplots(1, 2)
    plot_node_slice(ax1, X, b=bias, lim=lim)
    ax1.plot(*w, "o", ms=8, mfc="k", mec="white", mew=1.5)
    ax1.set_title(f"parameter w: pattern {_label(s)}", fontsize=10)
    R = 1.2 * np.abs(X).max() + 0.5
    g = np.linspace(-R, R, 161)
    G1, G2 = np.meshgrid(g, g)
    act = (w[0] * G1 + w[1] * G2 + (bias or 0.0)) > 0
    shade = np.where(act[..., None], [0.99, 0.83, 0.62, 1.0], [1.0, 1.0, 1.0, 0.0])
    ax2.imshow(shade, origin="lower", extent=(-R, R, -R, R), interpolation="nearest")
    if abs(w[1]) >= abs(w[0]) and w[1] != 0:               # the line w.x + b = 0
        ax2.plot(g, (-(bias or 0.0) - w[0] * g) / w[1], color="k", lw=1.0)
    elif w[0] != 0:
        ax2.plot((-(bias or 0.0) - w[1] * g) / w[0], g, color="k", lw=1.0)
    for i, (x, a) in enumerate(zip(X, s)):
        ax2.plot(*x, "o", ms=9, mfc="#d7301f" if a else "white", mec="#d7301f", mew=1.5)
        ax2.annotate(f"$x_{i + 1}$", x, xytext=(6, 4), textcoords="offset points", fontsize=10)
    ax2.set_xlim(-R, R)
    ax2.set_ylim(-R, R)
    ax2.set_aspect("equal")
    ax2.set_title("data: filled = active", fontsize=10)
    ax2.set_xlabel("input 1")
    ax2.set_ylabel("input 2")
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.15, top=0.84, wspace=0.3)
    return s


def _check_w2(w) -> np.ndarray:
    """``w`` as a length-2 float vector (the (w_1, w_2) of a node on 2-d data)."""
    return check_vector(w, "w", 2)
