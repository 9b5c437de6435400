"""Explicit bad local minima of narrow networks with smooth activations (paper 004).

The constructions of 004 (Part IV of the book), each checkable with the exact
derivatives of :class:`lossland.SquaredLoss` (004's loss is
R = sum_i (F(x_i) - y_i)^2, ``normalization="sum"``):

* **Proposition 1** (Section 4, proof in A.1.1): an activation that is linear,
  sigma(x) = c x + d, on an open interval (alpha, beta) lets a network borrow
  the least-squares fit of the linear model. :func:`partially_linear_activation`
  is such a sigma (C^3, linear on [alpha, beta], constant far out) and
  :func:`proposition1_point` builds the point W-hat of eq. (29)-(30), with the
  corrections recorded in chapter G2.
* **Proposition 2** (Section 5.1, proof in A.2.2): for the 1-1-1 network
  F_2 = w_2 sigma(w_1 x + b_1) + b_2 (eq. (5)) and generic X with N >= 7,
  the data Y of eq. (57) make W-hat = (1, 0, w_2, 0) a strict local minimum
  with R(W-hat) > 0. :func:`proposition2_construction` follows the proof
  step by step (the vectors v_k of eq. (50)-(56)).
* **Lemma 2, Lemma 5, Proposition 3** (A.2.3): perturbing (X, Y) keeps a
  strict minimum nearby. :func:`follow_minimum` and :func:`fold_radius` track
  it with Newton steps on the exact Hessian and find where it disappears.
* **Proposition 4** (Section 6, proof in A.2.7): the same for the 1-1-1-1
  network F_3 = w_3 sigma(w_2 sigma(w_1 x + b_1) + b_2) + b_3 (eq. (100)) with
  N >= 34, using the function set B_3 of Lemma 3 (:func:`b3_matrix`,
  :func:`proposition4_construction`). The paper's full set of conditions
  is numerically degenerate in float64 for some activations; ``dps=...``
  builds the vectors v_k in mpmath (:func:`b3_matrix_mp`,
  :func:`reduction_set` for red(.) of eq. (109) and N_0).
* **Theorems 3 and 4** (A.2.4, A.2.8): the embedding gamma_lambda of the
  minima into wider networks (lossland.embedding). For a singular B-matrix
  (Theorem 4's second layer) :func:`split_expansion` gives the Taylor
  coefficients of the loss along the split of incoming weights (third order
  decides), :func:`activation_derivative` the higher derivatives of sigma,
  :func:`high_precision_loss_change` loss differences below float64
  round-off, and :func:`monotone_descent` a non-increasing path
  (Definition 1, Remark 3).

The function set B_2 of Assumption 1 is evaluated here (:func:`b2_matrix`)
rather than imported, so that this module stands alone; its columns are in
the order of the proof of Proposition 2.

Parameters use :class:`lossland.Network`'s flat order, which for the 1-1-1
network with biases is 004's (w_1, b_1, w_2, b_2) and for the 1-1-1-1
network (w_1, b_1, w_2, b_2, w_3, b_3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import sympy as sp

from .._validation import check_int, check_real
from ..activations import Activation, get_activation
from ..derivatives import SquaredLoss
from ..network import Network
from ..optimize import newton_polish

__all__ = [
    "partially_linear_activation",
    "Proposition1Point",
    "proposition1_point",
    "effective_linear_map",
    "sign_constrained_vectors",
    "B2_NAMES",
    "b2_matrix",
    "Proposition2",
    "proposition2_construction",
    "high_precision_gradient",
    "profile_loss",
    "better_point",
    "perturbation_directions",
    "FollowResult",
    "follow_minimum",
    "fold_radius",
    "residual_scaling_interval",
    "residual_direction_crossing",
    "B3_NAMES",
    "B3_POSITIVE",
    "B3_GRADIENT",
    "B3_HESSIAN",
    "B3_EMBEDDING_ORTHOGONAL",
    "B3_EMBEDDING_POSITIVE",
    "b3_matrix",
    "Proposition4",
    "proposition4_construction",
    "b3_matrix_mp",
    "reduction_set",
    "activation_derivative",
    "SplitExpansion",
    "split_expansion",
    "high_precision_loss_change",
    "MonotonePath",
    "monotone_descent",
]

_EPS = np.finfo(float).eps


# ------------------------------------------------------------------ checks
_real = check_real
_int = check_int


def _vector(value, name, n=None):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one input per sample), got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def _activation(activation):
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        return get_activation(activation)
    raise TypeError(f"activation must be a name or an Activation, got {type(activation).__name__}")


# ============================================================ Proposition 1
def _smootherstep_integral(t):
    """S(t) = int_0^t (6 s^5 - 15 s^4 + 10 s^3) ds = t^6 - 3 t^5 + 5 t^4 / 2."""
    return t**6 - 3 * t**5 + 2.5 * t**4


def partially_linear_activation(alpha: float = -1.0, beta: float = 1.0, c: float = 1.0, d: float = 0.0,
                                width: float = 1.0) -> Activation:
    """A C^3 activation equal to c x + d on [alpha, beta] (004, Proposition 1).

    A smoothed "hard tanh": with m = (alpha + beta) / 2, h = (beta - alpha) / 2
    and u = x - m, sigma(x) = c (m + g(u)) + d where g(u) = u for |u| <= h,
    g is constant (= sign(u) (h + width / 2)) for |u| >= h + width, and in
    between g' = 1 - s(t), t = (|u| - h) / width, with the quintic smoothstep
    s(t) = 6 t^5 - 15 t^4 + 10 t^3. Since s(0) = 0, s(1) = 1 and s', s''
    vanish at 0 and 1, sigma has three continuous derivatives (its fourth
    jumps at the four knots). ``expr`` is the exact sympy ``Piecewise``.

    Parameters
    ----------
    alpha, beta : float
        The interval of linearity (alpha < beta).
    c, d : float
        sigma(x) = c x + d on [alpha, beta]; c must be nonzero (eq. (30)
        divides by c).
    width : float
        Length of each smooth transition to the constant tails (> 0).
    """
    alpha, beta = _real(alpha, "alpha"), _real(beta, "beta")
    if not alpha < beta:
        raise ValueError(f"alpha must be smaller than beta, got alpha={alpha}, beta={beta}")
    c, d = _real(c, "c", nonzero=True), _real(d, "d")
    w = _real(width, "width", positive=True)
    m, h = 0.5 * (alpha + beta), 0.5 * (beta - alpha)

    def _t(u):
        return np.clip((np.abs(u) - h) / w, 0.0, 1.0)

    def f(x):
        u = np.asarray(x, dtype=float) - m
        t = _t(u)
        g = np.where(np.abs(u) <= h, u, np.sign(u) * (h + w * (t - _smootherstep_integral(t))))
        return c * (m + g) + d

    def d1(x):
        t = _t(np.asarray(x, dtype=float) - m)
        return c * (1.0 - (6 * t**5 - 15 * t**4 + 10 * t**3))

    def d2(x):
        u = np.asarray(x, dtype=float) - m
        t = _t(u)
        return -c * np.sign(u) * 30.0 * t**2 * (1.0 - t) ** 2 / w

    X = Activation.symbol
    ms, hs, ws = (sp.nsimplify(v) for v in (m, h, w))
    cs, ds = sp.nsimplify(c), sp.nsimplify(d)

    def S(t):
        return t**6 - 3 * t**5 + sp.Rational(5, 2) * t**4

    expr = sp.Piecewise(
        (cs * (ms - hs - ws / 2) + ds, X <= ms - hs - ws),
        (cs * (X + ws * S((ms - hs - X) / ws)) + ds, X < ms - hs),
        (cs * X + ds, X <= ms + hs),
        (cs * (X - ws * S((X - ms - hs) / ws)) + ds, X < ms + hs + ws),
        (cs * (ms + hs + ws / 2) + ds, True),
    )
    ends = sorted([c * (m - h - w / 2) + d, c * (m + h + w / 2) + d])
    return Activation("partially_linear", f, d1, d2, expr, (ends[0], ends[1]), smooth=True,
                      increasing=False,
                      params={"alpha": alpha, "beta": beta, "c": c, "d": d, "width": w})


@dataclass
class Proposition1Point:
    """The point W-hat of 004, eq. (29)-(30) (corrected, see chapter G2).

    ``W_bar`` = (weights, bias) of the least-squares linear model, eq. (28);
    ``y_bar`` its fit; ``p, q`` the affine map f(t) = p t + q that sends the
    range [m, M] of ``y_bar`` into (alpha, beta); ``margin`` the smallest
    distance of a hidden pre-activation n(1, j; x_i) at ``theta`` to the
    boundary of (alpha, beta) (negative when one lies outside); ``radius`` =
    margin / max_i ||(x_i, 1)||: every parameter vector within that distance
    of ``theta`` keeps all pre-activations in (alpha, beta), where the network
    is an affine function of x.
    """

    net: Network
    theta: np.ndarray
    X: np.ndarray
    y: np.ndarray
    W_bar: np.ndarray
    y_bar: np.ndarray
    p: float
    q: float
    margin: float
    radius: float
    linear_loss: float

    @property
    def objective(self) -> SquaredLoss:
        return SquaredLoss(self.net, self.X, self.y)


def proposition1_point(activation, X, y, hidden: int = 1, *, shrink: float = 0.5,
                       extra_bias="paper", linear_piece=None) -> Proposition1Point:
    """W-hat of 004, Proposition 1 for a d_X - d_1 - 1 network with biases.

    Steps of the proof (A.1.1): the linear least-squares fit
    y_bar_i = W_bar [x_i; 1] (eq. (28)); an affine f(t) = p t + q with
    f([m, M]) inside (alpha, beta) (here centred and using the fraction
    ``shrink`` of the interval); then

        W_1 = [p W_bar_{1:d_X}; 0],  b_1 = [p W_bar_{d_X+1} + q; b_extra],
        W_2 = [(c p)^{-1}, 0],       b_2 = -q / p - d / (c p).

    The printed eq. (29) has f(W_bar_{1:d_X}) = p W_bar_{1:d_X} + q for the
    first-layer weights; that adds q sum_k x_k to every pre-activation and is
    corrected here (chapter G2). The neurons 2..d_1 get zero weights and the
    bias ``extra_bias``: ``"paper"`` means 0 as in eq. (29), which works only
    when 0 lies in (alpha, beta); a number (e.g. the centre of the interval)
    is the correction for the other case.

    Parameters
    ----------
    activation : Activation or str
        Must be linear on (alpha, beta); taken from
        ``activation.params`` (as set by :func:`partially_linear_activation`)
        unless ``linear_piece = (alpha, beta, c, d)`` is given.
    X : array (N,) or (N, d_X)
    y : array (N,)
    hidden : int
        d_1 >= 1.
    shrink : float in (0, 1)
        f maps [m, M] onto the middle ``shrink`` fraction of (alpha, beta).
    """
    act = _activation(activation)
    if linear_piece is None:
        try:
            alpha, beta, c, d = (act.params[k] for k in ("alpha", "beta", "c", "d"))
        except KeyError:
            raise ValueError("activation has no recorded linear piece: pass linear_piece=(alpha, beta, c, d)") \
                from None
    else:
        if len(linear_piece) != 4:
            raise ValueError("linear_piece must be (alpha, beta, c, d)")
        alpha, beta, c, d = (_real(v, n) for v, n in zip(linear_piece, ("alpha", "beta", "c", "d")))
    if not alpha < beta:
        raise ValueError("linear_piece: alpha must be smaller than beta")
    if c == 0:
        raise ValueError("linear_piece: c must be nonzero (eq. (30) divides by c p)")
    hidden = _int(hidden, "hidden", 1)
    shrink = _real(shrink, "shrink", positive=True)
    if shrink >= 1:
        raise ValueError(f"shrink must lie in (0, 1), got {shrink}")
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2 or not np.all(np.isfinite(Xa)):
        raise ValueError("X must be a finite array of shape (N,) or (N, d_X)")
    N, dX = Xa.shape
    y = _vector(y, "y", N)
    net = Network((dX, hidden, 1), act, biases=True)
    design = np.hstack([Xa, np.ones((N, 1))])
    W_bar = np.linalg.lstsq(design, y, rcond=None)[0]
    y_bar = design @ W_bar
    lo, hi = float(y_bar.min()), float(y_bar.max())
    p = shrink * (beta - alpha) / (hi - lo) if hi > lo else 1.0
    q = 0.5 * (alpha + beta) - p * 0.5 * (hi + lo)
    if isinstance(extra_bias, str):
        if extra_bias != "paper":
            raise ValueError(f"extra_bias must be 'paper' or a number, got {extra_bias!r}")
        b_extra = 0.0
    else:
        b_extra = _real(extra_bias, "extra_bias")
    W1 = np.zeros((hidden, dX))
    W1[0] = p * W_bar[:dX]
    b1 = np.full(hidden, b_extra)
    b1[0] = p * W_bar[dX] + q
    W2 = np.zeros((1, hidden))
    W2[0, 0] = 1.0 / (c * p)
    b2 = np.array([-q / p - d / (c * p)])
    theta = net.flatten([W1, W2], [b1, b2])
    pre = Xa @ W1.T + b1
    margin = float(np.minimum(pre - alpha, beta - pre).min())
    radius = margin / float(np.sqrt((design**2).sum(axis=1)).max())
    r = y_bar - y
    return Proposition1Point(net, theta, Xa, y, W_bar, y_bar, p, q, margin, radius, float(r @ r))


def effective_linear_map(net: Network, theta, linear_piece) -> np.ndarray:
    """The affine map x -> a^T x + a_0 that the network computes where sigma = c t + d.

    If every pre-activation lies in (alpha, beta) then
    F(x) = sum_j w2_j (c (w1_j x + b1_j) + d) + b_2: returned as
    ``(a_1, ..., a_{d_X}, a_0)``, the linear model's parameters (the W_bar + delta
    of 004, eq. (31)). Only for networks with one hidden layer and biases.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossland.Network, got {type(net).__name__}")
    if net.depth != 2 or not net.biases:
        raise ValueError("effective_linear_map needs a network with one hidden layer and biases")
    if len(linear_piece) != 4:
        raise ValueError("linear_piece must be (alpha, beta, c, d)")
    _, _, c, d = (float(v) for v in linear_piece)
    W, b = net.unflatten(theta)
    v = W[2][0]
    return np.concatenate([c * v @ W[1], [c * v @ b[1] + d * v.sum() + b[2][0]]])


