"""Subglobal minima: the convex problem of one activation region (002, Definition 2.6, Section 4.1).

With the activation values frozen at a pattern A, the loss L_{g_A} is a convex
quadratic in z = (p_1, ..., p_h, q_1, ..., q_h, c) (002, eq. (4), Lemma 2.3):
L_{g_A} = ½ |D z − y|² with D = :func:`~lossland.relu_regions.model.design_matrix`.
Its global minimum, the *subglobal minimum* of A (Definition 2.6), solves the
normal equations DᵀD z = Dᵀy (Lemma 2.4), written block by block in eqs. (6)-(7)
for the network without biases (:func:`blocks`, :func:`block_system`).

* :func:`normal_equations`, :func:`blocks`, :func:`block_system`: the linear
  system, in floats or exactly (:class:`fractions.Fraction`).
* :func:`subglobal_minimum`: the minimum loss and one minimiser (a particular
  solution when DᵀD is singular, as in 002 after eq. (7)), exact or by lstsq.
* :func:`realized`: is the subglobal minimum attained in the *open* region of A,
  i.e. is it a differentiable local minimum of L_f (Corollary 2.7)? Decided by
  linear programs over the minimiser set {z : D z = D z*}, with a margin and a
  checked witness θ.
* :func:`enumerate_subglobal`: every pattern and its subglobal minimum (002,
  Section 4.1, Fig. 3), up to permutations of the hidden nodes.
* :func:`descent_minima`: BFGS on L_f from given starts, and which end points
  are differentiable local minima (an independent check of :func:`realized`).
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

from .._validation import check_bool, check_choice, check_int, check_real
from .model import (check_pattern, check_relu_objective as _check, design_matrix, from_paper, n_pqc,
                    pattern, to_fractions)

__all__ = ["normal_equations", "blocks", "block_system", "Subglobal", "subglobal_minimum",
           "Realization", "realized", "canonical_patterns", "SubglobalTable", "enumerate_subglobal",
           "DescentMinima", "descent_minima", "MinimumCheck", "differentiable_minimum"]

_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


# ----------------------------------------------------------------------------- exact helpers

def _data(objective, exact: bool):
    X, y = objective.X, objective.y
    return (to_fractions(X), to_fractions(y)) if exact else (X, y)


def _design(objective, A, exact: bool) -> np.ndarray:
    """:func:`design_matrix`, or the same matrix with Fraction entries."""
    return design_matrix(objective, A, exact=exact)


def _solve_exact(M, rhs):
    """Gauss-Jordan over the rationals: (a particular solution with free variables 0, rank).

    ``M z = rhs`` must be consistent (it is for normal equations).
    """
    m = [list(row) + [r] for row, r in zip(M.tolist(), rhs.tolist())]
    n_rows, n_cols = len(m), M.shape[1]
    pivots, row = [], 0
    for col in range(n_cols):
        piv = next((r for r in range(row, n_rows) if m[r][col] != 0), None)
        if piv is None:
            continue
        m[row], m[piv] = m[piv], m[row]
        inv = 1 / m[row][col]
        m[row] = [e * inv for e in m[row]]
        for r in range(n_rows):
            if r != row and m[r][col] != 0:
                f = m[r][col]
                m[r] = [a - f * b for a, b in zip(m[r], m[row])]
        pivots.append(col)
        row += 1
        if row == n_rows:
            break
    if any(m[r][-1] != 0 for r in range(row, n_rows)):
        raise ValueError("M z = rhs is inconsistent")          # never for normal equations
    z = [Fraction(0)] * n_cols
    for r, col in enumerate(pivots):
        z[col] = m[r][-1]
    return np.array(z, dtype=object), len(pivots)


# ----------------------------------------------------------------------------- the linear system

def normal_equations(objective, A, *, exact: bool = False):
    """(M, rhs) = (DᵀD, Dᵀy): the minimisers of L_{g_A} solve M z = rhs (002, Lemma 2.4).

    z is ordered as :func:`~lossland.relu_regions.model.to_pqc` (p_1, ..., p_h,
    then q_1, ..., q_h and c with biases). With ``exact`` the entries are
    :class:`fractions.Fraction` (object arrays), computed from the exact values
    of the stored floats X and y.
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    exact = check_bool(exact, "exact")
    D = _design(objective, A, exact)
    _, y = _data(objective, exact)
    return D.T @ D, D.T @ y


