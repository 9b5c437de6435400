"""Proposition 1 of 004: the local minimum borrowed from linear regression (chapter G2).

For an activation linear on (alpha, beta) (:mod:`.partially_linear`), the
point W-hat of 004, eq. (29)-(30) (proof in A.1.1) keeps every hidden
pre-activation in (alpha, beta), where the network is the least-squares
linear model: :func:`proposition1_point` builds it (with the corrections of
chapter G2), :func:`effective_linear_map` gives the affine map the network
computes there (the W_bar + delta of eq. (31)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_network, check_real
from ..derivatives import SquaredLoss
from ..network import Network
from ._common import as_activation, as_samples

__all__ = ["Proposition1Point", "proposition1_point", "effective_linear_map"]


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
    act = as_activation(activation)
    if linear_piece is None:
        try:
            alpha, beta, c, d = (act.params[k] for k in ("alpha", "beta", "c", "d"))
        except KeyError:
            raise ValueError("activation has no recorded linear piece: pass linear_piece=(alpha, beta, c, d)") \
                from None
    else:
        if len(linear_piece) != 4:
            raise ValueError("linear_piece must be (alpha, beta, c, d)")
        alpha, beta, c, d = (check_real(v, n) for v, n in zip(linear_piece, ("alpha", "beta", "c", "d")))
    if not alpha < beta:
        raise ValueError("linear_piece: alpha must be smaller than beta")
    if c == 0:
        raise ValueError("linear_piece: c must be nonzero (eq. (30) divides by c p)")
    hidden = check_int(hidden, "hidden", 1)
    shrink = check_real(shrink, "shrink", positive=True)
    if shrink >= 1:
        raise ValueError(f"shrink must lie in (0, 1), got {shrink}")
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2 or not np.all(np.isfinite(Xa)):
        raise ValueError("X must be a finite array of shape (N,) or (N, d_X)")
    N, dX = Xa.shape
    y = as_samples(y, "y", N)
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
        b_extra = check_real(extra_bias, "extra_bias")
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
    check_network(net)
    if net.depth != 2 or not net.biases:
        raise ValueError("effective_linear_map needs a network with one hidden layer and biases")
    if len(linear_piece) != 4:
        raise ValueError("linear_piece must be (alpha, beta, c, d)")
    _, _, c, d = (float(v) for v in linear_piece)
    W, b = net.unflatten(theta)
    v = W[2][0]
    return np.concatenate([c * v @ W[1], [c * v @ b[1] + d * v.sum() + b[2][0]]])