# ====================================================== sign conditions
def sign_constrained_vectors(orthogonal, positive, *, rank_rtol: float = 1e-10):
    """Linearly independent v_k orthogonal to some vectors, positive on others (004, eq. (50)-(56)).

    Returns ``(V, margin)``: the rows of ``V`` are N - r linearly
    independent unit-scale vectors (r = rank of ``orthogonal``) with
    <v_k, o> = 0 for every column o of ``orthogonal`` and <v_k, p> > 0 for
    every column p of ``positive``. Construction: Q, an orthonormal basis of
    the orthogonal complement of the columns of ``orthogonal``; the
    projections P = Q^T p, normalised to unit columns P^; the least-norm
    z_0 with P^T z_0 = 1 (all normalised inner products equal), scaled to
    ||z_0|| = 1, so that P^T z_0 = margin * 1 with margin = 1 / ||P^(P^T P)^{-1} 1||;
    then z_1 = z_0 and z_{j+1} = z_0 + (margin / 2) u_j for an orthonormal
    basis u_j of z_0's complement in the span of Q. Every normalised inner
    product is then at least margin / 2, and the z_k are independent.

    With no positive vectors (``positive`` of shape (N, 0)) the rows of ``V``
    are an orthonormal basis of the complement and ``margin`` is ``inf``.
    Raises ``ValueError`` when the projections of ``positive`` are linearly
    dependent (relative tolerance ``rank_rtol``), the non-generic case.
    """
    O = np.asarray(orthogonal, dtype=float)
    P = np.asarray(positive, dtype=float)
    if P.ndim == 2 and P.shape[1] == 0 and P.shape[0] == 0:
        P = np.zeros((O.shape[0], 0))
    if O.ndim != 2 or P.ndim != 2 or O.shape[0] != P.shape[0]:
        raise ValueError("orthogonal and positive must be 2-d arrays with one row per sample")
    U, S, _ = np.linalg.svd(O, full_matrices=True)
    rank = int((S > rank_rtol * S[0]).sum()) if S.size else 0
    Q = U[:, rank:]
    dim = Q.shape[1]
    k = P.shape[1]
    if dim < max(k, 1):
        raise ValueError(f"the orthogonal complement has dimension {dim} < {max(k, 1)} (need more samples)")
    if k == 0:
        return Q.T.copy(), np.inf
    Pp = Q.T @ P
    norms = np.linalg.norm(Pp, axis=0)
    scale = np.linalg.norm(P, axis=0)
    if np.any(norms <= rank_rtol * scale):
        raise ValueError("a positive vector lies in the span of the orthogonal ones (X not generic)")
    Ph = Pp / norms
    sv = np.linalg.svd(Ph, compute_uv=False)
    if sv[-1] <= rank_rtol * sv[0]:
        raise ValueError("the projections of the positive vectors are linearly dependent (X not generic)")
    z0 = Ph @ np.linalg.solve(Ph.T @ Ph, np.ones(k))
    margin = 1.0 / float(np.linalg.norm(z0))
    z0 = z0 * margin
    # orthonormal basis of z0's complement inside R^dim
    Uz = np.linalg.svd(z0[:, None], full_matrices=True)[0][:, 1:]
    Z = np.vstack([z0, z0[None, :] + 0.5 * margin * Uz.T])
    return Z @ Q.T, margin