def blocks(objective, A, *, exact: bool = False) -> dict:
    """The blocks of 002, eqs. (6)-(7): ``Phi[j]``, ``Lam[j, k]``, ``Y[j]``.

    Phi_j = Σ_i a_ij x_i x_iᵀ, Lam_jk = Σ_i a_ij a_ik x_i x_iᵀ (so Lam[j, j] =
    Phi[j]), Y_j = Σ_i a_ij y_i x_i; arrays of shape (h, n, n), (h, h, n, n),
    (h, n). Eq. (6) is row j of Σ_k Lam_jk p_k = Y_j.

    With biases (not printed in 002) the same formulas hold for the augmented
    x~_i = (x_i, 1) and p~_j = (p_j, q_j), so the blocks are (n+1) x (n+1), and
    c adds one row and column: ``C[j]`` = Σ_i a_ij x~_i (the coupling of p~_j to
    c), ``N`` (the coefficient of c in ∂L/∂c) and ``Yc`` = Σ_i y_i. The dict
    also holds ``biases``; :func:`block_system` assembles eq. (7).
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    exact = check_bool(exact, "exact")
    X, y = _data(objective, exact)
    biases = objective.net.biases
    if biases:
        one = Fraction(1) if exact else 1.0
        X = np.concatenate([X, np.full((X.shape[0], 1), one, dtype=X.dtype)], axis=1)
    Aw = A.astype(int).astype(object) if exact else A.astype(float)
    outer = X[:, :, None] * X[:, None, :]                        # x_i x_iᵀ, (N, n, n)
    Lam = np.einsum("ij,ik,iab->jkab", Aw, Aw, outer)
    Phi = np.einsum("ij,iab->jab", Aw, outer)
    Y = np.einsum("ij,i,ia->ja", Aw, y, X)
    out = {"Phi": Phi, "Lam": Lam, "Y": Y, "biases": biases}
    if biases:
        out.update(C=np.einsum("ij,ia->ja", Aw, X), N=X.shape[0], Yc=y.sum())
    return out


def block_system(objective, A, *, exact: bool = False):
    """(M, rhs) of eq. (7) assembled from :func:`blocks`, in the variable order of ``to_pqc``.

    Without biases this is eq. (7) as printed; with biases the blocks act on
    (p_j, q_j) and the row and column of c are appended, then the variables are
    reordered to (p_1, ..., p_h, q_1, ..., q_h, c). Equal to
    :func:`normal_equations` (tested).
    """
    B = blocks(objective, A, exact=exact)
    Lam, Y = B["Lam"], B["Y"]
    h, _, m, _ = Lam.shape
    M = np.concatenate([np.concatenate(list(Lam[j]), axis=1) for j in range(h)], axis=0)
    rhs = np.concatenate(list(Y))
    if not B["biases"]:
        return M, rhs
    C = np.concatenate(list(B["C"]))
    M = np.block([[M, C[:, None]], [C[None, :], np.array([[B["N"]]], dtype=M.dtype)]])
    rhs = np.concatenate([rhs, [B["Yc"]]])
    n = m - 1
    order = ([j * m + a for j in range(h) for a in range(n)] + [j * m + n for j in range(h)] + [h * m])
    return M[np.ix_(order, order)], rhs[order]


# ----------------------------------------------------------------------------- the minimum

@dataclass(frozen=True)
class Subglobal:
    """The subglobal minimum of a pattern A (002, Definition 2.6).

    ``loss`` is min L_{g_A} (float), ``loss_exact`` the same as a Fraction (with
    ``exact=True``, else None); ``z`` a minimiser in the variables of eq. (4)
    (the particular solution: minimum norm with lstsq, free variables 0 with
    the exact solve; ``z_exact`` its Fractions), ``fitted`` = D z (the same for
    every minimiser), ``rank`` the rank of D, ``n_vars`` the number of
    variables; ``singular`` when rank < n_vars (many minimisers).
    """

    A: np.ndarray
    loss: float
    loss_exact: Fraction | None
    z: np.ndarray
    z_exact: tuple | None
    fitted: np.ndarray
    rank: int
    n_vars: int

    @property
    def singular(self) -> bool:
        return self.rank < self.n_vars


def subglobal_minimum(objective, A, *, exact: bool = False) -> Subglobal:
    """The subglobal minimum of pattern ``A``: min over θ of L_{g_A}(θ) (002, Definition 2.6, eq. (7)).

    Minimises ½|D z − y|² over z (every z comes from some θ, 002 before
    Lemma 2.4). ``exact=False``: :func:`numpy.linalg.lstsq` on D (the
    minimum-norm particular solution). ``exact=True``: the normal equations in
    :class:`fractions.Fraction` arithmetic (from the exact values of the stored
    floats), a particular solution with free variables set to 0, and the exact
    minimum loss.
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    exact = check_bool(exact, "exact")
    nv = n_pqc(objective)
    if exact:
        D = _design(objective, A, True)
        _, y = _data(objective, True)
        z_ex, rank = _solve_exact(D.T @ D, D.T @ y)
        r = D @ z_ex - y
        loss_ex = Fraction(objective.c) * sum((e * e for e in r), Fraction(0))
        z = np.array([float(e) for e in z_ex])
        fitted = np.array([float(e) for e in D @ z_ex])
        return Subglobal(A, float(loss_ex), loss_ex, z, tuple(z_ex), fitted, rank, nv)
    D = design_matrix(objective, A)
    z, _, rank, _ = np.linalg.lstsq(D, objective.y, rcond=None)
    fitted = D @ z
    r = fitted - objective.y
    return Subglobal(A, float(objective.c * (r @ r)), None, z, None, fitted, int(rank), nv)


