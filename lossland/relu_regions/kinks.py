"""Region boundaries of 002's network: one-sided derivatives, differentiability, minima.

On a boundary of an activation region (002, Definition 2.1) some
pre-activation w_jᵀx_i + b_j is exactly 0: a *kink* (sample i, node j;
code indices from 0). There the gradient of L_f (002, eq. (3)) need not
exist, and the core's ``objective.gradient`` refuses. What always exists is
the one-sided directional derivative

    D_d L_f(θ) = lim_{t→0+} (L_f(θ + t d) − L_f(θ)) / t.

**Formula.** Write z_ij = w_jᵀx̃_i (x̃_i = (x_i, 1) with biases, x_i
without), dz_ij = δ_jᵀx̃_i for the change δ_j = (dw_j, db_j) of node j, and
r_i = f(x_i, θ) − y_i. Then σ(z + t dz) = σ(z) + t s + o(t) with s = dz for
z > 0, 0 for z < 0 and max(dz, 0) for z = 0, and

    D_d L_f = 2c Σ_i r_i (Σ_j (dv_j σ(z_ij) + v_j s_ij) + dc)

(c = ½ for 002's loss). With :class:`fractions.Fraction` entries in θ or d
everything is computed exactly (the data's floats are exact binary
fractions) and the result is a ``Fraction``.

**When the gradient exists at a kink.** Split the kinks of node j by the
line through the origin that x̃_i lies on; pick u on that line and write
x̃_i = λ_i u. Since max(−a, 0) = max(a, 0) − a, the kinks of node j add
2c v_j Σ_lines κ_jℓ max(δ_jᵀu_ℓ, 0) plus a linear function of δ_j to the
slope, with κ_jℓ = Σ_{i on ℓ} r_i |λ_i|. Hinges on different lines are
independent, so L_f is differentiable at θ if and only if

    v_j κ_jℓ = 0 for every node j and every line ℓ of its kinks

(x̃_i and −x̃_i lie on one line: their residuals add with weights |λ_i|).
L_f is piecewise polynomial, so a linear directional derivative is a
Fréchet derivative. :func:`classify` returns "interior" (no kink),
"boundary-differentiable" or "non-differentiable";
:func:`gradient` returns the gradient wherever it exists.

**Local minima at a kink.** Near θ the parameter space splits into
finitely many polyhedral cones C_S (S: which kinks turn on); on θ + C_S,
L_f equals the polynomial L_{g_A(S)} of 002, eq. (2). :func:`minimum_test`
checks the first-order condition D_d L_f ≥ 0 for all d exactly as a
family of small linear programs, and the second-order necessary condition
on each cone; both are only necessary (a local minimum of L_f is never
strict in a direction that rescales a node). :func:`ray_polynomial`
gives L_f(θ + t d) exactly as a polynomial in t on the piece that the
ray t ↦ θ + t d, t ≥ 0, starts in.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Rational, Real

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import linprog

from .._validation import as_float_array, check_real
from .model import check_relu_objective as _check_relu
from .model import hessian_g

__all__ = ["KINDS", "kinks", "directional_derivative", "RayPolynomial", "ray_polynomial",
           "PointKind", "classify", "point_kind", "gradient", "MinimumTest", "minimum_test"]

KINDS = ("interior", "boundary-differentiable", "non-differentiable")
"""The three kinds of points returned by :func:`classify`."""

_MAX_PATTERNS = 4096


# --------------------------------------------------------------------- inputs
def _is_exact(values) -> bool:
    return any(isinstance(x, Fraction) for x in values)


def _as_float(x, name):
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must contain real numbers or Fractions, got {x!r}")
    return float(x)


def _to_fraction(x, name):
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must contain real numbers, got {x!r}")
    if isinstance(x, Rational):
        return Fraction(x)
    if isinstance(x, (Integral, np.integer)):
        return Fraction(int(x))
    if isinstance(x, (Real, np.floating)):
        return Fraction(float(x))
    raise TypeError(f"{name} must contain real numbers or Fractions, got {x!r}")


def _vector(value, name, size, exact=None):
    """``value`` as a float array or (exact) an object array of Fractions, length ``size``."""
    if isinstance(value, np.ndarray) and value.dtype == object or isinstance(value, (list, tuple)):
        flat = list(np.asarray(value, dtype=object).reshape(-1)) if np.ndim(value) == 1 else None
        if flat is None:
            raise ValueError(f"{name} must be a 1-d array, got shape {np.shape(value)}")
        floats = as_float_array(np.array([_as_float(x, name) for x in flat]), name, ndim=1)
        if exact is None:
            exact = _is_exact(flat)
        if exact:
            arr = np.array([_to_fraction(x, name) for x in flat], dtype=object)
        else:
            arr = floats
    else:
        arr = as_float_array(value, name, ndim=1)
        if exact:
            arr = np.array([Fraction(float(x)) for x in arr], dtype=object)
    if arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {arr.shape[0]}")
    return arr


@dataclass
class _Point:
    """θ unpacked in 002's names, in float or exact arithmetic, with the data."""

    exact: bool
    theta: np.ndarray
    W: np.ndarray       # (h, n)
    b: np.ndarray       # (h,), zeros without biases
    v: np.ndarray       # (h,)
    c: object           # output bias (0 without biases)
    Xt: np.ndarray      # (N, m): x̃_i = (x_i, 1) with biases, x_i without
    y: np.ndarray
    norm: object        # the loss factor (½ for 002)
    Z: np.ndarray       # (N, h) pre-activations
    r: np.ndarray       # (N,) residuals
    coords: list        # coords[j]: flat indices of (w_j, b_j), in the order of x̃
    v_idx: np.ndarray
    c_idx: int | None


