"""Theorems 3 and 4 of 004: the minima embedded into wider networks, and the way out (chapters G6, G9).

The neuron embedding gamma_lambda (:mod:`lossland.embedding`) carries the
minima of Propositions 2 and 4 into 1-d_1-1 and 1-d_1-d_2-1 networks (004,
Theorems 3 and 4, A.2.4, A.2.8). Here what the embedding itself does not give:

* :func:`widen` and :func:`embed_both_layers` repeat the split (the latter
  checking Theorem 2's hypotheses, B positive definite and D = 0, at each step);
* for a singular B-matrix (Theorem 4's second layer) :func:`split_expansion`
  gives the Taylor coefficients of the loss along the split of incoming
  weights (third order decides), :func:`activation_derivative` the higher
  derivatives of sigma, :func:`loss_change` and
  :func:`high_precision_loss_change` loss differences below float64 round-off;
* :func:`monotone_descent` builds a non-increasing path (Definition 1,
  Remark 3), :func:`path_rise` re-samples it to check monotonicity, and
  :func:`escape_path` follows the whole way out of a non-strict embedded
  minimum: flat to a saddle, down its negative curvature, then monotone.
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from .._validation import check_dps, check_int, check_objective, check_real
from ..activations import Activation
from ..derivatives import SquaredLoss
from ..embedding import (B_matrix, D_matrix, definiteness, degenerate_direction, descent_direction, embed_neuron,
                         embed_repeatedly)
from ..landscape import loss_along, loss_roundoff_bound, losses_at
from ..network import Network
from ._common import as_activation, as_samples, mp_sigma

__all__ = [
    "activation_derivative",
    "SplitExpansion",
    "split_expansion",
    "loss_change",
    "high_precision_loss_change",
    "widen",
    "embed_both_layers",
    "MonotonePath",
    "monotone_descent",
    "path_rise",
    "EscapePath",
    "escape_path",
]

_EPS = np.finfo(float).eps


def activation_derivative(activation, order: int):
    """sigma^(order) as a numpy function, from the activation's sympy expression.

    ``Activation`` carries sigma, sigma', sigma''; the third and fourth
    derivatives enter the loss along the split of a neuron whose B-matrix is
    singular (004, proof of Theorem 4; chapter G9). Orders 0-2 return the
    activation's own functions.
    """
    act = as_activation(activation)
    order = check_int(order, "order", 0)
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


def split_expansion(objective: SquaredLoss, theta, r: int, lam: float, u) -> SplitExpansion:
    """Taylor coefficients (to t^4) of the loss along the split of incoming weights (004, Lemma 13).

    For neuron r of the **last** hidden layer l of the smaller network, after
    gamma_lambda^r, moving the incoming weights of the two copies by
    (alpha t u, -beta t u) changes the output by
    delta f = sum_k t^k / k! m_k v_r sigma^(k)(n(l, r; x)) (a . u)^k,
    a = (act(l-1; x), 1). The first-order term vanishes (m_1 = 0), the
    second is m_2 u^T B u (000's B, loss sum (f - y)^2), and for the loss
    R = c sum (f - y)^2 of ``objective`` (c = 1 for 004's R):
    c_k = 2 c m_k / k! <f - y, v_r sigma^(k) (a . u)^k> for k = 2, 3, plus
    c ||delta f_2||^2 = c (m_2 / 2)^2 ||v_r sigma'' (a . u)^2||^2 at k = 4.
    When u^T B u = 0 (a singular B), c_3 decides: the embedded point is not
    a local minimum if c_3 != 0 (chapter G9).
    """
    check_objective(objective)
    net = objective.net
    layer = net.depth - 1
    if layer < 1:
        raise ValueError("net must have a hidden layer")
    r = check_int(r, "r", 0)
    if r >= net.widths[layer]:
        raise ValueError(f"r={r} is out of range for the last hidden layer of width {net.widths[layer]}")
    lam = check_real(lam, "lam")
    theta = net.check_params(theta)
    Xa, y = objective.X, objective.y
    n_in = net.widths[layer - 1] + (1 if net.biases else 0)
    u = as_samples(u, "u", n_in)
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
    coef *= objective.c
    big, _ = embed_neuron(net, theta, layer, r, lam)
    d = np.zeros(big.n_params)
    d[big.incoming_indices(layer, net.widths[layer])] = alpha * u
    d[big.incoming_indices(layer, r)] = -beta * u
    return SplitExpansion(d, lam, m, coef)


def high_precision_loss_change(objective: SquaredLoss, theta_ref, thetas, dps: int = 40) -> np.ndarray:
    """R(theta_k) - R(theta_ref) for each row theta_k, computed in ``dps``-digit arithmetic.

    R = c sum (f - y)^2, the loss of ``objective`` (004's R for c = 1). The network is evaluated in mpmath with
    sigma from its sympy expression; inputs, targets and parameters are taken
    exactly as the given binary floats. For loss changes far below the
    round-off of float64 (chapter G9: 1e-17 of the loss).
    """
    check_objective(objective)
    net, Xa, y = objective.net, objective.X, objective.y
    dps = check_dps(dps, 20)
    ref = net.check_params(theta_ref, "theta_ref")
    T = np.atleast_2d(np.asarray(thetas, dtype=float))
    if T.shape[1] != net.n_params or not np.all(np.isfinite(T)):
        raise ValueError(f"thetas must be finite rows of length {net.n_params}")
    f0 = mp_sigma(net.activation)[0]

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
        c = mpmath.mpf(objective.c)
        return np.array([float(c * (loss(t) - L0)) for t in T])


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
    check_objective(objective)
    theta = objective.net.check_params(theta0, "theta0").copy()
    max_steps = check_int(max_steps, "max_steps", 1)
    n_check = check_int(n_check, "n_check", 2)
    loss_target = check_real(loss_target, "loss_target")
    gtol = check_real(gtol, "gtol", positive=True)
    mu = check_real(mu0, "mu0", positive=True)
    step_max = check_real(step_max, "step_max", positive=True)
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



def loss_change(objective: SquaredLoss, theta, direction, ts) -> np.ndarray:
    """R(theta + t d) - R(theta) for each t, from the change of the outputs.

    With f_0 = f(theta) and delta f = f(theta + t d) - f_0, the change is
    c <delta f, 2 (f_0 - y) + delta f>: no cancellation between two nearly
    equal losses, so it stays accurate far below the loss's round-off
    (chapter G9 extrapolates c_3 and c_4 of :func:`split_expansion` from it).
    """
    check_objective(objective)
    net = objective.net
    theta = net.check_params(theta)
    d = net.check_params(direction, "direction")
    ts = np.atleast_1d(np.asarray(ts, dtype=float))
    if ts.ndim != 1 or not np.all(np.isfinite(ts)):
        raise ValueError("ts must be a finite number or a 1-d array of finite numbers")
    f0 = net(theta, objective.X)
    base = 2.0 * (f0 - objective.y)
    out = np.empty(ts.size)
    for k, t in enumerate(ts):
        df = net(theta + t * d, objective.X) - f0
        out[k] = objective.c * (df @ (base + df))
    return out


def widen(net: Network, theta, layer: int, r: int, width: int, lam: float):
    """Split neuron ``r`` of ``layer`` with gamma_lambda^r until the layer has ``width`` neurons.

    Returns ``(net, theta)`` unchanged when the layer already has that width
    (:func:`lossland.embedding.embed_repeatedly` otherwise).
    """
    width = check_int(width, "width", 1)
    layer = check_int(layer, "layer", 1, net.depth - 1)
    extra = width - net.widths[layer]
    if extra < 0:
        raise ValueError(f"width must be at least the current width {net.widths[layer]} of layer {layer}, "
                         f"got {width}")
    return embed_repeatedly(net, theta, layer, r, [lam] * extra) if extra else (net, net.check_params(theta))


def embed_both_layers(objective: SquaredLoss, theta, d1: int, d2: int, lam1: float = 0.3, lam2: float = 0.3,
                      check: bool = True):
    """A 1-1-1-1 point embedded into 1-d1-d2-1: layer 2 split d2 - 1 times, then layer 1 d1 - 1 times.

    The order of 004, proof of Theorem 4 (A.2.8), splitting neuron 0 each time.
    With ``check``, before each split Theorem 2's hypotheses are verified at
    the current point: B of that layer (symmetrised, times 2 for 004's B)
    positive definite and D = 0 within 1e-12 of its scale; a ``ValueError``
    says which fails. Returns ``(net, theta)``.
    """
    check_objective(objective)
    n_, t_ = objective.net, objective.net.check_params(theta)
    if n_.widths[1:-1] != (1, 1):
        raise ValueError(f"objective must belong to a 1-1-1-1 network, got widths {n_.widths}")
    for layer, width, lam_ in ((2, d2, lam2), (1, d1, lam1)):
        for _ in range(check_int(width, f"d{layer}", 1) - 1):
            if check:
                o = SquaredLoss(n_, objective.X, objective.y, objective.normalization)
                B = 2 * B_matrix(o, t_, layer, 0)
                Bk = definiteness(0.5 * (B + B.T))
                Dk, Dks = D_matrix(o, t_, layer, 0, return_scale=True)
                if not Bk.positive_definite:
                    raise ValueError(f"layer {layer}, widths {n_.widths}: B is not positive definite "
                                     f"(eigenvalues {Bk.eigenvalues})")
                if np.abs(Dk).max() > 1e-12 * Dks.max():
                    raise ValueError(f"layer {layer}, widths {n_.widths}: D is not zero")
            n_, t_ = embed_neuron(n_, t_, layer, 0, lam_)
    return n_, t_


def path_rise(objective: SquaredLoss, thetas, refine: int = 256) -> float:
    """Largest rise of the loss along the polyline ``thetas``, in units of the loss's round-off bound.

    Every segment is re-sampled at ``refine`` + 1 points (one batched forward
    pass, :func:`lossland.landscape.losses_at`); the rise is the
    largest amount by which a sample exceeds the smallest earlier one on
    its segment, divided by :func:`lossland.landscape.loss_roundoff_bound`
    at the segment's ends. At most 1: non-increasing to round-off at that
    resolution (a check of :func:`monotone_descent`).
    """
    check_objective(objective)
    refine = check_int(refine, "refine", 1)
    T = np.atleast_2d(np.asarray(thetas, dtype=float))
    if T.ndim != 2 or T.shape[0] < 2 or T.shape[1] != objective.net.n_params:
        raise ValueError(f"thetas must hold at least two rows of length {objective.net.n_params}")
    worst, s = 0.0, np.linspace(0, 1, refine + 1)[:, None]
    for a_, b_ in zip(T[:-1], T[1:]):
        vals = losses_at(objective, a_ + s * (b_ - a_))    # one batched forward pass per segment
        rise = np.max(vals - np.minimum.accumulate(vals))
        worst = max(worst, rise / max(loss_roundoff_bound(objective, a_), loss_roundoff_bound(objective, b_)))
    return worst


@dataclass
class EscapePath:
    """The way out of a minimum embedded with gamma_lambda (004, Theorem 3 and Remark 3; chapter G6).

    ``objective`` and ``theta``: the wider network's loss and the embedded
    point; ``lambda_direction``: the direction that changes lambda of the
    last split at constant loss; ``flat``: the losses along it to the saddle
    ``saddle`` (lambda = ``lam_out``), whose Hessian eigenvalues are
    ``saddle_eigenvalues``; ``curvature``: Lemma 1's curvature along the
    descent direction ``direction``; ``descent`` and ``ts``: the losses along
    it up to the first increase; ``monotone``: the :class:`MonotonePath` from there.
    """

    objective: SquaredLoss
    theta: np.ndarray
    lambda_direction: np.ndarray
    flat: np.ndarray
    saddle: np.ndarray
    saddle_eigenvalues: np.ndarray
    curvature: float
    direction: np.ndarray
    ts: np.ndarray
    descent: np.ndarray
    monotone: MonotonePath


def escape_path(objective: SquaredLoss, theta, width: int, sign: int = 1, lam: float = 0.3,
                lam_out: float = -0.5, *, layer: int = 1, r: int = 0, n_flat: int = 41,
                t_max: float = 4.0, n_t: int = 401, max_steps: int = 1000, loss_target=None) -> EscapePath:
    """Leave the minimum ``theta`` of ``objective``, embedded into ``width`` neurons, along a non-increasing path.

    The point is split (:func:`widen`, each split with ``lam``); along the
    last split's lambda direction the loss is constant, so move lambda from
    ``lam`` to ``lam_out`` (outside [0, 1]: a saddle, 004 Theorem 3 / 000
    Theorem 6); then follow ``sign`` times Lemma 1's descent direction
    (:func:`lossland.embedding.descent_direction`) on ``n_t`` points of
    [0, ``t_max``] up to the first increase; from there :func:`monotone_descent`
    (``loss_target`` default 1e-10 R(theta)).
    """
    check_objective(objective)
    if sign not in (1, -1):
        raise ValueError(f"sign must be 1 or -1, got {sign!r}")
    net, X, y, norm = objective.net, objective.X, objective.y, objective.normalization
    theta = net.check_params(theta)
    width = check_int(width, "width", net.widths[layer] + 1)
    lam, lam_out = check_real(lam, "lam"), check_real(lam_out, "lam_out")
    if loss_target is None:
        loss_target = 1e-10 * objective.value(theta)
    pn, pt = widen(net, theta, layer, r, width - 1, lam)
    bn, bt = embed_neuron(pn, pt, layer, r, lam)
    o = SquaredLoss(bn, X, y, norm)
    dl = degenerate_direction(pn, pt, layer, r)
    flat = loss_along(o, bt, dl, np.linspace(0, lam_out - lam, check_int(n_flat, "n_flat", 2)))
    th_s = bt + (lam_out - lam) * dl
    ev_s = np.linalg.eigvalsh(o.hessian(th_s))
    dd, curv = descent_direction(SquaredLoss(pn, X, y, norm), pt, layer, r, lam_out)
    dd = sign * dd
    ts = np.linspace(0, check_real(t_max, "t_max", positive=True), check_int(n_t, "n_t", 2))
    down = loss_along(o, th_s, dd, ts)
    k = int(np.argmax(np.diff(down) > 0)) if np.any(np.diff(down) > 0) else len(ts) - 1
    mono = monotone_descent(o, th_s + ts[k] * dd, max_steps=max_steps, loss_target=loss_target)
    return EscapePath(o, bt, dl, flat, th_s, ev_s, curv, dd, ts[:k + 1], down[:k + 1], mono)