# ----------------------------------------------------------------------------- realized or not

@dataclass(frozen=True)
class Realization:
    """Whether the subglobal minimum of A is attained in the open region of A.

    ``realized``: some θ with pattern(θ) = A, all pre-activations nonzero, is a
    global minimiser of L_{g_A}; then θ is a differentiable local minimum of L_f
    (002, Lemma 2.2, Corollary 2.7). ``theta`` is such a witness (else None),
    ``signs[j]`` the sign of v_j at it (+1, -1 or 0). ``margin``: for a realized
    pattern the LP margin of the witness, min over nodes with v_j ≠ 0 and data
    i of |v_j (w_jᵀx_i + b_j)| (output units, capped at 1); for an unrealized one
    the largest LP value over all sign choices (≤ tol; -inf if every LP is
    infeasible), or the region's margin when the region is empty.
    ``region_margin``: the smallest single-node margin of the region
    (:func:`lossland.relu_regions.regions.node_margin`). ``checks``: for a
    witness, the pattern check, the gradient norm of L_f and |L_f - loss|.
    """

    realized: bool
    margin: float
    theta: np.ndarray | None
    signs: tuple | None
    nonempty: bool
    region_margin: float
    subglobal: Subglobal
    n_lps: int
    checks: dict = field(default_factory=dict)


def _node_rows(objective):
    """x~_i (N, m): x_i, with a 1 appended with biases."""
    X = objective.X
    if objective.net.biases:
        X = np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
    return X


def _pqc_index(objective, j):
    """Indices of (p_j, q_j) in z."""
    n, h = objective.net.widths[0], objective.net.widths[1]
    idx = list(range(j * n, (j + 1) * n))
    if objective.net.biases:
        idx.append(h * n + j)
    return idx