def _layout(net):
    n, h = net.widths[0], net.widths[1]
    w0 = net.weight_slice(1).start
    coords = []
    for j in range(h):
        idx = list(range(w0 + j * n, w0 + (j + 1) * n))
        if net.biases:
            idx.append(net.bias_slice(1).start + j)
        coords.append(np.array(idx, dtype=int))
    v_idx = np.arange(net.weight_slice(2).start, net.weight_slice(2).stop)
    c_idx = net.bias_slice(2).start if net.biases else None
    return coords, v_idx, c_idx


def _point(objective, theta, exact=None) -> _Point:
    objective = _check_relu(objective)
    net = objective.net
    theta = _vector(theta, "theta", net.n_params, exact)
    exact = theta.dtype == object
    n, h = net.widths[0], net.widths[1]
    X, y = objective.X, objective.y
    if exact:
        conv = np.vectorize(lambda x: Fraction(float(x)), otypes=[object])
        X, y = conv(X), conv(y)
        norm, zero, one = Fraction(objective.c), Fraction(0), Fraction(1)
    else:
        norm, zero, one = objective.c, 0.0, 1.0
    coords, v_idx, c_idx = _layout(net)
    W = theta[net.weight_slice(1)].reshape(h, n)
    v = theta[net.weight_slice(2)]
    if net.biases:
        b, c = theta[net.bias_slice(1)], theta[c_idx]
        Xt = np.concatenate([X, np.full((X.shape[0], 1), one, dtype=X.dtype)], axis=1)
    else:
        b, c = np.full(h, zero, dtype=theta.dtype), zero
        Xt = X
    Z = X @ W.T + b
    sig = np.where(Z > 0, Z, zero)
    r = sig @ v + c - y
    return _Point(exact, theta, W, b, v, c, Xt, y, norm, Z, r, coords, v_idx, c_idx)


def _zero(P):
    return Fraction(0) if P.exact else 0.0


