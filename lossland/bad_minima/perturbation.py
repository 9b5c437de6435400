"""Lemma 2, Lemma 5 and Proposition 3 of 004: strict minima survive perturbations of the data (chapter G5).

A strict local minimum with positive definite Hessian stays one, nearby,
when the data (X, Y) move a little (Lemma 2, A.2.3); hence positive measure
(Proposition 3). :func:`follow_minimum` tracks the minimum W~(r) of the data
(X, Y) + r d with Newton steps on the exact Hessian, :func:`fold_radius`
finds the radius where it disappears, :func:`residual_scaling_interval` and
:func:`residual_direction_crossing` give that radius in closed form when Y
moves along the residual. They take a :class:`.Proposition2` or
:class:`.Proposition4` construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_real, check_rng
from ..derivatives import SquaredLoss
from ..optimize import newton_polish
from ._common import as_samples
from .proposition2 import Proposition2
from .proposition4 import Proposition4

__all__ = [
    "perturbation_directions",
    "FollowResult",
    "follow_minimum",
    "fold_radius",
    "residual_scaling_interval",
    "residual_direction_crossing",
]

_EPS = np.finfo(float).eps


def perturbation_directions(n_samples: int, count: int, rng) -> np.ndarray:
    """``count`` unit vectors in R^{2N}: perturbations (dX, dY) of the data, stacked."""
    n_samples = check_int(n_samples, "n_samples", 1)
    count = check_int(count, "count", 1)
    rng = check_rng(rng)
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
    d = as_samples(direction, "direction", 2 * N)
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
    r_max = check_real(r_max, "r_max", positive=True)
    n_scan = check_int(n_scan, "n_scan", 1)
    rtol = check_real(rtol, "rtol", positive=True)
    d = as_samples(direction, "direction", 2 * cons.n_samples)
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