def _lp(objective, A, D, fitted, signs, cap):
    """max t s.t. D z = fitted, s_ij σ_j x~_iᵀp~_j ≥ t (σ_j = ±1), p~_j = 0 (σ_j = 0), t ≤ cap."""
    nz = D.shape[1]
    Xt = _node_rows(objective)
    S = np.where(A, 1.0, -1.0)
    A_ub, A_eq, b_eq = [], [D], [fitted]
    for j, sg in enumerate(signs):
        idx = _pqc_index(objective, j)
        if sg == 0:
            E = np.zeros((len(idx), nz + 1))
            E[np.arange(len(idx)), idx] = 1.0
            A_eq.append(E[:, :nz])
            b_eq.append(np.zeros(len(idx)))
            continue
        G = np.zeros((A.shape[0], nz + 1))
        G[:, idx] = -(sg * S[:, j])[:, None] * Xt
        G[:, nz] = 1.0
        A_ub.append(G)
    A_eq = np.concatenate([np.concatenate(A_eq), np.zeros((sum(len(b) for b in b_eq), 1))], axis=1)
    c = np.zeros(nz + 1)
    c[nz] = -1.0
    bounds = [(None, None)] * nz + [(None, cap)]
    res = linprog(c, A_ub=np.concatenate(A_ub) if A_ub else None,
                  b_ub=np.zeros(sum(len(g) for g in A_ub)) if A_ub else None,
                  A_eq=A_eq, b_eq=np.concatenate(b_eq), bounds=bounds, method="highs",
                  options=_LP_OPTIONS)
    if res.status == 2:                                        # infeasible (p~_j = 0 impossible)
        return -math.inf, None
    if res.status != 0:
        raise RuntimeError(f"linprog failed on pattern {A.astype(int).tolist()}: {res.message}")
    return float(res.x[nz]), res.x[:nz]


def realized(objective, A, *, tol: float = 1e-9, cap: float = 1.0, subglobal: Subglobal | None = None,
             find_best: bool = False) -> Realization:
    """Is the subglobal minimum of ``A`` a differentiable local minimum of L_f? (002, Cor. 2.7).

    The minimisers of L_{g_A} in the variables of eq. (4) are z* + ker D, i.e.
    {z : D z = D z*}. A θ with pattern A in the open region produces such a z
    iff for every node j either v_j > 0 (s_ij (p_jᵀx_i + q_j) > 0 with s_ij = +1
    where a_ij = 1 and -1 where a_ij = 0), or v_j < 0 (reversed signs), or
    v_j = 0 (p_j = q_j = 0, and node j's open region is nonempty: w_j, b_j are
    then free). For every choice of signs one linear program maximises the
    margin t ≤ ``cap`` (scipy.optimize.linprog, HiGHS); the pattern is
    realized iff some LP gives t > ``tol``. The choices are searched depth
    first over the nodes, in the order +, -, 0, by branch and bound (the LP of
    a partial choice bounds every completion), so an unrealized pattern gets
    the exact largest t over all 3^h choices as its margin.
    The witness θ (v_j = ±1 or 0, w_j = v_j p_j or node j's region witness) is
    checked: pattern(θ) == A, |∇L_f(θ)| at round-off level, L_f(θ) = loss; a
    failed check raises RuntimeError. ``find_best`` explores every sign choice
    and returns the witness of largest margin.
    """
    objective = _check(objective)
    A = check_pattern(objective, A)
    tol = check_real(tol, "tol", positive=True)
    cap = check_real(cap, "cap", positive=True)
    find_best = check_bool(find_best, "find_best")
    if subglobal is not None and (not isinstance(subglobal, Subglobal) or not np.array_equal(subglobal.A, A)):
        raise ValueError("subglobal must be the Subglobal of the same pattern A")
    return _realized(objective, A, tol, cap, subglobal, find_best, _node_regions(objective, A))


def _node_regions(objective, A, cache=None):
    """node_margin of every column of A (from a dict keyed by the column's bytes, if given)."""
    from .regions import node_margin
    out = []
    for j in range(A.shape[1]):
        key = A[:, j].tobytes()
        if cache is None or key not in cache:
            nd = node_margin(objective.X, A[:, j], biases=objective.net.biases)
            if cache is None:
                out.append(nd)
                continue
            cache[key] = nd
        out.append(cache[key])
    return out


