"""Local minima inherited from a smaller network through a dead node (002, Section 3.2).

Section 3.2 of 002 adds one hidden node to a network f with a local minimum
and chooses the new bias as b_new = −max_i w_newᵀh_i (h_i = x_i for one hidden
layer), so that "activation values of the new node are all zeros" and the
larger network f' computes the same outputs as f. With that bias the node's
largest pre-activation is exactly 0: θ' lies *on* a region boundary, where
the one-sided slope along b_new is r_{i*} v_new max(db, 0) (i* the argmax
sample; :mod:`lossland.relu_regions.kinks`) and the point is a local minimum
only if v_new r_{i*} >= 0, and not for v_new = 0 when r_{i*} != 0 (chapter R8).
:func:`add_dead_node` builds the paper's point (``margin=0``) and the
corrected one, b_new = −max_i w_newᵀx_i − margin with ``margin`` > 0 (the
analogue of eq. (5)'s "+ 1"): the node is dead on the ball of radius
:func:`dead_radius`, where L_{f'}(θ' + Δ) = L_f(θ + Δ_f) (:func:`remove_node`).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .._validation import check_int, check_real
from ..derivatives import SquaredLoss
from ..network import Network
from .kinks import _point, _to_fraction, _vector
from .model import check_relu_objective as _check_relu

__all__ = ["DeadNode", "add_dead_node", "remove_node", "dead_radius"]


@dataclass(frozen=True)
class DeadNode:
    """Result of :func:`add_dead_node`.

    ``objective``: the loss of the network with one more hidden node (same
    data and normalisation); ``theta``: θ' (flat; Fractions if the input
    held Fractions); ``node``: index of the new node (the last); ``b_new``;
    ``argmax``: the samples attaining max_i w_newᵀx_i (they sit on the
    boundary when ``margin`` = 0); ``margin`` = −max_i (w_newᵀx_i + b_new).
    """

    objective: SquaredLoss
    theta: np.ndarray
    node: int
    b_new: object
    argmax: tuple
    margin: object


def _bigger(objective, h_new):
    net = objective.net
    big = Network((net.widths[0], h_new, 1), activation="relu", biases=net.biases)
    return SquaredLoss(big, objective.X, objective.y, objective.normalization)


def add_dead_node(objective, theta, w_new, v_new, *, margin=1) -> DeadNode:
    """θ' = (θ, w_new, b_new, v_new) for the network with one more node (002, Section 3.2).

    b_new = −max_i w_newᵀx_i − ``margin``: ``margin=0`` is the paper's bias
    (the node's largest pre-activation is exactly 0, a region boundary);
    ``margin`` > 0 keeps every pre-activation of the new node <= −margin. The
    new node needs a bias: a network without biases raises ``ValueError``
    (chapter R8's exercise builds a dead node without one). Fractions in
    ``theta``, ``w_new``, ``v_new`` or ``margin`` give an exact θ'.
    """
    objective = _check_relu(objective)
    net = objective.net
    if not net.biases:
        raise ValueError("objective: Section 3.2's dead node is made by its bias b_new, and this "
                         "network has no biases")
    n, h = net.widths[0], net.widths[1]
    exact = any(isinstance(x, Fraction) for x in np.ravel(np.asarray(theta, dtype=object))) or any(
        isinstance(x, Fraction) for x in np.ravel(np.asarray(w_new, dtype=object))) or isinstance(
        v_new, Fraction) or isinstance(margin, Fraction)
    P = _point(objective, theta, exact=True if exact else None)
    w_new = _vector(np.ravel(np.asarray(w_new, dtype=object)) if exact else w_new, "w_new", n,
                    exact=exact)
    check_real(float(v_new) if isinstance(v_new, Fraction) else v_new, "v_new")
    margin_f = check_real(float(margin) if isinstance(margin, Fraction) else margin, "margin", low=0.0)
    if exact:
        v_new, margin = _to_fraction(v_new, "v_new"), _to_fraction(margin, "margin")
        X = np.vectorize(lambda t: Fraction(float(t)), otypes=[object])(objective.X)
    else:
        v_new, margin, X = float(v_new), margin_f, objective.X
    s = X @ w_new
    top = max(s)
    b_new = -top - margin
    argmax = tuple(int(i) for i in np.nonzero(s == top)[0])
    big = _bigger(objective, h + 1)
    bnet = big.net
    out = np.zeros(bnet.n_params, dtype=object if exact else float)
    if exact:
        out[:] = Fraction(0)
    out[bnet.weight_slice(1)] = np.concatenate([P.W.ravel(), w_new])
    out[bnet.bias_slice(1)] = np.concatenate([P.b, [b_new]])
    out[bnet.weight_slice(2)] = np.concatenate([P.v, [v_new]])
    out[bnet.bias_slice(2)] = P.c
    return DeadNode(big, out, h, b_new, argmax, margin)


def remove_node(objective, theta, j):
    """(objective, θ) of the network without hidden node j (same data): f is unchanged if node j is dead.

    Fractions in ``theta`` stay Fractions. Needs h >= 2.
    """
    objective = _check_relu(objective)
    net = objective.net
    h = net.widths[1]
    j = check_int(j, "j", 0, h - 1)
    if h < 2:
        raise ValueError("objective: the network has one hidden node; nothing is left without it")
    P = _point(objective, theta)
    keep = [k for k in range(h) if k != j]
    small = _bigger(objective, h - 1)
    snet = small.net
    out = np.zeros(snet.n_params, dtype=object if P.exact else float)
    out[snet.weight_slice(1)] = P.W[keep].ravel()
    out[snet.weight_slice(2)] = P.v[keep]
    if net.biases:
        out[snet.bias_slice(1)] = P.b[keep]
        out[snet.bias_slice(2)] = P.c
    return small, out


def dead_radius(objective, theta, j) -> float:
    """r > 0 such that node j is dead (every w_jᵀx_i + b_j < 0) for all θ' with |θ' − θ|_∞ < r.

    r = min_i (−w_jᵀx_i − b_j) / max_i |x̃_i|_1 with x̃_i = (x_i, 1) (x_i without
    biases): a change of (w_j, b_j) of size < r in every entry moves each
    pre-activation by less than its distance to 0. 0 if the node is not
    strictly dead (some pre-activation >= 0, e.g. the paper's margin 0).
    """
    objective = _check_relu(objective)
    j = check_int(j, "j", 0, objective.net.widths[1] - 1)
    P = _point(objective, theta)
    z = P.Z[:, j]
    if np.any(z >= 0):
        return 0.0
    return float(min(-z) / max(np.abs(np.array(P.Xt, dtype=float)).sum(axis=1)))