# ============================================================ Proposition 2
B2_NAMES = ("1", "sigma", "sigma'", "x sigma'", "sigma''", "x sigma''", "x^2 sigma''")
"""The functions of B_2 (004, Assumption 1) in the order of the proof of Proposition 2.

Assumption 1 as printed lists x sigma'' twice; the proof (A.2.2) uses
x^2 sigma'' for the last one, as here.
"""


def b2_matrix(activation, x) -> np.ndarray:
    """A(X) of 004, proof of Proposition 2: the B_2 functions at the samples, shape (N, 7)."""
    act = _activation(activation)
    x = _vector(x, "x")
    s, s1, s2 = act.f(x), act.d1(x), act.d2(x)
    return np.column_stack([np.ones_like(x), s, s1, x * s1, s2, x * s2, x * x * s2])


def _b2_columns(names, name):
    out = []
    for n in names:
        if n not in B2_NAMES:
            raise ValueError(f"{name}: unknown function {n!r}; expected names from B2_NAMES {B2_NAMES}")
        out.append(B2_NAMES.index(n))
    return out


@dataclass
class Proposition2:
    """The construction of 004, Proposition 2 (proof in A.2.2).

    ``theta`` = W-hat = (w_1, b_1, w_2, b_2) = (1, 0, w2, b2); ``V`` has the
    v_k as rows; ``delta_y`` = Delta Y = F_2(X) - Y = w2 sum_k c_k v_k;
    ``A`` = A(X), the B_2 functions at the samples; ``rank_margin`` the
    smallest singular value of A with unit-norm columns divided by the
    largest (positive: rank 7); ``sign_margin`` the margin of
    :func:`sign_constrained_vectors`.
    """

    activation: Activation
    net: Network
    X: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    w2: float
    b2: float
    c: np.ndarray
    V: np.ndarray
    delta_y: np.ndarray
    A: np.ndarray
    rank_margin: float
    sign_margin: float
    orthogonal: tuple
    positive: tuple

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def objective(self) -> SquaredLoss:
        """R(W) = sum_i (F_2(x_i) - y_i)^2, 004's L^2 loss."""
        return SquaredLoss(self.net, self.X, self.y)

    @property
    def loss(self) -> float:
        """R(W-hat) = <Delta Y, Delta Y> (004, after eq. (64))."""
        return float(self.delta_y @ self.delta_y)

    def inner_products(self) -> dict:
        """<Delta Y, f(X)> for every f in B_2 (004, eq. (58)-(60))."""
        return {n: float(self.delta_y @ self.A[:, j]) for j, n in enumerate(B2_NAMES)}

    def jacobian(self) -> np.ndarray:
        """dF_2(x_i)/d(w_1, b_1, w_2, b_2) at W-hat: [w2 x sigma', w2 sigma', sigma, 1]."""
        A = self.A
        return np.column_stack([self.w2 * A[:, 3], self.w2 * A[:, 2], A[:, 1], A[:, 0]])

    def gradient_formula(self) -> np.ndarray:
        """2 (w2 <dY, x sigma'>, w2 <dY, sigma'>, <dY, sigma>, <dY, 1>): eq. (61)-(64) with the factor w2."""
        return 2.0 * self.jacobian().T @ self.delta_y

    def second_order_matrix(self) -> np.ndarray:
        """K = sum_i Delta Y_i Hess F_2(x_i) at W-hat, so that H = 2 J^T J + 2 K.

        Nonzero entries: K[w1,w1] = w2 <dY, x^2 sigma''>, K[w1,b1] = w2 <dY, x sigma''>,
        K[b1,b1] = w2 <dY, sigma''>, K[w1,w2] = <dY, x sigma'>, K[b1,w2] = <dY, sigma'>.
        """
        ip = self.inner_products()
        w2 = self.w2
        K = np.zeros((4, 4))
        K[0, 0] = w2 * ip["x^2 sigma''"]
        K[0, 1] = K[1, 0] = w2 * ip["x sigma''"]
        K[1, 1] = w2 * ip["sigma''"]
        K[0, 2] = K[2, 0] = ip["x sigma'"]
        K[1, 2] = K[2, 1] = ip["sigma'"]
        return K

    def hessian_formula(self) -> np.ndarray:
        """The exact Hessian at W-hat, 2 J^T J + 2 K (see :meth:`second_order_matrix`)."""
        J = self.jacobian()
        return 2.0 * J.T @ J + 2.0 * self.second_order_matrix()


def proposition2_construction(activation, X, c=1.0, w2: float = 1.0, b2: float = 0.0, *,
                              orthogonal=("1", "sigma", "sigma'", "x sigma'", "x sigma''"),
                              positive=("sigma''", "x^2 sigma''"),
                              rank_rtol: float = 1e-10) -> Proposition2:
    """Build the data Y and the point W-hat of 004, Proposition 2, as the proof does.

    1. A(X) = [1, sigma, sigma', x sigma', sigma'', x sigma'', x^2 sigma''] at the
       samples must have rank 7 (generic X, eq. (49)); else ``ValueError``.
    2. v_k, k = 1..N-5: orthogonal to 1, sigma, sigma', x sigma', x sigma''
       (eq. (50)-(54)) and with <v_k, sigma''> > 0, <v_k, x^2 sigma''> > 0
       (eq. (55)-(56)), by :func:`sign_constrained_vectors`.
    3. y_i = F_2(x_i) - w2 sum_k c_k [v_k]_i at W-hat = (1, 0, w2, b2) (eq. (57)).

    ``orthogonal`` and ``positive`` (names from :data:`B2_NAMES`) change the
    conditions of step 2, e.g. to the ones printed in eq. (58)-(60), or to
    the four gradient conditions alone (``positive=()``, then N >= 5 and the
    v_k are an orthonormal basis of the complement). The rank check of
    step 1 is made on the functions used.

    Parameters
    ----------
    activation : Activation or str
    X : array (N,), N >= 7
    c : float or array of positive numbers
        The constants c_k (one value for all, or one per v_k).
    w2 : float
        The outgoing weight of W-hat; the proof fixes w2 > 0.
    b2 : float
        The output bias of W-hat (the proof uses 0; any value works).
    """
    act = _activation(activation)
    x = _vector(X, "X")
    N = x.shape[0]
    oi, pi = _b2_columns(orthogonal, "orthogonal"), _b2_columns(positive, "positive")
    used = sorted(set(oi) | set(pi))
    need = len(used) + (0 if pi else 1)
    if N < need:
        raise ValueError(f"this construction needs N >= {need} samples (Proposition 2: N >= 7), got N = {N}")
    w2 = _real(w2, "w2", positive=True)
    b2 = _real(b2, "b2")
    A = b2_matrix(act, x)
    norms = np.linalg.norm(A[:, used], axis=0)
    if np.any(norms == 0):
        raise ValueError(f"X is not generic for {act.name}: a B_2 function vanishes at every sample")
    An = A[:, used] / norms
    sv = np.linalg.svd(An, compute_uv=False)
    rank_margin = float(sv[-1] / sv[0])
    if rank_margin <= rank_rtol:
        raise ValueError(f"X is not generic for {act.name}: the B_2 functions used have numerical rank "
                         f"< {len(used)} at X (singular value ratio {rank_margin:.1e})")
    V, margin = sign_constrained_vectors(A[:, oi], A[:, pi].reshape(N, len(pi)), rank_rtol=rank_rtol)
    K = V.shape[0]
    c_arr = np.asarray(c, dtype=float)
    if c_arr.ndim == 0:
        c_arr = np.full(K, float(c_arr))
    if c_arr.shape != (K,) or not np.all(np.isfinite(c_arr)):
        raise ValueError(f"c must be a number or {K} numbers (one per v_k), got shape {c_arr.shape}")
    if np.any(c_arr <= 0):
        raise ValueError("c: the constants c_k must be positive")
    net = Network((1, 1, 1), act, biases=True)
    theta = np.array([1.0, 0.0, w2, b2])
    delta_y = w2 * (c_arr @ V)
    y = net(theta, x) - delta_y
    return Proposition2(act, net, x, y, theta, w2, b2, c_arr, V, delta_y, A, rank_margin, margin,
                        tuple(orthogonal), tuple(positive))


