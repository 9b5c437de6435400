"""The linear region of 002, Section 3.1, and its linear-regression loss.

When every activation value is one (a_ij = 1 for all samples i and hidden
nodes j), the network of 002, eq. (1), is the affine map
f(x, θ) = (Wᵀv)ᵀx + vᵀb + c. Section 3.1 places a least-squares fit
u, d of the data inside that region:

* eq. (5): b_j = −min_i w_jᵀx_i + 1, so that min_i (w_jᵀx_i + b_j) = 1 > 0
  (:func:`eq5_biases`; ``margin`` generalises the 1);
* "Let vᵀW = uᵀ, c = −vᵀb + d": then f(x_i, θ) = uᵀx_i + d, and θ lies in
  the open linear region (:func:`linear_region_point`).

The point is a global minimum of L_{g_A} for the all-ones pattern A, in the
interior of its region, hence a (differentiable, non-strict) local minimum of
L_f whose loss is the linear-regression loss (:func:`linear_fit`).
:func:`interior_radius` gives a ball around a point of an open region in
which the activation pattern cannot change.

Section 3.1 says the linear region "always forms poor local minima when a
dataset is nonlinear". Whether the network can do better depends on its
width: :func:`one_node_global_minimum` computes the exact global minimum of
L_f for one input and one hidden node, where it can equal the linear loss.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_real, check_rng
from .model import check_relu_objective as _check_relu
from .model import from_paper, pre_activations

__all__ = ["LinearFit", "linear_fit", "eq5_biases", "LinearRegionPoint", "linear_region_point",
           "interior_radius", "OneNodeFit", "one_node_global_minimum"]


@dataclass(frozen=True)
class LinearFit:
    """A least-squares affine fit uᵀx + d of the data (002, Section 3.1).

    ``u`` (n,), ``d`` (float; ``None`` for a network without biases, whose
    linear model is uᵀx), ``loss`` = ½ Σ (uᵀx_i + d − y_i)² with the
    objective's normalisation, ``rank`` the rank of the design matrix
    [X, 1] (``u`` is the minimum-norm solution when it is rank deficient).
    """

    u: np.ndarray
    d: float | None
    loss: float
    rank: int

    def predict(self, X) -> np.ndarray:
        """uᵀx + d for the rows of ``X`` (N, n)."""
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.u.shape[0]:
            raise ValueError(f"X must have {self.u.shape[0]} columns, got {X.shape[1]}")
        return X @ self.u + (self.d if self.d is not None else 0.0)


def linear_fit(objective) -> LinearFit:
    """The linear-regression fit of the objective's data: min over u, d of ½ Σ (uᵀx_i + d − y_i)².

    002, Section 3.1: "If f(x_i, θ) is linear, then it is of form uᵀx_i + d".
    Without biases the model is uᵀx (no d), the linear model of the
    bias-free network. Solved by :func:`numpy.linalg.lstsq`.
    """
    objective = _check_relu(objective)
    X, y = objective.X, objective.y
    biases = objective.net.biases
    D = np.hstack([X, np.ones((X.shape[0], 1))]) if biases else X
    coef, _, rank, _ = np.linalg.lstsq(D, y, rcond=None)
    r = D @ coef - y
    u = coef[:X.shape[1]].copy()
    d = float(coef[-1]) if biases else None
    return LinearFit(u=u, d=d, loss=float(objective.c * (r @ r)), rank=int(rank))


def _check_W(objective, W, name="W"):
    n, h = objective.net.widths[0], objective.net.widths[1]
    W = as_float_array(W, name)
    if W.shape != (h, n):
        raise ValueError(f"{name} must have shape (h, n) = {(h, n)}, got {W.shape}")
    return W


def eq5_biases(objective, W, *, margin: float = 1.0) -> np.ndarray:
    """b_j = −min_i w_jᵀx_i + margin: every pre-activation w_jᵀx_i + b_j >= margin.

    002, eq. (5) (``margin = 1``): with these biases every hidden node is
    active on every sample, min_i (w_jᵀx_i + b_j) = margin exactly.
    ``W`` is (h, n); ``margin`` must be positive (the region is open).
    """
    objective = _check_relu(objective)
    if not objective.net.biases:
        raise ValueError("objective: eq. (5) sets the biases b_j, and this network has none "
                         "(without biases a linear region exists only if the data lie in an open "
                         "half-space through 0)")
    W = _check_W(objective, W)
    margin = check_real(margin, "margin", positive=True)
    return -(objective.X @ W.T).min(axis=0) + margin


@dataclass(frozen=True)
class LinearRegionPoint:
    """The point of 002, Section 3.1: f(x, θ) = uᵀx + d with every activation value one.

    ``theta`` (flat core layout), 002's ``W``, ``v``, ``b``, ``c``; the fit
    ``fit`` (:class:`LinearFit`); ``margin`` = min_ij (w_jᵀx_i + b_j), the
    distance of the pre-activations from the ReLU kink (the ``margin``
    argument, 1 in eq. (5), up to round-off).
    """

    theta: np.ndarray
    W: np.ndarray
    v: np.ndarray
    b: np.ndarray
    c: float
    fit: LinearFit
    margin: float

    @property
    def loss(self) -> float:
        """The linear-regression loss ½ Σ (uᵀx_i + d − y_i)², = L_f(θ)."""
        return self.fit.loss


def _factor(u, h, n, v, W, rng, utol):
    """v (h,) and W (h, n) with vᵀW = uᵀ (002, Section 3.1, "Let vᵀW = uᵀ").

    ``utol``: a slope below it is zero up to round-off (for v = 0).
    """
    tol = 1e-12 * (1.0 + np.linalg.norm(u))
    if W is not None and v is None:
        v = np.linalg.lstsq(W.T, u, rcond=None)[0]
        gap = np.linalg.norm(W.T @ v - u)
        if gap > tol * (1.0 + np.linalg.norm(W)):
            rank = np.linalg.matrix_rank(W)
            raise ValueError(f"W: no v with vᵀW = uᵀ: u is not in the row space of W (rank {rank} "
                             f"< n = {n}; distance {gap:.3g}); choose W and v together")
        return v, W
    if v is None:
        v = rng.standard_normal(h) if rng is not None else np.ones(h)
    if not np.any(v):
        if np.linalg.norm(u) > utol:
            raise ValueError("v: vᵀW = uᵀ has no solution W for v = 0 and u ≠ 0")
        return v, (np.zeros((h, n)) if W is None else W)
    if W is None:
        W0 = rng.standard_normal((h, n)) if rng is not None else np.zeros((h, n))
        # the general solution of vᵀW = uᵀ: W0 plus a rank-one correction along v
        W = W0 + np.outer(v, u - W0.T @ v) / (v @ v)
        return v, W
    gap = np.linalg.norm(W.T @ v - u)
    if gap > tol * (1.0 + np.linalg.norm(W) * np.linalg.norm(v)):
        raise ValueError(f"W, v: vᵀW must equal uᵀ (the least-squares slope), off by {gap:.3g}")
    return v, W


def linear_region_point(objective, *, v=None, W=None, rng=None, margin: float = 1.0) -> LinearRegionPoint:
    """θ in the open linear region with f(x_i, θ) = uᵀx_i + d, the least-squares fit (002, Section 3.1).

    The construction of Section 3.1: (u, d) = :func:`linear_fit`; v and W
    with vᵀW = uᵀ; b by eq. (5) (:func:`eq5_biases`, every pre-activation
    >= ``margin``); c = −vᵀb + d. Then g_A = f on the data for the all-ones
    pattern A, and L_f(θ) is the linear-regression loss.

    v and W: both ``None`` gives v = (1, ..., 1), W = v uᵀ / h (every w_j =
    u / h), or, with ``rng``, a random v and a random W with vᵀW = uᵀ;
    ``v`` alone (nonzero) gives the W of least norm change from 0 (or from
    a random W0 with ``rng``): W = W0 + v(u − W0ᵀv)ᵀ/|v|², which is every
    solution as W0 varies; ``W`` alone solves Wᵀv = u (ValueError if u is
    not in the row space of W, always possible when h < n); both must
    satisfy vᵀW = uᵀ. Needs a network with biases.
    """
    objective = _check_relu(objective)
    net = objective.net
    if not net.biases:
        raise ValueError("objective: Section 3.1's construction sets b and c, and this network has "
                         "no biases")
    n, h = net.widths[0], net.widths[1]
    margin = check_real(margin, "margin", positive=True)
    if rng is not None:
        rng = check_rng(rng)
    if v is not None:
        v = as_float_array(v, "v").reshape(-1) if np.ndim(v) else as_float_array([v], "v")
        if v.shape != (h,):
            raise ValueError(f"v must have h = {h} entries, got shape {v.shape}")
    if W is not None:
        W = _check_W(objective, W)
    fit = linear_fit(objective)
    utol = 1e-12 * (1.0 + np.abs(objective.y).max()) / max(np.abs(objective.X).max(), 1e-300)
    v, W = _factor(fit.u, h, n, v, W, rng, utol)
    b = eq5_biases(objective, W, margin=margin)
    c = fit.d - float(v @ b)
    theta = from_paper(net, W, v, b, c)
    Z = pre_activations(objective, theta)
    return LinearRegionPoint(theta=theta, W=W, v=v, b=b, c=c, fit=fit, margin=float(Z.min()))


def interior_radius(objective, theta) -> float:
    """A radius r such that every θ' with |θ' − θ| < r has the activation pattern of θ.

    r = min_ij |w_jᵀx_i + b_j| / max_i |(x_i, 1)| (|x_i| without biases):
    a change of (w_j, b_j) of norm < r moves w_jᵀx_i + b_j by less than
    min |w_jᵀx_i + b_j|, and v, c do not enter the pattern (002,
    Definition 2.1). 0 if θ is on a boundary (a pre-activation is 0). In
    the ball L_f = L_{g_A} (the argument of 002, Lemma 2.2).
    """
    objective = _check_relu(objective)
    Z = pre_activations(objective, theta)
    X = objective.X
    norms = np.sqrt((X * X).sum(axis=1) + (1.0 if objective.net.biases else 0.0))
    top = norms.max()
    if top == 0.0:
        return float("inf")
    return float(np.abs(Z).min() / top)


@dataclass(frozen=True)
class OneNodeFit:
    """The global minimum of L_f for a 1-1-1 ReLU network with biases (:func:`one_node_global_minimum`).

    ``loss`` = min_θ L_f(θ); ``theta`` attains it; the fit is
    c + α σ(s x − τ): ``orientation`` s = ±1 (active right or left of the
    kink), ``kink`` = s τ in x, ``alpha`` = α (0 for a constant fit).
    """

    loss: float
    theta: np.ndarray
    orientation: int
    kink: float
    alpha: float


def one_node_global_minimum(objective) -> OneNodeFit:
    """The exact global minimum of L_f over all θ for n = 1 input and h = 1 hidden node (with biases).

    The network vσ(wx + b) + c computes c + α σ(s x − τ) (s = sign w), so
    min L_f is the best least-squares fit of y by span{1, σ(s x − τ)} over
    s = ±1 and the kink τ. With the data sorted, for τ between two
    consecutive inputs the feature is φ(τ) = a∘(s x) − τ a with a fixed, and
    L = ½|e|² − ½ (φᵀe)² / |Pφ|² (e = y − ȳ, P the centring): a ratio of
    quadratics in τ whose derivative has one zero, so each interval is
    minimised exactly at an end or at that zero. Used to test 002,
    Section 3.1, "always forms poor local minima when a dataset is
    nonlinear": for h = 1 the linear-region loss can be the global minimum.
    """
    objective = _check_relu(objective)
    net = objective.net
    if net.widths[:2] != (1, 1) or not net.biases:
        raise ValueError(f"objective: needs the 1-1-1 ReLU network with biases, got {net}")
    x, y = objective.X[:, 0], objective.y
    N = x.shape[0]
    e = y - y.mean()
    best = (0.5 * float(e @ e), 1, 0.0)            # the constant fit (v = 0)
    for s in (1, -1):
        z = np.sort(s * x)
        for k in range(N):                          # active: the z_i > kink, at least one
            lo = z[k - 1] if k > 0 else -np.inf
            hi = z[k]
            a = (s * x > lo).astype(float)
            m = a * s * x
            Pm, Pa = m - m.mean(), a - a.mean()
            A, B = float(m @ e), float(a @ e)
            q0, q1, q2 = float(Pm @ Pm), float(Pm @ Pa), float(Pa @ Pa)
            cands = [hi] if k == 0 else [lo, hi]
            den = B * q1 - A * q2
            if den != 0.0:
                t = (B * q0 - A * q1) / den          # the zero of dR/dτ
                if lo < t < hi:
                    cands.append(t)
            for t in cands:
                Q = q0 - 2.0 * q1 * t + q2 * t * t
                if Q <= 1e-14 * (q0 + q2 * t * t):
                    continue                       # φ constant on the data: the constant fit
                loss = 0.5 * float(e @ e) - 0.5 * (A - B * t) ** 2 / Q
                if loss < best[0]:
                    best = (loss, s, float(t))
    _, s, t = best
    phi = np.maximum(s * x - t, 0.0)
    D = np.stack([phi, np.ones(N)], axis=1)
    alpha, c = np.linalg.lstsq(D, y, rcond=None)[0]
    theta = from_paper(net, [[float(s)]], [alpha], [-t], c)
    return OneNodeFit(loss=objective.value(theta), theta=theta, orientation=int(s), kink=s * t,
                      alpha=float(alpha))
