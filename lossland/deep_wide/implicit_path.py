"""The implicit-function path of the proof of Theorem 3.8 (paper 003, Section 4).

003 proves Theorem 3.8 with the implicit function theorem (its Theorem 4.6).
Split the parameters into u, the layers 1..k, and v, the layers of a set
I of upper layers with k+1 in I (in the first case of the proof all of
{k+1, ..., L}; in the general case the upper layers outside I are held
fixed), and let

    Psi(u, v) = grad_v Phi(u, v),      J_v Psi = grad_v^2 Phi = H_vv.

At a critical point (u*, v*) with H_vv non-singular, Theorem 4.6 gives a
C^1 map alpha on a ball around u* with Psi(u, alpha(u)) = 0 and
alpha(u*) = v*. Differentiating Psi(u, alpha(u)) = 0 gives its derivative,
D alpha(u) = -H_vv^{-1} H_vu, with H_vu = J_u Psi the mixed block of the
Hessian.

This module follows v = alpha(u) along a line u(t) = u* + t du: an Euler
predictor along the tangent dv/dt = -H_vv^{-1} H_vu du and a Newton
corrector on Psi(u(t), .) = 0, both from the exact Hessian of
:class:`lossland.objective.Objective`. Along the path it records the
residual ||Psi||, the extreme singular values of H_vv, the smallest singular
value of [F_k, 1_N] (Lemma 3.5) and the loss, and it says why it stopped.

* :func:`split_parameters`: the flat positions of u, v and the fixed layers.
* :func:`psi`, :func:`psi_jacobians`, :func:`implicit_derivative`.
* :func:`correct`: Newton's method on Psi(u, .) = 0 at fixed u.
* :func:`follow_implicit_path`: the predictor-corrector follower, returning
  an :class:`ImplicitPath`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_network, check_real, check_vector
from ..network import Network
from ..objective import Objective
from .rank_conditions import feature_matrix

__all__ = ["ParameterSplit", "split_parameters", "psi", "psi_jacobians", "implicit_derivative",
           "Correction", "correct", "ImplicitPath", "follow_implicit_path", "STOP_REASONS"]

# H_vv counts as singular for a Newton step of the follower's corrector below this
# ratio of singular values (round-off level); the follower's own test is singular_rtol.
_SOLVE_RTOL = 1e-14

#: Why :func:`follow_implicit_path` stopped (the keys are ``ImplicitPath.stop``).
STOP_REASONS = {
    "end": "reached t_end",
    "singular": "H_vv became numerically singular (smallest/largest singular value <= singular_rtol)",
    "step": "the corrector failed even with the smallest step h_min",
    "max_steps": "max_steps predictor-corrector steps taken",
}


def _layer_positions(net: Network, layer: int) -> np.ndarray:
    w = net.weight_slice(layer)
    idx = np.arange(w.start, w.stop)
    if net.biases:
        b = net.bias_slice(layer)
        idx = np.concatenate([idx, np.arange(b.start, b.stop)])
    return idx


@dataclass(frozen=True)
class ParameterSplit:
    """The split of the flat parameters in the proof of Theorem 3.8 of 003.

    ``u_index``: positions of (W_l, b_l), l = 1..k (003's u); ``v_index``:
    positions of the layers in ``layers`` (003's I; v is ordered as the flat
    vector: W[l] row by row, then b[l], layer by layer); ``fixed_index``:
    the layers of {k+1, ..., L} outside I, held fixed (the general case of
    the proof). ``s`` = dim u and ``t`` = dim v, as in 003.
    """

    net: Network
    k: int
    layers: tuple
    u_index: np.ndarray = field(repr=False)
    v_index: np.ndarray = field(repr=False)
    fixed_index: np.ndarray = field(repr=False)

    @property
    def s(self) -> int:
        return int(self.u_index.size)

    @property
    def t(self) -> int:
        return int(self.v_index.size)

    def u(self, theta) -> np.ndarray:
        """The u part of a flat parameter vector (a copy)."""
        return self.net.check_params(theta)[self.u_index].copy()

    def v(self, theta) -> np.ndarray:
        """The v part of a flat parameter vector (a copy)."""
        return self.net.check_params(theta)[self.v_index].copy()

    def join(self, theta, u=None, v=None) -> np.ndarray:
        """A copy of ``theta`` with its u and/or v part replaced."""
        out = self.net.check_params(theta).copy()
        if u is not None:
            out[self.u_index] = check_vector(u, "u", self.s)
        if v is not None:
            out[self.v_index] = check_vector(v, "v", self.t)
        return out

    def __str__(self):
        fixed = [l for l in range(self.k + 1, self.net.depth + 1) if l not in self.layers]
        return (f"u: layers 1..{self.k} (s = {self.s}); v: layer"
                f"{'s' if len(self.layers) > 1 else ''} "
                f"{', '.join(map(str, self.layers))} (t = {self.t}); fixed: "
                f"{', '.join(map(str, fixed)) if fixed else 'none'}")


def split_parameters(net: Network, k: int, layers=None) -> ParameterSplit:
    """The split (u, v) of the proof of Theorem 3.8 of 003 for ``net``.

    ``k`` is the wide layer (1..L-1): u holds layers 1..k. ``layers`` is
    003's I, a subset of {k+1, ..., L} that contains k+1 (default: all of
    them, the first case of the proof); the other upper layers are fixed.
    """
    net = check_network(net)
    k = check_int(k, "k", 1, net.depth - 1)
    upper = list(range(k + 1, net.depth + 1))
    if layers is None:
        layers = upper
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a collection of layer indices, got {layers!r}")
    layers = [check_int(l, "layers entry") for l in layers]
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers must not repeat a layer, got {layers}")
    layers = tuple(sorted(layers))
    if not set(layers) <= set(upper):
        raise ValueError(f"layers must be a subset of the upper layers {upper} "
                         f"(003's I), got {list(layers)}")
    if k + 1 not in layers:
        raise ValueError(f"layers must contain layer k+1 = {k + 1} (003, Theorem 3.8), "
                         f"got {list(layers)}")
    u_index = np.concatenate([_layer_positions(net, l) for l in range(1, k + 1)])
    v_index = np.concatenate([_layer_positions(net, l) for l in layers])
    rest = [l for l in upper if l not in layers]
    fixed = (np.concatenate([_layer_positions(net, l) for l in rest]) if rest
             else np.zeros(0, dtype=int))
    return ParameterSplit(net, k, layers, u_index, v_index, fixed)


def _check(objective, theta, split):
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a lossland.objective.Objective, "
                        f"got {type(objective).__name__}")
    if not isinstance(split, ParameterSplit):
        raise TypeError(f"split must be a ParameterSplit (from split_parameters), "
                        f"got {type(split).__name__}")
    if split.net != objective.net:
        raise ValueError(f"split was made for {split.net}, but objective has {objective.net}")
    return objective.net.check_params(theta)


def psi(objective: Objective, theta, split: ParameterSplit) -> np.ndarray:
    """Psi(u, v) = grad_v Phi(u, v) of the proof of Theorem 3.8 of 003, shape (t,)."""
    theta = _check(objective, theta, split)
    return objective.gradient(theta)[split.v_index]


def psi_jacobians(objective: Objective, theta, split: ParameterSplit):
    """(J_v Psi, J_u Psi) = (H_vv, H_vu), blocks of the exact Hessian (003, proof of Theorem 3.8).

    Shapes (t, t) and (t, s). H_vv is the block Hessian of 003's
    Definition 3.6 on the variables v.
    """
    theta = _check(objective, theta, split)
    H = objective.hessian(theta)
    return H[np.ix_(split.v_index, split.v_index)], H[np.ix_(split.v_index, split.u_index)]


def _singular(s, singular_rtol) -> bool:
    return not s[0] > 0 or s[-1] <= singular_rtol * s[0]


def _solve(Hvv, rhs, singular_rtol):
    s = np.linalg.svd(Hvv, compute_uv=False)
    if _singular(s, singular_rtol):
        ratio = s[-1] / s[0] if s[0] > 0 else 0.0
        raise ValueError(f"H_vv is numerically singular here: smallest/largest singular value "
                         f"{ratio:.2e} <= singular_rtol = {singular_rtol:.1e} (the implicit "
                         "function theorem, 003 Theorem 4.6, does not apply)")
    return np.linalg.solve(Hvv, rhs)


def implicit_derivative(objective: Objective, theta, split: ParameterSplit, du=None,
                        singular_rtol: float = 1e-12) -> np.ndarray:
    """Derivative of the implicit function of 003's Theorem 4.6: D alpha = -H_vv^{-1} H_vu.

    With ``du`` (shape (s,)): the directional derivative D alpha(u) du,
    shape (t,), the tangent dv/dt of v along u + t du. Without: the matrix
    (t, s). It is the derivative of alpha on the path Psi = 0 (differentiate
    Psi(u, alpha(u)) = 0). ``ValueError`` if H_vv is singular (smallest over
    largest singular value at most ``singular_rtol``).
    """
    singular_rtol = check_real(singular_rtol, "singular_rtol", positive=True, high=1.0)
    Hvv, Hvu = psi_jacobians(objective, theta, split)
    if du is None:
        return -_solve(Hvv, Hvu, singular_rtol)
    du = check_vector(du, "du", split.s)
    return -_solve(Hvv, Hvu @ du, singular_rtol)


@dataclass(frozen=True)
class Correction:
    """Result of :func:`correct`: the point, ||Psi|| before and after each Newton step, success."""

    theta: np.ndarray = field(repr=False)
    residuals: np.ndarray
    converged: bool
    reason: str

    @property
    def iterations(self) -> int:
        """Newton steps taken (accepted)."""
        return int(self.residuals.size - 1)


def _newton(objective, theta, split, tol, max_iter, singular_rtol):
    """Newton on Psi(u, .) = 0 from ``theta`` with u fixed: a :class:`Correction`."""
    theta = theta.copy()
    try:
        g = objective.gradient(theta)
    except ValueError as err:
        return Correction(theta, np.array([np.inf]), False, f"no gradient at the start ({err})")
    res = [float(np.linalg.norm(g[split.v_index]))]
    for _ in range(max_iter):
        if res[-1] <= tol:
            break
        try:
            H = objective.hessian(theta)
            step = _solve(H[np.ix_(split.v_index, split.v_index)], g[split.v_index], singular_rtol)
            trial = theta.copy()
            trial[split.v_index] -= step
            g = objective.gradient(trial)
        except ValueError as err:
            return Correction(theta, np.array(res), False, str(err))
        r = float(np.linalg.norm(g[split.v_index]))
        if not r < res[-1]:
            return Correction(theta, np.array(res), False,
                              f"||Psi|| did not decrease ({res[-1]:.1e} -> {r:.1e}): "
                              "outside Newton's basin")
        theta = trial
        res.append(r)
    if res[-1] <= tol:
        return Correction(theta, np.array(res), True, f"||Psi|| <= tol = {tol:.1e}")
    return Correction(theta, np.array(res), False, f"||Psi|| > tol after {max_iter} Newton steps")


def correct(objective: Objective, theta, split: ParameterSplit, tol: float = 1e-10,
            max_iter: int = 20, singular_rtol: float = 1e-12) -> Correction:
    """Newton's method on Psi(u, .) = grad_v Phi(u, .) = 0, u fixed (003, proof of Theorem 3.8).

    Steps v <- v - H_vv^{-1} Psi(u, v) with the exact Hessian until
    ||Psi|| <= ``tol``. Fails (``converged`` False, with the reason) when
    ||Psi|| does not decrease, H_vv is singular (``singular_rtol``), the
    forward pass overflows, or after ``max_iter`` steps; ``theta`` is then
    the last point reached.
    """
    theta = _check(objective, theta, split)
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", 1)
    singular_rtol = check_real(singular_rtol, "singular_rtol", positive=True, high=1.0)
    return _newton(objective, theta, split, tol, max_iter, singular_rtol)


@dataclass(frozen=True)
class ImplicitPath:
    """The path v = alpha(u(t)), u(t) = u* + t du, from :func:`follow_implicit_path`.

    One entry per accepted point, the start included: ``t``; ``theta``
    (n, P), the full parameters; ``v`` (n, t_dim); ``tangent`` (n, t_dim),
    the derivative dv/dt = -H_vv^{-1} H_vu du of the implicit function (003,
    Theorem 4.6; NaN where H_vv is singular); ``psi``, ||Psi|| after the
    corrector; ``psi_predicted``, ||Psi|| at the predicted point before
    correcting (0 at the start); ``newton_steps``; ``hvv_smin`` and
    ``hvv_smax``, the extreme singular values of H_vv; ``feature_smin``, the
    smallest singular value of [F_k, 1_N] (003, Lemma 3.5); ``loss``, Phi.
    ``stop`` is a key of :data:`STOP_REASONS` and ``message`` says more;
    ``h_last`` is the last step size tried.
    """

    split: ParameterSplit = field(repr=False)
    du: np.ndarray = field(repr=False)
    t: np.ndarray = field(repr=False)
    theta: np.ndarray = field(repr=False)
    v: np.ndarray = field(repr=False)
    tangent: np.ndarray = field(repr=False)
    psi: np.ndarray = field(repr=False)
    psi_predicted: np.ndarray = field(repr=False)
    newton_steps: np.ndarray = field(repr=False)
    hvv_smin: np.ndarray = field(repr=False)
    hvv_smax: np.ndarray = field(repr=False)
    feature_smin: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    stop: str
    message: str
    h_last: float

    @property
    def t_stop(self) -> float:
        """The last t reached."""
        return float(self.t[-1])

    @property
    def hvv_ratio(self) -> np.ndarray:
        """Smallest over largest singular value of H_vv (the inverse condition number)."""
        return self.hvv_smin / self.hvv_smax

    def __len__(self):
        return int(self.t.size)

    def __str__(self):
        n = len(self)
        return (f"ImplicitPath: {n} point{'' if n == 1 else 's'}, t from 0 to "
                f"{self.t_stop:.4g}, stop = {self.stop!r}")


def _point_data(objective, theta, split, du, singular_rtol):
    """((s_min, s_max) of H_vv, tangent or None, s_min of [F_k, 1], loss) at a point."""
    H = objective.hessian(theta)
    Hvv = H[np.ix_(split.v_index, split.v_index)]
    s = np.linalg.svd(Hvv, compute_uv=False)
    tangent = None
    if not _singular(s, singular_rtol):
        tangent = -np.linalg.solve(Hvv, H[np.ix_(split.v_index, split.u_index)] @ du)
    e_min = float(np.linalg.svd(feature_matrix(objective, theta, split.k), compute_uv=False)[-1])
    return (float(s[-1]), float(s[0])), tangent, e_min, float(objective.value(theta))


def follow_implicit_path(objective: Objective, theta0, split: ParameterSplit, du,
                         t_end: float = 1.0, *, h0: float = 0.02, h_min: float = 1e-6,
                         h_max: float = 0.05, tol: float = 1e-10, start_tol: float = 1e-8,
                         max_iter: int = 8, singular_rtol: float = 1e-8,
                         max_steps: int = 5000) -> ImplicitPath:
    """Follow the implicit function v = alpha(u) of 003's Theorem 4.6 along u(t) = u* + t du.

    003, proof of Theorem 3.8: at a critical point (u*, v*) = ``theta0``
    (||Psi|| <= ``start_tol``, else ``ValueError``) with H_vv non-singular,
    Psi(u, alpha(u)) = 0 near u*. From t = 0 to ``t_end`` (> 0) each step of
    size h predicts v + h dv/dt with the tangent -H_vv^{-1} H_vu du and
    corrects it with Newton on Psi(u(t + h), .) = 0 (:func:`correct` with
    ``tol`` and ``max_iter``). A failed corrector halves h; one that needs at
    most two Newton steps doubles it (up to ``h_max``). The follower stops
    (``stop``, a key of :data:`STOP_REASONS`) at ``t_end``; when H_vv at an
    accepted point has smallest/largest singular value <= ``singular_rtol``
    (at the start too: then the path has one point); when h would fall
    below ``h_min``; or after ``max_steps`` steps.
    """
    theta0 = _check(objective, theta0, split)
    du = check_vector(du, "du", split.s)
    if not np.any(du):
        raise ValueError("du must be a nonzero direction in u")
    t_end = check_real(t_end, "t_end", positive=True)
    h0 = check_real(h0, "h0", positive=True)
    h_min = check_real(h_min, "h_min", positive=True)
    h_max = check_real(h_max, "h_max", positive=True)
    if not h_min <= h0 <= h_max:
        raise ValueError(f"h0 must lie in [h_min, h_max] = [{h_min}, {h_max}], got {h0}")
    tol = check_real(tol, "tol", positive=True)
    start_tol = check_real(start_tol, "start_tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", 1)
    singular_rtol = check_real(singular_rtol, "singular_rtol", positive=True, high=1.0)
    max_steps = check_int(max_steps, "max_steps", 1)
    r0 = float(np.linalg.norm(psi(objective, theta0, split)))
    if r0 > start_tol:
        raise ValueError(f"theta0 is not on Psi = 0: ||grad_v Phi|| = {r0:.2e} > start_tol = "
                         f"{start_tol:.1e} (start at a critical point, e.g. from correct())")
    u0 = split.u(theta0)
    names = ("t", "theta", "v", "tangent", "psi", "psi_predicted", "newton_steps", "hvv_smin",
             "hvv_smax", "feature_smin", "loss")
    rows = {name: [] for name in names}

    def record(t, theta, tangent, svals, e_min, loss, r, r_pred, steps):
        tan = np.full(split.t, np.nan) if tangent is None else tangent
        for name, value in zip(names, (t, theta, theta[split.v_index], tan, r, r_pred, steps,
                                       svals[0], svals[1], e_min, loss)):
            rows[name].append(value)

    def singular_message(where, svals):
        ratio = svals[0] / svals[1] if svals[1] > 0 else 0.0
        return (f"H_vv numerically singular {where}: smallest/largest singular value "
                f"{ratio:.2e} <= singular_rtol = {singular_rtol:.1e}")

    svals, tangent, e_min, loss = _point_data(objective, theta0, split, du, singular_rtol)
    record(0.0, theta0, tangent, svals, e_min, loss, r0, 0.0, 0)
    t, theta, h, steps = 0.0, theta0, h0, 0
    stop, message = None, ""
    if tangent is None:
        stop, message = "singular", singular_message("at the start", svals)
    while stop is None:
        if t >= t_end:
            stop, message = "end", f"reached t_end = {t_end:g}"
            break
        if steps >= max_steps:
            stop, message = "max_steps", f"{max_steps} steps taken, t = {t:.6g}"
            break
        steps += 1
        last = h >= t_end - t
        t_new = t_end if last else t + h
        trial = split.join(theta, u=u0 + t_new * du,
                           v=theta[split.v_index] + (t_new - t) * tangent)
        try:
            r_pred = float(np.linalg.norm(psi(objective, trial, split)))
        except ValueError as err:                 # the forward pass overflowed
            corr = Correction(trial, np.array([np.inf]), False, str(err))
        else:
            corr = _newton(objective, trial, split, tol, max_iter, _SOLVE_RTOL)
        if not corr.converged:
            if h / 2 < h_min:
                stop = "step"
                message = (f"corrector failed at t = {t_new:.6g} with h = {h:.1e} "
                           f"(h_min = {h_min:.1e}): {corr.reason}")
                break
            h /= 2
            continue
        t, theta = t_new, corr.theta
        svals, tangent, e_min, loss = _point_data(objective, theta, split, du, singular_rtol)
        record(t, theta, tangent, svals, e_min, loss, float(corr.residuals[-1]), r_pred,
               corr.iterations)
        if tangent is None:
            stop, message = "singular", singular_message(f"at t = {t:.6g}", svals)
        elif corr.iterations <= 2:
            h = min(2 * h, h_max)
    arrays = {name: np.array(value, dtype=float) for name, value in rows.items()}
    return ImplicitPath(split=split, du=du.copy(), stop=stop, message=message, h_last=float(h),
                        **arrays)