def _direction(P, d, name="d"):
    d = _vector(d, name, P.theta.shape[0], exact=P.exact or None)
    if d.dtype == object and not P.exact:        # Fractions in d, floats in theta: redo exactly
        return None, d
    return P, d


def _kink_list(P):
    nonzero = np.any(P.Xt != 0, axis=1)
    ii, jj = np.nonzero((P.Z == 0) & nonzero[:, None])
    return [(int(i), int(j)) for i, j in zip(ii, jj)]


# ----------------------------------------------------------------- derivatives
def kinks(objective, theta) -> list[tuple[int, int]]:
    """The kinks of θ: pairs (i, j) with w_jᵀx_i + b_j = 0 exactly and x̃_i ≠ 0 (002, Definition 2.1).

    A sample with x̃_i = 0 (x_i = 0 without biases) has z_ij = 0 for every θ and
    is no boundary. Code indices from 0. An empty list: θ is inside a region.
    """
    return _kink_list(_point(objective, theta))


def _slope(P, d):
    """D_d L_f(θ) by the closed formula (module docstring)."""
    net_h = P.W.shape[0]
    zero = _zero(P)
    dW = np.stack([d[P.coords[j]] for j in range(net_h)])            # (h, m): δ_j
    dZ = P.Xt @ dW.T
    sig = np.where(P.Z > 0, P.Z, zero)
    s = np.where(P.Z > 0, dZ, np.where(P.Z < 0, zero, np.where(dZ > 0, dZ, zero)))
    dv = d[P.v_idx]
    dc = d[P.c_idx] if P.c_idx is not None else zero
    df = sig @ dv + s @ P.v + dc
    return 2 * P.norm * (P.r @ df)


def directional_derivative(objective, theta, d):
    """The one-sided directional derivative D_d L_f(θ) = lim_{t→0+} (L_f(θ + t d) − L_f(θ))/t.

    Exact closed formula from the piecewise-linear σ (module docstring; 002,
    eqs. (1), (3)); defined at every θ, on region boundaries too. With
    :class:`fractions.Fraction` entries in ``theta`` or ``d`` the result is a
    ``Fraction`` (exact), otherwise a float.
    """
    P = _point(objective, theta)
    P2, d = _direction(P, d)
    if P2 is None:
        P = _point(objective, theta, exact=True)
    return _slope(P, d)


@dataclass(frozen=True)
class RayPolynomial:
    """L_f(θ + t d) = Σ_k coefficients[k] t^k for 0 <= t <= t_max (exact on that piece).

    ``coefficients`` (c_0, ..., c_4): c_0 = L_f(θ), c_1 = D_d L_f(θ), 2 c_2 the
    one-sided second derivative along d. ``t_max`` is where the first
    pre-activation changes sign along the ray (``math.inf`` if none does).
    """

    coefficients: tuple
    t_max: object

    def __call__(self, t):
        return sum(ck * t**k for k, ck in enumerate(self.coefficients))

    @property
    def leading(self) -> tuple:
        """(k, c_k) for the first nonzero coefficient of order >= 1, or (None, 0)."""
        for k, ck in enumerate(self.coefficients[1:], start=1):
            if ck != 0:
                return k, ck
        return None, self.coefficients[0] * 0


