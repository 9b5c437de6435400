"""The non-increasing path to a global minimum of a wide network (000 Theorem 3, 001 Theorem 5).

Paper 000 (Section VI, Appendix D) proves Theorem 3 for a network whose
second-last hidden layer L-2 is wide (n_{L-2} > N) with Lemmas 2-6; paper 001
(Section 6, Appendix A.4) proves Theorem 5 for a wide layer l* followed by
non-increasing widths with Lemmas 16-20. This module builds both paths
numerically, one function per lemma:

============================  ===========  ===========  ======================================
step                          000          001          here
============================  ===========  ===========  ======================================
wide layer spans R^N          Lemma 2      Lemma 16     :func:`lemma2_spanning_point`
pre-activations from weights  Lemma 3      Lemma 17     :func:`lemma3_realizer`
sigma^{-1}                    Lemma 4      Lemma 18     :func:`sigma_inverse_increment`
one more layer, n_{l+1}<=n_l  --           Lemma 19     :func:`lemma19_step`
output weights of one sign    Lemma 5      --           :func:`lemma5_paths`
the decreasing path           Lemma 6      Lemma 20     :func:`lemma6_paths`, :func:`theorem5_path`
============================  ===========  ===========  ======================================

Drivers :func:`theorem3_path` and :func:`theorem5_path` concatenate the
segments into a :class:`Path`, t in [0, 1] -> theta(t) in lossland's flat
parameter order; :func:`check_path` samples the loss finely along it and
compares every increase with the round-off bound :func:`loss_roundoff_bound`;
:func:`shade_segments` marks the segments on a figure's t-axis.

Conventions: the activation vectors a^l_k = [act(l, k; x_alpha)]_alpha of 000
Section VI are stored as an ``(n_l, N)`` array ``a[l]`` (neurons x samples,
the transpose of :attr:`lossland.Forward.act`), as 001 writes a^l. The
corrections to the printed proofs (the divisor N in Lemma 6, J_+ with
``>= 0``, the bias in Lemma 3, n_{L-1} >= 2, the factor (1 - t)^2) are
explained in chapter P12.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import linalg as sla
from scipy import special

from .._validation import check_bool, check_int, check_objective, check_real
from ..activations import Activation
from ..derivatives import SquaredLoss
from ..landscape import loss_roundoff_bound
from ..plotting import COLORS
from ._objective import ObjectiveParts

__all__ = [
    "INVERSES",
    "sigma_inverse",
    "sigma_inverse_increment",
    "activation_vectors",
    "SpanningPoint",
    "lemma2_spanning_point",
    "invertible_rows",
    "lemma3_realizer",
    "lemma5_paths",
    "Lemma6Plan",
    "lemma6_paths",
    "lemma19_step",
    "Segment",
    "Path",
    "theorem3_path",
    "theorem5_path",
    "PathCheck",
    "check_path",
    "shade_segments",
]

_EPS = np.finfo(float).eps

INVERSES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": special.logit,   # log(a / (1 - a)), accurate for a near 0
    "tanh": np.arctanh,
}
"""sigma^{-1} on the image of the class-A activations of the registry (000 Lemma 4, 001 Lemma 18)."""


# ------------------------------------------------------------------ checks
def _check_activation(act):
    if not isinstance(act, Activation):
        raise TypeError(f"activation must be a lossland Activation, got {type(act).__name__}")
    if not act.in_class_A:
        raise ValueError(f"activation {act.name!r} is not in the class A of 000 Section III-A "
                         "(strictly increasing, analytic, bounded, 0 in [c, d])")
    if act.name not in INVERSES:
        raise ValueError(f"no inverse for activation {act.name!r}; INVERSES has {sorted(INVERSES)}")
    return act


# ---------------------------------------------------------- Lemma 4 / 18
def sigma_inverse(activation: Activation, a) -> np.ndarray:
    """sigma^{-1}(a) elementwise: 000 Lemma 4, 001 Lemma 18.

    "Since sigma is invertible with a continuous inverse, take
    nu(t) = sigma^{-1}(rho(t))." ``a`` must lie in the open image (c, d);
    sigmoid uses the logit, tanh the artanh.
    """
    act = _check_activation(activation)
    arr = np.asarray(a, dtype=float)
    c, d = act.image
    if not np.all(np.isfinite(arr)) or np.any(arr <= c) or np.any(arr >= d):
        bad = arr[~((arr > c) & (arr < d))] if np.all(np.isfinite(arr)) else arr[~np.isfinite(arr)]
        raise ValueError(f"a must lie in the open image ({c:g}, {d:g}) of {act.name}; "
                         f"got {bad.size} value(s) outside, e.g. {bad.flat[0]!r}")
    return INVERSES[act.name](arr)


_ENDS = {
    # distances of sigma(n) to the ends of the image, computed from n without cancellation,
    # and k with sigma^{-1}(a) = k (log(a - c) - log(d - a))
    "sigmoid": (lambda n: (special.expit(n), special.expit(-n)), 1.0),
    "tanh": (lambda n: (2.0 * special.expit(2.0 * n), 2.0 * special.expit(-2.0 * n)), 0.5),
}


def sigma_inverse_increment(activation: Activation, n0, delta) -> np.ndarray:
    """sigma^{-1}(sigma(n0) + delta) - n0, the pre-activation change realising an activation change.

    000 Lemma 4 / 001 Lemma 18 along a path that starts at the pre-activation
    n0, in a form that stays accurate when sigma(n0) is close to an end of the
    image (where sigma^{-1}(sigma(n0)) loses about u / (d - a) digits):
    with sigma^{-1}(a) = k (log(a - c) - log(d - a)),

        sigma^{-1}(sigma(n0) + delta) - n0 = k (log1p(delta / (a - c)) - log1p(-delta / (d - a))),

    exactly 0 where ``delta`` is 0. Raises ``ValueError`` if sigma(n0) + delta
    leaves the open image.
    """
    act = _check_activation(activation)
    n0 = np.asarray(n0, dtype=float)
    delta = np.asarray(delta, dtype=float)
    if n0.shape != delta.shape:
        raise ValueError(f"n0 and delta must have the same shape, got {n0.shape} and {delta.shape}")
    ends, k = _ENDS[act.name]
    lo, hi = ends(n0)
    if np.any(lo + delta <= 0) or np.any(hi - delta <= 0) or not np.all(np.isfinite(delta)):
        raise ValueError(f"delta moves sigma(n0) out of the open image {act.image} of {act.name}")
    return k * (np.log1p(delta / lo) - np.log1p(-delta / hi))


def activation_vectors(objective: SquaredLoss, theta, layer: int) -> np.ndarray:
    """The activation vectors a^l_k = [act(l, k; x_alpha)]_alpha as rows: shape (n_l, N).

    000 Section VI / 001 Section 6, on the inputs x_alpha of ``objective``
    (``layer = 0`` gives the inputs).
    """
    net = check_objective(objective).net
    if layer != 0:
        layer = net.check_layer(layer)
    return net.forward(theta, objective.X).act[layer].T.copy()


# ---------------------------------------------------------- Lemma 2 / 16
@dataclass
class SpanningPoint:
    """Outcome of :func:`lemma2_spanning_point`.

    ``singular_values`` of the wide layer's a^{l*} (descending, N of them);
    ``weight_margins[l]`` the smallest over largest singular value of w^l for
    the layers l > l* + 1 (001 Lemma 16 (iii)); ``perturbation`` is
    ||theta - theta0||.
    """

    theta: np.ndarray
    wide_layer: int
    singular_values: np.ndarray
    weight_margins: dict
    perturbation: float
    tries: int
    rtol: float

    @property
    def sigma_min(self) -> float:
        """The N-th singular value of a^{l*}: a^{l*} spans R^N iff it is > 0."""
        return float(self.singular_values[-1])

    @property
    def relative_margin(self) -> float:
        return float(self.singular_values[-1] / self.singular_values[0])


def _singular_values(A, N):
    s = np.linalg.svd(A, compute_uv=False)
    return np.concatenate([s, np.zeros(max(0, N - s.size))])[:N]


def _spanning_report(objective, theta, wide, full_rank_weights):
    net = objective.net
    s = _singular_values(activation_vectors(objective, theta, wide), objective.n_samples)
    W, _ = net.unflatten(theta)
    margins = {}
    if full_rank_weights:
        for l in range(wide + 2, net.depth + 1):
            sw = np.linalg.svd(W[l], compute_uv=False)
            margins[l] = float(sw[-1] / sw[0]) if sw[0] > 0 else 0.0
    return s, margins


def lemma2_spanning_point(objective: SquaredLoss, theta, wide_layer: int, eps: float, rng, *,
                          rtol: float = 1e-10, full_rank_weights: bool = False,
                          force: bool = False, max_tries: int = 20) -> SpanningPoint:
    """w' with ||w - w'|| < eps whose wide layer spans R^N: 000 Lemma 2, 001 Lemma 16.

    Both cite Nguyen & Hein (2017), Corollary 4.5: the set of parameters where
    the activation vectors a^{l*}_k do not span R^N has measure zero, so a
    random perturbation of norm eps/2 works with probability one.
    "Spans" is decided numerically: the N-th singular value of a^{l*}
    (``(n_{l*}, N)``) must exceed ``rtol`` times the largest. With
    ``full_rank_weights`` (001 Lemma 16 (iii)) also every w^l, l > l* + 1,
    must have full rank in the same sense. When ``theta`` already satisfies
    this it is returned unchanged, unless ``force``. The random direction
    moves the weights and biases of layers 1..l* (and of any rank-deficient
    w^l, l > l* + 1). Uses the network and the inputs of ``objective``.
    """
    objective = check_objective(objective)
    net, X = objective.net, objective.X
    theta = net.check_params(theta)
    wide = net.check_layer(wide_layer, hidden=True, name="wide_layer")
    eps = check_real(eps, "eps", positive=True)
    rtol = check_real(rtol, "rtol", positive=True)
    max_tries = check_int(max_tries, "max_tries", 1)
    if net.widths[wide] < X.shape[0]:
        raise ValueError(f"wide_layer={wide} has {net.widths[wide]} neurons, fewer than the "
                         f"N = {X.shape[0]} samples: its activation vectors cannot span R^N")
    rng = np.random.default_rng(rng)

    def ok(th):
        s, m = _spanning_report(objective, th, wide, full_rank_weights)
        good = s[-1] > rtol * s[0] and all(v > rtol for v in m.values())
        return good, s, m

    good, s, m = ok(theta)
    if good and not force:
        return SpanningPoint(theta.copy(), wide, s, m, 0.0, 0, rtol)
    # perturb the layers that feed the wide layer (Nguyen & Hein perturb those), and the
    # weights after layer l*+1 when one of them is rank deficient (001 Lemma 16 (iii))
    moved = list(range(1, wide + 1)) + [l for l, v in m.items() if v <= rtol]
    idx = np.concatenate([np.arange(net.n_params)[net.weight_slice(l)] for l in moved]
                         + [np.arange(net.n_params)[net.bias_slice(l)] for l in moved if net.biases])
    for k in range(1, max_tries + 1):
        d = np.zeros(net.n_params)
        d[idx] = rng.standard_normal(idx.size)
        cand = theta + 0.5 * eps * d / np.linalg.norm(d)
        good, s, m = ok(cand)
        if good:
            return SpanningPoint(cand, wide, s, m, float(np.linalg.norm(cand - theta)), k, rtol)
    raise ValueError(f"no perturbation of norm eps/2 = {eps / 2:g} in {max_tries} tries made layer "
                     f"{wide} span R^N with rtol={rtol:g} (last sigma_N/sigma_1 = {s[-1] / s[0]:.1e}); "
                     "increase eps or decrease rtol")


# ---------------------------------------------------------- Lemma 3 / 17
def invertible_rows(A) -> np.ndarray:
    """Indices of N rows of the (n, N) matrix A forming an invertible submatrix.

    The submatrix A-tilde of 000's proof of Lemma 3 (A-bar of 001's Lemma 17),
    chosen by QR with column pivoting of A^T (the best-conditioned choice
    greedily). Raises ``ValueError`` if A has rank < N numerically.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"A must be a 2-d array, got shape {A.shape}")
    n, N = A.shape
    if n < N:
        raise ValueError(f"A must have at least as many rows as columns, got shape {A.shape}")
    _, R, piv = sla.qr(A.T, pivoting=True, mode="economic")
    d = np.abs(np.diag(R))
    if d[N - 1] <= N * _EPS * d[0]:
        raise ValueError(f"A has numerical rank < N = {N}: its rows do not span R^N")
    return np.sort(piv[:N])


