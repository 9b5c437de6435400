"""Theorem 3.1 of 003 (Gori and Tesi 1992) and the induction of Theorem 3.4 / Lemma 3.5.

Theorem 3.1 of 003 restates Theorem 1 of Gori and Tesi: with the squared
loss and a bounded activation sigma: R -> [d_lo, d_hi] with sigma' > 0 and

    lim_{a -> +inf} sigma'(a) / (d_hi - sigma(a)) > 0,
    lim_{a -> +inf} -sigma''(a) / (d_hi - sigma(a)) > 0,
    lim_{a -> -inf} sigma'(a) / (sigma(a) - d_lo) > 0,
    lim_{a -> -inf} sigma''(a) / (sigma(a) - d_lo) > 0,

every critical point with rank W_l = n_l (l = 2..L) at which
"[X, 1_N]^T Delta_1 = 0 implies Delta_1 = 0" is a global minimum.
:func:`gori_tesi_limits` computes the four limits exactly (sympy).
:func:`layer_one_report` checks the two conditions at a point: at a critical
point [X, 1_N]^T Delta_1 is the gradient of layer 1 (Lemma 2.1), so condition 2
asks Delta_1 = 0, and when rank [X, 1_N] < N a non-zero Delta_1 can sit in the
kernel of [X, 1_N]^T. :func:`constant_point` builds the critical points where
the network is constant in x (W_1 = 0) and outputs the best constant.
:func:`induction_chain` follows the proof of Theorem 3.4 (k = 0) and of
Lemma 3.5 (k >= 1) with norms: ||Delta_{k+1}|| <= ||grad_{k+1}|| / s_N([F_k, 1]),
then ||Delta_{l+1}|| <= ||Delta_l|| / (min sigma'(G_l) s_min(W_{l+1})), and
||l'(F_L - Y)|| <= ||Delta_L|| / min tau'(G_L): a critical point certifies
that l'(F_L - Y) = 0 up to a computable multiple of its gradient norm.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import optimize as _sopt

from .._validation import check_int, check_real
from ..activations import Activation, get_activation
from ..losses import Loss
from ..objective import Objective, paper_matrices
from .rank_conditions import RankMargin, numerical_rank

__all__ = ["LIMIT_NAMES", "GoriTesiLimits", "gori_tesi_limits", "activation_from_expr", "tanh_cubed",
           "LayerOneReport", "layer_one_report", "constant_point", "InductionChain", "induction_chain"]

LIMIT_NAMES = ("sigma'/(d_hi - sigma), a -> +inf", "-sigma''/(d_hi - sigma), a -> +inf",
               "sigma'/(sigma - d_lo), a -> -inf", "sigma''/(sigma - d_lo), a -> -inf")


# ------------------------------------------------------------------ the four limits
@dataclass(frozen=True)
class GoriTesiLimits:
    """The four limits of Theorem 3.1 of 003 for one activation, exact.

    ``limits`` maps each name of :data:`LIMIT_NAMES` to its sympy value
    (possibly ``oo`` or ``0``); ``lower``/``upper`` are d_lo and d_hi;
    ``holds`` says whether all four are > 0 (decided by sympy; +oo counts
    as > 0, the limit exists in the extended sense).
    """

    name: str
    lower: sp.Expr
    upper: sp.Expr
    expressions: dict
    limits: dict

    @property
    def holds(self) -> bool:
        """All four limits are > 0 (+oo included)."""
        return all(bool(v.is_extended_positive) for v in self.limits.values())

    def values(self) -> tuple:
        """The four limits in the order of :data:`LIMIT_NAMES`."""
        return tuple(self.limits[n] for n in LIMIT_NAMES)


def _bound(value, name):
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if isinstance(value, (float, np.floating, int, np.integer)):
        value = check_real(value, name)
        return sp.nsimplify(value)
    value = sp.sympify(value)
    if value.free_symbols or not value.is_real or not value.is_finite:
        raise ValueError(f"{name} must be a finite real number, got {value}")
    return value


def gori_tesi_limits(sigma, lower=None, upper=None, symbol=None) -> GoriTesiLimits:
    """The four limits of Theorem 3.1 of 003 for ``sigma``, with sympy.

    Parameters
    ----------
    sigma : str, Activation or sympy expression
        An activation of :mod:`lossland.activations` (it must be bounded: its
        image gives d_lo and d_hi), or an expression in ``symbol``.
    lower, upper : number, optional
        d_lo and d_hi. Default: the activation's image, or the limits of the
        expression at -inf and +inf. Passing another ``upper`` shows what the
        conditions say with a bound that is not sigma's supremum.
    symbol : sympy Symbol
        The variable of an expression ``sigma`` (ignored for activations).
    """
    if isinstance(sigma, (str, Activation)):
        act = get_activation(sigma)
        expr, x, name = act.expr, act.symbol, act.name
        if lower is None or upper is None:
            if not act.bounded:
                raise ValueError(f"sigma must be bounded for Theorem 3.1 of 003 (sigma: R -> [d_lo, d_hi]); "
                                 f"{act.name} has image {act.image}")
            lower = act.image[0] if lower is None else lower
            upper = act.image[1] if upper is None else upper
    elif isinstance(sigma, sp.Expr):
        if not isinstance(symbol, sp.Symbol):
            raise TypeError(f"symbol must be the sympy Symbol of the expression sigma, got {symbol!r}")
        if sigma.free_symbols - {symbol}:
            raise ValueError(f"sigma must depend on {symbol} only, got {sigma}")
        expr, x, name = sigma, symbol, str(sigma)
        if lower is None:
            lower = sp.limit(expr, x, -sp.oo)
        if upper is None:
            upper = sp.limit(expr, x, sp.oo)
    else:
        raise TypeError(f"sigma must be an activation name, an Activation or a sympy expression, got {sigma!r}")
    lo, hi = _bound(lower, "lower"), _bound(upper, "upper")
    if not bool(lo < hi):
        raise ValueError(f"lower must be below upper, got {lo} and {hi}")
    d1, d2 = sp.diff(expr, x), sp.diff(expr, x, 2)
    ratios = (d1 / (hi - expr), -d2 / (hi - expr), d1 / (expr - lo), d2 / (expr - lo))
    ends = (sp.oo, sp.oo, -sp.oo, -sp.oo)
    exprs, limits = {}, {}
    for nm, r, end in zip(LIMIT_NAMES, ratios, ends):
        r = sp.simplify(r.rewrite(sp.exp))          # exponential form: faster, surer limits
        exprs[nm] = r
        limits[nm] = sp.limit(r, x, end)
    return GoriTesiLimits(name, lo, hi, exprs, limits)


# ------------------------------------------------------------------ an activation outside the proof
def activation_from_expr(expr, symbol, name: str, image) -> Activation:
    """An :class:`Activation` from a sympy expression (sigma, sigma', sigma'' by ``lambdify``).

    ``image`` is the open interval sigma(R). For activations outside the
    registry, such as :func:`tanh_cubed`.
    """
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"expr must be a sympy expression, got {expr!r}")
    if not isinstance(symbol, sp.Symbol):
        raise TypeError(f"symbol must be a sympy Symbol, got {symbol!r}")
    if expr.free_symbols - {symbol}:
        raise ValueError(f"expr must depend on {symbol} only, got {expr}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    lo, hi = (check_real(v, "image", low=-np.inf) if np.isfinite(v) else float(v) for v in image)
    if not lo < hi:
        raise ValueError(f"image must be an interval (lo, hi) with lo < hi, got {image}")
    x = Activation.symbol
    e = expr.subs(symbol, x)
    fns = [sp.lambdify(x, d, "numpy") for d in (e, sp.diff(e, x), sp.diff(e, x, 2))]

    def wrap(fn):
        return lambda t: np.asarray(fn(np.asarray(t, dtype=float)), dtype=float) * np.ones_like(t, dtype=float)
    return Activation(name, *(wrap(fn) for fn in fns), e, (lo, hi))


def tanh_cubed() -> Activation:
    """sigma(t) = tanh(t^3): analytic, strictly increasing, bounded, but sigma'(0) = 0.

    It satisfies Assumptions 3.2 of 003 as printed (item 2(a)); the proof of
    Theorem 3.4 uses sigma' > 0 everywhere, which it violates at 0. Chapter N4
    builds from it a critical point that is not a global minimum although
    rank [X, 1_N] = N and every W_l (l >= 2) has full column rank.
    """
    t = sp.Symbol("t", real=True)
    return activation_from_expr(sp.tanh(t**3), t, "tanh_cubed", (-1.0, 1.0))


# ------------------------------------------------------------------ the conditions at a point
def _objective(objective):
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a lossland.objective.Objective, got {type(objective).__name__}")
    return objective


@dataclass(frozen=True)
class LayerOneReport:
    """The two conditions of Theorem 3.1 of 003 at a point (:func:`layer_one_report`).

    ``feature``: rank of E = [X, 1_N] (rank N makes condition 2 automatic);
    ``kernel_dim`` = N - rank E, the dimension of ker E^T;
    ``grad_norm`` = ||E^T Delta_1||_F, the norm of the gradient of layer 1;
    ``delta_norm`` = ||Delta_1||_F; ``range_part`` and ``kernel_part`` the
    norms of the projections of Delta_1 on range(E) and on ker E^T;
    ``upper``: l -> rank of 003's W_l (n_{l-1} x n_l) for l = 2..L (condition 1).
    """

    feature: RankMargin
    kernel_dim: int
    grad_norm: float
    delta_norm: float
    range_part: float
    kernel_part: float
    upper: dict

    @property
    def condition1(self) -> bool:
        """rank W_l = n_l for l = 2..L."""
        return all(r.full_column_rank for r in self.upper.values())

    def delta_in_kernel(self, rtol: float = 1e-10) -> bool:
        """Delta_1 != 0 and its part in range(E) is below ``rtol`` times its norm."""
        return self.delta_norm > 0 and self.range_part <= rtol * self.delta_norm


def layer_one_report(objective: Objective, theta) -> LayerOneReport:
    """Conditions 1 and 2 of Theorem 3.1 of 003 at ``theta``, with margins.

    E = [X, 1_N]; at a critical point E^T Delta_1 = 0 (003, Lemma 2.1, the
    gradient of W_1 and b_1), so "E^T Delta_1 = 0 implies Delta_1 = 0" holds
    at the point exactly when Delta_1 = 0; when rank E < N the kernel of E^T
    is not trivial and Delta_1 can be a non-zero vector in it.
    """
    _objective(objective)
    theta = objective.net.check_params(theta)
    pm = paper_matrices(objective, theta)
    E = pm.E(0)
    feature = numerical_rank(E)
    U = np.linalg.svd(E, full_matrices=True)[0]
    Ur = U[:, :feature.rank]
    D1 = pm.Delta[1]
    inside = Ur @ (Ur.T @ D1)
    upper = {l: numerical_rank(pm.W[l]) for l in range(2, objective.net.depth + 1)}
    return LayerOneReport(feature, E.shape[0] - feature.rank, float(np.linalg.norm(E.T @ D1)),
                          float(np.linalg.norm(D1)), float(np.linalg.norm(inside)),
                          float(np.linalg.norm(D1 - inside)), upper)


# ------------------------------------------------------------------ constant networks
def _invert(act: Activation | None, c: float) -> float:
    """g with act(g) = c (the output activation is strictly increasing)."""
    if act is None:
        return c
    lo, hi = act.image
    if not lo < c < hi:
        raise ValueError(f"the best constant {c:.6g} is outside the image {act.image} of the output "
                         f"activation {act.name}")
    a, b = -1.0, 1.0
    while float(act(a)) > c:
        a *= 2.0
    while float(act(b)) < c:
        b *= 2.0
    return float(_sopt.brentq(lambda g: float(act(g)) - c, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def constant_point(objective: Objective, theta) -> np.ndarray:
    """``theta`` with its output bias b_L replaced so that the constant network outputs the best constant.

    Requires W_1 = 0 in ``theta`` (the network is then constant in x). Each
    output j gets the constant c_j with sum_i l'(c_j - y_ij) = 0 (found in
    [min_i y_ij, max_i y_ij], where the sum changes sign for losses that
    increase with the size of the residual, as all of :mod:`lossland.losses`
    but the class loss),
    and b_L is set so that f_Lj = c_j. Such a point is a critical point of
    Phi whenever X^T l'(c - Y) = 0 (targets uncorrelated with the inputs)
    or some W_l, l >= 2, is zero (003: Delta_1 vanishes then); see chapter N2
    and N4 of the book.
    """
    _objective(objective)
    if not isinstance(objective.loss, Loss):
        raise ValueError(f"constant_point needs a loss of one residual, not the class loss "
                         f"{objective.loss.name!r}")
    net = objective.net
    theta = net.check_params(theta).copy()
    if np.any(theta[net.weight_slice(1)] != 0):
        raise ValueError("theta must have W_1 = 0 (a network that is constant in x)")
    if not net.biases:
        raise ValueError("the network needs biases to output a constant")
    L = net.depth
    fw = net.forward(theta, objective.X[:1])
    W, _ = net.unflatten(theta)
    before = fw.act[L - 1][0] @ W[L].T             # W_L f_{L-1} without b_L
    g = np.empty(net.widths[-1])
    for j in range(net.widths[-1]):
        y = objective.Y[:, j]
        s = lambda c, y=y: float(np.sum(objective.loss.d1(c - y)))
        lo, hi = float(y.min()), float(y.max())
        if objective.loss.name == "squared" or lo == hi:
            c = float(np.mean(y))                      # exact when the mean is a binary fraction
        else:
            c = float(_sopt.brentq(s, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))
        g[j] = _invert(net.output_activation, c)
    theta[net.bias_slice(L)] = g - before
    return theta


# ------------------------------------------------------------------ the induction of Theorem 3.4
@dataclass(frozen=True)
class InductionChain:
    """The proof of Theorem 3.4 (k = 0) / Lemma 3.5 (k >= 1) of 003, with norms.

    ``feature``: rank of [F_k, 1_N] (must be N); ``upper``: l -> rank of W_l
    for l = k+2..L (must be n_l); ``grad_norm``: ||[F_k, 1]^T Delta_{k+1}||_F,
    the gradient norm of layer k+1; ``delta_norms`` and ``bounds``: layer
    l -> ||Delta_l||_F and the bound the proof's step gives for it;
    ``lprime_norm``/``lprime_bound``: the same for l'(F_L - Y).
    """

    k: int
    feature: RankMargin
    upper: dict
    grad_norm: float
    delta_norms: dict
    bounds: dict
    lprime_norm: float
    lprime_bound: float

    @property
    def hypotheses(self) -> bool:
        """rank [F_k, 1] = N and rank W_l = n_l for l = k+2..L."""
        return self.feature.full_row_rank and all(r.full_column_rank for r in self.upper.values())

    @property
    def bounds_hold(self) -> bool:
        """Every norm is within its bound (up to a relative 1e-9 for round-off)."""
        pairs = [(self.delta_norms[l], self.bounds[l]) for l in self.bounds]
        pairs.append((self.lprime_norm, self.lprime_bound))
        return all(a <= b * (1 + 1e-9) + 1e-300 for a, b in pairs)


def induction_chain(objective: Objective, theta, k: int = 0) -> InductionChain:
    """Follow the induction of the proof of Theorem 3.4 (k = 0) or Lemma 3.5 (k >= 1) of 003 at ``theta``.

    Step 0: [F_k, 1]^T Delta_{k+1} is the gradient of layer k+1, so
    ||Delta_{k+1}|| <= ||grad_{k+1}|| / s_N([F_k, 1]) when rank [F_k, 1] = N.
    Step l (Lemma 2.1): Delta_l = (Delta_{l+1} W_{l+1}^T) o sigma'(G_l), so
    ||Delta_{l+1}|| <= ||Delta_l|| / (min sigma'(G_l) * s_min(W_{l+1})) when
    W_{l+1} has full column rank. Last: Delta_L = l'(F_L - Y) o tau'(G_L)
    (tau the output activation, tau' = 1 for a linear output). The bounds
    are infinite where a hypothesis fails.
    """
    _objective(objective)
    net = objective.net
    L = net.depth
    k = check_int(k, "k", 0, L - 1)
    theta = net.check_params(theta)
    pm = paper_matrices(objective, theta)
    E = pm.E(k)
    feature = numerical_rank(E)
    upper = {l: numerical_rank(pm.W[l]) for l in range(k + 2, L + 1)}
    grad = float(np.linalg.norm(E.T @ pm.Delta[k + 1]))
    N = E.shape[0]
    sN = feature.singular_values[N - 1] if feature.rank == N else 0.0
    bounds = {k + 1: grad / sN if sN > 0 else np.inf}
    for l in range(k + 1, L):
        s_w = upper[l + 1].singular_values[-1] if upper[l + 1].full_column_rank else 0.0
        slope = float(np.min(net.activation.d1(pm.G[l])))
        denom = slope * s_w
        bounds[l + 1] = bounds[l] / denom if denom > 0 else np.inf
    out = net.output_activation
    tau1 = np.ones_like(pm.G[L]) if out is None else out.d1(pm.G[L])
    R = pm.F[L] - objective.Y
    if objective.classes is None:
        lprime = objective.loss.d1(R)
    else:
        lprime = objective.loss.d1(R, objective.classes)
    t_min = float(np.min(tau1))
    delta_norms = {l: float(np.linalg.norm(pm.Delta[l])) for l in range(k + 1, L + 1)}
    return InductionChain(k, feature, upper, grad, delta_norms, bounds, float(np.linalg.norm(lprime)),
                          bounds[L] / t_min if t_min > 0 else np.inf)