def ray_polynomial(objective, theta, d) -> RayPolynomial:
    """L_f(θ + t d) as an exact polynomial of degree 4 in t on the piece the ray starts in.

    For t in [0, t_max] no pre-activation changes sign, except kinks that
    turn on (dz > 0), so f(x_i, θ + t d) = F0_i + F1_i t + F2_i t² with the
    activations of g_A (002, eq. (2)) frozen at the ray's pattern
    A = 1(z > 0 or z = 0 and dz > 0). Fractions in, Fractions out.
    """
    P = _point(objective, theta)
    P2, d = _direction(P, d)
    if P2 is None:
        P = _point(objective, theta, exact=True)
    zero = _zero(P)
    h = P.W.shape[0]
    dW = np.stack([d[P.coords[j]] for j in range(h)])
    dZ = P.Xt @ dW.T
    act = (P.Z > 0) | ((P.Z == 0) & (dZ > 0))
    dv = d[P.v_idx]
    dc = d[P.c_idx] if P.c_idx is not None else zero
    R0 = P.r
    F1 = np.where(act, dZ * P.v + P.Z * dv, zero).sum(axis=1) + dc
    F2 = np.where(act, dZ * dv, zero).sum(axis=1)
    coeffs = [R0 @ R0, 2 * (R0 @ F1), F1 @ F1 + 2 * (R0 @ F2), 2 * (F1 @ F2), F2 @ F2]
    coeffs = tuple(P.norm * ck for ck in coeffs)
    leave = ((P.Z > 0) & (dZ < 0)) | ((P.Z < 0) & (dZ > 0))
    t_max = min((-P.Z[i, j] / dZ[i, j] for i, j in zip(*np.nonzero(leave))), default=math.inf)
    return RayPolynomial(coeffs, t_max)


# --------------------------------------------------------------- classification
@dataclass(frozen=True)
class PointKind:
    """Result of :func:`classify`.

    ``kind``: one of :data:`KINDS`. ``kinks``: the (sample i, node j) pairs on a
    boundary. ``lines``: one entry (j, samples, κ) per node j and line through
    the origin holding kinks x̃_i = λ_i u of node j, with κ = Σ r_i |λ_i|
    (u = x̃ of the first sample listed). ``blocking``: the (i, j) of the first
    kink whose v_j κ ≠ 0 (``None`` when L_f is differentiable).
    """

    kind: str
    kinks: list
    lines: list
    blocking: tuple | None

    @property
    def differentiable(self) -> bool:
        return self.kind != "non-differentiable"


def _parallel(a, b, tol):
    """λ with b = λ a (``None`` if b is not on the line of a); exact when the entries are Fractions."""
    k = int(np.argmax([abs(x) for x in a]))
    lam = b[k] / a[k]
    dev = max(abs(bb - lam * aa) for aa, bb in zip(a, b))
    scale = max(abs(x) for x in b)
    return lam if dev <= tol * scale else None


def classify(objective, theta, *, tol: float = 0.0) -> PointKind:
    """Interior point, differentiable boundary point or kink of L_f (002, Definition 2.1, eq. (3)).

    L_f is differentiable at θ iff v_j κ_jℓ = 0 for every node j and line ℓ of its
    kinks (module docstring). ``tol`` (float arithmetic only): relative
    tolerance for "on one line" and for κ = 0; the default 0 asks exact
    equality (use exact data or Fractions for boundary points).
    """
    tol = check_real(tol, "tol", low=0.0)
    P = _point(objective, theta)
    ks = _kink_list(P)
    if not ks:
        return PointKind("interior", [], [], None)
    lines, blocking = [], None
    for j in sorted({j for _, j in ks}):
        groups = []                                     # [u, [samples], [λ]]
        for i in (i for i, jj in ks if jj == j):
            for g in groups:
                lam = _parallel(g[0], P.Xt[i], tol)
                if lam is not None:
                    g[1].append(i)
                    g[2].append(lam)
                    break
            else:
                groups.append([P.Xt[i], [i], [_zero(P) + 1]])
        for u, samples, lams in groups:
            kappa = sum((P.r[i] * abs(lam) for i, lam in zip(samples, lams)), _zero(P))
            scale = sum(abs(P.r[i] * lam) for i, lam in zip(samples, lams))
            lines.append((j, tuple(samples), kappa))
            cancels = abs(kappa) <= tol * scale if not P.exact else kappa == 0
            if blocking is None and P.v[j] != 0 and not cancels:
                blocking = (samples[0], j)
    kind = "non-differentiable" if blocking is not None else "boundary-differentiable"
    return PointKind(kind, ks, lines, blocking)