def lemma3_realizer(A, W0) -> Callable[[np.ndarray], np.ndarray]:
    """Weights realising a path of pre-activations: 000 Lemma 3, 001 Lemma 17.

    ``A`` is the wide layer's a^{l*} (``(n_{l*}, N)``, spanning R^N), ``W0``
    the weights w^{l*+1} (``(n_{l*+1}, n_{l*})``). Returns the map
    nu-tilde -> W0 + Gamma-tilde with Gamma-tilde . A = nu-tilde: the proof's
    rho-tilde = nu-tilde A-tilde^{-1} on the columns of the invertible
    submatrix A-tilde (:func:`invertible_rows`), zero elsewhere. The bias is
    left alone, so the pre-activations become n(l*+1) + nu-tilde (with a
    bias, 000's "nu(t) = Gamma(t) . act" needs the bias added, as 001 has it).
    """
    A = np.asarray(A, dtype=float)
    W0 = np.asarray(W0, dtype=float)
    if W0.ndim != 2 or W0.shape[1] != A.shape[0]:
        raise ValueError(f"W0 must have shape (m, {A.shape[0]}) to multiply A of shape {A.shape}, "
                         f"got {W0.shape}")
    rows = invertible_rows(A)
    At = A[rows].T.copy()
    m, N = W0.shape[0], A.shape[1]

    def realize(nu_tilde):
        nt = np.asarray(nu_tilde, dtype=float)
        if nt.shape != (m, N):
            raise ValueError(f"nu_tilde must have shape {(m, N)}, got {nt.shape}")
        W = W0.copy()
        W[:, rows] += np.linalg.solve(At, nt.T).T   # rho-tilde = nu-tilde A-tilde^{-1} (LU, gesv)
        return W

    realize.rows = rows
    return realize


