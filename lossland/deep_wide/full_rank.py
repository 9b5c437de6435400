"""Lemmas 4.1-4.4 and Corollary 4.5 of 003: weights that make [F_k, 1] full rank (chapter N8).

Lemma 4.3 of 003 (Nguyen and Hein 2017) builds, for a layer k with
n_k >= N - 1 whose input Z = F_{k-1} has distinct rows, weights with
rank [F_k, 1_N] = N:

* a direction a with distinct projections, sorted after renumbering the
  samples, <a, z_1> < ... < <a, z_N> (:func:`projection_direction`; the bad
  directions lie on N(N-1)/2 hyperplanes, eq. (2), so a random one works);
* for the first N - 1 units w_j = -alpha a, v_j = alpha z_j^T a + beta
  (:func:`lemma43_weights`, :func:`lemma43_parameters`), so that
  A(alpha)_ij = sigma(alpha (z_j - z_i)^T a + beta) (:func:`A_matrix`);
* bounded sigma (limits mu < gamma at -inf, +inf): E(alpha) = [1_N, A(alpha)]
  tends to the matrix of the proof's case table (:func:`limit_E`), whose row
  differences (eq. (3), :func:`row_differenced`) are upper triangular, so
  det E(alpha) -> (mu - sigma(beta))^(N-1) (:func:`det_limit_symbolic`);
* sigma with Assumption 3.2(b) (softplus): E(alpha) = [A(alpha), 1_N]; by the
  Leibniz formula every term but the identity's has a factor
  sigma(alpha delta + beta) with delta < 0, and
  det E(alpha) -> sigma(beta)^(N-1) (:func:`leibniz_split`), each other term
  being at most R (P alpha + Q)^S e^(-alpha T) (:func:`proof_constants`).

Lemma 4.4 / Corollary 4.5 (the low-rank set has measure zero) are
illustrated by :func:`feature_det` and :func:`feature_det_slice` (det [F_k, 1]
on a 2-d slice of parameters) and the deep linear counterexample by
:func:`linear_rank_report` (003, Section 4, before Lemma 4.3:
rank F_k <= rank W_l + k - l + 1).

Conventions
-----------
Weights are returned in **lossland's orientation**: ``W`` has shape
``(N - 1, n_{k-1})``, row j is unit j's incoming weight vector w_j^T; 003's
W_k (n_{k-1} x n_k, columns w_j) is its transpose. Unit j (0-based) is
attached to the sample with the (j+1)-th smallest projection, so the sample
with the largest projection gets no unit. :func:`A_matrix` and
:func:`E_matrix` list rows (samples) in that sorted order, as the proof does
"after reordering"; a network's F_k lists them in sample order
(``direction.order`` maps one to the other). Indices in docstrings are 003's
(1-based); code is 0-based.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import permutations

import mpmath
import numpy as np
import sympy as sp

from .._validation import (as_float_array, check_choice, check_dps, check_int, check_objective,
                           check_real, check_rng, check_vector)
from ..activations import Activation, get_activation
from .rank_conditions import feature_matrix, numerical_rank

__all__ = [
    "ProjectionDirection", "projection_direction", "lemma43_weights", "lemma43_parameters",
    "LAYOUTS", "default_layout", "A_matrix", "E_matrix", "row_differenced",
    "MU", "GAMMA", "S_BETA", "entry_limits", "limit_A", "limit_E", "printed_limits",
    "det_limit_symbolic", "LeibnizSplit", "leibniz_split", "det_limit", "DetCurve", "det_curve",
    "softplus_rhos", "ProofConstants", "proof_constants",
    "feature_det", "feature_det_slice", "sampled_feature_ranks", "lemma41_structure",
    "linear_rank_report", "draw_lemma43",
]

LAYOUTS = ("ones_first", "ones_last")
"""Where E(alpha) has its column of ones: 003's bounded case [1_N, A], unbounded case [A, 1_N]."""

MU, GAMMA, S_BETA = sp.symbols("mu gamma s", real=True)
"""Generic limits: mu = sigma(-inf), gamma = sigma(+inf), s = sigma(beta) (003, proof of Lemma 4.3)."""


# ===================================================================== inputs
def _as_Z(Z, name="Z") -> np.ndarray:
    Z = as_float_array(Z, name, ndim=2)
    N = Z.shape[0]
    if N < 2 or Z.shape[1] < 1:
        raise ValueError(f"{name} must have at least 2 rows and 1 column, got shape {Z.shape}")
    diff = np.abs(Z[:, None, :] - Z[None, :, :]).max(axis=2)
    diff[np.diag_indices(N)] = np.inf
    i, j = np.unravel_index(np.argmin(diff), diff.shape)
    if diff[i, j] == 0:
        raise ValueError(f"{name} has identical rows {min(i, j)} and {max(i, j)}: Lemma 4.3 of 003 "
                         "needs F_(k-1) with distinct rows")
    return Z