def _realized(objective, A, tol, cap, sub, find_best, nodes):
    sub = subglobal_minimum(objective, A) if sub is None else sub
    region_margin = min(float(nd.margin) for nd in nodes) + 0.0
    if not all(nd.nonempty for nd in nodes):
        return Realization(False, region_margin, None, None, False, region_margin, sub, 0)
    D = design_matrix(objective, A)
    h = A.shape[1]
    best = [-math.inf, None, None]                             # margin, z, signs
    n_lps = 0

    def search(prefix):                                        # branch and bound on max t
        nonlocal n_lps
        for sg in (1, -1, 0):
            signs = prefix + (sg,)
            n_lps += 1
            t, z = _lp(objective, A, D, sub.fitted, signs, cap)
            if t <= best[0]:                                   # no leaf below beats the best
                continue
            if len(signs) == h:
                best[:] = [t, z, signs]
            else:
                search(signs)
            if best[0] > tol and not find_best:
                return

    search(())
    margin, z, signs = best
    if margin <= tol:
        return Realization(False, margin + 0.0, None, None, True, region_margin, sub, n_lps)
    theta = _witness(objective, z, signs, nodes)
    checks = _check_witness(objective, theta, A, sub)
    return Realization(True, margin, theta, tuple(signs), True, region_margin, sub, n_lps, checks)


def _witness(objective, z, signs, nodes):
    """θ from z and the signs: v_j = σ_j, (w_j, b_j) = σ_j (p_j, q_j); v_j = 0 takes node j's region witness."""
    net = objective.net
    n, h = net.widths[0], net.widths[1]
    W, v, b = np.zeros((h, n)), np.zeros(h), np.zeros(h)
    for j, sg in enumerate(signs):
        idx = _pqc_index(objective, j)
        wj = sg * z[idx] if sg != 0 else np.asarray(nodes[j].w, dtype=float)
        W[j], v[j] = wj[:n], sg
        if net.biases:
            b[j] = wj[n]
    if net.biases:
        return from_paper(net, W, v, b, z[-1])
    return from_paper(net, W, v)


def _check_witness(objective, theta, A, sub):
    ok = bool(np.array_equal(pattern(objective, theta), A))
    Z = objective.forward(theta).pre[1]
    if not ok or np.any(Z == 0.0):
        raise RuntimeError(f"witness not in the open region of {A.astype(int).tolist()}")
    g = float(np.linalg.norm(objective.gradient(theta)))
    scale = (1 + np.abs(objective.X).sum()) * (1 + np.abs(theta).sum()) * (1 + np.abs(objective.y).sum())
    gap = abs(objective.value(theta) - sub.loss)
    if g > 1e-11 * scale or gap > 1e-11 * (1 + sub.loss + (objective.y @ objective.y)):
        raise RuntimeError(f"witness of {A.astype(int).tolist()} is not a minimum: "
                           f"|grad| = {g:.3g}, |L_f - loss| = {gap:.3g}")
    return {"pattern": ok, "gradient_norm": g, "loss_gap": gap}


# ----------------------------------------------------------------------------- enumeration

def canonical_patterns(N: int, h: int):
    """One (N, h) pattern per orbit under permutations of the hidden nodes, with its orbit size.

    The columns (single-node patterns, coded as integers 0..2^N - 1, bit i =
    a_ij) are taken as a nondecreasing sequence; the orbit has h! / Π m_k!
    patterns (m_k the multiplicities). Yields (A, size); the sizes add up to
    2^(N h). L_{g_A}, its subglobal minimum and its realization are invariant
    under the permutation.
    """
    N, h = check_int(N, "N", 1), check_int(h, "h", 1)
    for cols in itertools.combinations_with_replacement(range(2 ** N), h):
        A = np.array([[(c >> i) & 1 for c in cols] for i in range(N)], dtype=bool)
        size = math.factorial(h)
        for m in Counter(cols).values():
            size //= math.factorial(m)
        yield A, size