def high_precision_gradient(cons: Proposition2, dps: int = 50) -> dict:
    """Redo the orthogonality of Delta Y in ``dps``-digit arithmetic (mpmath).

    The float64 Delta Y is projected, at ``dps`` digits, onto the orthogonal
    complement of the columns named in ``cons.orthogonal`` (sigma and its
    derivatives evaluated from the activation's sympy expression). Returns
    ``gradient``: max |component| of eq. (61)-(64) (with the factor w2) for
    that projected Delta Y, ``moved``: ||projected - float Delta Y|| / ||Delta Y||
    (how far the float64 data are from data with an exact critical point),
    and the signs' values ``positive`` (dict) at high precision.
    """
    import mpmath

    if not isinstance(cons, Proposition2):
        raise TypeError("cons must be a Proposition2")
    dps = _int(dps, "dps", 20)
    t = Activation.symbol
    exprs = cons.activation.derivative_exprs()
    fns = [sp.lambdify(t, e, modules="mpmath") for e in exprs]
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(float(v)) for v in cons.X]
        cols = {}
        s = [fns[0](v) for v in xs]
        s1 = [fns[1](v) for v in xs]
        s2 = [fns[2](v) for v in xs]
        cols["1"] = [mpmath.mpf(1)] * len(xs)
        cols["sigma"] = s
        cols["sigma'"] = s1
        cols["x sigma'"] = [a * b for a, b in zip(xs, s1)]
        cols["sigma''"] = s2
        cols["x sigma''"] = [a * b for a, b in zip(xs, s2)]
        cols["x^2 sigma''"] = [a * a * b for a, b in zip(xs, s2)]
        N = len(xs)
        Om = mpmath.matrix(N, len(cons.orthogonal))
        for j, n in enumerate(cons.orthogonal):
            for i in range(N):
                Om[i, j] = cols[n][i]
        d = mpmath.matrix([mpmath.mpf(float(v)) for v in cons.delta_y])
        coef = mpmath.lu_solve(Om.T * Om, Om.T * d)
        dp = d - Om * coef
        w2 = mpmath.mpf(cons.w2)

        def ip(name):
            return mpmath.fsum(dp[i] * cols[name][i] for i in range(N))

        grad = [2 * w2 * ip("x sigma'"), 2 * w2 * ip("sigma'"), 2 * ip("sigma"), 2 * ip("1")]
        norm_d = mpmath.sqrt(mpmath.fsum(v * v for v in d))
        moved = mpmath.sqrt(mpmath.fsum((dp[i] - d[i]) ** 2 for i in range(N))) / norm_d
        return {"gradient": float(max(abs(g) for g in grad)), "moved": float(moved),
                "positive": {n: float(ip(n)) for n in cons.positive}, "dps": dps}


def profile_loss(activation, x, y, w1, b1):
    """min over (w_2, b_2) of R(w_1, b_1, w_2, b_2) for the 1-1-1 network, on a grid.

    For fixed (w_1, b_1) the network is linear in (w_2, b_2), so the minimum is
    a least-squares fit of y by [sigma(w_1 x + b_1), 1]. ``w1`` and ``b1`` are
    broadcast against each other; returns ``(P, w2, b2)`` of that shape.
    """
    act = _activation(activation)
    x = _vector(x, "x")
    y = _vector(y, "y", x.shape[0])
    W1, B1 = np.broadcast_arrays(np.asarray(w1, dtype=float), np.asarray(b1, dtype=float))
    if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(B1))):
        raise ValueError("w1 and b1 must be finite")
    phi = act.f(W1[..., None] * x + B1[..., None])
    phic = phi - phi.mean(axis=-1, keepdims=True)
    yc = y - y.mean()
    num = phic @ yc
    den = np.einsum("...i,...i->...", phic, phic)
    ok = den > 1e-14 * x.shape[0] * (1.0 + np.abs(phi).max(axis=-1)) ** 2
    safe = np.where(ok, den, 1.0)
    w2 = np.where(ok, num / safe, 0.0)
    b2 = y.mean() - w2 * phi.mean(axis=-1)
    P = yc @ yc - np.where(ok, num**2 / safe, 0.0)
    return P, w2, b2


def better_point(cons: Proposition2, w1_range=(-8.0, 8.0), b1_range=(-8.0, 8.0), n: int = 161):
    """The lowest point of :func:`profile_loss` on a grid: an explicit W with its exact loss.

    Returns ``(theta, loss)`` with ``loss`` = R(theta) from
    :class:`lossland.SquaredLoss`. If ``loss < cons.loss`` the local minimum
    W-hat is not global ("bad").
    """
    if not isinstance(cons, Proposition2):
        raise TypeError("cons must be a Proposition2")
    n = _int(n, "n", 2)
    g1 = np.linspace(*w1_range, n)
    g2 = np.linspace(*b1_range, n)
    W1, B1 = np.meshgrid(g1, g2, indexing="ij")
    P, w2, b2 = profile_loss(cons.activation, cons.X, cons.y, W1, B1)
    k = np.unravel_index(np.argmin(P), P.shape)
    theta = np.array([W1[k], B1[k], w2[k], b2[k]])
    return theta, cons.objective.value(theta)


# ===================================== Lemma 2, Lemma 5, Proposition 3
def perturbation_directions(n_samples: int, count: int, rng) -> np.ndarray:
    """``count`` unit vectors in R^{2N}: perturbations (dX, dY) of the data, stacked."""
    n_samples = _int(n_samples, "n_samples", 1)
    count = _int(count, "count", 1)
    rng = np.random.default_rng(rng)
    D = rng.standard_normal((count, 2 * n_samples))
    return D / np.linalg.norm(D, axis=1, keepdims=True)


def _perturbed(cons, direction, r):
    N = cons.n_samples
    return SquaredLoss(cons.net, cons.X + r * direction[:N], cons.y + r * direction[N:])


@dataclass
class FollowResult:
    """The strict local minimum W~(r) of the data (X, Y) + r d, followed in r (Lemma 2).

    Arrays over the radii reached: ``radii``, ``thetas`` (one row each),
    ``grad_norm``, ``min_eig`` and ``max_eig`` of the exact Hessian,
    ``loss``. ``stopped_at`` is the first radius where Newton's method from
    the previous minimum did not reach a strict minimum (``None`` if all
    did), with the reason in ``reason``.
    """

    radii: np.ndarray
    thetas: np.ndarray
    grad_norm: np.ndarray
    min_eig: np.ndarray
    max_eig: np.ndarray
    loss: np.ndarray
    stopped_at: float | None = None
    reason: str = ""
    newton_steps: list = field(default_factory=list)


def _newton_minimum(obj, theta, gtol, max_steps):
    th, gn, steps = newton_polish(obj, theta, gtol=gtol, max_steps=max_steps)
    H = obj.hessian(th)
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    ok = gn <= gtol and ev[0] > 100 * 4 * _EPS * abs(ev[-1])
    why = "" if ok else (f"Newton stopped at ||grad|| = {gn:.1e}" if gn > gtol
                         else f"critical point is not a strict minimum (lambda_min = {ev[0]:.2e})")
    return ok, th, gn, ev, steps, why


def follow_minimum(cons, direction, radii, *, start=None, gtol: float = 1e-10, max_steps: int = 30,
                   max_jump: float = 0.5) -> FollowResult:
    """Track the strict minimum of R(., (X, Y) + r d) for increasing r (004, Lemma 2, Proposition 3).

    At each radius, Newton's method with the exact Hessian
    (:func:`lossland.optimize.newton_polish`) starts from the minimum of the
    previous radius (W-hat at r = 0). A radius counts as reached when the
    gradient norm is at most ``gtol``, the exact Hessian is positive definite
    and the minimum moved by at most ``max_jump`` (no jump to another
    critical point). Tracking stops at the first radius that fails.

    Parameters
    ----------
    cons : Proposition2 or Proposition4
    direction : array (2N,)
        Unit perturbation of the data: the first N entries move X, the last N move Y.
    radii : increasing array of non-negative numbers
    start : array, optional
        Start of the first Newton run (default W-hat, ``cons.theta``).
    """
    if not isinstance(cons, (Proposition2, Proposition4)):
        raise TypeError("cons must be a Proposition2 or Proposition4")
    N = cons.n_samples
    d = _vector(direction, "direction", 2 * N)
    radii = np.asarray(radii, dtype=float)
    if radii.ndim != 1 or radii.size == 0 or np.any(radii < 0) or np.any(np.diff(radii) <= 0):
        raise ValueError("radii must be a non-empty increasing 1-d array of non-negative numbers")
    th = cons.theta.copy() if start is None else cons.net.check_params(start, "start").copy()
    rows = []
    steps_list = []
    stopped, reason = None, ""
    for r in radii:
        obj = _perturbed(cons, d, r)
        try:
            ok, new, gn, ev, steps, why = _newton_minimum(obj, th, gtol, max_steps)
        except ValueError as exc:     # overflow of the forward pass: Newton ran away
            ok, why = False, f"Newton ran away ({exc})"
        if ok and np.linalg.norm(new - th) > max_jump:
            ok, why = False, f"Newton jumped by {np.linalg.norm(new - th):.2f} > max_jump"
        if not ok:
            stopped, reason = float(r), why
            break
        th = new
        rows.append((r, th.copy(), gn, ev[0], ev[-1], obj.value(th)))
        steps_list.append(steps)
    if not rows:
        empty = np.zeros(0)
        return FollowResult(empty, np.zeros((0, cons.theta.size)), empty, empty, empty, empty,
                            stopped, reason, steps_list)
    r_, t_, g_, lo_, hi_, L_ = zip(*rows)
    return FollowResult(np.array(r_), np.array(t_), np.array(g_), np.array(lo_), np.array(hi_),
                        np.array(L_), stopped, reason, steps_list)


