"""Linearly separable vectors (003, Definition 5.1) and Theorem 5.3.

Definition 5.1 of paper 003 calls vectors x_1..x_N from m classes C_1..C_m
linearly separable if there are a_j, b_j (j = 1..m) with a_j^T x_i + b_j > 0
for x_i in C_j and < 0 for x_i not in C_j: each class against the rest
(one-vs-rest), with its own hyperplane. The strict inequalities are decided
by a linear program: maximise the margin t subject to

    s_ij (a_j^T x_i + b_j) >= t,   s_ij = +1 if x_i in C_j, else -1,
    -box <= a_j, b_j <= box,

solved by HiGHS (scipy.optimize.linprog). The box keeps the LP bounded;
the set is separable iff the optimal t is positive (a = 0, b = 0 gives
t = 0, so t* >= 0 always). The columns h_j = (a_j, b_j) form the matrix
H = [h_1, ..., h_m] of the proof of Theorem 5.3: (H^T [X, 1]^T)_{ji} > 0
for x_i in C_j and < 0 otherwise.

:func:`theorem53_report` collects what Theorem 5.3 (1.) asks of a point
(gradient, separability of F_k, full column rank of W_{k+2}..W_L) and its
conclusion (the loss is 0). :func:`proof_quantities` computes the matrices
of the proof: the diagonal entries of H^T F~^T D Delta_L (the step that
works for every m), and the column test used in the step from (6) to (7).

The proof's induction does not go through for m >= 2 (chapter N10), and
the theorem fails there: :func:`two_label_counterexample` is a critical
point with separable inputs, full-rank W_2 and positive loss (m = 2,
L = k + 2). It was found by :func:`design_search` (data and parameters moved
together); :func:`critical_search` searches with the data fixed;
:func:`run_searches` / :func:`load_searches` run and cache the searches of
the chapter (``python -m lossland.deep_wide.separable``);
:func:`mp_gradient` and :func:`mp_newton_refine` check a critical point in
high precision.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linprog

from .._validation import (as_float_array, check_bool, check_choice, check_dps, check_int,
                           check_real)
from ..losses import get_loss
from ..network import Network
from ..objective import Objective, paper_matrices
from .rank_conditions import numerical_rank

__all__ = ["one_vs_rest", "class_signs", "Separability", "linear_separability",
           "feature_separability", "Theorem53Report", "theorem53_report",
           "ProofQuantities", "proof_quantities", "SearchResult", "critical_search",
           "design_search", "SEARCH_CONFIGS", "SEARCH_DIR", "search_problem",
           "search_task", "run_searches", "load_searches", "mp_gradient",
           "mp_newton_refine", "two_label_counterexample"]


def one_vs_rest(labels, m: int | None = None) -> np.ndarray:
    """Class membership C[i, j] = (labels[i] == j), shape (N, m).

    The one-vs-rest reading of m classes in Definition 5.1 of 003: class j
    against all the others. ``labels`` are integers 0..m-1 (``m`` defaults
    to max(labels) + 1).
    """
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0:
        raise ValueError(f"labels must be a non-empty 1-d array, got shape {lab.shape}")
    if lab.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got {lab.dtype} entries")
    if lab.min() < 0:
        raise ValueError(f"labels must be >= 0, got {int(lab.min())}")
    m = int(lab.max()) + 1 if m is None else check_int(m, "m", int(lab.max()) + 1)
    return lab[:, None] == np.arange(m)[None, :]


def _check_classes(classes, n: int, name: str = "classes") -> np.ndarray:
    """A boolean (n, m) membership matrix; a 1-d boolean vector is m = 1."""
    c = np.asarray(classes)
    if c.dtype != bool:
        raise TypeError(f"{name} must be a boolean array (C[i, j] = x_i in C_j), "
                        f"got {c.dtype} entries")
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2 or c.shape[0] != n or c.shape[1] == 0:
        raise ValueError(f"{name} must have shape ({n},) or ({n}, m), got {np.shape(classes)}")
    return c


def class_signs(classes) -> np.ndarray:
    """s_ij = +1 if x_i in C_j, else -1: the {+1, -1} encoding of 003, Section 5."""
    c = np.asarray(classes)
    c = _check_classes(c, c.shape[0] if c.ndim else 0)
    return np.where(c, 1.0, -1.0)


@dataclass(frozen=True)
class Separability:
    """Verdict of the LP test of 003's Definition 5.1, with its evidence.

    ``margin``: the optimal t (the smallest of ``class_margins``, the
    per-class optima) with |a_j|, |b_j| <= ``box``; ``H`` (d + 1, m): the
    certificate columns h_j = (a_j, b_j) of the proof of Theorem 5.3;
    ``scores`` = [X, 1] H; ``certificate_margin`` = min_ij s_ij scores_ij,
    recomputed from H (positive iff H satisfies every strict inequality);
    ``separable`` iff margin > tol and certificate_margin > 0.
    """

    separable: bool
    margin: float
    class_margins: np.ndarray
    H: np.ndarray
    scores: np.ndarray
    certificate_margin: float
    tol: float
    box: float

    def __str__(self):
        per = ", ".join(f"{t:.4g}" for t in self.class_margins)
        return f"separable: {self.separable}, margin {self.margin:.4g}; per class: {per}"


def _class_lp(E: np.ndarray, s: np.ndarray, box: float):
    """max t s.t. s_i <e_i, h> >= t, |h| <= box: returns (t, h)."""
    n, q = E.shape
    c = np.zeros(q + 1)
    c[-1] = -1.0
    A = np.hstack([-s[:, None] * E, np.ones((n, 1))])
    bounds = [(-box, box)] * q + [(None, None)]
    res = linprog(c, A_ub=A, b_ub=np.zeros(n), bounds=bounds, method="highs")
    if res.status != 0:                            # pragma: no cover - bounded, feasible LP
        raise RuntimeError(f"linprog failed: {res.message}")
    return float(res.x[-1]), res.x[:-1]


def linear_separability(X, classes, *, box: float = 1.0, tol: float = 1e-7) -> Separability:
    """Are the rows of ``X`` linearly separable (003, Definition 5.1)?

    Parameters
    ----------
    X : array (N, d)
        The vectors x_i (rows): the inputs, or the features F_k of a layer.
    classes : boolean array (N, m) or (N,)
        ``classes[i, j]`` is "x_i in C_j" (a 1-d array is one class, m = 1).
    box : float
        Bound on every entry of a_j, b_j: keeps the LP bounded and fixes
        the scale of the margin.
    tol : float
        The verdict is "separable" iff the optimal margin exceeds ``tol``
        (HiGHS' feasibility tolerance is 1e-7) and the certificate H
        satisfies the strict inequalities.

    The joint LP over (a_j, b_j)_j and a common t decomposes into m
    independent one-vs-rest LPs; its optimum is the smallest of theirs.
    """
    X = as_float_array(X, "X", ndim=2)
    if X.shape[0] == 0:
        raise ValueError("X must have at least one row")
    C = _check_classes(classes, X.shape[0])
    box = check_real(box, "box", positive=True)
    tol = check_real(tol, "tol", positive=True)
    E = np.hstack([X, np.ones((X.shape[0], 1))])
    S = np.where(C, 1.0, -1.0)
    ts, hs = zip(*(_class_lp(E, S[:, j], box) for j in range(C.shape[1])))
    ts = [0.0 if abs(t) < 1e-12 else t for t in ts]     # no "-0"
    H = np.column_stack(hs)
    scores = E @ H
    cert = float(np.min(S * scores))
    t = float(min(ts))
    return Separability(bool(t > tol and cert > 0), t, np.array(ts), H, scores, cert, tol, box)


def _check_class_objective(objective):
    if not isinstance(objective, Objective):
        raise TypeError("objective must be a lossland.objective.Objective, "
                        f"got {type(objective).__name__}")
    if objective.classes is None:
        raise ValueError("objective must carry classes (a class loss, 003 eq. (4))")
    return objective


def feature_separability(objective, theta, k: int, *, box: float = 1.0,
                         tol: float = 1e-7) -> Separability:
    """Definition 5.1 for the rows of F_k (F_0 = X) and the objective's classes."""
    _check_class_objective(objective)
    k = check_int(k, "k", 0, objective.net.depth - 1)
    F = objective.forward(theta).act[k]
    return linear_separability(F, objective.classes, box=box, tol=tol)


@dataclass(frozen=True)
class Theorem53Report:
    """Hypotheses and conclusion of 003's Theorem 5.3 (1.) at a point.

    ``grad_norm``: norm of the full gradient; ``separability``: Definition
    5.1 for F_k; ``upper``: layer l -> rank of 003's W_l for l = k+2..L
    (full column rank needed); ``loss``: Phi (0 at a global minimum);
    ``kink_distance``: min |f_Lj(x_i) - y_ij|, the distance of the
    residuals from the point where l_1, l_2 are not twice differentiable
    (positive: Phi is smooth near the point and its Hessian exists).
    """

    k: int
    grad_norm: float
    separability: Separability
    upper: dict
    loss: float
    kink_distance: float
    gtol: float

    @property
    def hypotheses(self) -> bool:
        """Critical (gradient <= gtol), F_k separable, W_{k+2..L} full column rank."""
        return (self.grad_norm <= self.gtol and self.separability.separable
                and all(r.full_column_rank for r in self.upper.values()))

    def __str__(self):
        ranks = "; ".join(f"W_{l}: {r.rank}/{r.shape[1]} "
                          f"(margin {r.margin:.2e})" for l, r in self.upper.items())
        return (f"k = {self.k}: |grad| = {self.grad_norm:.1e}, "
                f"LP margin of F_{self.k} = {self.separability.margin:.4f}, "
                f"loss = {self.loss:.6g}" + (f"\n  {ranks}" if ranks else ""))


def theorem53_report(objective, theta, k: int, *, gtol: float = 1e-8,
                     box: float = 1.0, tol: float = 1e-7) -> Theorem53Report:
    """What Theorem 5.3 (1.) of 003 assumes and concludes, at ``theta``."""
    _check_class_objective(objective)
    net = objective.net
    k = check_int(k, "k", 0, net.depth - 1)
    gtol = check_real(gtol, "gtol", positive=True)
    theta = net.check_params(theta)
    value, grad = objective.value_and_gradient(theta)
    sep = feature_separability(objective, theta, k, box=box, tol=tol)
    pm = paper_matrices(objective, theta)
    upper = {l: numerical_rank(pm.W[l]) for l in range(k + 2, net.depth + 1)}
    kink = float(np.min(np.abs(objective.residuals(theta))))
    return Theorem53Report(k, float(np.linalg.norm(grad)), sep, upper,
                           float(value), kink, gtol)


@dataclass(frozen=True)
class ProofQuantities:
    """The matrices of the proof of 003's Theorem 5.3 at a point.

    ``H``: certificate of separability of F_k; ``diagonal``: the entries
    (H^T F~_k^T Delta_L)_jj (each <= 0, and < 0 iff column j of Delta_L is
    non-zero: the step that holds for every m); ``M``: l -> H^T F~_k^T
    Delta_l for l = k+1..L (the proof claims M[L] != 0 forces
    M[k+1] != 0); ``table`` (n_{k+1} x n_{k+1}, None if L = k+1): entry
    (q, p) = norm of H^T F~_k^T Sigma_q^{k+1} (Delta_{k+2} W_{k+2}^T)_{:,p},
    the column test of the step from (6) to (7) taken at layer k+1; the
    proof needs a p with a non-zero diagonal entry (p, p), which is the
    norm of H^T F~_k^T (Delta_{k+1})_{:,p} and vanishes at a critical point.
    """

    k: int
    H: np.ndarray
    diagonal: np.ndarray
    M: dict
    table: np.ndarray | None


def proof_quantities(objective, theta, k: int, H=None) -> ProofQuantities:
    """The quantities of the proof of Theorem 5.3 (003, eqs. (5)-(7))."""
    _check_class_objective(objective)
    net = objective.net
    k = check_int(k, "k", 0, net.depth - 1)
    theta = net.check_params(theta)
    pm = paper_matrices(objective, theta)
    E = pm.E(k)
    if H is None:
        H = linear_separability(pm.F[k], objective.classes).H
    H = as_float_array(H, "H", ndim=2)
    if H.shape != (E.shape[1], objective.classes.shape[1]):
        raise ValueError(f"H must have shape {(E.shape[1], objective.classes.shape[1])}, "
                         f"got {H.shape}")
    L = net.depth
    HE = H.T @ E.T
    diagonal = np.diag(HE @ pm.Delta[L]).copy()
    M = {l: HE @ pm.Delta[l] for l in range(k + 1, L + 1)}
    table = None
    if L >= k + 2:
        dsig = net.activation.d1(pm.G[k + 1])            # sigma'(G_{k+1}), (N, n_{k+1})
        B = pm.Delta[k + 2] @ pm.W[k + 2].T              # (N, n_{k+1})
        table = np.array([[np.linalg.norm(HE @ (dsig[:, q] * B[:, p]))
                           for p in range(B.shape[1])] for q in range(B.shape[1])])
    return ProofQuantities(k, H, diagonal, M, table)


# ------------------------------------------------------------------ searching for counterexamples
_CONSTRAINTS = dict(cmin=1.0, s0=0.3, kappa=0.05, gmax=3.0, w0=0.3)


@dataclass(frozen=True)
class SearchResult:
    """End point of :func:`critical_search` or :func:`design_search`.

    ``X``: the data (changed only by :func:`design_search`); ``residual``:
    norm of the least-squares residual (gradient and violated constraints);
    ``found``: residual <= ``tol`` (a critical point meeting every
    constraint: loss >= cmin, s_min(W_l) >= s0 for l = k+2..L, pre-activations
    of the hidden layers (and of the output layer if it has an activation)
    of modulus <= gmax, kink distance min |f_Lj(x_i) - y_ij| >= kappa, hidden
    weight rows of norm >= w0).
    """

    theta: np.ndarray
    X: np.ndarray
    loss: float
    grad_norm: float
    residual: float
    found: bool
    nfev: int


def _constraint_residuals(net, X, Y, C, loss, theta, k, c):
    """Violations (>= 0) of the constraints of a counterexample search (forward pass only)."""
    fw = net.forward(theta, X)
    W, _ = net.unflatten(theta)
    L = net.depth
    R = fw.act[L] - Y
    phi = float(np.sum(loss.f(R, C)))
    out = [np.maximum(0.0, c["cmin"] - phi)[None]]
    for l in range(k + 2, L + 1):                     # 003's W_l = W[l].T, column rank n_l
        out.append(np.maximum(0.0, c["s0"] - np.linalg.svd(W[l], compute_uv=False)[-1])[None])
    for l in range(1, L):
        out.append(np.maximum(0.0, np.abs(fw.pre[l]) - c["gmax"]).ravel())
        out.append(np.maximum(0.0, c["w0"] - np.linalg.norm(W[l], axis=1)))
    if net.output_activation is not None:              # no saturated output either
        out.append(np.maximum(0.0, np.abs(fw.pre[L]) - c["gmax"]).ravel())
    out.append(np.maximum(0.0, c["kappa"] - np.abs(R)).ravel())
    return np.concatenate(out)


def _fd_jacobian(fun, v, h=1e-6):
    f0 = fun(v)
    J = np.empty((f0.size, v.size))
    for i in range(v.size):
        e = np.zeros_like(v)
        e[i] = h
        J[:, i] = (fun(v + e) - fun(v - e)) / (2 * h)
    return J


def _least_squares(fun, jac, v0, max_nfev):
    from scipy.optimize import least_squares
    with np.errstate(all="ignore"):
        res = least_squares(fun, v0, jac=jac, method="lm",
                            xtol=1e-12, ftol=1e-12, gtol=1e-15, max_nfev=max_nfev)
    return res


def _search_constraints(constraints):
    unknown = set(constraints) - set(_CONSTRAINTS)
    if unknown:
        raise TypeError(f"unknown constraint(s) {sorted(unknown)}; expected {sorted(_CONSTRAINTS)}")
    c = {**_CONSTRAINTS, **constraints}
    return {n: check_real(v, n, low=0.0) for n, v in c.items()}


def critical_search(objective, theta0, k: int = 0, *, max_nfev: int = 400, tol: float = 1e-10,
                    **constraints) -> SearchResult:
    """Look for a critical point with loss > 0 and full-rank upper layers, data fixed.

    Levenberg-Marquardt on the residual (gradient w.r.t. the layers k+1..L,
    constraint violations), the layers 1..k frozen at ``theta0``: the
    conditions the proof of 003's Theorem 5.3 uses. The gradient rows of
    the Jacobian are the exact Hessian; the constraint rows are central
    differences (a search, not a certificate: a hit is verified afterwards
    with exact derivatives).
    """
    _check_class_objective(objective)
    net = objective.net
    k = check_int(k, "k", 0, net.depth - 1)
    theta0 = net.check_params(theta0, "theta0")
    c = _search_constraints(constraints)
    up = np.arange(net.weight_slice(k + 1).start, net.n_params)
    X, Y, C, loss = objective.X, objective.Y, objective.classes, objective.loss

    def full(v):
        th = theta0.copy()
        th[up] = v
        return th

    def cons(v):
        return _constraint_residuals(net, X, Y, C, loss, full(v), k, c)

    def fun(v):
        return np.concatenate([objective.gradient(full(v))[up], cons(v)])

    def jac(v):
        return np.vstack([objective.hessian(full(v))[np.ix_(up, up)], _fd_jacobian(cons, v)])

    res = _least_squares(fun, jac, theta0[up].copy(), max_nfev)
    th = full(res.x)
    r = float(np.linalg.norm(fun(res.x)))
    return SearchResult(th, X.copy(), float(objective.value(th)),
                        float(np.linalg.norm(objective.gradient(th))), r, r <= tol, int(res.nfev))


def design_search(objective, theta0, separators, *, tau: float = 0.2, bound: float = 3.0,
                  dmin: float = 0.1, max_nfev: int = 600, tol: float = 1e-10,
                  **constraints) -> SearchResult:
    """Move the data AND the parameters to a counterexample of 003's Theorem 5.3 (2.).

    Theorem 5.3 speaks of every data set, so the data may be chosen: starting
    from ``objective.X`` and ``theta0``, Levenberg-Marquardt drives the full
    gradient to zero while the inputs stay separable by the fixed
    ``separators`` (columns (a_j, b_j), margin ``tau``: s_ij (a_j^T x_i + b_j)
    >= tau), inside the box |x| <= ``bound``, at distance >= ``dmin`` from each
    other, and the constraints of :func:`critical_search` (k = 0) hold.
    Jacobian: the exact Hessian for theta; central differences of one
    sample's gradient for its input; differences for the constraints.
    A hit is a candidate to polish (Newton on theta with the data fixed)
    and verify; the classes and targets are those of ``objective``.
    """
    _check_class_objective(objective)
    net = objective.net
    theta0 = net.check_params(theta0, "theta0")
    c = _search_constraints(constraints)
    N, d = objective.X.shape
    Hs = as_float_array(separators, "separators", ndim=2)
    if Hs.shape != (d + 1, objective.classes.shape[1]):
        raise ValueError(f"separators must have shape {(d + 1, objective.classes.shape[1])}, "
                         f"got {Hs.shape}")
    tau = check_real(tau, "tau", positive=True)
    bound = check_real(bound, "bound", positive=True)
    dmin = check_real(dmin, "dmin", low=0.0)
    Y, C, loss = objective.Y, objective.classes, objective.loss
    S = np.where(C, 1.0, -1.0)
    iu = np.triu_indices(N, 1)
    P = net.n_params

    def split(v):
        return v[:N * d].reshape(N, d), v[N * d:]

    def obj_at(X):
        return Objective(net, X, Y, loss=loss, classes=C)

    def cons(v):
        X, th = split(v)
        E = np.hstack([X, np.ones((N, 1))])
        dist = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1)[iu]
        return np.concatenate([_constraint_residuals(net, X, Y, C, loss, th, 0, c),
                               np.maximum(0.0, tau - S * (E @ Hs)).ravel(),
                               np.maximum(0.0, np.abs(X) - bound).ravel(),
                               np.maximum(0.0, dmin - dist)])

    def fun(v):
        X, th = split(v)
        return np.concatenate([obj_at(X).gradient(th), cons(v)])

    def jac(v, h=1e-6):
        X, th = split(v)
        JX = np.empty((P, N * d))
        for i in range(N):                 # sample i's input moves only its own gradient
            for a in range(d):
                Xp, Xm = X[i:i + 1].copy(), X[i:i + 1].copy()
                Xp[0, a] += h
                Xm[0, a] -= h
                gp = Objective(net, Xp, Y[i:i + 1], loss=loss, classes=C[i:i + 1]).gradient(th)
                gm = Objective(net, Xm, Y[i:i + 1], loss=loss, classes=C[i:i + 1]).gradient(th)
                JX[:, i * d + a] = (gp - gm) / (2 * h)
        return np.vstack([np.hstack([JX, obj_at(X).hessian(th)]), _fd_jacobian(cons, v)])

    res = _least_squares(fun, jac, np.concatenate([objective.X.ravel(), theta0]), max_nfev)
    X, th = split(res.x)
    obj = obj_at(X)
    r = float(np.linalg.norm(fun(res.x)))
    return SearchResult(th, X, float(obj.value(th)), float(np.linalg.norm(obj.gradient(th))),
                        r, r <= tol, int(res.nfev))