@dataclass(frozen=True)
class SubglobalTable:
    """Every subglobal minimum of a network (002, Section 4.1, Fig. 3).

    One row per pattern (or per orbit under node permutations, ``weight`` =
    the orbit size): ``patterns`` (K, N, h), ``weight`` (K,), ``loss`` (K,),
    ``loss_exact`` (tuple of Fractions or None), ``rank`` (K,), ``nonempty`` (K,),
    ``realized`` (K,), ``margin`` (K,) (the :class:`Realization` margin; nan when
    not computed). :meth:`counts` gives the totals over all 2^(N h) patterns.
    """

    patterns: np.ndarray
    weight: np.ndarray
    loss: np.ndarray
    loss_exact: tuple | None
    rank: np.ndarray
    nonempty: np.ndarray
    realized: np.ndarray
    margin: np.ndarray

    def counts(self) -> dict:
        """Numbers of patterns, of nonempty regions and of realized subglobal minima."""
        w = self.weight
        return {"patterns": int(w.sum()), "nonempty": int(w[self.nonempty].sum()),
                "realized": int(w[self.realized].sum())}

    def _mask(self, which):
        which = check_choice(which, "which", ["all", "nonempty", "realized"])
        return {"all": np.ones(len(self.weight), bool), "nonempty": self.nonempty,
                "realized": self.realized}[which]

    def losses(self, which: str = "all") -> np.ndarray:
        """The loss of every pattern of ``which`` ("all", "nonempty", "realized"), repeated by weight."""
        mask = self._mask(which)
        return np.repeat(self.loss[mask], self.weight[mask])

    def histogram(self, which: str = "all") -> dict:
        """{loss: number of patterns} over ``which``, sorted by loss (002, Fig. 3).

        The keys are the exact Fractions when the table is exact, else the
        float losses rounded to 10 decimals of the largest loss (round-off
        merges: a loss of 1e-31 counts as 0).
        """
        mask = self._mask(which)
        scale = float(self.loss.max()) or 1.0
        keys = (self.loss_exact if self.loss_exact is not None
                else [round(x / scale, 10) * scale + 0.0 for x in self.loss])
        out = Counter()
        for k, w, m in zip(keys, self.weight, mask):
            if m:
                out[k] += int(w)
        return dict(sorted(out.items()))


def _row(task):
    objective, A, exact, realize, tol, nodes = task
    sub = subglobal_minimum(objective, A, exact=exact)
    if not realize:
        return sub, None
    return sub, _realized(objective, A, tol, 1.0, sub, False, nodes)


def enumerate_subglobal(objective, *, exact: bool = False, realize: bool = True, canonical: bool = True,
                        tol: float = 1e-9, jobs: int = 1, progress: bool = False) -> SubglobalTable:
    """Every activation pattern of ``objective``'s network and its subglobal minimum (002, Section 4.1).

    ``canonical``: one pattern per orbit under permutations of the hidden
    nodes (:func:`canonical_patterns`), weighted by the orbit size; else all
    2^(N h) patterns. ``exact``: exact losses (Fractions). ``realize``: decide
    nonempty and realized with :func:`realized` (else both False and margin
    nan). Runs through :func:`lossland.runner.run` (``jobs``, ``progress``).
    """
    from ..runner import run
    objective = _check(objective)
    exact, realize = check_bool(exact, "exact"), check_bool(realize, "realize")
    canonical = check_bool(canonical, "canonical")
    N, h = objective.n_samples, objective.net.widths[1]
    if canonical:
        pats, weight = zip(*canonical_patterns(N, h))
    else:
        pats = [np.array([[(k >> (i * h + j)) & 1 for j in range(h)] for i in range(N)], dtype=bool)
                for k in range(2 ** (N * h))]
        weight = [1] * len(pats)
    cache = {}
    tasks = [(objective, A, exact, realize, tol, _node_regions(objective, A, cache) if realize else None)
             for A in pats]
    rows = run(_row, tasks, jobs=jobs, progress=progress, desc=f"h = {h}")
    subs = [s for s, _ in rows]
    reals = [r for _, r in rows]
    return SubglobalTable(
        patterns=np.array(pats), weight=np.array(weight, dtype=np.int64),
        loss=np.array([s.loss for s in subs]),
        loss_exact=tuple(s.loss_exact for s in subs) if exact else None,
        rank=np.array([s.rank for s in subs]),
        nonempty=np.array([bool(r and r.nonempty) for r in reals]),
        realized=np.array([bool(r and r.realized) for r in reals]),
        margin=np.array([r.margin if r else np.nan for r in reals]))


# ----------------------------------------------------------------------------- descent