def fold_radius(cons, direction, r_max: float, *, n_scan: int = 40, rtol: float = 1e-4,
                gtol: float = 1e-10):
    """Largest r along ``direction`` up to which the strict minimum can be followed.

    Adaptive continuation: steps of ``r_max / n_scan`` with
    :func:`follow_minimum` (Newton from the previous minimum); after a
    failure the step is halved and retried from the last minimum, until it
    is below ``rtol * r``. Returns ``(r_star, result)``: the last radius
    reached (``inf`` if ``r_max`` was reached) and the :class:`FollowResult`
    of all radii reached, in increasing order, with ``stopped_at`` and
    ``reason`` of the last failure.
    """
    r_max = _real(r_max, "r_max", positive=True)
    n_scan = _int(n_scan, "n_scan", 1)
    rtol = _real(rtol, "rtol", positive=True)
    d = _vector(direction, "direction", 2 * cons.n_samples)
    res = follow_minimum(cons, d, [0.0], gtol=gtol)
    if res.stopped_at is not None:
        raise ValueError(f"the start point is not a strict minimum of the unperturbed data: {res.reason}")
    h0 = r_max / n_scan
    r, h, th = 0.0, h0, res.thetas[-1]
    while r < r_max:
        r_try = min(r + h, r_max)
        step = follow_minimum(cons, d, [r_try], start=th, gtol=gtol)
        if step.stopped_at is None:
            r, th = r_try, step.thetas[-1]
            for name in ("radii", "grad_norm", "min_eig", "max_eig", "loss"):
                setattr(res, name, np.append(getattr(res, name), getattr(step, name)))
            res.thetas = np.vstack([res.thetas, step.thetas])
            res.newton_steps += step.newton_steps
            h = min(2 * h, h0)
        else:
            res.stopped_at, res.reason = r_try, step.reason
            h /= 2
            if h < rtol * max(r, h0 * 1e-6):
                return r, res
    res.stopped_at, res.reason = None, ""
    return np.inf, res


def residual_scaling_interval(cons) -> tuple[float, float]:
    """The factors tau for which W-hat is a strict minimum of the data F(X) - tau Delta Y.

    Replacing Delta Y by tau Delta Y keeps every orthogonality relation, so
    W-hat stays critical, and its exact Hessian is 2 (J^T J + tau K)
    (K from ``cons.second_order_matrix()``). With mu_min <= mu_max the
    eigenvalues of the pencil K v = mu J^T J v, the Hessian is positive
    definite exactly for -1/mu_max < tau < -1/mu_min (an end is infinite when
    the corresponding mu has the wrong sign or is below 1e-10 max |mu|, the
    round-off of a semidefinite K). K positive semidefinite, as
    eq. (54)-(56) make it, gives tau_hi = inf: every c_k > 0 works.
    """
    from scipy.linalg import eigh

    if not isinstance(cons, (Proposition2, Proposition4)):
        raise TypeError("cons must be a Proposition2 or Proposition4")
    J = cons.jacobian()
    mu = eigh(cons.second_order_matrix(), J.T @ J, eigvals_only=True)
    tol = 1e-10 * max(float(np.abs(mu).max()), np.finfo(float).tiny)   # round-off of a semidefinite K
    lo = -1.0 / mu[-1] if mu[-1] > tol else -np.inf
    hi = -1.0 / mu[0] if mu[0] < -tol else np.inf
    return float(lo), float(hi)


def residual_direction_crossing(cons) -> float:
    """Radius s* at which moving Y along Delta Y / ||Delta Y|| makes W-hat stop being a minimum.

    Y + s Delta Y / ||Delta Y|| scales Delta Y by tau = 1 - s / ||Delta Y||
    (:func:`residual_scaling_interval`): s* = ||Delta Y|| (1 - tau_lo).
    """
    lo, _ = residual_scaling_interval(cons)
    return float(np.linalg.norm(cons.delta_y) * (1.0 - lo))


# ============================================================ Proposition 4
B3_NAMES = (
    "1", "s(s)",
    "s'(s)", "s'(s) s", "s'(s) s'", "s'(s) s' x", "s'(s) s''", "s'(s) s'' x", "s'(s) s'' x^2",
    "s''(s)", "s''(s) s", "s''(s) s^2", "s''(s) s'", "s''(s) s' x",
    "s''(s) s''", "s''(s) s'' x", "s''(s) s'' x^2",
    "s''(s) s'^2", "s''(s) s'^2 x", "s''(s) s'^2 x^2",
    "s''(s) s s'", "s''(s) s s' x",
    "s''(s) s s''", "s''(s) s s'' x", "s''(s) s s'' x^2",
    "s''(s) s' s''", "s''(s) s' s'' x", "s''(s) s' s'' x^2", "s''(s) s' s'' x^3",
    "s''(s) s''^2", "s''(s) s''^2 x", "s''(s) s''^2 x^2", "s''(s) s''^2 x^3", "s''(s) s''^2 x^4",
)
"""The functions of B_3 (004, Lemma 3 / eq. (101)-(103)) with s = sigma, s(s) = sigma(sigma(x)).

34 functions, so N_0 <= 34 as the proof says. As printed one factor reads
"sigma'(x)' sigma''(x)" (taken here as sigma'(x) sigma''(x)), and the five
sigma''(x)^2 {1, .., x^4} follow a closing brace; they are read here with
the factor sigma''(sigma(x)), as the expansion of u_2^2 in A.2.7 produces them.
"""

B3_POSITIVE = ("s'(s) s'' x^2", "s'(s) s''", "s''(s)")
"""B_{3,1}, B_{3,2}, B_{3,3} of 004, eq. (101)-(103): the functions with <Delta Y, .> > 0."""

B3_GRADIENT = ("1", "s(s)", "s'(s) s", "s'(s)", "s'(s) s' x", "s'(s) s'")
"""The functions of the gradient of R at W-hat (eq. (126)-(131), corrected)."""

B3_HESSIAN = B3_GRADIENT + (
    "s''(s) s'^2 x", "s''(s) s s' x", "s''(s) s' x", "s''(s) s s'", "s''(s) s'", "s''(s) s",
    "s'(s) s'' x", "s''(s) s'^2 x^2", "s''(s) s'^2", "s''(s) s^2")
"""The 16 functions of B~_3 that the gradient and the Hessian of R at W-hat actually meet.

Orthogonality to these and positivity on :data:`B3_POSITIVE` already give
K = diag(c_1, c_2, 0, c_3, 0, 0) >= 0 in :meth:`Proposition4.second_order_matrix`;
the other 14 functions of B~_3 come from o(t^2) terms of the expansion of
u_2^2 in the proof (A.2.7). Note that for tanh, sigma' = 1 - sigma^2 makes
sigma''(sigma) = sigma''(sigma) sigma' + sigma''(sigma) sigma^2 a member of
the span of B~_3, so eq. (113) and (116) cannot hold together.
"""


B3_EMBEDDING_ORTHOGONAL = B3_GRADIENT + ("s'(s) s'' x", "s''(s) s")
"""Orthogonality for a 1-1-1-1 minimum that embeds into 1-d_1-d_2-1 (chapter G9).

The six gradient functions and the off-diagonal entries of both B-matrices
(004, eq. (146), (149) with the bias input): with :data:`B3_EMBEDDING_POSITIVE`
the B-matrices of layers 1 and 2 are 2 w3 diag(<dY, s'(s) s'' x^2>, <dY, s'(s) s''>)
and 2 w3 diag(<dY, s''(s) s^2>, <dY, s''(s)>), both positive definite. K need not be
positive semidefinite, so the residual must be small (:func:`residual_scaling_interval`).
"""

B3_EMBEDDING_POSITIVE = ("s'(s) s'' x^2", "s'(s) s''", "s''(s) s^2", "s''(s)")
"""The diagonal entries of the two B-matrices, made positive (chapter G9)."""


