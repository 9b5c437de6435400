"""Proposition 4 of 004: a strict local minimum of the 1-1-1-1 network for N >= 34 (chapters G8, G9).

For F_3 = w_3 sigma(w_2 sigma(w_1 x + b_1) + b_2) + b_3 (004, eq. (100)) the
proof (A.2.7) takes W-hat = (1, 0, 1, 0, w_3, 0) and residuals
Delta Y = w_3 sum_k c_k v_k orthogonal to B~_3 and positive on B_{3,1},
B_{3,2}, B_{3,3} (eq. (113)-(121)); :func:`proposition4_construction` builds
them, in float64 or, since the conditions are numerically degenerate in
float64 for some activations, in ``dps``-digit arithmetic (mpmath). The
function sets come from the catalogue :mod:`.function_sets` (default: B_3
with its braces nested, ``"B3_nested"``); :func:`b3_matrix` evaluates them at
the samples. :class:`Proposition4` gives the exact Jacobian and the
second-order matrix K at W-hat.

Parameters use :class:`lossland.Network`'s flat order, for the 1-1-1-1 network
004's (w_1, b_1, w_2, b_2, w_3, b_3).
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from .._validation import check_dps, check_real
from ..activations import Activation
from ..network import Network
from ._common import (WidthOneConstruction, as_activation, as_samples, mp_complement, mp_dot, mp_greedy_basis,
                      mp_log10, positive_constants)
from .function_sets import FUNCTION_SETS, FunctionSet, as_function_set, evaluate, monomial
from .proposition2 import sign_constrained_vectors

__all__ = ["b3_matrix", "Proposition4", "proposition4_construction"]


def _names(value, label) -> tuple:
    """ASCII function names from a FunctionSet, a catalogue name or a sequence of names (may be empty)."""
    if isinstance(value, (FunctionSet, str)):
        return as_function_set(value, label).names
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{label} must be a function set, a set name or a sequence of function names, "
                        f"got {type(value).__name__}")
    for n in value:
        try:
            monomial(n)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{label}: {exc}") from None
    return tuple(value)


def b3_matrix(activation, x, names="B3_nested") -> np.ndarray:
    """The functions ``names`` (a set, a catalogue name or ASCII names) at the samples, shape (N, len(names)).

    By default the 34 functions of B_3 (004, Lemma 3) in the nested reading
    (:mod:`.function_sets`).
    """
    return evaluate(as_function_set(names, "names"), activation, x)


@dataclass
class Proposition4(WidthOneConstruction):
    """The construction of 004, Proposition 4 (proof in A.2.7) for the 1-1-1-1 network.

    ``theta`` = W-hat = (1, 0, 1, 0, w3, 0); ``delta_y`` = F_3(X) - Y =
    w3 sum_k c_k v_k with v_k orthogonal to the functions ``orthogonal`` and
    positive on ``positive`` (ASCII names, :mod:`.function_sets`). ``rank`` is the
    dimension of the span of the orthogonal functions at X (N_0 - 3 for the
    paper's choice), so there are N - rank vectors v_k. ``high_precision``
    (built with ``dps``) holds the diagnostics of
    :func:`proposition4_construction` computed in mpmath.
    """

    activation: Activation
    net: Network
    X: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    w3: float
    c: np.ndarray
    V: np.ndarray
    delta_y: np.ndarray
    orthogonal: tuple
    positive: tuple
    rank: int
    sign_margin: float
    high_precision: dict | None = None

    def gradient_formula(self) -> np.ndarray:
        """2 J^T Delta Y: eq. (126)-(131) with the factors w3 and eq. (129) corrected."""
        return 2.0 * self.jacobian().T @ self.delta_y

    def inner_products(self, names="B3_nested") -> dict:
        """<Delta Y, b(X)> for the named functions (a set, a catalogue name or ASCII names)."""
        fs = as_function_set(names, "names")
        M = b3_matrix(self.activation, self.X, fs)
        return {n: float(self.delta_y @ M[:, j]) for j, n in enumerate(fs.names)}

    def jacobian(self) -> np.ndarray:
        """dF_3(x_i)/d(w_1, b_1, w_2, b_2, w_3, b_3) at W-hat."""
        x, w3 = self.X, self.w3
        M = b3_matrix(self.activation, x, ("s'(s) s' x", "s'(s) s'", "s'(s) s", "s'(s)", "s(s)", "1"))
        return M * np.array([w3, w3, w3, w3, 1.0, 1.0])

    def second_order_matrix(self) -> np.ndarray:
        """K = sum_i Delta Y_i Hess F_3(x_i) at W-hat (so that H = 2 J^T J + 2 K).

        From F_3 = w3 sigma(z_2) + b_3, z_2 = w_2 sigma(z_1) + b_2, z_1 = w_1 x + b_1
        at W-hat (z_1 = x, z_2 = sigma(x)): the second derivative along u is
        2 u_w3 sigma'(z_2) Dz_2 + w3 sigma''(z_2) (Dz_2)^2 + w3 sigma'(z_2) D^2 z_2 with
        Dz_2 = u_w2 sigma + sigma' (u_w1 x + u_b1) + u_b2 and
        D^2 z_2 = 2 u_w2 sigma' (u_w1 x + u_b1) + sigma'' (u_w1 x + u_b1)^2.
        """
        x, act, w3, dy = self.X, self.activation, self.w3, self.delta_y
        s, s1, s2 = act.f(x), act.d1(x), act.d2(x)
        ss1, ss2 = act.d1(s), act.d2(s)
        # Dz_2 = g . (u_w1, u_b1, u_w2, u_b2) with g = (x s', s', s, 1)
        g = np.column_stack([x * s1, s1, s, np.ones_like(x)])
        K = np.zeros((6, 6))
        K[:4, :4] = w3 * (g * (dy * ss2)[:, None]).T @ g
        # w3 sigma'(z2) D^2 z_2: 2 u_w2 s' (u_w1 x + u_b1) + s'' (u_w1 x + u_b1)^2
        h = dy * ss1
        K[0, 0] += w3 * h @ (s2 * x * x)
        K[0, 1] += w3 * h @ (s2 * x)
        K[1, 0] += w3 * h @ (s2 * x)
        K[1, 1] += w3 * h @ s2
        K[0, 2] += w3 * h @ (s1 * x)
        K[2, 0] += w3 * h @ (s1 * x)
        K[1, 2] += w3 * h @ s1
        K[2, 1] += w3 * h @ s1
        # 2 u_w3 sigma'(z_2) Dz_2
        cross = (g * h[:, None]).sum(axis=0)
        K[4, :4] += cross
        K[:4, 4] += cross
        return K

    def hessian_formula(self) -> np.ndarray:
        J = self.jacobian()
        return 2.0 * J.T @ J + 2.0 * self.second_order_matrix()




def _proposition4_vectors_mp(act, x, orthogonal, positive, dps, rtol):
    """The v_k of eq. (113)-(116) in mpmath: returns (V_mp rows, rank, margin, diagnostics)."""
    N = x.shape[0]
    rows = evaluate(FunctionSet.from_names("conditions", tuple(orthogonal) + tuple(positive)), act, x, dps=dps)
    m = len(orthogonal)
    cols = [[r[j] for r in rows] for j in range(len(rows[0]))]
    O, P = cols[:m], cols[m:]
    basis, kept, ratios = mp_greedy_basis(O, rtol)
    lg = mp_log10(ratios)
    Q = mp_complement(basis, N)                              # d vectors of length N
    d, k = len(Q), len(P)
    if d < max(k, 1):
        raise ValueError(f"the orthogonal complement has dimension {d} < {max(k, 1)} (need more samples)")
    proj = {}
    Ph = []
    for name, p in zip(positive, P):
        pp = [mp_dot(q, p) for q in Q]
        rel = mpmath.sqrt(mp_dot(pp, pp)) / mpmath.sqrt(mp_dot(p, p))
        proj[name] = float(mpmath.log10(rel)) if rel > 0 else -np.inf
        if rel <= rtol:
            raise ValueError(f"the positive function {name!r} lies in the span of the orthogonal ones at X "
                             f"(relative projection 1e{proj[name]:.0f}): eq. (113) and (114)-(116) are "
                             f"incompatible for {act.name}")
        nrm = mpmath.sqrt(mp_dot(pp, pp))
        Ph.append([v / nrm for v in pp])
    if k == 0:
        Z = [[mpmath.mpf(1) if i == j else mpmath.mpf(0) for i in range(d)] for j in range(d)]
        margin = mpmath.inf
    else:
        # least-norm z0 with <z0, p^_j> = 1 on a maximal independent subset of the projections;
        # a dependent projection (an exact relation, e.g. equal projections) must come out positive too
        _, ind, _ = mp_greedy_basis(Ph, rtol)
        kk = len(ind)
        G = mpmath.matrix(kk, kk)
        for a_, i in enumerate(ind):
            for b_, j in enumerate(ind):
                G[a_, b_] = mp_dot(Ph[i], Ph[j])
        coef = mpmath.lu_solve(G, mpmath.matrix([1] * kk))
        z0 = [mpmath.fsum(coef[a_] * Ph[j][i] for a_, j in enumerate(ind)) for i in range(d)]
        margin = 1 / mpmath.sqrt(mp_dot(z0, z0))
        z0 = [v * margin for v in z0]
        for name, ph in zip(positive, Ph):
            ipz = mp_dot(z0, ph)
            if ipz <= 0:
                raise ValueError(f"the positive functions' projections are linearly dependent with signs that "
                                 f"exclude <v, {name}> > 0 for {act.name}")
            margin = min(margin, ipz)
        U = mp_complement([z0], d)
        Z = [z0] + [[a + margin / 2 * b for a, b in zip(z0, u)] for u in U]
    V = [[mpmath.fsum(z[j] * Q[j][i] for j in range(d)) for i in range(N)] for z in Z]
    info = {"log10_kept_min": min(lg[j] for j in kept) if kept else -np.inf,
            "log10_dropped_max": max((lg[j] for j in range(m) if j not in kept), default=-np.inf),
            "log10_projection": proj, "orthogonal_cols": O, "positive_cols": P}
    return V, len(kept), float(margin), info


def proposition4_construction(activation, X, c=1.0, w3: float = 1.0, *, orthogonal=None,
                              positive="B3_positive", rank_rtol: float | None = None,
                              dps: int | None = None) -> Proposition4:
    """Build Y and W-hat = (1, 0, 1, 0, w3, 0) of 004, Proposition 4, as the proof does.

    By default the v_k are orthogonal to every function of B~_3 = B_3 minus
    B_{3,1}, B_{3,2}, B_{3,3} (eq. (113), (120)) and positive on those three
    (eq. (114)-(116)); y_i = F_3(x_i) - w3 sum_k c_k [v_k]_i (eq. (121)).
    B_3 is read with its braces nested (``"B3_nested"`` of
    :mod:`.function_sets`). ``orthogonal`` and ``positive`` take other
    function sets, catalogue names or lists of ASCII names (e.g.
    ``"B3_expansion_orthogonal"``, ``("s''(s) s^2",)``). The numerical rank of
    the orthogonal functions at X plays the role of N_0 - 3; there are
    N - rank vectors v_k.

    ``dps=None`` works in float64 (rank by SVD with relative tolerance
    ``rank_rtol``, default 1e-10). With ``dps`` the v_k are computed in
    ``dps``-digit arithmetic (mpmath, sigma from its sympy expression):
    the rank is the size of the reduction set red(.) of eq. (109) with
    tolerance ``rank_rtol`` (default 10^(-2 dps / 3)), and ``high_precision``
    records the decision margins (log10), the relative projections of the
    positive functions onto the complement (log10), and the normalised inner
    products <Delta Y, b> / (||Delta Y|| ||b||) of the exact Delta Y, before
    rounding to float64. Raises ``ValueError`` when a positive function lies
    in the span of the orthogonal ones (the conditions are incompatible).
    """
    act = as_activation(activation)
    x = as_samples(X, "X")
    w3 = check_real(w3, "w3", positive=True)
    positive = _names(positive, "positive")
    if orthogonal is None:
        orthogonal = tuple(n for n in FUNCTION_SETS["B3_nested"].names if n not in positive)
    orthogonal = _names(orthogonal, "orthogonal")
    if set(orthogonal) & set(positive):
        raise ValueError("orthogonal and positive must not share a function")
    net = Network((1, 1, 1, 1), act, biases=True)
    theta = np.array([1.0, 0.0, 1.0, 0.0, w3, 0.0])
    hp = None
    if dps is None:
        rank_rtol = 1e-10 if rank_rtol is None else check_real(rank_rtol, "rank_rtol", positive=True)
        O = b3_matrix(act, x, orthogonal)
        P = b3_matrix(act, x, positive) if len(positive) else np.zeros((x.shape[0], 0))
        if np.any(np.linalg.norm(O, axis=0) == 0):
            raise ValueError(f"X is not generic for {act.name}: a B_3 function vanishes at every sample")
        On = O / np.linalg.norm(O, axis=0)
        sv = np.linalg.svd(On, compute_uv=False)
        rank = int((sv > rank_rtol * sv[0]).sum())
        V, margin = sign_constrained_vectors(On, P, rank_rtol=rank_rtol)
        K = V.shape[0]
        c_arr = positive_constants(c, K)
        delta_y = w3 * (c_arr @ V)
    else:
        dps = check_dps(dps, 20)
        rank_rtol = 10.0 ** (-2 * dps / 3) if rank_rtol is None else check_real(rank_rtol, "rank_rtol", positive=True)
        with mpmath.workdps(dps):
            Vmp, rank, margin, info = _proposition4_vectors_mp(act, x, orthogonal, positive, dps,
                                                              mpmath.mpf(rank_rtol))
            K = len(Vmp)
            c_arr = positive_constants(c, K)
            dy = [mpmath.mpf(w3) * mpmath.fsum(mpmath.mpf(float(c_arr[k])) * Vmp[k][i] for k in range(K))
                  for i in range(x.shape[0])]
            ndy = mpmath.sqrt(mp_dot(dy, dy))

            def cos(col):
                return float(mp_dot(dy, col) / (ndy * mpmath.sqrt(mp_dot(col, col))))

            hp = {"dps": dps, "rank_rtol": rank_rtol,
                  "log10_kept_min": info["log10_kept_min"], "log10_dropped_max": info["log10_dropped_max"],
                  "log10_projection": info["log10_projection"],
                  "orthogonality": max((abs(cos(o)) for o in info["orthogonal_cols"]), default=0.0),
                  "positive": {n: cos(p) for n, p in zip(positive, info["positive_cols"])}}
            V = np.array([[float(v) for v in row] for row in Vmp])
            delta_y = np.array([float(v) for v in dy])
    y = net(theta, x) - delta_y
    return Proposition4(act, net, x, y, theta, w3, c_arr, V, delta_y, tuple(orthogonal), tuple(positive),
                        rank, margin, hp)