def _as_activation(activation) -> Activation:
    if not isinstance(activation, (str, Activation)):
        raise TypeError(f"activation must be a name or an Activation, got {type(activation).__name__}")
    return get_activation(activation)


def _layout(layout, act: Activation) -> str:
    if layout is None:
        return default_layout(act)
    return check_choice(layout, "layout", LAYOUTS)


# ================================================================ direction a
@dataclass(frozen=True)
class ProjectionDirection:
    """A direction a with distinct projections <a, z_i> (003, proof of Lemma 4.3, eq. (2)).

    ``projections[i] = <a, z_i>`` in sample order; ``order`` sorts them
    (``projections[order]`` is increasing: the proof's renumbering);
    ``gaps`` are the differences of consecutive sorted projections,
    ``min_gap`` the smallest (the rate of Lemma 4.3's limits), ``spread``
    the largest minus the smallest projection.
    """

    a: np.ndarray
    projections: np.ndarray
    order: np.ndarray

    @property
    def sorted(self) -> np.ndarray:
        return self.projections[self.order]

    @property
    def gaps(self) -> np.ndarray:
        return np.diff(self.sorted)

    @property
    def min_gap(self) -> float:
        return float(self.gaps.min())

    @property
    def spread(self) -> float:
        return float(self.sorted[-1] - self.sorted[0])


def projection_direction(Z, a=None, *, rng=0, rtol: float = 1e-9, max_tries: int = 100
                         ) -> ProjectionDirection:
    """A vector a with <a, z_i> != <a, z_j> for i != j (003, proof of Lemma 4.3, eq. (2)).

    The directions that fail lie on the union of the N(N-1)/2 hyperplanes
    <z_i - z_j, a> = 0, a set of measure zero, so the proof's choice is any
    other vector: here a unit vector drawn from ``rng`` (a seed or a
    Generator), redrawn if two projections are closer than ``rtol`` times
    their spread. A given ``a`` is checked instead (``ValueError`` if two
    projections coincide to that tolerance). ``Z`` (N, n) must have
    distinct rows.
    """
    Z = _as_Z(Z)
    rtol = check_real(rtol, "rtol", positive=True)
    max_tries = check_int(max_tries, "max_tries", low=1)

    def make(vec):
        p = Z @ vec
        order = np.argsort(p, kind="stable")
        d = ProjectionDirection(vec, p, order)
        ok = d.spread > 0 and d.min_gap > rtol * d.spread
        return d, ok

    if a is not None:
        a = check_vector(a, "a", size=Z.shape[1])
        d, ok = make(a)
        if not ok:
            raise ValueError("a: two projections <a, z_i> coincide (to rtol); Lemma 4.3 of 003 needs "
                             "distinct projections, eq. (2)")
        return d
    gen = check_rng(rng)
    for _ in range(max_tries):
        v = gen.standard_normal(Z.shape[1])
        d, ok = make(v / np.linalg.norm(v))
        if ok:
            return d
    raise ValueError(f"no direction with distinct projections in {max_tries} draws: "
                     "are the rows of Z distinct?")  # pragma: no cover