# ------------------------------------------------------------------ the searches of chapter N10
SEARCH_CONFIGS = {
    # name: (widths, number of points, kind of classes)
    "m2-L2": ((2, 2, 2), 12, "quadrants"),       # m = 2 (two labels), L = k + 2 (k = 0)
    "m3-L2": ((2, 3, 3), 12, "sectors"),         # m = 3 (a partition), L = k + 2
    "m1-L3": ((2, 2, 2, 1), 12, "halfplane"),    # m = 1, L = k + 3
}


def search_problem(config: str, seed: int):
    """Classes, fixed separators and a random start for one search task (chapter N10).

    ``"quadrants"``: two labels, C_1 = {x_1 > 0}, C_2 = {x_2 > 0}, each point
    in a random quadrant; ``"sectors"``: three classes cyclically, class j
    against the rest separated by the line at angle 2 pi j / 3;
    ``"halfplane"``: one class, every other point. Returns
    ``(objective, theta0, separators)`` with data drawn uniformly in
    [-3, 3]^2 on the right side of every separator by 0.2.
    """
    config = check_choice(config, "config", list(SEARCH_CONFIGS))
    seed = check_int(seed, "seed", 0)
    widths, K, kind = SEARCH_CONFIGS[config]
    rng = np.random.default_rng(seed)
    if kind == "quadrants":
        q = rng.integers(0, 4, K)
        C = np.column_stack([q % 2 == 1, q // 2 == 1])
        Hs = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    elif kind == "sectors":
        C = one_vs_rest(np.arange(K) % 3, 3)
        ang = 2 * np.pi * np.arange(3) / 3
        Hs = np.vstack([np.cos(ang), np.sin(ang), -0.5 * np.ones(3)])
    else:
        C = (np.arange(K) % 2 == 0)[:, None]
        Hs = np.array([[1.0], [0.0], [0.0]])
    S = np.where(C, 1.0, -1.0)
    X = np.empty((K, 2))
    for i in range(K):
        while True:
            x = rng.uniform(-3, 3, 2)
            if np.all(S[i] * (np.append(x, 1.0) @ Hs) >= 0.2):
                X[i] = x
                break
    net = Network(widths, "tanh")
    obj = Objective(net, X, S, loss=get_loss("squared_hinge"), classes=C)
    theta0 = rng.normal(size=net.n_params) * rng.choice([0.5, 1.0, 2.0])
    return obj, theta0, Hs


def search_task(task) -> dict:
    """One seeded start of a search of chapter N10: ``task = (config, mode, seed)``.

    ``mode`` ``"fixed"``: :func:`critical_search` on the drawn data;
    ``"design"``: :func:`design_search` (data moved too). Returns plain
    arrays and numbers (for :func:`lossland.runner.run` and the cache).
    """
    import time
    config, mode, seed = task
    mode = check_choice(mode, "mode", ["fixed", "design"])
    obj, theta0, Hs = search_problem(config, seed)
    t0 = time.perf_counter()
    if mode == "fixed":
        res = critical_search(obj, theta0, 0)
    else:
        res = design_search(obj, theta0, Hs)
    return dict(found=res.found, loss=res.loss, grad_norm=res.grad_norm, residual=res.residual,
                X=res.X, theta=res.theta, seconds=time.perf_counter() - t0)


SEARCH_DIR = Path(__file__).resolve().parents[2] / "data" / "n10"
"""Where the cached searches of chapter N10 live (``data/n10/n10_search.npz`` and ``.json``)."""
SEARCH_REGENERATE = "python -m lossland.deep_wide.separable --starts {starts} --jobs 2"


def _search_params(starts):
    return {"starts": starts, "configs": {k: list(v) for k, v in SEARCH_CONFIGS.items()},
            "constraints": _CONSTRAINTS}


def load_searches(starts: int = 60, directory=None):
    """Read the cached searches (:func:`lossland.runner.load_cached`), refusing other parameters.

    Returns the :class:`lossland.runner.Cached` record; its ``arrays`` are
    keyed ``"<config>/<mode>/<field>"`` as in :func:`run_searches`.
    """
    from ..runner import load_cached
    starts = check_int(starts, "starts", 1)
    directory = Path(SEARCH_DIR if directory is None else directory)
    return load_cached(directory, "n10_search", params=_search_params(starts),
                       regenerate=SEARCH_REGENERATE.format(starts=starts))


def run_searches(starts: int, *, jobs: int = 1, progress: bool = True, configs=None,
                 modes=("fixed", "design")) -> dict:
    """Every seeded start of chapter N10's searches through :func:`lossland.runner.run`.

    Returns arrays keyed ``"<config>/<mode>/<field>"`` (fields of
    :func:`search_task`, one row per seed 0..starts-1).
    """
    from ..runner import run
    starts = check_int(starts, "starts", 1)
    configs = list(SEARCH_CONFIGS) if configs is None else list(configs)
    tasks = [(c, mode, s) for c in configs for mode in modes for s in range(starts)]
    results = run(search_task, tasks, jobs=jobs, progress=progress, desc="N10 searches")
    out = {}
    for (c, mode, s), r in zip(tasks, results):
        for field, value in r.items():
            out.setdefault(f"{c}/{mode}/{field}", []).append(value)
    return {k: np.asarray(v) for k, v in out.items()}


def _main(argv=None):
    import argparse
    import time
    from ..runner import save_cached
    parser = argparse.ArgumentParser(description="Chapter N10: searches for counterexamples "
                                                 "to Theorem 5.3 of 003; writes data/n10/.")
    parser.add_argument("--starts", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    t0 = time.time()
    arrays = run_searches(args.starts, jobs=args.jobs)
    save_cached(SEARCH_DIR, "n10_search", arrays, params=_search_params(args.starts),
                regenerate=SEARCH_REGENERATE.format(starts=args.starts),
                meta={"wall_seconds": round(time.time() - t0, 1), "jobs": args.jobs})


if __name__ == "__main__":                              # pragma: no cover
    _main()


# ------------------------------------------------------------------ high-precision check
def _mp_fns(expr_triple):
    import sympy as sp
    x = sp.Symbol("x", real=True)
    return [sp.lambdify(x, e.subs(e.free_symbols.pop(), x) if e.free_symbols else e, "mpmath")
            for e in expr_triple]


def mp_gradient(objective, theta_mp, dps: int = 60) -> list:
    """The exact gradient of Phi (003, Lemma 2.1) in ``dps``-digit mpmath arithmetic.

    ``theta_mp``: parameters as mpmath numbers (or floats); the data are the
    objective's (floats, read exactly). Backpropagation with sigma, sigma'
    and l', l_1', l_2' from their sympy expressions. Returns a list of mpf.
    """
    import mpmath
    _check_class_objective(objective)
    dps = check_dps(dps, 30, 500)
    net = objective.net
    if not net.biases:
        raise ValueError("mp_gradient needs a network with biases")
    L = net.depth
    with mpmath.workdps(dps):
        th = [mpmath.mpf(t) for t in theta_mp]
        if len(th) != net.n_params:
            raise ValueError(f"theta_mp must have {net.n_params} entries, got {len(th)}")
        act = _mp_fns(net.activation.derivative_exprs())
        out = (None if net.output_activation is None
               else _mp_fns(net.output_activation.derivative_exprs()))
        loss = objective.loss
        d1 = [_mp_fns(loss.l1.derivative_exprs())[1], _mp_fns(loss.l2.derivative_exprs())[1]]
        W, b = {}, {}
        for l in range(1, L + 1):
            ws, bs = net.weight_slice(l), net.bias_slice(l)
            n_out, n_in = net.widths[l], net.widths[l - 1]
            flat = th[ws]
            W[l] = [[flat[r * n_in + c] for c in range(n_in)] for r in range(n_out)]
            b[l] = th[bs]
        grad = [mpmath.mpf(0)] * net.n_params
        for i in range(objective.n_samples):
            acts = [[mpmath.mpf(float(v)) for v in objective.X[i]]]
            pres = [None]
            for l in range(1, L + 1):
                g = [mpmath.fsum(W[l][r][c] * acts[-1][c] for c in range(len(acts[-1])))
                     + b[l][r] for r in range(len(b[l]))]
                pres.append(g)
                f = act if l < L else out
                acts.append(g if f is None else [f[0](v) for v in g])
            # Delta_L = l'(F_L - Y) o sigma'(G_L), then Lemma 2.1 (1.)
            delta = []
            for j, g in enumerate(pres[L]):
                a = acts[L][j] - mpmath.mpf(float(objective.Y[i, j]))
                lp = d1[0 if objective.classes[i, j] else 1](a)
                delta.append(lp * (1 if out is None else out[1](g)))
            for l in range(L, 0, -1):
                ws, bs = net.weight_slice(l), net.bias_slice(l)
                n_in = net.widths[l - 1]
                for r, dr in enumerate(delta):
                    for c in range(n_in):
                        grad[ws.start + r * n_in + c] += dr * acts[l - 1][c]
                    grad[bs.start + r] += dr
                if l > 1:
                    delta = [mpmath.fsum(delta[r] * W[l][r][c] for r in range(len(delta)))
                             * act[1](pres[l - 1][c]) for c in range(n_in)]
        return grad


def mp_newton_refine(objective, theta, dps: int = 60, steps: int = 6):
    """Newton steps in ``dps`` digits: theta <- theta - H^{-1} grad_mp(theta).

    ``grad_mp`` is :func:`mp_gradient` (exact in ``dps`` digits); H is the
    exact float64 Hessian of ``objective`` at the float point (a
    quasi-Newton step: each step gains about -log10(eps * cond H) digits).
    Returns ``(theta_mp, norms)``: the refined point (mpf list) and the
    gradient norm before each step and at the end (mpf).
    """
    import mpmath
    dps = check_dps(dps, 30, 500)
    steps = check_int(steps, "steps", 0)
    theta = objective.net.check_params(theta)
    H = objective.hessian(theta)
    with mpmath.workdps(dps):
        Hm = mpmath.matrix(H.tolist())
        th = [mpmath.mpf(float(t)) for t in theta]
        norms = []
        for _ in range(steps):
            g = mp_gradient(objective, th, dps)
            norms.append(mpmath.norm(mpmath.matrix(g)))
            step = mpmath.lu_solve(Hm, mpmath.matrix(g))
            th = [t - s for t, s in zip(th, step)]
        norms.append(mpmath.norm(mpmath.matrix(mp_gradient(objective, th, dps))))
    return th, norms


# ------------------------------------------------------------------ the counterexample (N10)
_TWO_LABEL_X = np.array([
    [0.2, 1.4], [-1.5, -0.2], [-0.5, -2.7], [-0.3, -2.5], [-0.5, -2.9], [2.1, 0.9],
    [0.2, 1.3], [-0.2, 0.2], [-0.5, -2.8], [-1.4, -0.9], [1.1, -0.3], [0.2, -2.6]])
_TWO_LABEL_THETA = np.array([
    -1.3271, 1.0795, -0.9593, 0.8767, 1.0563, -0.4501,
    -0.7603, 1.0558, 1.1867, -0.8775, 0.2314, -0.6255])


_TWO_LABEL_THETA_TANH = np.array([
    -1.3549, 1.1068, -0.9649, 0.8821, 1.0692, -0.4644,
    -0.3637, 0.5168, 0.596, -0.4377, 0.1126, -0.3163])


def two_label_counterexample(tanh_output: bool = False):
    """A critical point against Theorem 5.3 of 003 with m = 2, L = k + 2 (k = 0).

    Twelve inputs in the plane with one decimal, two classes C_j = {x : x_j > 0}
    (a point may be in both or in neither; Definition 5.1 allows it), the
    squared hinge loss of eq. (4), a (2, 2, 2) network with a tanh hidden
    layer. ``tanh_output=False``: linear output, targets y_ij = +1 on C_j and
    -1 elsewhere (the {+1, -1} encoding of 003); ``True``: tanh on the output
    layer too (one sigma on every layer, as in 003) and targets +-1/2, which
    tanh can exceed, so min Phi = 0 is attained. The parameters are stored to
    4 decimals and Newton-polished with the exact Hessian (found by
    :func:`design_search`, data then rounded; the tanh version by scaling the
    output layer by 1/2 and polishing; chapter N10). Returns
    ``(objective, theta)``: the gradient vanishes, the inputs are separable,
    W_2 has full rank, and the loss is positive (about 18.9, resp. 4.74).
    """
    from ..optimize import newton_polish
    tanh_output = check_bool(tanh_output, "tanh_output")
    C = _TWO_LABEL_X > 0
    net = Network((2, 2, 2), "tanh", output_activation="tanh" if tanh_output else None)
    scale = 0.5 if tanh_output else 1.0
    obj = Objective(net, _TWO_LABEL_X, scale * class_signs(C),
                    loss=get_loss("squared_hinge"), classes=C)
    start = _TWO_LABEL_THETA_TANH if tanh_output else _TWO_LABEL_THETA
    theta, _, _ = newton_polish(obj, start, gtol=1e-13, max_steps=20)
    return obj, theta
