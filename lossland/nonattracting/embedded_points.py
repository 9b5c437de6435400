"""The Hessian at points made by neuron embeddings: Theorem 6 / 9, Theorem 2, Theorem 7 / 13.

Every construction of Part I ends at a point gamma_lambda(theta*) (or a
repeated embedding of one) and asks three questions of the exact Hessian
there: is it positive semidefinite, is its kernel exactly the predicted
flat directions (redistributing outgoing weight among copies of a neuron,
001 proof of Theorem 13), and how does the smallest eigenvalue outside that
kernel change along the flat line (000 Fig. 3 (b))? The general checks live
in the core (:func:`lossland.embedding.check_embedded_point`,
:func:`lossland.embedding.definiteness`); this module adds what Part I's
chapters need on top:

* :func:`embedded_definiteness`: the Hessian verdict at gamma_lambda^r(theta) (P7);
* :func:`zero_tolerance`, :func:`check_grown_point`, :func:`separation`:
  the kernel test with a tolerance that includes an inexact critical point (P10);
* :func:`embedding_kernel`: the predicted kernel after repeated embeddings (P9, P10);
* :func:`grow`: the repeated embedding of the proof of Theorem 2 (001), step by step (P10);
* :func:`smallest_eigenvalue_outside`: the Hessian on the complement of the kernel (P9, P10).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from .._validation import check_int, check_network, check_objective, check_real
from ..derivatives import SquaredLoss
from ..embedding import (B_matrix, Definiteness, EmbeddedPointCheck, check_embedded_point, definiteness,
                         embed_neuron, redistribution_directions)
from ..network import Network
from ._objective import ObjectiveParts
from .conditions import DBound, D_bound

__all__ = [
    "embedded_definiteness",
    "zero_tolerance",
    "check_grown_point",
    "separation",
    "embedding_kernel",
    "GrowthStep",
    "grow",
    "smallest_eigenvalue_outside",
]

_EPS = np.finfo(float).eps


def embedded_definiteness(objective: SquaredLoss, theta, layer: int, r: int, lam: float,
                          rtol: float = 1e-10) -> tuple[SquaredLoss, np.ndarray, Definiteness]:
    """The exact Hessian of the bigger network at gamma_lambda^r(theta), classified.

    000 Theorem 6 (001 Theorem 9) predicts its verdict from B and D of the
    smaller network (:func:`lossland.embedding.lemma1_hessian`). The
    eigenvalues count as zero when ``|mu| <= rtol * max|mu|``
    (:func:`lossland.embedding.definiteness`): the embedding creates an exactly
    zero eigenvalue that round-off moves to about 1e-16 ||H||. Returns
    ``(bigger_objective, bigger_theta, verdict)``, the bigger objective with the
    same data and normalisation.
    """
    objective = check_objective(objective)
    rtol = check_real(rtol, "rtol", low=0.0)
    big, tb = embed_neuron(objective.net, theta, layer, r, lam)
    big_objective = SquaredLoss(big, objective.X, objective.y, objective.normalization)
    return big_objective, tb, definiteness(big_objective.hessian(tb), rtol=rtol)


def zero_tolerance(objective: SquaredLoss, theta) -> float:
    """100 x the error of the computed Hessian: 100 (P eps ||H||_2 + ||grad L||).

    P eps ||H||_2 is the round-off of the eigenvalues; at a critical point
    reached to ||grad L|| only, the Hessian's kernel directions (which are
    exact at an exact embedding of an exact critical point) carry errors of
    the same size as the gradient. The factor 100 keeps every kernel
    eigenvalue inside; the chapters assert the rest of the spectrum is far
    outside (:func:`separation`).
    """
    objective = check_objective(objective)
    g = float(np.linalg.norm(objective.gradient(theta)))
    ev = np.linalg.eigvalsh(objective.hessian(theta))
    return 100.0 * (ev.size * _EPS * float(np.abs(ev).max()) + g)


def check_grown_point(objective: SquaredLoss, theta, predicted) -> EmbeddedPointCheck:
    """:func:`lossland.embedding.check_embedded_point` with the tolerance :func:`zero_tolerance`.

    ``predicted`` holds the predicted kernel directions as rows
    (:func:`embedding_kernel`). With that tolerance the Davis-Kahan theorem
    bounds the angle between the computed kernel and the exact one by
    (tol / 100) / (smallest non-zero |eigenvalue|) = 1 / (100 ``kernel.gap``).
    """
    tol = zero_tolerance(objective, theta)
    return check_embedded_point(objective, theta, predicted, atol=tol, rtol=0.0)


def separation(check: EmbeddedPointCheck) -> float:
    """Smallest |eigenvalue| outside the kernel over the largest inside (inf for an empty kernel)."""
    if not isinstance(check, EmbeddedPointCheck):
        raise TypeError(f"check must be a lossland.embedding.EmbeddedPointCheck, got {type(check).__name__}")
    ev = np.abs(check.eigenvalues)
    inside = ev <= check.kernel.tol
    if inside.all():
        return 0.0
    return float(ev[~inside].min() / ev[inside].max(initial=1e-300))


def embedding_kernel(net: Network, base_widths, r: int = 0) -> np.ndarray:
    """The predicted Hessian kernel after neuron r of each hidden layer was copied repeatedly.

    ``net`` grew from a network of widths ``base_widths`` by embeddings of
    neuron ``r`` (:func:`lossland.embedding.embed_neuron` appends each copy
    last), so in every hidden layer l the neurons ``base_widths[l], ...,
    n_l - 1`` copy neuron r. The kernel named in the proof of 001 Theorem 13
    (and of Theorem 2) is spanned by the weight redistributions between r and
    its copies (:func:`lossland.embedding.redistribution_directions`), layer
    by layer from layer 1. Shape ``(k, P)``.
    """
    net = check_network(net)
    base = tuple(check_int(w, "base_widths", 1) for w in base_widths)
    if len(base) != len(net.widths) or base[0] != net.widths[0] or base[-1] != net.widths[-1] or any(
            b > w for b, w in zip(base, net.widths)):
        raise ValueError(f"base_widths must be the widths {net.widths} of net or smaller in the hidden "
                         f"layers, got {base}")
    rows = [redistribution_directions(net, l, r, range(base[l], net.widths[l]))
            for l in net.hidden_layers if net.widths[l] > base[l]]
    return np.vstack(rows) if rows else np.zeros((0, net.n_params))


@dataclass
class GrowthStep(ObjectiveParts):
    """One step of :func:`grow`: before it, ``B`` and ``D`` of neuron r (the hypotheses of
    Theorem 6 / 9); after it, the embedded point and its :func:`check_grown_point`.

    ``objective`` (with ``net``, ``X``, ``y``, ``normalization``) and ``theta``
    are the point after the step, ``before`` and ``theta_before`` the one before it.
    """

    before: SquaredLoss
    theta_before: np.ndarray
    B: np.ndarray
    D: DBound
    objective: SquaredLoss
    theta: np.ndarray
    check: EmbeddedPointCheck


def grow(objective: SquaredLoss, theta, layer: int, steps: int, lam: float, r: int = 0,
         base_widths=None) -> list[GrowthStep]:
    """Apply gamma_lambda^r to hidden ``layer`` ``steps`` times, as in the proof of 001 Theorem 2.

    Each step records B^r (:func:`lossland.embedding.B_matrix`) and the
    :func:`lossland.nonattracting.conditions.D_bound` of neuron r before the
    embedding, and after it the Hessian check at the new point against the
    kernel :func:`embedding_kernel` predicts relative to ``base_widths``
    (default: the widths of ``objective.net``). Nothing is asserted here:
    the chapter asserts the hypotheses (B definite, D = 0 to the bound) and
    the conclusions (critical, positive semidefinite, kernel as predicted).
    """
    objective = check_objective(objective)
    steps = check_int(steps, "steps", 1)
    base = objective.net.widths if base_widths is None else tuple(base_widths)
    out = []
    obj, th = objective, objective.net.check_params(theta)
    for _ in range(steps):
        B, D = B_matrix(obj, th, layer, r), D_bound(obj, th, layer, r)
        big, tb = embed_neuron(obj.net, th, layer, r, lam)
        big_obj = SquaredLoss(big, obj.X, obj.y, obj.normalization)
        out.append(GrowthStep(obj, th, B, D, big_obj, tb,
                              check_grown_point(big_obj, tb, embedding_kernel(big, base, r))))
        obj, th = big_obj, tb
    return out


def smallest_eigenvalue_outside(objective: SquaredLoss, theta, kernel) -> float:
    """Smallest eigenvalue of the Hessian restricted to the orthogonal complement of ``kernel``.

    ``kernel`` holds the flat directions as rows (:func:`embedding_kernel`);
    Q is an orthonormal basis of their complement (:func:`scipy.linalg.null_space`)
    and the result the smallest eigenvalue of Q^T H Q. Along the flat line of
    gamma_lambda it changes sign where lambda leaves [0, 1] (000 Fig. 3 (b),
    001 Theorem 13): minima inside, saddles outside, at the same loss.
    """
    objective = check_objective(objective)
    K = np.asarray(kernel, dtype=float)
    if K.ndim != 2 or K.shape[1] != objective.net.n_params:
        raise ValueError(f"kernel must have shape (k, {objective.net.n_params}), got {K.shape}")
    Q = null_space(K) if K.shape[0] else np.eye(objective.net.n_params)
    return float(np.linalg.eigvalsh(Q.T @ objective.hessian(theta) @ Q)[0])