def b3_matrix(activation, x, names=B3_NAMES) -> np.ndarray:
    """The B_3 functions of 004, Lemma 3 at the samples, shape (N, len(names))."""
    act = _activation(activation)
    x = _vector(x, "x")
    s, s1, s2 = act.f(x), act.d1(x), act.d2(x)
    ss, ss1, ss2 = act.f(s), act.d1(s), act.d2(s)
    base = {"s": s, "s'": s1, "s''": s2, "x": x}
    outer = {"1": np.ones_like(x), "s(s)": ss, "s'(s)": ss1, "s''(s)": ss2}
    cols = []
    for n in names:
        if n not in B3_NAMES:
            raise ValueError(f"names: unknown function {n!r}; expected names from B3_NAMES")
        parts = n.split()
        v = outer[parts[0]].copy()
        for tok in parts[1:]:
            if "^" in tok:
                b, e = tok.split("^")
                v = v * base[b] ** int(e)
            else:
                v = v * base[tok]
        cols.append(v)
    return np.column_stack(cols)


@dataclass
class Proposition4:
    """The construction of 004, Proposition 4 (proof in A.2.7) for the 1-1-1-1 network.

    ``theta`` = W-hat = (1, 0, 1, 0, w3, 0); ``delta_y`` = F_3(X) - Y =
    w3 sum_k c_k v_k with v_k orthogonal to the functions ``orthogonal`` and
    positive on ``positive`` (names from :data:`B3_NAMES`). ``rank`` is the
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

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def objective(self) -> SquaredLoss:
        return SquaredLoss(self.net, self.X, self.y)

    @property
    def loss(self) -> float:
        return float(self.delta_y @ self.delta_y)

    def gradient_formula(self) -> np.ndarray:
        """2 J^T Delta Y: eq. (126)-(131) with the factors w3 and eq. (129) corrected."""
        return 2.0 * self.jacobian().T @ self.delta_y

    def inner_products(self, names=B3_NAMES) -> dict:
        """<Delta Y, b(X)> for the named B_3 functions."""
        M = b3_matrix(self.activation, self.X, names)
        return {n: float(self.delta_y @ M[:, j]) for j, n in enumerate(names)}

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


# ------------------------------------------------------- high precision (mpmath)
def _check_dps(dps, low=20):
    if isinstance(dps, bool) or not isinstance(dps, (Integral, np.integer)):
        raise TypeError(f"dps must be an integer, got {dps!r}")
    if not low <= dps <= 1000:
        raise ValueError(f"dps must lie in [{low}, 1000], got {dps}")
    return int(dps)


_MP_SIGMA: dict = {}


def _mp_sigma(act: Activation):
    """sigma, sigma', sigma'' as mpmath callables from the activation's sympy expression (cached)."""
    key = (act.name, tuple(sorted(act.params.items())), sp.srepr(act.expr))
    if key not in _MP_SIGMA:
        t = Activation.symbol
        _MP_SIGMA[key] = tuple(sp.lambdify(t, e, modules="mpmath") for e in act.derivative_exprs())
    return _MP_SIGMA[key]


def _b3_rows_mp(act, x, names):
    import mpmath

    f0, f1, f2 = _mp_sigma(act)
    rows = []
    for xi in x:
        X = mpmath.mpf(float(xi))
        s, s1, s2 = f0(X), f1(X), f2(X)
        base = {"s": s, "s'": s1, "s''": s2, "x": X}
        outer = {"1": mpmath.mpf(1), "s(s)": f0(s), "s'(s)": f1(s), "s''(s)": f2(s)}
        row = []
        for n in names:
            parts = n.split()
            v = outer[parts[0]]
            for tok in parts[1:]:
                if "^" in tok:
                    b, e = tok.split("^")
                    v = v * base[b] ** int(e)
                else:
                    v = v * base[tok]
            row.append(v)
        rows.append(row)
    return rows


def b3_matrix_mp(activation, x, names=B3_NAMES, dps: int = 60):
    """:func:`b3_matrix` in ``dps``-digit arithmetic: a list of N rows of mpmath numbers.

    sigma, sigma', sigma'' come from the activation's sympy expression; the
    samples are taken exactly as the given binary floats. Call inside
    ``mpmath.workdps(dps)`` to keep the precision for later arithmetic.
    """
    import mpmath

    act = _activation(activation)
    x = _vector(x, "x")
    dps = _check_dps(dps)
    for n in names:
        if n not in B3_NAMES:
            raise ValueError(f"names: unknown function {n!r}; expected names from B3_NAMES")
    with mpmath.workdps(dps):
        return _b3_rows_mp(act, x, names)


def _mp_dot(u, v):
    import mpmath

    return mpmath.fdot(u, v)


def _mp_axpy(v, d, q):
    """v - d q, elementwise (mpmath)."""
    return [a - d * b for a, b in zip(v, q)]


def _mp_greedy_basis(cols, rtol):
    """Gram-Schmidt (twice) over ``cols`` in order, dropping a column whose residual is below
    ``rtol`` times its norm: the reduction set red(A) of 004, eq. (109). Returns
    (orthonormal basis, kept indices, residual ratios)."""
    import mpmath

    basis, kept, ratios = [], [], []
    for j, c in enumerate(cols):
        n0 = mpmath.sqrt(_mp_dot(c, c))
        v = list(c)
        for _ in range(2):
            for q in basis:
                v = _mp_axpy(v, _mp_dot(q, v), q)
        nv = mpmath.sqrt(_mp_dot(v, v))
        ratio = nv / n0 if n0 > 0 else mpmath.mpf(0)
        ratios.append(ratio)
        if ratio > rtol:
            basis.append([vi / nv for vi in v])
            kept.append(j)
    return basis, kept, ratios


def _mp_complement(basis, n):
    """Orthonormal basis of the orthogonal complement of span(basis) in R^n.

    Start vectors: a fixed Gaussian matrix (``default_rng(0)``, the same on
    every platform); each column is projected onto the complement in mpmath
    (twice) and orthonormalised against the previous ones.
    """
    import mpmath

    r = len(basis)
    G = np.random.default_rng(0).standard_normal((n, n - r))
    out = []
    for j in range(n - r):
        v = [mpmath.mpf(float(t)) for t in G[:, j]]
        n0 = mpmath.sqrt(_mp_dot(v, v))
        for _ in range(2):
            for q in basis + out:
                v = _mp_axpy(v, _mp_dot(q, v), q)
        nv = mpmath.sqrt(_mp_dot(v, v))
        if nv < mpmath.mpf("1e-6") * n0:
            raise ValueError("could not complete the orthogonal complement (start vectors nearly dependent)")
        out.append([t / nv for t in v])
    return out


def reduction_set(activation, x, names=B3_NAMES, *, dps: int = 60, rtol: float = 1e-40) -> dict:
    """The reduction set red(B) of 004, eq. (109), of the named B_3 functions at the samples.

    Gram-Schmidt in ``dps``-digit arithmetic over the columns in the order of
    ``names``; a column is dropped when its residual is at most ``rtol`` times
    its norm (it lies in the span of the earlier ones). Returns a dict with
    ``rank`` (= |red|), ``kept`` and ``dropped`` (names), ``log10_ratios``
    (name -> log10 of its residual over its norm), and the decision
    margins ``log10_kept_min`` (smallest residual ratio kept) and
    ``log10_dropped_max`` (largest ratio dropped; ``-inf`` if none).
    """
    import mpmath

    act = _activation(activation)
    x = _vector(x, "x")
    dps = _check_dps(dps)
    rtol = _real(rtol, "rtol", positive=True)
    with mpmath.workdps(dps):
        rows = _b3_rows_mp(act, x, names)
        cols = [[r[j] for r in rows] for j in range(len(names))]
        _, kept, ratios = _mp_greedy_basis(cols, mpmath.mpf(rtol))
        lg = [float(mpmath.log10(r)) if r > 0 else -np.inf for r in ratios]
    kept_names = [names[j] for j in kept]
    dropped = [n for j, n in enumerate(names) if j not in kept]
    return {"rank": len(kept), "kept": kept_names, "dropped": dropped, "log10_ratios": dict(zip(names, lg)),
            "log10_kept_min": min(lg[j] for j in kept) if kept else -np.inf,
            "log10_dropped_max": max((lg[j] for j in range(len(names)) if j not in kept), default=-np.inf)}


def _proposition4_vectors_mp(act, x, orthogonal, positive, dps, rtol):
    """The v_k of eq. (113)-(116) in mpmath: returns (V_mp rows, rank, margin, diagnostics)."""
    import mpmath

    N = x.shape[0]
    rows = _b3_rows_mp(act, x, tuple(orthogonal) + tuple(positive))
    m = len(orthogonal)
    cols = [[r[j] for r in rows] for j in range(len(rows[0]))]
    O, P = cols[:m], cols[m:]
    basis, kept, ratios = _mp_greedy_basis(O, rtol)
    lg = [float(mpmath.log10(r)) if r > 0 else -np.inf for r in ratios]
    Q = _mp_complement(basis, N)                              # d vectors of length N
    d, k = len(Q), len(P)
    if d < max(k, 1):
        raise ValueError(f"the orthogonal complement has dimension {d} < {max(k, 1)} (need more samples)")
    proj = {}
    Ph = []
    for name, p in zip(positive, P):
        pp = [_mp_dot(q, p) for q in Q]
        rel = mpmath.sqrt(_mp_dot(pp, pp)) / mpmath.sqrt(_mp_dot(p, p))
        proj[name] = float(mpmath.log10(rel)) if rel > 0 else -np.inf
        if rel <= rtol:
            raise ValueError(f"the positive function {name!r} lies in the span of the orthogonal ones at X "
                             f"(relative projection 1e{proj[name]:.0f}): eq. (113) and (114)-(116) are "
                             f"incompatible for {act.name}")
        nrm = mpmath.sqrt(_mp_dot(pp, pp))
        Ph.append([v / nrm for v in pp])
    if k == 0:
        Z = [[mpmath.mpf(1) if i == j else mpmath.mpf(0) for i in range(d)] for j in range(d)]
        margin = mpmath.inf
    else:
        # least-norm z0 with <z0, p^_j> = 1 on a maximal independent subset of the projections;
        # a dependent projection (an exact relation, e.g. equal projections) must come out positive too
        _, ind, _ = _mp_greedy_basis(Ph, rtol)
        kk = len(ind)
        G = mpmath.matrix(kk, kk)
        for a_, i in enumerate(ind):
            for b_, j in enumerate(ind):
                G[a_, b_] = _mp_dot(Ph[i], Ph[j])
        coef = mpmath.lu_solve(G, mpmath.matrix([1] * kk))
        z0 = [mpmath.fsum(coef[a_] * Ph[j][i] for a_, j in enumerate(ind)) for i in range(d)]
        margin = 1 / mpmath.sqrt(_mp_dot(z0, z0))
        z0 = [v * margin for v in z0]
        for name, ph in zip(positive, Ph):
            ipz = _mp_dot(z0, ph)
            if ipz <= 0:
                raise ValueError(f"the positive functions' projections are linearly dependent with signs that "
                                 f"exclude <v, {name}> > 0 for {act.name}")
            margin = min(margin, ipz)
        U = _mp_complement([z0], d)
        Z = [z0] + [[a + margin / 2 * b for a, b in zip(z0, u)] for u in U]
    V = [[mpmath.fsum(z[j] * Q[j][i] for j in range(d)) for i in range(N)] for z in Z]
    info = {"log10_kept_min": min(lg[j] for j in kept) if kept else -np.inf,
            "log10_dropped_max": max((lg[j] for j in range(m) if j not in kept), default=-np.inf),
            "log10_projection": proj, "orthogonal_cols": O, "positive_cols": P}
    return V, len(kept), float(margin), info


def proposition4_construction(activation, X, c=1.0, w3: float = 1.0, *, orthogonal=None,
                              positive=B3_POSITIVE, rank_rtol: float | None = None,
                              dps: int | None = None) -> Proposition4:
    """Build Y and W-hat = (1, 0, 1, 0, w3, 0) of 004, Proposition 4, as the proof does.

    By default the v_k are orthogonal to every function of B~_3 = B_3 minus
    B_{3,1}, B_{3,2}, B_{3,3} (eq. (113), (120)) and positive on those three
    (eq. (114)-(116)); y_i = F_3(x_i) - w3 sum_k c_k [v_k]_i (eq. (121)).
    ``orthogonal`` and ``positive`` take other lists of names from
    :data:`B3_NAMES`. The numerical rank of the orthogonal functions at X
    plays the role of N_0 - 3; there are N - rank vectors v_k.

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
    act = _activation(activation)
    x = _vector(X, "X")
    w3 = _real(w3, "w3", positive=True)
    if orthogonal is None:
        orthogonal = tuple(n for n in B3_NAMES if n not in positive)
    for names, label in ((orthogonal, "orthogonal"), (positive, "positive")):
        for n in names:
            if n not in B3_NAMES:
                raise ValueError(f"{label}: unknown function {n!r}; expected names from B3_NAMES")
    if set(orthogonal) & set(positive):
        raise ValueError("orthogonal and positive must not share a function")
    net = Network((1, 1, 1, 1), act, biases=True)
    theta = np.array([1.0, 0.0, 1.0, 0.0, w3, 0.0])
    hp = None
    if dps is None:
        rank_rtol = 1e-10 if rank_rtol is None else _real(rank_rtol, "rank_rtol", positive=True)
        O = b3_matrix(act, x, orthogonal)
        P = b3_matrix(act, x, positive) if len(positive) else np.zeros((x.shape[0], 0))
        if np.any(np.linalg.norm(O, axis=0) == 0):
            raise ValueError(f"X is not generic for {act.name}: a B_3 function vanishes at every sample")
        On = O / np.linalg.norm(O, axis=0)
        sv = np.linalg.svd(On, compute_uv=False)
        rank = int((sv > rank_rtol * sv[0]).sum())
        V, margin = sign_constrained_vectors(On, P, rank_rtol=rank_rtol)
        K = V.shape[0]
        c_arr = _c_array(c, K)
        delta_y = w3 * (c_arr @ V)
    else:
        import mpmath

        dps = _check_dps(dps)
        rank_rtol = 10.0 ** (-2 * dps / 3) if rank_rtol is None else _real(rank_rtol, "rank_rtol", positive=True)
        with mpmath.workdps(dps):
            Vmp, rank, margin, info = _proposition4_vectors_mp(act, x, orthogonal, positive, dps,
                                                              mpmath.mpf(rank_rtol))
            K = len(Vmp)
            c_arr = _c_array(c, K)
            dy = [mpmath.mpf(w3) * mpmath.fsum(mpmath.mpf(float(c_arr[k])) * Vmp[k][i] for k in range(K))
                  for i in range(x.shape[0])]
            ndy = mpmath.sqrt(_mp_dot(dy, dy))

            def cos(col):
                return float(_mp_dot(dy, col) / (ndy * mpmath.sqrt(_mp_dot(col, col))))

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