# ------------------------------------------------------------- Lemma 5
def lemma5_paths(r, lam) -> Callable[[float], tuple[np.ndarray, np.ndarray]]:
    """000 Lemma 5 (no counterpart in 001): make the output weights change sign at constant output.

    ``r`` is ``(n, N)`` (the vectors r_j as rows, in Im(sigma)^N) and ``lam``
    the n coefficients lambda_j, all non-zero ones of one sign, n >= 2.
    Returns t -> (r(t), lambda(t)) on [0, 1] with r(0) = r, lambda(0) = lam,
    z = sum_j lambda_j(t) r_j(t) constant, r_j(t) convex combinations of the
    r_j (so in Im(sigma)^N), and lambda(1) of both signs.

    * two or more non-zero lambda_j: the printed formulas for t in [0, 1/2]
      and [1/2, 1] with lambda = lambda_1 + lambda_2, R = (lambda_1 r_1 +
      lambda_2 r_2) / lambda, applied to the two largest |lambda_j|; at t = 1,
      lambda_1 + 2 lambda_2 and -lambda_2;
    * exactly one (lambda_{j0}): first move r_k (lambda_k = 0) to r_{j0},
      then lambda_{j0} -> 2 lambda_{j0} and lambda_k -> -lambda_{j0};
    * none (the proof omits it): as before with coefficient 1 instead of
      lambda_{j0}.
    """
    r = np.asarray(r, dtype=float)
    lam = np.asarray(lam, dtype=float)
    if r.ndim != 2 or lam.shape != (r.shape[0],):
        raise ValueError(f"r must be (n, N) and lam (n,), got {r.shape} and {lam.shape}")
    n = r.shape[0]
    if n < 2:
        raise ValueError("Lemma 5 needs n >= 2 vectors r_j (a last hidden layer of at least 2 neurons)")
    if np.any(lam > 0) and np.any(lam < 0):
        raise ValueError("lam already has both signs: Lemma 5 applies when all non-zero lambda_j "
                         "share one sign")
    sign = -1.0 if np.any(lam < 0) else 1.0
    lp = sign * lam                                     # the case lambda_j >= 0
    nz = np.flatnonzero(lp)
    r0, l0 = r.copy(), lam.copy()

    if nz.size >= 2:
        j1, j2 = nz[np.argsort(-lp[nz])[:2]]
        l1, l2 = lp[j1], lp[j2]
        big = l1 + l2                                   # the lambda of the proof
        R = (l1 * r[j1] + l2 * r[j2]) / big
        Q = (l1 * r[j1] + 2 * l2 * r[j2]) / (l1 + 2 * l2)

        def path(t):
            t = check_real(t, "t", low=0.0, high=1.0)
            rt, lt = r0.copy(), l0.copy()
            if t == 0.0:
                return rt, lt
            if t <= 0.5:
                den = (1 - 2 * t) * big + 2 * t * l1
                rt[j1] = r[j1] + 2 * t * (R - r[j1])
                a1, a2 = big * l1 / den, (1 - 2 * t) * big * l2 / den
            else:
                den = (2 - 2 * t) * (l1 + 2 * l2) + (2 * t - 1) * big
                rt[j1] = (2 - 2 * t) * R + (2 * t - 1) * Q
                a1, a2 = big * (l1 + 2 * l2) / den, -l2 * big * (2 * t - 1) / den
            lt[j1], lt[j2] = sign * a1, sign * a2
            return rt, lt
    else:
        j0 = int(nz[0]) if nz.size else 0
        k = int(next(j for j in range(n) if j != j0 and lp[j] == 0))
        c = lp[j0] if nz.size else 1.0

        def path(t):
            t = check_real(t, "t", low=0.0, high=1.0)
            rt, lt = r0.copy(), l0.copy()
            s = min(2 * t, 1.0)
            rt[k] = r[k] + s * (r[j0] - r[k])
            if t > 0.5:
                rt[k] = r[j0]
                lt[j0] = sign * (lp[j0] + (2 * t - 1) * c)
                lt[k] = -sign * (2 * t - 1) * c
            return rt, lt

    path.pair = (int(j1), int(j2)) if nz.size >= 2 else (j0, k)
    return path