def point_kind(objective, theta, *, tol: float = 0.0) -> str:
    """``classify(objective, theta, tol=tol).kind``: "interior", "boundary-differentiable" or "non-differentiable"."""
    return classify(objective, theta, tol=tol).kind


def gradient(objective, theta, *, tol: float = 0.0) -> np.ndarray:
    """∇L_f(θ) wherever it exists, region boundaries included (002, eq. (3)).

    Component k is the one-sided derivative D_{e_k} L_f(θ) (linear in the
    direction exactly when L_f is differentiable, :func:`classify`). Raises
    ``ValueError`` naming a kink (sample i, node j) where L_f is not
    differentiable. Fractions in, an object array of Fractions out.
    """
    P = _point(objective, theta)
    pk = classify(objective, P.theta, tol=tol)
    if pk.blocking is not None:
        i, j = pk.blocking
        raise ValueError(f"theta: L_f is not differentiable here: kink of sample i={i}, node j={j} "
                         f"(w_j.x_i + b_j = 0, v_j != 0, residuals do not cancel); use "
                         f"directional_derivative for one-sided slopes")
    m = P.theta.shape[0]
    out = np.empty(m, dtype=object if P.exact else float)
    one = Fraction(1) if P.exact else 1.0
    for k in range(m):
        e = np.full(m, _zero(P), dtype=out.dtype)
        e[k] = one
        out[k] = _slope(P, e)
    return out


# ------------------------------------------------------------------ minimum test
@dataclass(frozen=True)
class MinimumTest:
    """Result of :func:`minimum_test` at a point θ.

    ``verdict``: "not a local minimum" (a descent direction of first or
    second order is exhibited), "strict local minimum" (the one-sided slope
    is positive in every direction d ≠ 0, so first order suffices; never the
    case while an output weight or c can move freely), "necessary
    conditions hold" (first order and second order on every cone hold,
    which does **not** prove a minimum) or "undecided" (the Hessian of some
    piece is indefinite on the span of its critical cone but no descent ray
    inside the cone was found). ``min_slope``: min of D_d L_f over the box
    |d|_∞ ≤ 1 (≤ 0; LP, float). ``descent``: a direction d with D_d L_f < 0, or
    with D_d L_f = 0 and negative curvature, and ``descent_ray`` its
    :class:`RayPolynomial` (exact when θ is). ``min_curvature``: over the
    pieces, the smallest eigenvalue of the piece's Hessian on the span of
    its critical cone (``None`` if no piece has a critical direction).
    """

    verdict: str
    kind: str
    first_order: bool
    min_slope: float
    second_order: bool | None
    min_curvature: float | None
    descent: np.ndarray | None
    descent_ray: RayPolynomial | None
    n_pieces: int
    n_lps: int
    tol: float
    details: dict = field(default_factory=dict)


def _lp(c, A_ub, A_eq, m):
    res = linprog(c, A_ub=A_ub if len(A_ub) else None, b_ub=np.zeros(len(A_ub)) if len(A_ub) else None,
                  A_eq=A_eq if len(A_eq) else None, b_eq=np.zeros(len(A_eq)) if len(A_eq) else None,
                  bounds=[(-1.0, 1.0)] * m, method="highs")
    if res.status != 0:                                        # pragma: no cover (d = 0 is feasible)
        raise RuntimeError(f"linprog failed: {res.message}")
    return float(res.fun), res.x


def _pattern_grad(P, A):
    """∇L_{g_A}(θ) of 002, eq. (11), in float, for the pattern A (N, h)."""
    m = P.theta.shape[0]
    Z = np.array(P.Z, dtype=float)
    Xt = np.array(P.Xt, dtype=float)
    v = np.array(P.v, dtype=float)
    r = np.array(P.r, dtype=float)
    g = np.zeros(m)
    for j in range(Z.shape[1]):
        g[P.coords[j]] = v[j] * ((r * A[:, j]) @ Xt)
        g[P.v_idx[j]] = r @ (A[:, j] * Z[:, j])
    if P.c_idx is not None:
        g[P.c_idx] = r.sum()
    return 2 * float(P.norm) * g