# ================================================================== weights
def lemma43_weights(Z, alpha, beta, a=None, *, rng=0) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases of the first N - 1 units of layer k (003, proof of Lemma 4.3).

    w_j = -alpha a and v_j = alpha z_j^T a + beta for j = 1..N-1, where
    z_1, ..., z_N are the rows of ``Z`` = F_{k-1} sorted by <a, z_i> (see
    :func:`projection_direction`; ``a=None`` draws a from ``rng``).
    Returns ``(W, b)`` in lossland's orientation: ``W`` of shape
    ``(N - 1, n_{k-1})`` with rows w_j^T (003's W_k restricted to these
    units is ``W.T``), ``b`` of shape ``(N - 1,)``. Then unit j computes
    sigma(alpha (z_j - z_i)^T a + beta) on sample i: the matrix A(alpha).
    """
    alpha = check_real(alpha, "alpha")
    beta = check_real(beta, "beta")
    d = projection_direction(Z, a, rng=rng)
    N = len(d.order)
    W = np.tile(-alpha * d.a, (N - 1, 1))
    b = alpha * d.sorted[:-1] + beta
    return W, b


def lemma43_parameters(objective, theta, k, alpha, beta, a=None, *, rng=0) -> np.ndarray:
    """``theta`` with the first N - 1 units of layer k set by Lemma 4.3 of 003.

    Z = F_{k-1} is computed from ``theta`` and the objective's inputs (F_0 =
    X); needs 1 <= k <= L - 1 (003: k in [L-1]), n_k >= N - 1 and distinct
    rows of F_{k-1}. The other units and layers are unchanged (003: "one can
    always choose the weights of the first (N-1) hidden units of layer k").
    """
    objective = check_objective(objective, general=True)
    net = objective.net
    k = net.check_layer(k, hidden=True, name="k")
    theta = net.check_params(theta)
    if not net.biases:
        raise ValueError("objective: the network has no biases; Lemma 4.3 of 003 needs v_j")
    X = objective.X
    N = X.shape[0]
    if net.widths[k] < N - 1:
        raise ValueError(f"k: layer {k} has n_k = {net.widths[k]} < N - 1 = {N - 1} units; "
                         "Lemma 4.3 of 003 needs n_k >= N - 1")
    Z = feature_matrix(objective, theta, k - 1)[:, :-1]   # F_0 = X
    W, b = lemma43_weights(Z, alpha, beta, a, rng=rng)
    Wd, bd = net.unflatten(theta)
    Wd = {l: w.copy() for l, w in Wd.items()}
    bd = {l: v.copy() for l, v in bd.items()}
    Wd[k][: N - 1] = W
    bd[k][: N - 1] = b
    return net.flatten(Wd, bd)


# ======================================================= A(alpha), E(alpha)
def default_layout(activation) -> str:
    """``"ones_first"`` ([1_N, A], 003's bounded case) for bounded sigma, else ``"ones_last"``."""
    return "ones_first" if _as_activation(activation).bounded else "ones_last"


def _mp_sigma(act: Activation):
    return sp.lambdify(act.symbol, act.expr, "mpmath")


def A_matrix(Z, alpha, beta, activation, a=None, *, rng=0, dps=None):
    """A(alpha)_ij = sigma(alpha (z_j - z_i)^T a + beta), i in [N], j in [N-1] (003, Lemma 4.3).

    Rows and columns in the sorted order of :func:`projection_direction`.
    A float array of shape (N, N-1), or with ``dps`` an ``mpmath.matrix``
    computed in ``dps`` digits (from the float projections).
    """
    alpha = check_real(alpha, "alpha")
    beta = check_real(beta, "beta")
    act = _as_activation(activation)
    dps = check_dps(dps, allow_none=True)
    p = projection_direction(Z, a, rng=rng).sorted
    N = len(p)
    if dps is None:
        return act.f(alpha * (p[None, :-1] - p[:, None]) + beta)
    f = _mp_sigma(act)
    with mpmath.workdps(dps):
        al, be = mpmath.mpf(alpha), mpmath.mpf(beta)
        pm = [mpmath.mpf(float(v)) for v in p]
        return mpmath.matrix([[f(al * (pm[j] - pm[i]) + be) for j in range(N - 1)] for i in range(N)])


def E_matrix(Z, alpha, beta, activation, a=None, *, rng=0, layout=None, dps=None):
    """E(alpha) = [1_N, A(alpha)] (``"ones_first"``) or [A(alpha), 1_N] (``"ones_last"``), 003 Lemma 4.3.

    ``layout=None`` takes the proof's choice for the activation (bounded:
    ones first; unbounded: ones last). Square N x N; float array, or
    ``mpmath.matrix`` with ``dps``.
    """
    act = _as_activation(activation)
    layout = _layout(layout, act)
    A = A_matrix(Z, alpha, beta, act, a, rng=rng, dps=dps)
    if dps is None:
        ones = np.ones((A.shape[0], 1))
        return np.hstack([ones, A] if layout == "ones_first" else [A, ones])
    N = A.rows
    with mpmath.workdps(dps):
        E = mpmath.matrix(N, N)
        off = 1 if layout == "ones_first" else 0
        for i in range(N):
            E[i, 0 if layout == "ones_first" else N - 1] = mpmath.mpf(1)
            for j in range(N - 1):
                E[i, j + off] = A[i, j]
        return E


def row_differenced(E):
    """E-hat of 003, eq. (3): row 1 of E, then row i minus row i-1 (same determinant).

    Accepts a square numpy array or sympy Matrix; returns the same kind.
    """
    if isinstance(E, sp.MatrixBase):
        if E.rows < 1 or E.rows != E.cols:
            raise ValueError(f"E must be a square matrix, got {E.shape}")
        out = E.copy()
        for i in range(1, E.rows):
            out[i, :] = E[i, :] - E[i - 1, :]
        return out
    E = as_float_array(E, "E", ndim=2)
    if E.shape[0] != E.shape[1] or E.shape[0] < 1:
        raise ValueError(f"E must be a square matrix, got shape {E.shape}")
    out = E.copy()
    out[1:] = E[1:] - E[:-1]
    return out


# ============================================================ limits, symbolic
def entry_limits(activation) -> dict:
    """lim_{alpha -> inf} sigma(alpha d + beta) for d > 0, d = 0, d < 0, in sympy.

    ``d`` is a positive symbol and beta a real symbol; returns
    ``{"j>i": ..., "j=i": ..., "j<i": ...}`` (entry A_ij has d = p_j - p_i).
    For a bounded sigma these are gamma, sigma(beta), mu of 003's proof;
    for softplus ``oo``, sigma(beta), 0.
    """
    act = _as_activation(activation)
    alpha = sp.Symbol("alpha", positive=True)
    beta = sp.Symbol("beta", real=True)
    d = sp.Symbol("d", positive=True)
    f = act.expr
    return {key: sp.limit(f.subs(act.symbol, alpha * dd + beta), alpha, sp.oo)
            for key, dd in (("j>i", d), ("j=i", 0), ("j<i", -d))}


def _check_N(N) -> int:
    return check_int(N, "N", low=2, high=9)


def limit_A(N, mu=MU, gamma=GAMMA, s=S_BETA) -> sp.Matrix:
    """lim A(alpha) (N x (N-1)) from the entries' limits: gamma (j > i), s (j = i), mu (j < i).

    Computed from the sign of p_j - p_i with sorted projections, not copied
    from the printed table (:func:`printed_limits` has that).
    """
    N = _check_N(N)
    return sp.Matrix(N, N - 1, lambda i, j: gamma if j > i else (s if j == i else mu))


def limit_E(N, layout="ones_first", mu=MU, gamma=GAMMA, s=S_BETA) -> sp.Matrix:
    """lim E(alpha): [1_N, lim A] or [lim A, 1_N] (bounded sigma; 003, proof of Lemma 4.3)."""
    layout = check_choice(layout, "layout", LAYOUTS)
    A = limit_A(N, mu, gamma, s)
    one = sp.ones(A.rows, 1)
    return one.row_join(A) if layout == "ones_first" else A.row_join(one)


def printed_limits(N) -> dict:
    """The three limit tables of 003's proof of Lemma 4.3 (bounded case), as printed.

    Returns ``{"A": {(i, j): expr}, "E": {...}, "E_hat": {...}}`` with 003's
    1-based indices: A for i in [N], j in [N-1] (gamma if j > i, sigma(beta)
    if j = i, mu if j < i); E = [1_N, A] (1 if j = 1; mu if j in [2, N] and
    i >= j; sigma(beta) if j = i + 1; gamma else); E-hat of eq. (3) only
    where printed (1 if i = j = 1; mu - sigma(beta) if i = j > 1; 0 if
    i > j). sigma(beta) is :data:`S_BETA`.
    """
    N = _check_N(N)
    mu, gamma, s = MU, GAMMA, S_BETA
    A, E, Eh = {}, {}, {}
    for i in range(1, N + 1):
        for j in range(1, N):
            A[i, j] = gamma if j > i else (s if j == i else mu)
        for j in range(1, N + 1):
            if j == 1:
                E[i, j] = sp.Integer(1)
            elif i >= j:
                E[i, j] = mu
            elif j == i + 1:
                E[i, j] = s
            else:
                E[i, j] = gamma
            if i == j == 1:
                Eh[i, j] = sp.Integer(1)
            elif i == j:
                Eh[i, j] = mu - s
            elif i > j:
                Eh[i, j] = sp.Integer(0)
    return {"A": A, "E": E, "E_hat": Eh}


def det_limit_symbolic(N, layout="ones_first") -> sp.Expr:
    """det of lim E(alpha) for generic mu, gamma, s = sigma(beta), factored (bounded sigma).

    003's bounded case ([1_N, A]): (mu - s)^(N-1); with the ones last the
    columns are cyclically shifted and the sign becomes (-1)^(N-1).
    By continuity of det this is lim det E(alpha).
    """
    return sp.factor(limit_E(N, layout).det(method="domain-ge"))


@dataclass(frozen=True)
class LeibnizSplit:
    """The Leibniz expansion of det E(alpha) in 003's unbounded case, for a generic model.

    The model: E = [A, 1_N] with A_jj = s (= sigma(beta)), A_ij = eps x_ij for
    i > j (|sigma(alpha delta + beta)| <= rho_1 e^(rho_2 beta) e^(-alpha rho_2 |delta|)
    with eps = e^(-alpha T)), and A_ij = u_ij for i < j (at most affine in
    alpha). ``identity`` is the identity permutation's term, ``rest`` the sum
    of the others; every term of ``rest`` has at least ``min_eps_degree``
    factors eps and at most ``max_u_degree`` factors u (the exponent S of
    the proof's bound R (P alpha + Q)^S e^(-alpha T)). ``n_terms`` counts the
    permutations (N!).
    """

    N: int
    matrix: sp.Matrix
    identity: sp.Expr
    rest: sp.Expr
    eps: sp.Symbol
    min_eps_degree: int
    max_u_degree: int
    n_terms: int

    @property
    def limit(self) -> sp.Expr:
        """det at eps = 0 (alpha -> inf): the identity's term sign(id) s^(N-1) = s^(N-1)."""
        return self.identity


def leibniz_split(N) -> LeibnizSplit:
    """Expand det [A, 1_N] by the Leibniz formula over S_N (003, proof of Lemma 4.3, unbounded case).

    sign(pi) prod_{j=1}^{N-1} E_{pi(j) j} for every permutation pi (the last
    column is all ones); see :class:`LeibnizSplit` for the generic model.
    """
    N = _check_N(N)
    eps = sp.Symbol("epsilon", positive=True)
    s = S_BETA

    def entry(i, j):
        if j == N - 1:
            return sp.Integer(1)
        if i == j:
            return s
        if i > j:
            return eps * sp.Symbol(f"x{i + 1}{j + 1}", real=True)
        return sp.Symbol(f"u{i + 1}{j + 1}", real=True)

    E = sp.Matrix(N, N, entry)
    identity, terms, min_eps, max_u = None, [], N, 0
    for perm in permutations(range(N)):
        inv = sum(1 for x in range(N) for y in range(x + 1, N) if perm[x] > perm[y])
        term = (-1) ** inv * sp.Mul(*[E[perm[j], j] for j in range(N - 1)])
        if perm == tuple(range(N)):
            identity = term
            continue
        terms.append(term)
        # factors below the diagonal carry eps, above it a u (column N is ones)
        min_eps = min(min_eps, sum(perm[j] > j for j in range(N - 1)))
        max_u = max(max_u, sum(perm[j] < j for j in range(N - 1)))
    rest, count = sp.Add(*terms), len(terms) + 1
    return LeibnizSplit(N, E, identity, rest, eps, int(min_eps), int(max_u), count)


# ================================================================= numerics
def det_limit(activation, beta, N, layout=None) -> float:
    """lim_{alpha -> inf} det E(alpha) (003, Lemma 4.3), as a float.

    Bounded sigma: (mu - sigma(beta))^(N-1) with the ones first, its
    (-1)^(N-1) multiple with the ones last. Unbounded sigma with
    Assumption 3.2(b) (mu = 0), ones last: sigma(beta)^(N-1) (ones first:
    (-1)^(N-1) times that).
    """
    act = _as_activation(activation)
    beta = check_real(beta, "beta")
    N = check_int(N, "N", low=2)
    layout = _layout(layout, act)
    mu, s = _mu_and_s(act, beta, float)
    return (mu - s) ** (N - 1) * (1 if layout == "ones_first" else (-1) ** (N - 1))


def _mu_and_s(act: Activation, beta, num):
    """(mu, sigma(beta)) in the number type ``num``; refuses activations outside Lemma 4.3."""
    if not (act.smooth and act.increasing and np.isfinite(act.image[0])):
        raise ValueError(f"activation: {act.name} is not covered by Lemma 4.3 of 003 (needs an "
                         "analytic, increasing sigma with a finite limit at -inf)")
    if act.bounded:
        s = num(float(act.f(np.array(beta)))) if num is float else _mp_sigma(act)(num(beta))
        return num(act.image[0]), s
    if act.image[0] != 0:
        raise ValueError(f"activation: {act.name} is unbounded with sigma(-inf) != 0: "
                         "not Assumption 3.2(b) of 003")
    s = num(float(act.f(np.array(beta)))) if num is float else _mp_sigma(act)(num(beta))
    if s == 0:
        raise ValueError("beta: sigma(beta) = 0; the unbounded case of Lemma 4.3 needs sigma(beta) != 0")
    return num(0), s


@dataclass(frozen=True)
class DetCurve:
    """det E(alpha) along ``alphas``, with its limit and |det - limit| (computed in ``dps`` digits)."""

    alphas: np.ndarray
    det: np.ndarray
    limit: float
    error: np.ndarray
    layout: str
    activation: str


def det_curve(Z, alphas, beta, activation, a=None, *, rng=0, layout=None, dps=50) -> DetCurve:
    """det E(alpha) for each alpha, in ``dps``-digit arithmetic (mpmath), and its distance to the limit.

    The error is formed before rounding to float, so it is meaningful far
    below float round-off; ``dps=None`` uses numpy (float64) instead.
    """
    act = _as_activation(activation)
    layout = _layout(layout, act)
    alphas = check_vector(alphas, "alphas")
    beta = check_real(beta, "beta")
    dps = check_dps(dps, allow_none=True)
    N = as_float_array(Z, "Z", ndim=2).shape[0]
    lim = det_limit(act, beta, N, layout)
    dets, errs = [], []
    for al in alphas:
        E = E_matrix(Z, float(al), beta, act, a, rng=rng, layout=layout, dps=dps)
        if dps is None:
            d = float(np.linalg.det(E))
            dets.append(d)
            errs.append(abs(d - lim))
            continue
        with mpmath.workdps(dps):
            d = mpmath.det(E)
            mu, s = _mu_and_s(act, beta, mpmath.mpf)
            sign = 1 if layout == "ones_first" else (-1) ** (N - 1)
            lim_mp = sign * (mu - s) ** (N - 1)
            dets.append(float(d))
            errs.append(float(abs(d - lim_mp)))
    return DetCurve(np.array(alphas, dtype=float), np.array(dets), lim, np.array(errs), layout,
                    act.name)


def softplus_rhos(alpha: float = 1.0) -> tuple[float, float, float, float]:
    """(rho_1, rho_2, rho_3, rho_4) = (1/alpha, alpha, 1, log(2)/alpha) of 003, Lemma 3.3 (softplus).

    |sigma(t)| <= rho_1 e^(rho_2 t) for t < 0 and <= rho_3 t + rho_4 for t >= 0
    (Assumption 3.2(b)).
    """
    a = check_real(alpha, "alpha", positive=True)
    return 1.0 / a, a, 1.0, math.log(2.0) / a


@dataclass(frozen=True)
class ProofConstants:
    """Explicit P, Q, R, S, T of 003's bound R (P alpha + Q)^S e^(-alpha T) (proof of Lemma 4.3).

    Every Leibniz term of det [A(alpha), 1_N] but the identity's is at most
    ``R (P alpha + Q)^S exp(-alpha T)`` in absolute value for
    ``alpha > alpha_min``; :meth:`bound` multiplies by the number
    ``n_terms = N! - 1`` of such terms, bounding |det E(alpha) - sigma(beta)^(N-1)|.
    """

    R: float
    P: float
    Q: float
    S: int
    T: float
    alpha_min: float
    n_terms: int

    def term_bound(self, alpha):
        alpha = np.asarray(alpha, dtype=float)
        return self.R * (self.P * alpha + self.Q) ** self.S * np.exp(-alpha * self.T)

    def bound(self, alpha):
        return self.n_terms * self.term_bound(alpha)


def proof_constants(projections, beta, sigma_beta, rho) -> ProofConstants:
    """The constants of 003's bound, made explicit from the proof's three cases.

    With sorted projections p, g = min gap, Delta = p_N - p_1 and
    c = rho_1 e^(rho_2 beta): a factor with pi(j) > j is at most
    c e^(-alpha rho_2 g) (and at most c), one with pi(j) = j is |sigma(beta)|,
    one with pi(j) < j at most rho_3 Delta alpha + rho_3 beta + rho_4, once
    alpha > |beta| / g. Every term but the identity's has at least one
    factor of the first kind, so it is at most
    R (P alpha + Q)^S e^(-alpha T) with R = c, P = rho_3 Delta,
    Q = max(c, |sigma(beta)|, rho_3 beta + rho_4), S = N - 2, T = rho_2 g.
    """
    p = np.sort(check_vector(projections, "projections"))
    if p.size < 2:
        raise ValueError("projections must have at least 2 entries")
    g = float(np.diff(p).min())
    if g <= 0:
        raise ValueError("projections must be distinct (003, Lemma 4.3)")
    beta = check_real(beta, "beta")
    sb = check_real(sigma_beta, "sigma_beta", nonzero=True)
    if len(rho) != 4:
        raise ValueError(f"rho must be (rho_1, rho_2, rho_3, rho_4), got {rho!r}")
    r1, r2, r3, r4 = (check_real(r, f"rho_{i + 1}", positive=True) for i, r in enumerate(rho))
    N = p.size
    c = r1 * math.exp(r2 * beta)
    return ProofConstants(R=c, P=r3 * float(p[-1] - p[0]), Q=max(c, abs(sb), r3 * beta + r4),
                          S=N - 2, T=r2 * g, alpha_min=abs(beta) / g,
                          n_terms=math.factorial(N) - 1)


# ============================================================ network level
def _features(objective, theta, k):
    objective = check_objective(objective, general=True)
    k = objective.net.check_layer(k, hidden=True, name="k")
    return feature_matrix(objective, theta, k)


def feature_det(objective, theta, k) -> float:
    """det [F_k, 1_N] for a square feature matrix (n_k = N - 1), 003 Lemma 4.4.

    Lemma 4.4's proof: each N x N minor of [F_k, 1_N] is an analytic
    function of the parameters of layers 1..k (Lemma 4.1), not identically
    zero (Lemma 4.3), so it vanishes on a set of measure zero (Lemma 4.2).
    """
    E = _features(objective, theta, k)
    if E.shape[0] != E.shape[1]:
        raise ValueError(f"k: [F_k, 1] has shape {E.shape}; feature_det needs n_k = N - 1")
    return float(np.linalg.det(E))


def feature_det_slice(objective, theta, k, indices, s_values, t_values) -> np.ndarray:
    """det [F_k, 1_N] on the 2-d slice theta + s e_i + t e_j of parameter space (003, Lemma 4.4).

    ``indices = (i, j)``: two flat parameter positions (e.g. from
    ``net.weight_index``); ``s_values`` move position i, ``t_values``
    position j, both added to ``theta``'s entries. Returns an array of shape
    ``(len(t_values), len(s_values))`` (rows: t), ready for ``imshow``.
    """
    objective = check_objective(objective, general=True)
    net = objective.net
    theta = net.check_params(theta)
    if len(indices) != 2:
        raise ValueError(f"indices must be two parameter positions, got {indices!r}")
    i, j = (check_int(v, "indices", low=0, high=net.n_params - 1) for v in indices)
    if i == j:
        raise ValueError("indices must be two different parameter positions")
    s_values = check_vector(s_values, "s_values")
    t_values = check_vector(t_values, "t_values")
    k = net.check_layer(k, hidden=True, name="k")
    N = objective.X.shape[0]
    if net.widths[k] != N - 1:
        raise ValueError(f"k: [F_k, 1] has shape ({N}, {net.widths[k] + 1}); "
                         "feature_det_slice needs n_k = N - 1")
    S, T = np.meshgrid(s_values, t_values)
    thetas = np.tile(theta, (S.size, 1))
    thetas[:, i] += S.ravel()
    thetas[:, j] += T.ravel()
    F = _batched_features(net, thetas, objective.X, k)
    E = np.concatenate([F, np.ones(F.shape[:2] + (1,))], axis=2)
    return np.linalg.det(E).reshape(S.shape)


def _batched_features(net, thetas, X, k):
    """F_k for a stack of parameter vectors (B, P): the forward pass of ``net``, batched."""
    a = np.broadcast_to(X, (thetas.shape[0],) + X.shape)
    for l in range(1, k + 1):
        W = thetas[:, net.weight_slice(l)].reshape(-1, net.widths[l], net.widths[l - 1])
        z = np.einsum("bnd,bmd->bnm", a, W)
        if net.biases:
            z = z + thetas[:, None, net.bias_slice(l)]
        a = net.activation.f(z)
    return a


def sampled_feature_ranks(objective, k, n_draws, rng, *, scale: float = 1.0) -> list:
    """Numerical rank of [F_k, 1_N] at ``n_draws`` random parameter points (003, Lemma 4.4).

    Parameters i.i.d. normal with standard deviation ``scale``
    (``net.init_params``), drawn from ``rng`` (a seed or a Generator).
    Returns the :class:`~lossland.deep_wide.rank_conditions.RankMargin` of
    each draw: by Lemma 4.4 of 003 (analytic sigma, n_k >= N - 1) the rank
    is N with probability one.
    """
    objective = check_objective(objective, general=True)
    net = objective.net
    k = net.check_layer(k, hidden=True, name="k")
    n_draws = check_int(n_draws, "n_draws", low=1)
    gen = check_rng(rng)
    scale = check_real(scale, "scale", positive=True)
    return [numerical_rank(feature_matrix(objective, net.init_params(gen, scale), k))
            for _ in range(n_draws)]


_ANALYTIC_FUNCTIONS = (sp.exp, sp.tanh, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.erf)


def lemma41_structure(expr) -> tuple[bool, list]:
    """Is a sympy expression visibly real analytic on R^n? (the closure argument of 003, Lemma 4.1).

    Walks the expression tree and accepts symbols, numbers, sums, products,
    integer powers (a negative power only of a base sympy can prove
    positive, so it never vanishes), entire functions (exp, tanh, sin, cos,
    sinh, cosh, erf) and log of a provably positive argument: each is
    analytic and analytic functions are closed under these operations
    (Krantz and Parks, Prop. 2.2.2, 2.2.8). Returns ``(ok, reasons)``:
    ``reasons`` lists every node that is not covered (e.g. ``Max`` of ReLU).
    A ``False`` is not a proof of non-analyticity, only of a failed certificate.
    """
    if not isinstance(expr, sp.Basic):
        raise TypeError(f"expr must be a sympy expression, got {type(expr).__name__}")
    reasons = []
    for node in sp.preorder_traversal(expr):
        if node.is_Symbol or node.is_Number or isinstance(node, (sp.Add, sp.Mul)):
            continue
        if isinstance(node, sp.Pow):
            base, ex = node.args
            if ex.is_Integer and (ex > 0 or base.is_positive):
                continue
            if not ex.is_Integer and base.is_positive and ex.is_real:
                continue
            reasons.append(f"power {node} (base not provably positive)")
        elif isinstance(node, _ANALYTIC_FUNCTIONS):
            continue
        elif isinstance(node, sp.log):
            if not node.args[0].is_positive:
                reasons.append(f"log of {node.args[0]} (argument not provably positive)")
        else:
            reasons.append(f"{type(node).__name__}: not in the analytic building blocks")
    return not reasons, reasons


def linear_rank_report(objective, theta, k) -> dict:
    """Ranks in a deep linear network against 003's bound rank F_k <= rank W_l + k - l + 1.

    003, Section 4 (before Lemma 4.3): for sigma = identity,
    F_k = F_{k-1} W_k + 1_N b_k^T, so rank F_k <= min(rank F_{k-1}, rank W_k) + 1,
    and by induction rank F_k <= rank W_l + k - l + 1 for every l in [k].
    Returns ``{"N": N, "F": RankMargin of F_k, "E": RankMargin of [F_k, 1],
    "W": {l: RankMargin of 003's W_l}, "bound": {l: rank W_l + k - l + 1}}``
    (:func:`~lossland.deep_wide.rank_conditions.numerical_rank`).
    """
    objective = check_objective(objective, general=True)
    net = objective.net
    if net.activation.name != "identity":
        raise ValueError(f"objective: the network's activation is {net.activation.name!r}; "
                         "the bound is for deep linear networks (activation 'identity')")
    E = _features(objective, theta, k)
    k = int(k)
    W, _ = net.unflatten(net.check_params(theta))
    rank_W = {l: numerical_rank(W[l].T) for l in range(1, k + 1)}
    return {"N": E.shape[0], "F": numerical_rank(E[:, :-1]), "E": numerical_rank(E),
            "W": rank_W, "bound": {l: rank_W[l].rank + k - l + 1 for l in rank_W}}


# ================================================================= figures
def draw_lemma43(fig, Z, alpha, beta, activation, alphas, a=None, *, rng=0, curve=None):
    """Draw E(alpha) of Lemma 4.3 (003) and det E(alpha) against alpha on ``fig`` (one widget frame).

    Bounded sigma: E(alpha) = [1_N, A(alpha)] (left) and its row differences
    E-hat(alpha) of eq. (3) (middle), which tend to an upper triangular
    matrix, on one colour scale. Unbounded sigma: log10 E(alpha) (left; the
    entries are positive for softplus) and the same below the diagonal only
    (middle), the factors that make every Leibniz term but the identity's
    vanish. Right: det E(alpha) over ``alphas`` (log axis), the limit dashed,
    the current alpha marked. Rows are samples sorted by projection.
    ``curve`` (a :class:`DetCurve` over ``alphas``) avoids recomputing it.
    """
    act = _as_activation(activation)
    alpha = check_real(alpha, "alpha", positive=True)
    layout = default_layout(act)
    if curve is None:
        curve = det_curve(Z, alphas, beta, act, a, rng=rng, dps=None)
    E = E_matrix(Z, alpha, beta, act, a, rng=rng, layout=layout)
    N = E.shape[0]
    outer = fig.add_gridspec(1, 2, width_ratios=[2.2, 1.3], left=0.03, right=0.98, bottom=0.2,
                             top=0.8, wspace=0.3)
    inner = outer[0].subgridspec(1, 3, width_ratios=[1, 1, 0.07], wspace=0.12)
    axes = [fig.add_subplot(inner[0]), fig.add_subplot(inner[1]), fig.add_subplot(outer[1])]
    cax = fig.add_subplot(inner[2])
    if act.bounded:
        lim = act.image[1] - act.image[0]
        kw = {"cmap": "RdBu_r", "vmin": -lim, "vmax": lim}
        left, middle = E, row_differenced(E)
        titles = ("E(alpha)", "E-hat (row diff.)")
    else:
        top = np.log10(max(float(np.abs(alphas).max()) * _spread(Z, a, rng), 10.0))
        kw = {"cmap": "magma", "vmin": -12.0, "vmax": top}
        with np.errstate(divide="ignore"):
            left = np.maximum(np.log10(np.abs(E)), -12.0)
        middle = np.where(np.tri(N, N, -1, dtype=bool), left, np.nan)
        titles = ("log10 E(alpha)", "below diagonal")
    for ax, M, title in zip(axes[:2], (left, middle), titles):
        im = ax.imshow(M, **kw)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(N), [str(v + 1) for v in range(N)], fontsize=9)
        ax.set_yticks(range(N), [str(v + 1) for v in range(N)], fontsize=9)
        ax.grid(False)
    fig.colorbar(im, cax=cax).ax.tick_params(labelsize=9)
    ax = axes[2]
    ax.semilogx(curve.alphas, curve.det, color="#2166ac", lw=1.5)
    ax.axhline(curve.limit, color="#777777", ls="--", lw=1)
    d_now = float(np.linalg.det(E))
    ax.plot([alpha], [d_now], "o", color="#b2182b")
    ax.set_xlabel("alpha")
    ax.set_title(f"det E = {d_now:.3g}", fontsize=10)


def _spread(Z, a=None, rng=0) -> float:
    """Spread (largest minus smallest) of the projections <a, z_i> (:func:`projection_direction`)."""
    return projection_direction(Z, a, rng=rng).spread