# ------------------------------------------------------------- Lemma 6
@dataclass
class Lemma6Plan:
    """The quantities of 000's proof of Lemma 6 for one starting point.

    ``variant`` is ``"split"`` (0 on the boundary of Im(sigma): residual split
    into I_+ / I_- and weights into J_+ / J_-) or ``"plain"`` (0 inside the
    image). ``shrink[j]`` = 1 - t_j, the factor of Gamma_2; ``increment[j]``
    the vector added to a^{L-1}_j along Gamma_3 after the shrink (zero for
    j in J_0).
    """

    variant: str
    J_plus: np.ndarray
    J_minus: np.ndarray
    J_zero: np.ndarray
    I_plus: np.ndarray
    I_minus: np.ndarray
    shrink: np.ndarray
    increment: np.ndarray
    a_start: np.ndarray
    w_start: np.ndarray


def _upper_lower(a, image):
    """Targets strictly inside the image: halfway between the image's ends and a's extremes."""
    c, d = image
    return 0.5 * (d + max(a.max(), 0.0)), 0.5 * (c + min(a.min(), 0.0))


def _lemma6_increments(w, res, image, variant):
    """The vectors added to a^{L-1}_j along Gamma_3 of 000 Lemma 6 (rows; zero for w_j = 0)."""
    c, d = image
    Jp, Jm = np.flatnonzero(w > 0), np.flatnonzero(w < 0)
    inc = np.zeros((w.size, res.size))
    if variant == "split":
        if Jp.size == 0 or Jm.size == 0:
            raise ValueError("Lemma 6 (0 on the boundary of the image) needs output weights of both "
                             "signs; apply Lemma 5 first")
        rp, rm = np.where(res >= 0, res, 0.0), np.where(res < 0, res, 0.0)
        pairs = ((Jp, rp), (Jm, rm)) if c == 0 else ((Jp, rm), (Jm, rp))
        for J, part in pairs:                      # c = 0: signs match; image (c, 0): opposite
            inc[J] = part[None, :] / (w[J][:, None] * J.size)
    else:
        J = np.flatnonzero(w != 0)
        if J.size == 0:
            raise ValueError("Lemma 6 needs a non-zero output weight; apply Lemma 5 first")
        inc[J] = res[None, :] / (w[J][:, None] * J.size)
    return inc


def lemma6_paths(a, w, residual, image, variant: str | None = None):
    """000 Lemma 6: Gamma_2 (shrink at constant output) and Gamma_3 (output z + t (y - z)).

    ``a`` = a^{L-1} (``(n, N)``), ``w`` = the output weights w^L_{.,j},
    ``residual`` = y - z, ``image`` = (c, d). Returns ``(plan, gamma2, gamma3)``
    with gamma_k: t in [0, 1] -> (a(t), w(t)).

    * ``"split"`` (0 = c, the sigmoid): J_+ = {w_j > 0}, J_- = {w_j < 0}
      (000 prints J_+ with ">= 0", which contains J_0), both non-empty;
      neuron j in J_+ gets (y - z)_{I_+} / (w_j |J_+|), in J_- gets
      (y - z)_{I_-} / (w_j |J_-|).
    * ``"plain"`` (c < 0 < d, tanh): every j with w_j != 0 gets
      (y - z) / (w_j |J|), |J| the number of non-zero weights (000 prints N,
      the number of samples, which gives the output z + t (|J| / N)(y - z)).

    Gamma_2: a_j(t) = (1 - t (1 - q_j)) a_j, w_j(t) = w_j / (1 - t (1 - q_j)), with
    q_j = 1 - t_j the largest factor <= 1 putting the end point q_j (a_j + increment_j)
    into the middle 80% of the image (below 0.9 for the sigmoid). Gamma_3:
    a_j(t) = q_j a_j + t q_j increment_j at fixed w; the output is
    z + t (y - z) and the loss (1 - t)^2 ||y - z||^2 (000 prints (1 - t)).
    """
    a = np.asarray(a, dtype=float)
    w = np.asarray(w, dtype=float)
    res = np.asarray(residual, dtype=float)
    if a.ndim != 2 or w.shape != (a.shape[0],) or res.shape != (a.shape[1],):
        raise ValueError(f"need a (n, N), w (n,), residual (N,); got {a.shape}, {w.shape}, {res.shape}")
    c, d = float(image[0]), float(image[1])
    if not (c <= 0 <= d and c < d):
        raise ValueError(f"image must be (c, d) with 0 in [c, d] (class A), got {image!r}")
    if np.any(a <= c) or np.any(a >= d):
        raise ValueError("a must lie in the open image (c, d)")
    if variant is None:
        variant = "plain" if c < 0 < d else "split"
    if variant not in ("split", "plain"):
        raise ValueError(f"variant must be 'split' or 'plain', got {variant!r}")
    if variant == "plain" and not c < 0 < d:
        raise ValueError("variant 'plain' needs 0 inside the image (c < 0 < d)")
    Jp, Jm, J0 = np.flatnonzero(w > 0), np.flatnonzero(w < 0), np.flatnonzero(w == 0)
    Ip, Im = np.flatnonzero(res >= 0), np.flatnonzero(res < 0)
    inc = _lemma6_increments(w, res, (c, d), variant)
    lo, up = c + 0.1 * (d - c), d - 0.1 * (d - c)      # end points within the middle 80% of (c, d)
    end = a + inc
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(end > 0, up / end, np.where(end < 0, lo / end, np.inf))
    q = np.minimum(1.0, ratio.min(axis=1))
    if np.any(q <= 0):
        raise ValueError("an end point a_j + increment_j has the wrong sign for the image: "
                         "the split of J and I does not match Im(sigma)")
    plan = Lemma6Plan(variant, Jp, Jm, J0, Ip, Im, q, inc, a.copy(), w.copy())

    def gamma2(t):
        t = check_real(t, "t", low=0.0, high=1.0)
        f = 1.0 - t * (1.0 - q)
        return a * f[:, None], w / f

    def gamma3(t):
        t = check_real(t, "t", low=0.0, high=1.0)
        return q[:, None] * (a + t * inc), w / q

    return plan, gamma2, gamma3