def minimum_test(objective, theta, *, tol: float = 1e-9) -> MinimumTest:
    """First- and second-order local-minimum conditions of L_f at θ, also on region boundaries.

    First order (exact up to the LPs): D_d L_f(θ) ≥ 0 for every d. The slope is
    g₀ᵀd plus, for each node j with kinks and v_j ≠ 0, the positively
    homogeneous function 2c v_j Σ_{i kink} r_i max(δ_jᵀx̃_i, 0); it is checked by
    one LP over |δ_j|_∞ ≤ 1 per node and sign pattern of its kinks (highs;
    ``tol`` relative to the size of the slope's terms). A descent direction
    found is re-checked on its :func:`ray_polynomial` (exactly, with small
    rational entries, when θ holds Fractions).

    Second order (necessary only): on each piece C_S (which kinks turn on)
    L_f = L_{g_A(S)} (002, eq. (2)); on the critical cone C_S ∩ {∇L_{g_A(S)}ᵀd = 0}
    the Hessian (:func:`lossland.relu_regions.model.hessian_g`) must be
    ≥ 0. It is checked on the cone's linear span (PSD there implies the
    condition); an eigenvector of negative curvature that lies in the cone
    is a second-order descent direction, reported with its
    :class:`RayPolynomial`. Passing both tests does not prove a local
    minimum: a proof needs an argument (chapters R6, R8).
    """
    tol = check_real(tol, "tol", low=0.0)
    P = _point(objective, theta)
    pk = classify(objective, P.theta)
    m = P.theta.shape[0]
    h = P.W.shape[0]
    ks = pk.kinks
    Zf = np.array(P.Z, dtype=float)
    Xt = np.array(P.Xt, dtype=float)
    v = np.array(P.v, dtype=float)
    r = np.array(P.r, dtype=float)
    norm2 = 2 * float(P.norm)
    A0 = Zf > 0
    g0 = _pattern_grad(P, A0)
    Kj = {j: [i for i, jj in ks if jj == j] for j in range(h)}
    for j, K in Kj.items():
        if 2 ** len(K) > _MAX_PATTERNS:
            raise ValueError(f"theta: node {j} has {len(K)} kinks: too many sign patterns to enumerate")
    hinge_nodes = [j for j in range(h) if Kj[j] and v[j] != 0]
    scale = 1.0 + np.abs(g0).sum() + sum(abs(norm2 * v[j] * r[i]) * np.abs(Xt[i]).sum() for i, j in ks)
    # ---- first order
    rest = np.ones(m, dtype=bool)
    for j in hinge_nodes:
        rest[P.coords[j]] = False
    d_best = np.zeros(m)
    d_best[rest] = -np.sign(g0[rest])
    min_slope = -float(np.abs(g0[rest]).sum())
    n_lps = 0
    for j in hinge_nodes:
        K = Kj[j]
        best = (0.0, np.zeros(len(P.coords[j])))
        for s in itertools.product((0, 1), repeat=len(K)):
            cvec = g0[P.coords[j]] + sum(norm2 * v[j] * r[i] * Xt[i] for i, si in zip(K, s) if si)
            A_ub = np.array([-Xt[i] if si else Xt[i] for i, si in zip(K, s)])
            val, x = _lp(cvec, A_ub, [], len(cvec))
            n_lps += 1
            if val < best[0]:
                best = (val, x)
        min_slope += best[0]
        d_best[P.coords[j]] = best[1]
    min_slope += 0.0                                           # no -0.0
    first = min_slope >= -tol * scale
    details = {"scale": scale}
    if not first:
        found = _descent_ray(objective, P, d_best, scale, tol)
        if found is None:                                     # pragma: no cover (LP round-off)
            return MinimumTest("undecided", pk.kind, False, min_slope, None, None, None, None,
                               0, n_lps, tol, details)
        return MinimumTest("not a local minimum", pk.kind, False, min_slope, None, None, *found,
                           0, n_lps, tol, details)
    # ---- second order, piece by piece
    kink_nodes = [j for j in range(h) if Kj[j]]
    per_node = [list(itertools.product((0, 1), repeat=len(Kj[j]))) for j in kink_nodes]
    n_pieces = math.prod(len(p) for p in per_node) if kink_nodes else 1
    if n_pieces > _MAX_PATTERNS:
        raise ValueError(f"theta: {n_pieces} pieces around theta: too many to enumerate")
    min_curv, witness, all_zero, psd = None, None, True, True
    for combo in itertools.product(*per_node) if kink_nodes else [()]:
        A = A0.copy()
        rows = []
        for j, s in zip(kink_nodes, combo):
            for i, si in zip(Kj[j], s):
                row = np.zeros(m)
                row[P.coords[j]] = Xt[i] if si else -Xt[i]     # row . d >= 0 on the piece
                rows.append(row)
                A[i, j] = bool(si)
        rows = np.array(rows).reshape(-1, m)
        gS = _pattern_grad(P, A)
        gS[np.abs(gS) <= tol * scale] = 0.0
        eq = [gS] if np.any(gS) else []
        implicit = []
        for row in rows:
            val, _ = _lp(-row, -rows, eq, m)
            n_lps += 1
            if -val <= tol:
                implicit.append(row)
        Q = null_space(np.array(implicit + eq).reshape(-1, m)) if implicit or eq else np.eye(m)
        if Q.shape[1] == 0:
            continue
        all_zero = False
        H = hessian_g(objective, np.array(P.theta, dtype=float), A)
        ev, vec = np.linalg.eigh(Q.T @ H @ Q)
        min_curv = ev[0] if min_curv is None else min(min_curv, ev[0])
        if ev[0] >= -tol * (1.0 + np.abs(H).max()):
            continue
        psd = False
        if witness is None:
            for sign in (1.0, -1.0):
                q = sign * (Q @ vec[:, 0])
                if np.all(rows @ q >= -tol) and abs(gS @ q) <= tol * scale:
                    witness = _descent_ray(objective, P, q, scale, tol)
                    if witness is not None:
                        break
    if witness is not None:
        return MinimumTest("not a local minimum", pk.kind, True, min_slope, False, min_curv, *witness,
                           n_pieces, n_lps, tol, details)
    if all_zero:
        verdict = "strict local minimum"
    elif psd:
        verdict = "necessary conditions hold"
    else:
        verdict = "undecided"
    return MinimumTest(verdict, pk.kind, True, min_slope, psd, min_curv, None, None,
                       n_pieces, n_lps, tol, details)


def _descent_ray(objective, P, d, scale, tol):
    """(d, ray) if the ray θ + t d descends (first nonzero coefficient < 0), else ``None``.

    Exact θ: d is rounded to small rationals (denominators 10, 100, ...) and
    the ray polynomial is exact. Float θ: |c_1| <= tol * scale counts as 0.
    """
    d = np.asarray(d, dtype=float)
    d = d / np.abs(d).max()
    if P.exact:
        for den in (10, 100, 1000, 10**6):
            dq = np.array([Fraction(float(x)).limit_denominator(den) for x in d], dtype=object)
            ray = ray_polynomial(objective, P.theta, dq)
            if ray.leading[1] < 0:
                return dq, ray
        return None
    ray = ray_polynomial(objective, P.theta, d)
    c1, c2 = ray.coefficients[1], ray.coefficients[2]
    if c1 < -tol * scale or (abs(c1) <= tol * scale and c2 < -tol * scale):
        return d, ray
    return None