@dataclass(frozen=True)
class DescentMinima:
    """End points of BFGS on L_f (:func:`descent_minima`), one row per start.

    ``theta`` (K, P), ``loss`` (K,), ``gradient_norm`` (K,), ``kink_distance``
    (K,): min_ij |w_jᵀx_i + b_j| / (1 + |θ|), how far the end point is from
    the nearest region boundary, relative to its size; ``min_eigenvalue`` (K,) of the
    Hessian of L_f (nan at a kink); ``patterns`` (K, N, h); ``minimum`` (K,):
    the end point is a differentiable local minimum up to the tolerances
    (away from every kink, small gradient, Hessian PSD up to round-off).
    """

    theta: np.ndarray
    loss: np.ndarray
    gradient_norm: np.ndarray
    kink_distance: np.ndarray
    min_eigenvalue: np.ndarray
    patterns: np.ndarray
    minimum: np.ndarray


class MinimumCheck(NamedTuple):
    """:func:`differentiable_minimum`: the verdict and the three numbers it rests on."""

    minimum: bool
    kink_distance: float
    gradient_norm: float
    min_eigenvalue: float


def differentiable_minimum(objective, theta, *, gtol: float = 1e-8, kink_tol: float = 1e-6) -> MinimumCheck:
    """Is θ a differentiable local minimum of L_f, up to stated tolerances? (002, Corollary 2.7 (2))

    ``kink_distance`` = min_ij |w_jᵀx_i + b_j| / (1 + |θ|) must exceed
    ``kink_tol`` (θ is inside an open region, where L_f = L_{g_A}); the exact
    gradient norm must be below ``gtol``; the smallest Hessian eigenvalue must
    be above −1e-8 times the largest (PSD up to round-off). On a kink the
    gradient and eigenvalue are inf and nan and the verdict is False.
    """
    objective = _check(objective)
    gtol = check_real(gtol, "gtol", positive=True)
    kink_tol = check_real(kink_tol, "kink_tol", positive=True)
    theta = objective.net.check_params(theta)
    Z = np.asarray(objective.forward(theta).pre[1])           # (N, h) pre-activations
    dist = float(np.abs(Z).min() / (1.0 + np.linalg.norm(theta)))
    if dist == 0.0:
        return MinimumCheck(False, dist, math.inf, math.nan)
    g = float(np.linalg.norm(objective.gradient(theta)))
    e = np.linalg.eigvalsh(objective.hessian(theta))
    ok = bool(dist > kink_tol and g < gtol and e[0] > -1e-8 * max(1.0, abs(e[-1])))
    return MinimumCheck(ok, dist, g, float(e[0]))


def descent_minima(objective, starts, *, gtol: float = 1e-8, kink_tol: float = 1e-6) -> DescentMinima:
    """BFGS on L_f from each row of ``starts``; which end points are differentiable local minima.

    002, Corollary 2.7: such an end point is a subglobal minimum of its own
    pattern (checked against :func:`subglobal_minimum` and :func:`realized` in
    the tests and in chapter R9). An end point counts as a differentiable
    local minimum when its kink distance exceeds ``kink_tol``, its gradient
    norm is below ``gtol`` and the smallest Hessian eigenvalue is above
    -1e-8 times the largest. Iteration counts and the exact end points
    depend on the BLAS; the verdicts are robust.
    """
    from scipy.optimize import minimize
    objective = _check(objective)
    gtol = check_real(gtol, "gtol", positive=True)
    kink_tol = check_real(kink_tol, "kink_tol", positive=True)
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    if starts.ndim != 2 or starts.shape[1] != objective.net.n_params:
        raise ValueError(f"starts must have shape (K, {objective.net.n_params}), got {starts.shape}")
    rows = []
    for t0 in starts:
        try:
            res = minimize(objective.value, t0, jac=objective.gradient, method="BFGS",
                           options={"gtol": 0.1 * gtol, "maxiter": 2000})
            theta = res.x
        except ValueError:                                     # a line search stepped on a kink
            theta = t0
        m = differentiable_minimum(objective, theta, gtol=gtol, kink_tol=kink_tol)
        rows.append((theta, objective.value(theta), m.gradient_norm, m.kink_distance,
                     m.min_eigenvalue, pattern(objective, theta), m.minimum))
    cols = list(zip(*rows))
    return DescentMinima(np.array(cols[0]), np.array(cols[1]), np.array(cols[2]), np.array(cols[3]),
                         np.array(cols[4]), np.array(cols[5]), np.array(cols[6], dtype=bool))