# ------------------------------------------------------------ Lemma 19
def lemma19_step(a_l, W_next, b_next, n_tilde, image, cols=None):
    """One application of 001 Lemma 19: realise pre-activations of layer l+1 from layer l.

    ``a_l`` = a^l (``(n_l, N)``), ``W_next`` = w^{l+1} (``(n_{l+1}, n_l)``,
    n_{l+1} <= n_l, full rank), ``b_next`` = w^{l+1}_0, ``n_tilde`` the wanted
    change of n^{l+1} (``(n_{l+1}, N)``). With W the invertible submatrix of
    the columns ``cols``:

        w^{l+1}(t) = lambda w^{l+1},   w^{l+1}_0(t) = w^{l+1}_0 - delta,
        a^l(t) = (a^l + [W^{-1} n-tilde ; 0] + [W^{-1} delta ; 0]) / lambda,

    so w^{l+1}(t) a^l(t) + w^{l+1}_0(t) = n^{l+1} + n-tilde. lambda >= 1 and
    W^{-1} delta keep a^l(t) inside Im(sigma) (shift when 0 is an end of the
    image, the sigmoid case; scale only when 0 is inside). Returns
    ``(a_l(t), W_next(t), b_next(t), lam, delta)``.
    """
    a_l = np.asarray(a_l, dtype=float)
    W_next = np.asarray(W_next, dtype=float)
    n_tilde = np.asarray(n_tilde, dtype=float)
    if W_next.ndim != 2 or a_l.ndim != 2 or a_l.shape[0] != W_next.shape[1]:
        raise ValueError(f"a_l must be (n_l, N) and W_next (n_(l+1), n_l); "
                         f"got {a_l.shape} and {W_next.shape}")
    m, n = W_next.shape
    if m > n:
        raise ValueError(f"Lemma 19 needs n_(l+1) <= n_l, got W_next of shape {W_next.shape}")
    if n_tilde.shape != (m, a_l.shape[1]) or np.shape(b_next) != (m,):
        raise ValueError(f"n_tilde must be {(m, a_l.shape[1])} and b_next ({m},), "
                         f"got {n_tilde.shape} and {np.shape(b_next)}")
    if cols is None:
        cols = invertible_rows(W_next.T)          # n_(l+1) independent columns of w^(l+1)
    Wsub = W_next[:, cols]
    inv_n = np.linalg.solve(Wsub, n_tilde)
    Bt = a_l[cols] + inv_n
    c, d = image
    up, lo = _upper_lower(a_l, image)
    shift = np.zeros(m)
    if c == 0:
        mu = 0.5 * a_l[cols].min(axis=1)
        shift = np.maximum(0.0, mu - Bt.min(axis=1))
    elif d == 0:
        mu = 0.5 * a_l[cols].max(axis=1)
        shift = np.minimum(0.0, mu - Bt.max(axis=1))
    B = Bt + shift[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(B > 0, B / up, np.where(B < 0, B / lo, 0.0))
    lam = max(1.0, float(ratios.max()))
    a_new = a_l.copy()
    a_new[cols] = B
    a_new /= lam
    delta = Wsub @ shift
    return a_new, lam * W_next, b_next - delta, lam, delta


# ------------------------------------------------------- segments, paths
@dataclass
class Segment:
    """One piece of the path, parametrised by s in [0, 1].

    ``theta(s)`` is the flat parameter vector; ``output(s)`` the network
    output the lemma prescribes (constant, or z + s (y - z)); ``activations(s)``
    the prescribed activation vectors ``{layer: (n_l, N)}`` of the layers the
    lemma realises. ``kind`` is ``"constant"`` or ``"decreasing"``.
    """

    name: str
    citation: str
    kind: str
    theta: Callable[[float], np.ndarray] = field(repr=False)
    output: Callable[[float], np.ndarray] = field(repr=False)
    activations: Callable[[float], dict] = field(repr=False)


@dataclass
class Path(ObjectiveParts):
    """The concatenated path t in [0, 1] -> theta(t); segment k covers [k/K, (k+1)/K].

    ``spanning`` is the Lemma 2 / 16 step that moved ``theta_given`` to the
    start ``spanning.theta`` (a jump of norm < eps, not part of the path).
    ``objective`` is the loss (network, data, normalisation) the path
    decreases; ``net``, ``X``, ``y``, ``normalization`` are its parts.
    """

    objective: SquaredLoss
    segments: list
    spanning: SpanningPoint
    theta_given: np.ndarray
    theorem: str

    @property
    def n_segments(self) -> int:
        return len(self.segments)

    @property
    def edges(self) -> np.ndarray:
        """The global t of the segment boundaries (K + 1 values)."""
        return np.linspace(0.0, 1.0, self.n_segments + 1)

    def locate(self, t) -> tuple[int, float]:
        """(segment index k, local parameter s) of the global parameter t."""
        t = check_real(t, "t", low=0.0, high=1.0)
        K = self.n_segments
        k = min(int(np.floor(t * K)), K - 1)
        return k, min(max(t * K - k, 0.0), 1.0)

    def __call__(self, t) -> np.ndarray:
        k, s = self.locate(t)
        return self.segments[k].theta(s)

    @property
    def start(self) -> np.ndarray:
        return self.segments[0].theta(0.0)

    @property
    def end(self) -> np.ndarray:
        return self.segments[-1].theta(1.0)


def _last_hidden_segment(objective, theta0, wide, fn, name, citation, kind, output):
    """Realise s -> (a^{L-1}(s), w^L(s)) by Lemmas 3 and 4 (001: 17 and 18) from theta0."""
    net, X = objective.net, objective.X
    L = net.depth
    sigma = net.activation
    A = activation_vectors(objective, theta0, wide)
    W, b = net.unflatten(theta0)
    realize = lemma3_realizer(A, W[L - 1])
    rho0 = fn(0.0)[0]
    n0 = net.forward(theta0, X).pre[L - 1].T
    Wfix = {l: W[l].copy() for l in W}
    bfix = {l: b[l].copy() for l in b}

    def theta(s):
        rho, w = fn(s)
        Wn = dict(Wfix)
        # Lemma 4: nu(s) = sigma^{-1}(rho(s)); Lemma 3: weights with Gamma(s) . A = nu(s) - n0
        Wn[L - 1] = realize(sigma_inverse_increment(sigma, n0, rho - rho0))
        Wn[L] = np.asarray(w, dtype=float).reshape(1, -1)
        return net.flatten(Wn, bfix if net.biases else None)

    return Segment(name, citation, kind, theta, output, lambda s: {L - 1: fn(s)[0]})


def _state(net, theta, X):
    fw = net.forward(theta, X)
    W, b = net.unflatten(theta)
    return fw, W, b


def theorem3_path(objective: SquaredLoss, theta, *, eps: float = 0.1, rng=0, rtol: float = 1e-10,
                  variant: str | None = None, force_perturbation: bool = False) -> Path:
    """The path of 000 Theorem 3, segment by segment as in Appendix D.

    The wide layer is L-2 (the second-last hidden layer), n_{L-2} >= N
    (Lemma 3 needs rank N; the theorem assumes n_{L-2} > N). Steps:

    1. Lemma 2: ``theta`` -> w' with ||w - w'|| < ``eps`` and a^{L-2} spanning R^N;
    2. Lemma 5 (only if 0 is an end of Im(sigma) and the non-zero output
       weights share one sign, or if all are zero): constant loss, the output
       weights end with both signs;
    3. Lemma 6, Gamma_2: shrink a^{L-1}_j, grow w^L_j (constant loss; skipped
       when no shrink is needed);
    4. Lemma 6, Gamma_3: output z + s (y - z), loss (1 - s)^2 L(w').

    Every change of a^{L-1} is realised by changing w^{L-1} only (Lemmas 3
    and 4); the output bias and the layers up to L-2 never move. Raises
    ``ValueError`` when the proof does not apply: fewer than two hidden
    layers, n_{L-2} < N, or n_{L-1} = 1 with 0 an end of the image and
    output weights of one sign (Lemma 5 needs two neurons; 001's Lemma 19,
    :func:`theorem5_path`, covers that case with the output bias).
    """
    objective = check_objective(objective)
    net, X, y = objective.net, objective.X, objective.y
    sigma = _check_activation(net.activation)
    L = net.depth
    if L < 3:
        raise ValueError(f"Theorem 3 needs at least two hidden layers (wide layer L-2 >= 1), got {net}")
    wide = L - 2
    N = X.shape[0]
    if net.widths[wide] < N:
        raise ValueError(f"the second-last hidden layer has {net.widths[wide]} neurons, fewer than "
                         f"N = {N}: Theorem 3 needs a wide layer L-2")
    image = sigma.image
    if variant is None:
        variant = "plain" if image[0] < 0 < image[1] else "split"
    if variant not in ("split", "plain"):
        raise ValueError(f"variant must be 'split' or 'plain', got {variant!r}")
    sp = lemma2_spanning_point(objective, theta, wide, eps, rng, rtol=rtol, force=force_perturbation)
    th = sp.theta
    segments = []
    fw, W, b = _state(net, th, X)
    w = W[L][0]
    mixed = np.any(w > 0) and np.any(w < 0)
    if (variant == "split" and not mixed) or not np.any(w != 0):
        if net.widths[L - 1] < 2:
            raise ValueError("the output weights share one sign and the last hidden layer has a single "
                             "neuron: Lemma 5 of 000 needs n_(L-1) >= 2 (use theorem5_path)")
        z = fw.output.copy()
        p5 = lemma5_paths(fw.act[L - 1].T, w)
        seg = _last_hidden_segment(objective, th, wide, p5, "Lemma 5", "000 Lemma 5", "constant",
                                   lambda s, z=z: z)
        segments.append(seg)
        th = seg.theta(1.0)
        fw, W, b = _state(net, th, X)
    z = fw.output.copy()
    plan, g2, _ = lemma6_paths(fw.act[L - 1].T, W[L][0], y - z, image, variant)
    if np.any(plan.shrink < 1.0):
        seg = _last_hidden_segment(objective, th, wide, g2, "Lemma 6, Γ₂", "000 Lemma 6 (Γ₂)",
                                   "constant", lambda s, z=z: z)
        segments.append(seg)
        th = seg.theta(1.0)
        fw, W, b = _state(net, th, X)
    # Gamma_3 from the realised point after Gamma_2: increments from its residual y - z'
    z = fw.output.copy()
    a3, w3 = fw.act[L - 1].T.copy(), W[L][0].copy()
    inc = _lemma6_increments(w3, y - z, image, variant)
    end = a3 + inc
    if np.any(end <= image[0]) or np.any(end >= image[1]):
        raise ValueError("Gamma_3 would leave the image of sigma (internal error in the shrink step)")
    seg = _last_hidden_segment(objective, th, wide, lambda s: (a3 + s * inc, w3), "Lemma 6, Γ₃",
                               "000 Lemma 6 (Γ₃)", "decreasing", lambda s, z=z: z + s * (y - z))
    segments.append(seg)
    return Path(objective, segments, sp, net.check_params(theta).copy(), "000 Theorem 3")


def _default_wide_layer(net, N):
    widths = net.widths
    for l in range(net.depth - 1, 0, -1):
        after = widths[l + 1:]
        if widths[l] >= N and all(after[i + 1] <= after[i] for i in range(len(after) - 1)):
            return l
    raise ValueError(f"{net} has no hidden layer with at least N = {N} neurons followed by "
                     "non-increasing widths (001 Theorem 5)")


def theorem5_path(objective: SquaredLoss, theta, *, wide_layer: int | None = None, eps: float = 0.1,
                  rng=0, rtol: float = 1e-10, force_perturbation: bool = False) -> Path:
    """The path of 001 Theorem 5 (Lemmas 16-20): one segment, output z + s (y - z).

    Wide layer l* (n_{l*} >= N) followed by widths n_{l*+1} >= ... >= n_L = 1.
    Lemma 16 moves theta by less than ``eps`` so that a^{l*} spans R^N and
    every w^l, l > l* + 1, has full rank. Lemma 20 then realises the output
    path backwards: Lemma 19 at layers L, L-1, ..., l*+2 (scale w^{l+1} by
    lambda >= 1, move the bias by -delta, prescribe a^l), Lemma 18
    (sigma^{-1}) in between, and Lemma 17 at layer l*+1. The loss is
    (1 - s)^2 L(w'): decreasing from the first step, no constant segment.
    With 0 an end of the image (sigmoid) the shift delta needs biases.
    """
    objective = check_objective(objective)
    net, X, y = objective.net, objective.X, objective.y
    sigma = _check_activation(net.activation)
    L = net.depth
    N = X.shape[0]
    if wide_layer is None:
        wide = _default_wide_layer(net, N)
    else:
        wide = net.check_layer(wide_layer, hidden=True, name="wide_layer")
        after = net.widths[wide + 1:]
        if net.widths[wide] < N:
            raise ValueError(f"wide_layer={wide} has {net.widths[wide]} < N = {N} neurons")
        if any(after[i + 1] > after[i] for i in range(len(after) - 1)):
            raise ValueError(f"the widths after wide_layer={wide} must be non-increasing (001 Theorem 5), "
                             f"got {after}")
    image = sigma.image
    if not net.biases and not image[0] < 0 < image[1] and wide + 1 < L:
        raise ValueError("001 Lemma 19 shifts the biases when 0 is an end of Im(sigma): "
                         "this network has no biases")
    sp = lemma2_spanning_point(objective, theta, wide, eps, rng, rtol=rtol, full_rank_weights=True,
                               force=force_perturbation)
    th0 = sp.theta
    fw, W, b = _state(net, th0, X)
    z = fw.output.copy()
    a = {l: fw.act[l].T.copy() for l in range(wide, L)}
    n0 = {l: fw.pre[l].T.copy() for l in range(wide + 1, L)}
    cols = {l: invertible_rows(W[l].T) for l in range(wide + 2, L + 1)}
    realize = lemma3_realizer(a[wide], W[wide + 1])
    Wfix = {l: W[l].copy() for l in W}
    bfix = {l: b[l].copy() for l in b}

    def build(s):
        s = check_real(s, "s", low=0.0, high=1.0)
        Wn, bn, targets = dict(Wfix), dict(bfix), {}
        n_tilde = (s * (y - z))[None, :]                        # Lemma 20: f(s) = z + s (y - z)
        for l in range(L - 1, wide, -1):                        # Lemma 19 at layer l + 1
            a_new, Wn[l + 1], bn[l + 1], _, delta = lemma19_step(a[l], W[l + 1], b[l + 1], n_tilde,
                                                                 image, cols[l + 1])
            if not net.biases and np.any(delta != 0):
                raise ValueError("Lemma 19 needs a bias shift but the network has no biases")
            targets[l] = a_new
            n_tilde = sigma_inverse_increment(sigma, n0[l], a_new - a[l])   # Lemma 18
        Wn[wide + 1] = realize(n_tilde)                         # Lemma 17
        return net.flatten(Wn, bn if net.biases else None), targets

    seg = Segment("Lemma 20", "001 Lemmas 17-20", "decreasing", lambda s: build(s)[0],
                  lambda s: z + s * (y - z), lambda s: build(s)[1])
    return Path(objective, [seg], sp, net.check_params(theta).copy(), "001 Theorem 5")


# ------------------------------------------------------------- checking
@dataclass
class PathCheck:
    """Outcome of :func:`check_path`.

    ``t``, ``loss``, ``tol`` at every evaluated point (sorted by t);
    ``max_increase`` = max over j of L(t_j) - min_{i <= j} L(t_i) (a drift
    made of many small steps counts too), ``max_ratio`` the same increase
    divided by the sum of the two points' round-off bounds (must be <= 1);
    ``activation_error`` / ``output_error`` the largest deviation of the
    realised activation vectors / outputs from what the lemmas prescribe;
    ``segments`` one dict per segment (name, kind, start and end loss, the
    largest deviation from the prescribed loss: constant, or
    (1 - s)^2 L(start); ``deviation_ratio``, that deviation over the
    round-off bounds of the point and the segment's start, must be <= 1;
    and the largest tolerance there).
    """

    t: np.ndarray
    loss: np.ndarray
    tol: np.ndarray
    edges: np.ndarray
    max_increase: float
    max_ratio: float
    worst_t: float
    activation_error: float
    output_error: float
    segments: list
    n_refined: int

    @property
    def start_loss(self) -> float:
        return float(self.loss[0])

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    @property
    def non_increasing(self) -> bool:
        return bool(self.max_ratio <= 1.0)


def _evaluate(path, obj, k, s):
    seg = path.segments[k]
    th = seg.theta(s)
    fw = path.net.forward(th, path.X)
    act_err = max((float(np.abs(fw.act[l].T - A).max()) for l, A in seg.activations(s).items()),
                  default=0.0)
    out_err = float(np.abs(fw.output - seg.output(s)).max())
    r = fw.output - path.y
    return float(obj.c * (r @ r)), loss_roundoff_bound(obj, th), act_err, out_err


def check_path(path: Path, n_per_segment: int = 1000, refine: int = 20, depth: int = 5) -> PathCheck:
    """Sample the loss along ``path`` and compare every increase with round-off.

    ``n_per_segment`` equally spaced points per segment (end points
    included), then the ``refine`` intervals with the largest apparent
    increase (L(t_{i+1}) > L(t_i)) are subdivided into 2^depth pieces.
    The loss is ``path.objective`` (its normalisation included).
    """
    if not isinstance(path, Path):
        raise TypeError(f"path must be a lossland.nonattracting.paths.Path, got {type(path).__name__}")
    n_per_segment = check_int(n_per_segment, "n_per_segment", 2)
    refine = check_int(refine, "refine", 0)
    depth = check_int(depth, "depth", 1)
    obj = path.objective
    K = path.n_segments
    pts = {}
    for k in range(K):
        for s in np.linspace(0.0, 1.0, n_per_segment):
            pts[(k, float(s))] = _evaluate(path, obj, k, float(s))

    def ordered():
        keys = sorted(pts, key=lambda ks: ((ks[0] + ks[1]) / K, ks[0]))
        return keys, np.array([pts[q][0] for q in keys])

    keys, Ls = ordered()
    inc = np.diff(Ls)
    n_ref = 0
    for i in np.argsort(-inc)[:refine]:
        if inc[i] <= 0:
            break
        (k0, s0), (k1, s1) = keys[i], keys[i + 1]
        if k0 != k1:                                   # a junction: the same point twice
            continue
        for s in np.linspace(s0, s1, 2 ** depth + 1)[1:-1]:
            pts[(k0, float(s))] = _evaluate(path, obj, k0, float(s))
        n_ref += 1
    keys, Ls = ordered()
    vals = np.array([pts[q] for q in keys])
    tols, act_err, out_err = vals[:, 1], vals[:, 2], vals[:, 3]
    t = np.array([(k + s) / K for k, s in keys])
    best, ibest = np.inf, 0
    max_inc, max_ratio, worst = 0.0, 0.0, 0.0
    for j, Lj in enumerate(Ls):
        if Lj < best:
            best, ibest = Lj, j
        incr = Lj - best
        if incr > max_inc:
            max_inc, worst = incr, t[j]
        max_ratio = max(max_ratio, incr / (tols[j] + tols[ibest]))
    segs = []
    for k, seg in enumerate(path.segments):
        m = np.array([q[0] == k for q in keys])
        s_loc = np.array([q[1] for q in keys])[m]
        Lk, tk = Ls[m], tols[m]
        model = Lk[0] * ((1 - s_loc) ** 2 if seg.kind == "decreasing" else np.ones_like(s_loc))
        slack = tk + tk[0] * (model / Lk[0] if Lk[0] > 0 else 1.0)
        segs.append(dict(name=seg.name, citation=seg.citation, kind=seg.kind, loss_start=float(Lk[0]),
                         loss_end=float(Lk[-1]), max_deviation=float(np.abs(Lk - model).max()),
                         deviation_ratio=float((np.abs(Lk - model) / slack).max()),
                         max_tol=float(tk.max())))
    return PathCheck(t, Ls, tols, path.edges, float(max_inc), float(max_ratio), float(worst),
                     float(act_err.max()), float(out_err.max()), segs, n_ref)


# --------------------------------------------------------------- figures
def shade_segments(ax, path: Path, labels: bool = True, fontsize: float = 9,
                   wrap: bool = False) -> None:
    """Shade the segments of ``path`` on the t-axis of the matplotlib axes ``ax``.

    Constant-loss segments (000 Lemma 5, Lemma 6 Gamma_2) grey, decreasing
    ones (Gamma_3, 001 Lemma 20) green; with ``labels`` each is named at
    mid-height in ``fontsize`` points (9 by default: the book shows a figure
    7 in wide at about its own size, so smaller names are hard to read).
    ``wrap`` puts what follows a comma in a name on a new line ("Lemma 6,"
    over "Γ₂"), for panels too narrow for the names side by side.
    """
    if not isinstance(path, Path):
        raise TypeError(f"path must be a lossland.nonattracting.paths.Path, got {type(path).__name__}")
    fontsize = check_real(fontsize, "fontsize", positive=True)
    wrap = check_bool(wrap, "wrap")
    colors = {"constant": COLORS["grey"], "decreasing": COLORS["minimum"]}
    for k, seg in enumerate(path.segments):
        a, b = path.edges[k], path.edges[k + 1]
        ax.axvspan(a, b, color=colors[seg.kind], alpha=0.10 if seg.kind == "constant" else 0.06)
        if labels:
            name = seg.name.replace(", ", ",\n") if wrap else seg.name
            ax.text((a + b) / 2, 0.55, name, transform=ax.get_xaxis_transform(), ha="center",
                    va="top", fontsize=fontsize)