def _c_array(c, K):
    c_arr = np.asarray(c, dtype=float)
    if c_arr.ndim == 0:
        c_arr = np.full(K, float(c_arr))
    if c_arr.shape != (K,) or np.any(c_arr <= 0) or not np.all(np.isfinite(c_arr)):
        raise ValueError(f"c must be a positive number or {K} positive numbers (one per v_k)")
    return c_arr


# ===================================== embeddings: Theorems 3 and 4 (G6, G9)
def activation_derivative(activation, order: int):
    """sigma^(order) as a numpy function, from the activation's sympy expression.

    ``Activation`` carries sigma, sigma', sigma''; the third and fourth
    derivatives enter the loss along the split of a neuron whose B-matrix is
    singular (004, proof of Theorem 4; chapter G9). Orders 0-2 return the
    activation's own functions.
    """
    act = _activation(activation)
    order = _int(order, "order", 0)
    if order <= 2:
        return (act.f, act.d1, act.d2)[order]
    t = Activation.symbol
    fn = sp.lambdify(t, sp.diff(act.expr, t, order), modules=["scipy", "numpy"])

    def f(x):
        x = np.asarray(x, dtype=float)
        return np.broadcast_to(np.asarray(fn(x), dtype=float), x.shape).copy()

    return f


@dataclass
class SplitExpansion:
    """R(gamma_lambda^r(theta) + t d) - R(gamma_lambda^r(theta)) = sum_k coefficients[k] t^k + O(t^5).

    ``direction`` d moves the incoming weights of the new neuron by alpha u
    and those of neuron r by -beta u (alpha = 1 - lambda, beta = lambda: the
    direction alpha u_{-1} - beta u_r of 004, Lemma 13), in the bigger
    network's flat parameters. ``m[k]`` = lambda alpha^k + (1 - lambda)(-beta)^k.
    """

    direction: np.ndarray
    lam: float
    m: np.ndarray
    coefficients: np.ndarray

    def cubic_drop(self):
        """(t*, c3 t*^3 + c4 t*^4) at t* = -3 c3 / (4 c4), the minimiser of the quartic model.

        Negative whenever c3 != 0 and c4 > 0: points arbitrarily close to the
        embedded point (t* -> 0 with c3) have a lower loss. Raises if c4 <= 0.
        """
        c3, c4 = self.coefficients[3], self.coefficients[4]
        if c4 <= 0:
            raise ValueError("c4 <= 0: the quartic model has no minimiser (the loss drops even faster)")
        t = -3.0 * c3 / (4.0 * c4)
        return float(t), float(c3 * t**3 + c4 * t**4)


def split_expansion(net: Network, theta, X, y, r: int, lam: float, u) -> SplitExpansion:
    """Taylor coefficients (to t^4) of the loss along the split of incoming weights (004, Lemma 13).

    For neuron r of the **last** hidden layer l of the smaller network, after
    gamma_lambda^r, moving the incoming weights of the two copies by
    (alpha t u, -beta t u) changes the output by
    delta f = sum_k t^k / k! m_k v_r sigma^(k)(n(l, r; x)) (a . u)^k,
    a = (act(l-1; x), 1). The first-order term vanishes (m_1 = 0), the
    second is m_2 u^T B u (000's B, loss sum (f - y)^2), and for the loss
    R = sum (f - y)^2: c_k = 2 m_k / k! <f - y, v_r sigma^(k) (a . u)^k> for
    k = 2, 3, plus ||delta f_2||^2 = (m_2 / 2)^2 ||v_r sigma'' (a . u)^2||^2 at k = 4.
    When u^T B u = 0 (a singular B), c_3 decides: the embedded point is not
    a local minimum if c_3 != 0 (chapter G9).
    """
    from ..embedding import embed_neuron

    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossland.Network, got {type(net).__name__}")
    layer = net.depth - 1
    if layer < 1:
        raise ValueError("net must have a hidden layer")
    r = _int(r, "r", 0)
    if r >= net.widths[layer]:
        raise ValueError(f"r={r} is out of range for the last hidden layer of width {net.widths[layer]}")
    lam = _real(lam, "lam")
    theta = net.check_params(theta)
    Xa = net.check_inputs(X)
    y = net.check_targets(y, Xa.shape[0])
    n_in = net.widths[layer - 1] + (1 if net.biases else 0)
    u = _vector(u, "u", n_in)
    alpha, beta = 1.0 - lam, lam
    fw = net.forward(theta, Xa)
    a = fw.act[layer - 1]
    if net.biases:
        a = np.hstack([a, np.ones((a.shape[0], 1))])
    au = a @ u
    z = fw.pre[layer][:, r]
    W, _ = net.unflatten(theta)
    v = float(W[layer + 1][0, r])
    res = fw.output - y
    m = np.array([lam * alpha**k + (1.0 - lam) * (-beta) ** k for k in range(5)])
    fact = [1, 1, 2, 6, 24]
    g = [m[k] / fact[k] * v * activation_derivative(net.activation, k)(z) * au**k for k in range(5)]
    coef = np.zeros(5)
    for k in (1, 2, 3, 4):
        coef[k] = 2.0 * res @ g[k]
    coef[4] += g[2] @ g[2]
    big, _ = embed_neuron(net, theta, layer, r, lam)
    d = np.zeros(big.n_params)
    d[big.incoming_indices(layer, net.widths[layer])] = alpha * u
    d[big.incoming_indices(layer, r)] = -beta * u
    return SplitExpansion(d, lam, m, coef)


def high_precision_loss_change(net: Network, X, y, theta_ref, thetas, dps: int = 40) -> np.ndarray:
    """R(theta_k) - R(theta_ref) for each row theta_k, computed in ``dps``-digit arithmetic.

    R = sum (f - y)^2 (004's loss). The network is evaluated in mpmath with
    sigma from its sympy expression; inputs, targets and parameters are taken
    exactly as the given binary floats. For loss changes far below the
    round-off of float64 (chapter G9: 1e-17 of the loss).
    """
    import mpmath

    if not isinstance(net, Network):
        raise TypeError(f"net must be a lossland.Network, got {type(net).__name__}")
    dps = _check_dps(dps)
    Xa = net.check_inputs(X)
    y = net.check_targets(y, Xa.shape[0])
    ref = net.check_params(theta_ref, "theta_ref")
    T = np.atleast_2d(np.asarray(thetas, dtype=float))
    if T.shape[1] != net.n_params or not np.all(np.isfinite(T)):
        raise ValueError(f"thetas must be finite rows of length {net.n_params}")
    f0 = _mp_sigma(net.activation)[0]

    def loss(theta):
        W, b = net.unflatten(theta)
        Wm = {l: [[mpmath.mpf(float(v)) for v in row] for row in W[l]] for l in W}
        bm = {l: [mpmath.mpf(float(v)) for v in b[l]] for l in b}
        total = mpmath.mpf(0)
        for xi, yi in zip(Xa, y):
            a = [mpmath.mpf(float(v)) for v in xi]
            for l in range(1, net.depth + 1):
                z = [mpmath.fdot(row, a) + bb for row, bb in zip(Wm[l], bm[l])]
                a = [f0(t) for t in z] if l < net.depth else z
            total += (a[0] - mpmath.mpf(float(yi))) ** 2
        return total

    with mpmath.workdps(dps):
        L0 = loss(ref)
        return np.array([float(loss(t) - L0) for t in T])


@dataclass
class MonotonePath:
    """A polyline theta_0, ..., theta_K along which the loss does not increase.

    ``losses[k]`` = R(theta_k); ``samples[k]`` the losses at the sub-steps of
    segment k (endpoints included), each sequence non-increasing.
    """

    thetas: np.ndarray
    losses: np.ndarray
    samples: list
    converged: bool
    message: str


def monotone_descent(objective: SquaredLoss, theta0, *, max_steps: int = 300, loss_target: float = 0.0,
                     gtol: float = 1e-12, mu0: float = 1e-2, n_check: int = 64,
                     step_max: float = 0.5) -> MonotonePath:
    """A non-increasing path (004, Definition 1) from ``theta0`` by damped Gauss-Newton segments.

    Step k: d = -(J^T J + mu s I)^{-1} J^T (f - y) (Levenberg-Marquardt, s the
    mean diagonal of J^T J; a descent direction whenever the gradient is not
    zero), shortened to length ``step_max`` if longer. The loss is sampled at
    ``n_check`` equally spaced points of theta_k + t d, t in (0, 1], and the
    segment ends at the last sample before the first increase, so the sampled
    loss along every segment is non-increasing; the end is moved back to the
    last sample where the loss still decreases along d (directional
    derivative <= 0), so that no dip hides in the last interval. mu is divided by 3 after a
    full step (floor 1e-10) and multiplied by 10 after a shortened one. Stops
    when the loss is at most ``loss_target``, ||grad|| <= ``gtol``, or after
    ``max_steps`` segments. Sampling certifies monotonicity only at its
    resolution: re-sample the segments more finely to check (chapter G6).
    """
    if not isinstance(objective, SquaredLoss):
        raise TypeError(f"objective must be a lossland.SquaredLoss, got {type(objective).__name__}")
    theta = objective.net.check_params(theta0, "theta0").copy()
    max_steps = _int(max_steps, "max_steps", 1)
    n_check = _int(n_check, "n_check", 2)
    loss_target = _real(loss_target, "loss_target")
    gtol = _real(gtol, "gtol", positive=True)
    mu = _real(mu0, "mu0", positive=True)
    step_max = _real(step_max, "step_max", positive=True)
    thetas, losses, samples = [theta.copy()], [objective.value(theta)], []
    converged, message = False, f"max_steps={max_steps} reached"
    t_grid = np.linspace(0.0, 1.0, n_check + 1)
    for _ in range(max_steps):
        L = losses[-1]
        if L <= loss_target:
            converged, message = True, "loss target reached"
            break
        r = objective.residuals(theta)
        Jm = objective.jacobian(theta)
        g = 2.0 * objective.c * Jm.T @ r
        if np.linalg.norm(g) <= gtol:
            converged, message = True, "gradient below gtol"
            break
        A = Jm.T @ Jm
        d = -np.linalg.solve(A + mu * max(np.trace(A) / A.shape[0], _EPS) * np.eye(A.shape[0]), Jm.T @ r)
        nd = float(np.linalg.norm(d))
        if nd > step_max:
            d *= step_max / nd
        vals = [L]
        for t in t_grid[1:]:
            try:
                v = objective.value(theta + t * d)
            except ValueError:
                break
            if v > vals[-1]:
                break
            vals.append(v)
        k = len(vals) - 1
        while k > 0 and float(objective.gradient(theta + t_grid[k] * d) @ d) > 0:
            k -= 1                               # end where the loss is still decreasing along d
        vals = vals[:k + 1]
        if k == 0:
            mu *= 10.0
            continue
        mu = max(mu / 3.0, 1e-10) if k == n_check else mu * 10.0
        theta = theta + t_grid[k] * d
        thetas.append(theta.copy())
        losses.append(vals[-1])
        samples.append(np.array(vals))
    return MonotonePath(np.array(thetas), np.array(losses), samples, converged, message)
